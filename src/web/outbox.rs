//! The Outbox (company menu, owners and admins): the mail the app wrote. Without an
//! SMTP server it is where mail waits to be read and passed on by hand.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::CompanyManager;
use crate::db::{self, Pool};
use crate::domain::Role;
use crate::error::AppResult;
use crate::mail::Mailer;
use crate::models::outbox::{self, Readers, Status};
use crate::web::render;
use crate::web::shell::{Nav, Page, Shell};

/// How many of the latest mails the page lists.
const SHOWN: i64 = 100;

pub struct MailRow {
    pub to: String,
    pub subject: String,
    pub when: String,
    pub state: &'static str,
    /// The text as it was (or will be) sent; `None` once sent, or when the reader may
    /// not see it (a reset link for an owner or admin, to an admin).
    pub text: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub shell: Shell,
    pub sends: bool,
    pub mails: Vec<MailRow>,
}

fn state_of(status: Status) -> &'static str {
    match status {
        Status::Queued | Status::Sending => "Waiting to be sent",
        Status::Sent => "Sent",
        Status::Failed => "Not sent: gave up",
        Status::Held => "In the outbox",
    }
}

pub async fn page(
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
    mailer: web::Data<Mailer>,
) -> AppResult<HttpResponse> {
    let company_id = page.user.company_id;
    let mails = db::run(&pool, move |conn| {
        Ok(outbox::for_company(conn, company_id, SHOWN)?)
    })
    .await?;
    let days = page.user.days();
    let owner = page.user.role == Role::Owner;
    let base_url = mailer.base_url().clone();
    let mails = mails
        .into_iter()
        .map(|m| {
            let readable = owner || m.readers != Readers::Owners.as_text();
            let status = m.status();
            let has_body = !m.body.is_empty();
            MailRow {
                text: (readable && has_body).then(|| m.text(&base_url)),
                when: days.describe(m.created_at),
                state: state_of(status),
                error: m.last_error.clone(),
                to: m.to_address,
                subject: m.subject,
            }
        })
        .collect();
    render(&OutboxPage {
        shell: page.shell(Nav::Outbox),
        sends: mailer.sends(),
        mails,
    })
}
