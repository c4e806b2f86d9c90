//! "Forgot password?": the form asking for the email, and the mailed link's "choose a
//! new password" page.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{self, csrf, password};
use crate::db::Pool;
use crate::domain::Email;
use crate::error::AppResult;
use crate::mail::Mailer;
use crate::services::account;
use crate::urls;
use crate::web::{flash, render, render_status, see_other};

/// The one answer to every request, whether or not the address has an account.
pub const SENT: &str = "If an account exists for that address, we sent a link to choose a new password. It works for 30 minutes.";

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPage {
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPage {
    pub csrf_token: String,
    pub token: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "reset_link_gone.html")]
pub struct LinkGonePage;

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    password: String,
}

pub async fn forgot_form(session: Session) -> AppResult<HttpResponse> {
    render(&ForgotPage {
        csrf_token: csrf::token(&session)?,
        email: String::new(),
        error: None,
        notice: None,
    })
}

pub async fn forgot(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    mailer: web::Data<Mailer>,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(e) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ForgotPage {
                    csrf_token: csrf::token(&session)?,
                    email: form.email.clone(),
                    error: Some(e),
                    notice: None,
                },
            )
        }
    };
    // Answered before the lookup is done, so the time taken says nothing either.
    let (pool, mailer, ip) = (
        pool.into_inner(),
        mailer.into_inner(),
        auth::client_ip(&req),
    );
    actix_web::rt::spawn(async move {
        match account::request_password_reset(&pool, email.as_str().to_owned(), ip).await {
            Ok(()) => mailer.nudge(),
            Err(e) => tracing::error!(error = %e, "a password reset request failed"),
        }
    });
    render(&ForgotPage {
        csrf_token: csrf::token(&session)?,
        email: String::new(),
        error: None,
        notice: Some(SENT),
    })
}

fn link_gone() -> AppResult<HttpResponse> {
    render_status(StatusCode::BAD_REQUEST, &LinkGonePage)
}

pub async fn reset_form(
    session: Session,
    pool: web::Data<Pool>,
    query: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    let token = query.into_inner().token;
    let Some(whose) = account::open_password_reset(&pool, token.clone()).await? else {
        return link_gone();
    };
    render(&ResetPage {
        csrf_token: csrf::token(&session)?,
        token,
        email: whose.email,
        error: None,
    })
}

pub async fn reset(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    form: web::Form<ResetForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let Some(whose) = account::open_password_reset(&pool, form.token.clone()).await? else {
        return link_gone();
    };
    let rules = password::PasswordFor {
        email: &whose.email,
        name: &whose.name,
        company: &whose.company,
    };
    if let Err(e) = password::validate(&form.password, &rules) {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage {
                csrf_token: csrf::token(&session)?,
                token: form.token,
                email: whose.email,
                error: Some(e),
            },
        );
    }
    let hash = password::hash_off_executor(form.password).await?;
    let ip = auth::client_ip(&req);
    let Some(user_id) = account::reset_password(&pool, form.token, hash, ip).await? else {
        return link_gone();
    };
    auth::begin_session(&session, user_id)?;
    flash::success(
        &session,
        "Your password is changed. Everywhere else you were signed in, you are signed out.",
    );
    Ok(see_other(urls::MY_TASKS))
}
