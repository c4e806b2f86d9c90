//! "Your account": a person's own password and sessions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{password, throttle};
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::account::{self, PasswordChange};
use crate::urls;
use crate::web::confirm::{self, Confirmation, Question};
use crate::web::shell::{Action, Nav, Page, Shell};
use crate::web::{render, render_status, see_other};

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub shell: Shell,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn page(page: Page) -> AppResult<HttpResponse> {
    render(&AccountPage {
        shell: page.shell(Nav::Account),
        error: None,
    })
}

/// The page again, saying why the password was not changed.
fn refused(page: &Page, status: StatusCode, error: String) -> AppResult<HttpResponse> {
    render_status(
        status,
        &AccountPage {
            shell: page.shell(Nav::Account),
            error: Some(error),
        },
    )
}

/// "Change password": the current one first, the new one under the password rules;
/// every other session ends, this one goes on under a new key.
pub async fn change_password(
    page: Page,
    pool: web::Data<Pool>,
    form: web::Form<PasswordForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let user = &page.user;
    let whose = password::PasswordFor {
        email: &user.email,
        name: &user.name,
        company: &user.company_name,
    };
    if let Err(e) = password::validate(&form.new_password, &whose) {
        return refused(&page, StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    let (current, new, ip) = (form.current_password, form.new_password, page.ip.clone());
    match account::change_password(&pool, user, current, new, ip).await? {
        PasswordChange::Throttled(wait) => {
            let mut answer = refused(
                &page,
                StatusCode::TOO_MANY_REQUESTS,
                throttle::wait_message(wait),
            )?;
            let after = actix_web::http::header::HeaderValue::from(wait.max(1));
            answer
                .headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, after);
            Ok(answer)
        }
        PasswordChange::WrongCurrent => refused(
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your current password is not that. Type it again: nothing was changed.".into(),
        ),
        PasswordChange::Changed => {
            page.session.renew();
            page.success(
                "Your password is changed. Everywhere else you were signed in, you are signed out.",
            );
            Ok(see_other(urls::ACCOUNT))
        }
    }
}

/// "Log out everywhere else", after "Are you sure?".
pub async fn end_other_sessions(
    act: Action,
    pool: web::Data<Pool>,
    form: web::Form<Confirmation>,
) -> AppResult<HttpResponse> {
    if !form.given() {
        let question = Question {
            title: "Log out everywhere else?".into(),
            message: "Every other browser or device signed in as you is signed out at once. This one stays signed in.".into(),
            action: urls::ACCOUNT_END_OTHER_SESSIONS.to_owned(),
            button: "Log out everywhere else",
            back: urls::ACCOUNT.to_owned(),
        };
        return confirm::ask(&act, Nav::Account, question);
    }
    let others = account::end_other_sessions(&pool, &act.user, act.ip.clone()).await?;
    // Its own row went with the others: the session goes on under a new key.
    act.session.renew();
    act.success(match others {
        0 => "You were signed in nowhere else.".to_owned(),
        1 => "You are signed out of 1 other session.".to_owned(),
        n => format!("You are signed out of {n} other sessions."),
    });
    Ok(see_other(urls::ACCOUNT))
}
