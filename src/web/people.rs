//! Users: invite, change roles, disable; and accepting an invite.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{self, csrf, password, CompanyManager};
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::domain::{parse_name, Email, Role, UserId};
use crate::error::{AppError, AppResult, Unexpected};
use crate::mail::Mailer;
use crate::models::{company, invite, user};
use crate::services::people::{self, grantable_roles, Change};
use crate::urls;
use crate::web::confirm::{self, Confirmation, Question};
use crate::web::shell::{Action, Nav, Page, Shell};
use crate::web::{flash, render, render_status, see_other};

pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub is_me: bool,
    pub role_action: String,
    pub disable_action: String,
    pub enable_action: String,
}

pub struct InviteRow {
    pub email: String,
    pub role: &'static str,
    /// "Expires Wed 9 Dec, 09:30" or "Expired Wed 9 Dec, 09:30", in the viewer's zone.
    pub expiry: String,
    pub expired: bool,
    pub revoke_action: String,
    pub resend_action: String,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub shell: Shell,
    pub people: Vec<PersonRow>,
    pub invites: Vec<InviteRow>,
    pub roles: Vec<Role>,
    pub can_grant_owner: bool,
    pub invite_email: String,
    pub invite_role: Role,
    pub invite_error: Option<String>,
    pub new_invite_link: Option<String>,
    pub new_invite_email: String,
    /// Whether the link was mailed (else it waits in the Outbox).
    pub mail_sends: bool,
}

async fn users_page(page: &Page<CompanyManager>, pool: &Pool) -> AppResult<UsersPage> {
    let user = &page.user;
    let company_id = user.company_id;
    let (people, invites) = db::run(pool, move |conn| {
        Ok((
            user::list(conn, company_id)?,
            invite::pending(conn, company_id)?,
        ))
    })
    .await?;
    let me = user.id;
    let days = user.days();
    Ok(UsersPage {
        shell: page.shell(Nav::Users),
        people: people
            .into_iter()
            .map(|p| PersonRow {
                role: p.role(),
                is_me: UserId(p.id) == me,
                role_action: urls::user_role(p.id),
                disable_action: urls::user_disable(p.id),
                enable_action: urls::user_enable(p.id),
                id: p.id,
                name: p.name,
                email: p.email,
                disabled: p.disabled,
            })
            .collect(),
        invites: invites
            .into_iter()
            .map(|i| {
                let expired = i.expires_at <= crate::db::now();
                let word = if expired { "Expired" } else { "Expires" };
                InviteRow {
                    role: Role::parse(&i.role).map(|r| r.label()).unwrap_or("User"),
                    expiry: format!("{word} {}", days.describe(i.expires_at)),
                    expired,
                    revoke_action: urls::invite_revoke(i.id),
                    resend_action: urls::invite_resend(i.id),
                    email: i.email,
                }
            })
            .collect(),
        roles: grantable_roles(user.role),
        can_grant_owner: user.role == Role::Owner,
        invite_email: String::new(),
        invite_role: Role::User,
        invite_error: None,
        new_invite_link: None,
        new_invite_email: String::new(),
        mail_sends: false,
    })
}

/// The Users page showing a new invite link, once (only its digest is stored).
async fn with_new_link(
    page: &Page<CompanyManager>,
    pool: &Pool,
    settings: &Settings,
    mailer: &Mailer,
    email: String,
    token: &str,
) -> AppResult<HttpResponse> {
    mailer.nudge();
    let mut shown = users_page(page, pool).await?;
    let link = settings
        .base_url
        .join(&urls::invite_accept(token))
        .unexpected("making the invite link")?;
    shown.new_invite_link = Some(link.to_string());
    shown.new_invite_email = email;
    shown.mail_sends = mailer.sends();
    render(&shown)
}

pub async fn list(page: Page<CompanyManager>, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    render(&users_page(&page, &pool).await?)
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    req: HttpRequest,
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    mailer: web::Data<Mailer>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let (page, pool, form) = (&page, &pool, &form);
    let refused = |error: String, role: Option<Role>| async move {
        let mut shown = users_page(page, pool).await?;
        shown.invite_email = form.email.clone();
        shown.invite_role = role
            .filter(|r| shown.roles.contains(r))
            .unwrap_or(Role::User);
        shown.invite_error = Some(error);
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &shown)
    };
    let parsed = Email::parse(&form.email).and_then(|email| Ok((email, Role::parse(&form.role)?)));
    let (email, role) = match parsed {
        Ok(v) => v,
        Err(e) => return refused(e, None).await,
    };
    let ip = auth::client_ip(&req);
    let token = match people::invite(pool, &page.user, email.clone(), role, ip).await? {
        Ok(token) => token,
        Err(refusal) => return refused(refusal.to_string(), Some(role)).await,
    };
    with_new_link(page, pool, &settings, &mailer, email.to_string(), &token).await
}

/// "Resend": a new link (the old one stops working), mailed and shown once.
pub async fn resend_invite(
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    mailer: web::Data<Mailer>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let ip = page.ip.clone();
    let Some((email, token)) =
        people::resend_invite(&pool, &page.user, path.into_inner(), ip).await?
    else {
        return Err(AppError::NotFound);
    };
    with_new_link(&page, &pool, &settings, &mailer, email, &token).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let role = Role::parse(&form.role).map_err(AppError::BadRequest)?;
    change_person(act, &pool, UserId(path.into_inner()), Change::Role(role)).await
}

/// A change to a person, then back to the Users page with what happened, or why not.
async fn change_person(
    act: Action<CompanyManager>,
    pool: &Pool,
    target: UserId,
    change: Change,
) -> AppResult<HttpResponse> {
    let done = people::change(pool, &act.user, target, change, act.ip.clone()).await?;
    match done {
        Ok(message) => flash::success(&act.session, message),
        Err(refusal) => flash::error(&act.session, refusal.to_string()),
    }
    Ok(see_other(urls::USERS))
}

pub async fn disable(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
    form: web::Form<Confirmation>,
) -> AppResult<HttpResponse> {
    if !form.given() {
        let person = people::find(&pool, &act.user, UserId(*path)).await?;
        let question = Question {
            title: format!("Disable {}?", person.name),
            message: "They are signed out of this company at once and cannot use it, and their connections to task tools here are deleted. Their time stays in reports, and any other company they are in is not touched. You can enable them again later.".into(),
            action: urls::user_disable(path.into_inner()),
            button: "Disable",
            back: urls::USERS.to_owned(),
        };
        return confirm::ask(&act, Nav::Users, question);
    }
    change_person(act, &pool, UserId(*path), Change::Disabled(true)).await
}

pub async fn enable(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    change_person(act, &pool, UserId(*path), Change::Disabled(false)).await
}

pub async fn revoke_invite(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (company_id, id) = (act.user.company_id, path.into_inner());
    let removed = db::run(&pool, move |conn| Ok(invite::revoke(conn, company_id, id)?)).await?;
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    act.success("The invite was revoked; its link no longer works.");
    Ok(see_other(urls::USERS))
}

#[derive(Template)]
#[template(path = "accept_invite.html")]
pub struct AcceptPage {
    pub csrf_token: String,
    pub action: String,
    pub company_name: String,
    pub email: String,
    pub role: &'static str,
    pub name: String,
    pub error: Option<String>,
    /// "Log in to join", for an email that already has an account.
    pub log_in: String,
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    /// "Sign out and continue", from the page that asks a signed-in person first.
    #[serde(flatten)]
    switch: Confirmation,
}

/// Someone is signed in on this browser. The person invited (signed in with the
/// invite's email) is asked to join with the account they have; anyone else is asked
/// whether to sign out first. Nothing is accepted or saved until they agree.
async fn ask_signed_in_person(
    req: &HttpRequest,
    token: &str,
    found: &invite::Invite,
    company_name: &str,
) -> AppResult<Option<HttpResponse>> {
    use actix_web::FromRequest;
    let Ok(act) = Action::<auth::CurrentUser>::extract(req).await else {
        return Ok(None);
    };
    ask(&act, token, found, company_name).map(Some)
}

/// The page that asks the signed-in person `act` (see [`ask_signed_in_person`]).
fn ask(
    act: &Action<auth::CurrentUser>,
    token: &str,
    found: &invite::Invite,
    company_name: &str,
) -> AppResult<HttpResponse> {
    let question = if is_invited(&act.user, found) {
        let role = Role::parse(&found.role).unwrap_or(Role::User).label();
        Question {
            title: format!("Join {company_name}?"),
            message: format!(
                "You were invited to {company_name} as {} with {}, the email you are signed in with. {company_name} joins the companies you can switch between in the company menu; your password stays the same.",
                role.to_lowercase(), found.email
            ),
            action: urls::invite_accept(token),
            button: "Join",
            back: urls::MY_TASKS.to_owned(),
        }
    } else {
        Question {
            title: format!("Join {company_name} as {}?", found.email),
            message: format!(
                "You are signed in as {} ({}). To accept this invite you are signed out of that account first; you can sign in to it again at any time.",
                act.user.name, act.user.email
            ),
            action: urls::invite_accept(token),
            button: "Sign out and continue",
            back: urls::MY_TASKS.to_owned(),
        }
    };
    confirm::ask(act, Nav::Other, question)
}

/// Whether the signed-in person is the one the invite is for: their login's email.
fn is_invited(user: &auth::CurrentUser, found: &invite::Invite) -> bool {
    user.email.eq_ignore_ascii_case(&found.email)
}

/// "Log in to join": the invite waits in the session while the person logs in with the
/// account they have; log-in comes back to it.
pub async fn log_in_to_accept(
    session: Session,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    if !invite::looks_like_token(&token) {
        return Err(AppError::NotFound);
    }
    session
        .insert(auth::PENDING_INVITE, token)
        .unexpected("keeping the invite while the person logs in")?;
    Ok(see_other(urls::LOG_IN))
}

async fn open_invite(pool: &Pool, token: String) -> AppResult<(invite::Invite, String)> {
    db::run(pool, move |conn| {
        let Some(found) = invite::open_by_token(conn, &token)? else {
            return Err(AppError::BadRequest(
                "This invite link is no longer valid: it was used, revoked or has expired. Ask for a new one.".into(),
            ));
        };
        let company = company::name(conn, found.company_id)?;
        Ok((found, company))
    })
    .await
}

pub async fn accept_form(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let (found, company_name) = open_invite(&pool, token.clone()).await?;
    if let Some(ask) = ask_signed_in_person(&req, &token, &found, &company_name).await? {
        return Ok(ask);
    }
    render(&AcceptPage {
        csrf_token: csrf::token(&session)?,
        action: urls::invite_accept(&token),
        company_name,
        role: Role::parse(&found.role)
            .map(|r| r.label())
            .unwrap_or("User"),
        email: found.email,
        name: String::new(),
        error: None,
        log_in: urls::invite_log_in(&token),
    })
}

pub async fn accept(
    req: HttpRequest,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let (found, company_name) = open_invite(&pool, token.clone()).await?;
    let form = form.into_inner();
    let signed_in = {
        use actix_web::FromRequest;
        Action::<auth::CurrentUser>::extract(&req).await.ok()
    };
    if let Some(act) = signed_in.filter(|act| is_invited(&act.user, &found)) {
        // The person invited, signed in: "Join" joins with their account, and anything
        // else (the new-account form) asks first.
        if form.switch.given() {
            return join_signed_in(&pool, act, found, company_name).await;
        }
        return ask(&act, &token, &found, &company_name);
    }
    if form.switch.given() {
        use actix_web::FromRequest;
        if let Ok(user) = auth::CurrentUser::extract(&req).await {
            crate::services::account::log_out(&pool, &user, auth::client_ip(&req)).await?;
        }
        session.purge();
        return Ok(see_other(&urls::invite_accept(&token)));
    }
    if let Some(ask) = ask_signed_in_person(&req, &token, &found, &company_name).await? {
        return Ok(ask);
    }
    let role = Role::parse(&found.role).map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    let again = |error: String| -> AppResult<HttpResponse> {
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AcceptPage {
                csrf_token: csrf::token(&session)?,
                action: urls::invite_accept(&token),
                company_name: company_name.clone(),
                email: found.email.clone(),
                role: role.label(),
                name: form.name.clone(),
                error: Some(error),
                log_in: urls::invite_log_in(&token),
            },
        )
    };
    let name = match parse_name(&form.name, "your name") {
        Ok(v) => v,
        Err(e) => return again(e),
    };
    let whose = password::PasswordFor {
        email: &found.email,
        name: &name,
        company: &company_name,
    };
    if let Err(e) = password::validate(&form.password, &whose) {
        return again(e);
    }
    let hash = password::hash_off_executor(form.password.clone()).await?;
    let ip = auth::client_ip(&req);
    let user_id = match people::accept_invite(&pool, found.clone(), role, name, hash, ip).await? {
        Ok(id) => id,
        Err(refusal) => return again(refusal.to_string()),
    };
    auth::begin_session(&session, user_id)?;
    flash::success(&session, format!("Welcome to {company_name}!"));
    Ok(see_other(urls::MY_TASKS))
}

/// The person invited, signed in, joins with their account: the session goes on in the
/// new company.
async fn join_signed_in(
    pool: &Pool,
    act: Action<auth::CurrentUser>,
    found: invite::Invite,
    company_name: String,
) -> AppResult<HttpResponse> {
    let role = Role::parse(&found.role).map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    match people::accept_invite_signed_in(pool, found, role, &act.user, act.ip.clone()).await? {
        Ok(user_id) => {
            act.session
                .insert(auth::USER_ID, user_id)
                .unexpected("switching the session's company")?;
            act.success(format!(
                "Welcome to {company_name}! Switch between your companies in the company menu."
            ));
        }
        Err(refusal) => act.error(refusal.to_string()),
    }
    Ok(see_other(urls::MY_TASKS))
}
