//! Confirming a new account's email: the "Check your email" page sign-up answers
//! with, the mailed link, and "Send the link again" from log-in.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{self, csrf, device};
use crate::db::Pool;
use crate::domain::Email;
use crate::error::{AppResult, Unexpected};
use crate::mail::Mailer;
use crate::services::{account, sign_up};
use crate::urls;
use crate::web::account::LogInPage;
use crate::web::{flash, render, render_status, see_other};

/// The one answer to "Send the link again", whether or not the address has an account
/// waiting.
pub const SENT_AGAIN: &str = "If that address has an account waiting for its email to be confirmed, we sent a new link. It works for 24 hours.";

#[derive(Template)]
#[template(path = "verify_link_gone.html")]
pub struct LinkGonePage;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResendForm {
    email: String,
}

/// The mailed link: confirms the email, signs the person in, opens My Tasks.
pub async fn verify(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    query: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    let token = query.into_inner().token;
    let ip = auth::client_ip(&req);
    let Some(user_id) = sign_up::verify(&pool, token, ip).await? else {
        return render_status(StatusCode::BAD_REQUEST, &LinkGonePage);
    };
    auth::begin_session(&session, user_id)?;
    let token = account::remember_browser(&pool, user_id).await?;
    flash::success(&session, "Your email is confirmed. Welcome to taskbridge.");
    let mut response = see_other(urls::MY_TASKS);
    response
        .add_cookie(&device::cookie(&req, token))
        .unexpected("setting the device cookie")?;
    Ok(response)
}

/// "Send the link again": answered the same whatever the address, before any lookup.
pub async fn resend(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    mailer: web::Data<Mailer>,
    form: web::Form<ResendForm>,
) -> AppResult<HttpResponse> {
    if let Ok(email) = Email::parse(&form.email) {
        let (pool, mailer, ip) = (
            pool.into_inner(),
            mailer.into_inner(),
            auth::client_ip(&req),
        );
        actix_web::rt::spawn(async move {
            match sign_up::resend_link(&pool, email.as_str().to_owned(), ip).await {
                Ok(()) => mailer.nudge(),
                Err(e) => tracing::error!(error = %e, "sending a confirmation link again failed"),
            }
        });
    }
    render(&LogInPage {
        csrf_token: csrf::token(&session)?,
        email: form.email.clone(),
        error: None,
        notice: Some(SENT_AGAIN.to_owned()),
        resend: false,
    })
}
