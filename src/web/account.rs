//! Sign up, log in, log out.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{self, csrf, device, password, throttle, CurrentUser};
use crate::db::Pool;
use crate::domain::{parse_name, Email};
use crate::error::{AppResult, Unexpected};
use crate::mail::Mailer;
use crate::services::account::{self, LogIn};
use crate::services::sign_up::{self, SignUp};
use crate::urls;
use crate::web::{render, render_status, see_other};

/// Sign-up's one answer when mail is sent, whether or not the email had an account.
pub const CHECK_EMAIL: &str = "We sent a link to the email you gave. Open it to confirm the address and start using taskbridge.";

/// Log-in of an account whose email is not confirmed yet.
pub const NOT_CONFIRMED: &str =
    "Confirm your email first: open the link we sent when you signed up. It works for 24 hours.";

#[derive(Template)]
#[template(path = "check_email.html")]
pub struct CheckEmailPage {
    pub message: &'static str,
}

pub fn check_email() -> AppResult<HttpResponse> {
    render(&CheckEmailPage {
        message: CHECK_EMAIL,
    })
}

#[derive(Template)]
#[template(path = "sign_up.html")]
pub struct SignUpPage {
    pub csrf_token: String,
    pub company_name: String,
    pub name: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "log_in.html")]
pub struct LogInPage {
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// Offer "Send the link again" (the email is not confirmed yet).
    pub resend: bool,
}

#[derive(Deserialize)]
pub struct SignUpForm {
    company_name: String,
    name: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct LogInForm {
    email: String,
    password: String,
}

/// Already signed in? Go straight to the app.
async fn signed_in(req: &HttpRequest) -> bool {
    use actix_web::FromRequest;
    CurrentUser::extract(req).await.is_ok()
}

pub async fn sign_up_form(req: HttpRequest, session: Session) -> AppResult<HttpResponse> {
    if signed_in(&req).await {
        return Ok(see_other(urls::MY_TASKS));
    }
    render(&SignUpPage {
        csrf_token: csrf::token(&session)?,
        company_name: String::new(),
        name: String::new(),
        email: String::new(),
        error: None,
    })
}

pub async fn sign_up(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    mailer: web::Data<Mailer>,
    form: web::Form<SignUpForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let again = |error: String| -> AppResult<HttpResponse> {
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignUpPage {
                csrf_token: csrf::token(&session)?,
                company_name: form.company_name.clone(),
                name: form.name.clone(),
                email: form.email.clone(),
                error: Some(error),
            },
        )
    };
    let company_name = match parse_name(&form.company_name, "your company's name") {
        Ok(v) => v,
        Err(e) => return again(e),
    };
    let name = match parse_name(&form.name, "your name") {
        Ok(v) => v,
        Err(e) => return again(e),
    };
    let email = match Email::parse(&form.email) {
        Ok(v) => v,
        Err(e) => return again(e),
    };
    let whose = password::PasswordFor {
        email: email.as_str(),
        name: &name,
        company: &company_name,
    };
    if let Err(e) = password::validate(&form.password, &whose) {
        return again(e);
    }
    let new_company = sign_up::NewCompany {
        company_name,
        name,
        email,
        secret: form.password.clone(),
        ip: auth::client_ip(&req),
    };
    let user_id = match sign_up::sign_up(&pool, new_company, mailer.sends()).await? {
        SignUp::SignedIn(user_id) => user_id,
        SignUp::Taken => {
            return again(
                "An account with this email already exists. Log in instead; Add a company in the company menu starts another company with it."
                    .into(),
            )
        }
        SignUp::CheckEmail => {
            mailer.nudge();
            return check_email();
        }
    };
    auth::begin_session(&session, user_id)?;
    // Signing up signs in: this browser is the owner's own from now on.
    let token = account::remember_browser(&pool, user_id).await?;
    let mut response = see_other(urls::MY_TASKS);
    response
        .add_cookie(&device::cookie(&req, token))
        .unexpected("setting the device cookie")?;
    Ok(response)
}

pub async fn log_in_form(req: HttpRequest, session: Session) -> AppResult<HttpResponse> {
    if signed_in(&req).await {
        return Ok(see_other(urls::MY_TASKS));
    }
    let joining = session
        .get::<String>(auth::PENDING_INVITE)
        .ok()
        .flatten()
        .is_some();
    render(&LogInPage {
        csrf_token: csrf::token(&session)?,
        email: String::new(),
        error: None,
        notice: joining.then(|| "Log in with your taskbridge account to accept the invite.".into()),
        resend: false,
    })
}

/// Where a sign-in goes: back to the invite it was for ("Log in to join"), else My Tasks.
fn after_sign_in(session: &Session) -> String {
    let pending = session.get::<String>(auth::PENDING_INVITE).ok().flatten();
    match pending.filter(|t| crate::models::invite::looks_like_token(t)) {
        Some(token) => urls::invite_accept(&token),
        None => urls::MY_TASKS.to_owned(),
    }
}

pub async fn log_in(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    form: web::Form<LogInForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let again = |status: StatusCode, error: String| -> AppResult<HttpResponse> {
        render_status(
            status,
            &LogInPage {
                csrf_token: csrf::token(&session)?,
                email: form.email.clone(),
                error: Some(error),
                notice: None,
                resend: false,
            },
        )
    };
    let attempt = account::Attempt {
        email: form.email.trim().to_lowercase(),
        secret: form.password.clone(),
        ip: auth::client_ip(&req),
        device: device::presented(&req),
    };
    match account::log_in(&pool, attempt).await? {
        LogIn::Throttled(wait) => {
            let mut page = again(StatusCode::TOO_MANY_REQUESTS, throttle::wait_message(wait))?;
            page.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(wait.max(1)));
            Ok(page)
        }
        LogIn::Refused => again(
            StatusCode::UNAUTHORIZED,
            "That email and password do not match an account. Check them and try again.".into(),
        ),
        LogIn::Unverified => render_status(
            StatusCode::FORBIDDEN,
            &LogInPage {
                csrf_token: csrf::token(&session)?,
                email: form.email.clone(),
                error: Some(NOT_CONFIRMED.into()),
                notice: None,
                resend: true,
            },
        ),
        LogIn::Disabled => again(
            StatusCode::FORBIDDEN,
            "Your account has been disabled. Ask your company's owner or admin to enable it."
                .into(),
        ),
        LogIn::SignedIn {
            user_id,
            new_device,
        } => {
            let next = after_sign_in(&session);
            auth::begin_session(&session, crate::domain::UserId(user_id))?;
            let mut response = see_other(&next);
            if let Some(token) = new_device {
                response
                    .add_cookie(&device::cookie(&req, token))
                    .unexpected("setting the device cookie")?;
            }
            Ok(response)
        }
    }
}

pub async fn log_out(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
) -> AppResult<HttpResponse> {
    use actix_web::FromRequest;
    if let Ok(user) = CurrentUser::extract(&req).await {
        account::log_out(&pool, &user, auth::client_ip(&req)).await?;
    }
    // Purging deletes the session row: the old cookie no longer opens anything.
    session.purge();
    Ok(see_other(urls::LOG_IN))
}

#[derive(Deserialize)]
pub struct EmailNoticesForm {
    /// Present (and "on") when the box is ticked; browsers leave it out otherwise.
    #[serde(default)]
    email_notices: Option<String>,
}

/// "Email me notices" on the person's settings page.
pub async fn save_email_notices(
    act: crate::web::shell::Action,
    pool: web::Data<Pool>,
    form: web::Form<EmailNoticesForm>,
) -> AppResult<HttpResponse> {
    let on = form.email_notices.as_deref() == Some("on");
    account::set_email_notices(&pool, &act.user, on).await?;
    act.success(if on {
        "You will get notices by email too."
    } else {
        "You will no longer get notices by email. They still show under Notifications."
    });
    Ok(see_other(urls::PREFERENCES))
}
