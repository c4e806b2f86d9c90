//! Users: invite, change roles, disable; and accepting an invite.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{self, csrf, password, session_store, CompanyManager, CurrentUser};
use crate::config::Settings;
use crate::crypto::random_token;
use crate::db::{self, Pool};
use crate::domain::{parse_name, Email, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::models::{audit, company, invite, user};
use crate::urls;
use crate::web::shell::{Nav, Shell};
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
    pub revoke_action: String,
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
}

async fn users_page(
    user: &CurrentUser,
    session: &Session,
    pool: &Pool,
    settings: &Settings,
) -> AppResult<UsersPage> {
    let company_id = user.company_id.0;
    let (people, invites) = db::run(pool, move |conn| {
        Ok((
            user::list(conn, company_id)?,
            invite::pending(conn, company_id)?,
        ))
    })
    .await?;
    let me = user.id.0;
    Ok(UsersPage {
        shell: Shell::new(user, session, Nav::Users, settings.sandbox),
        people: people
            .into_iter()
            .map(|p| PersonRow {
                role: p.role(),
                is_me: p.id == me,
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
            .map(|i| InviteRow {
                role: Role::parse(&i.role).map(|r| r.label()).unwrap_or("User"),
                revoke_action: urls::invite_revoke(i.id),
                email: i.email,
            })
            .collect(),
        roles: grantable_roles(user.role),
        can_grant_owner: user.role == Role::Owner,
        invite_email: String::new(),
        invite_role: Role::User,
        invite_error: None,
        new_invite_link: None,
        new_invite_email: String::new(),
    })
}

/// Only an owner can make (or unmake) another owner.
fn grantable_roles(actor: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| actor == Role::Owner || *r != Role::Owner)
        .collect()
}

pub async fn list(
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
) -> AppResult<HttpResponse> {
    render(&users_page(&user, &session, &pool, &settings).await?)
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let mut page = users_page(&user, &session, &pool, &settings).await?;
    page.invite_email = form.email.clone();
    let parsed = Email::parse(&form.email).and_then(|email| {
        let role = Role::parse(&form.role)?;
        if !grantable_roles(user.role).contains(&role) {
            return Err("Only an owner can invite another owner.".into());
        }
        Ok((email, role))
    });
    let (email, role) = match parsed {
        Ok(v) => v,
        Err(e) => {
            page.invite_error = Some(e);
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    page.invite_role = role;
    let token = random_token();
    let ip = auth::client_ip(&req);
    let (company_id, actor) = (user.company_id.0, user.id.0);
    let created = {
        let (email, token) = (email.clone(), token.clone());
        db::run(&pool, move |conn| {
            db::write(conn, |conn| {
                if user::email_taken(conn, email.as_str())? {
                    return Ok(false);
                }
                invite::create(conn, company_id, email.as_str(), role, actor, &token)?;
                audit::record(
                    conn,
                    Some(company_id),
                    Some(actor),
                    audit::Action::Invited,
                    &format!("{email} as {}", role.as_str()),
                    Some(&ip),
                )?;
                Ok(true)
            })
        })
        .await?
    };
    if !created {
        page.invite_error = Some(format!("{email} already has a taskbridge account."));
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // Shown once, here: only a digest of the token is stored.
    let mut page = users_page(&user, &session, &pool, &settings).await?;
    let link = settings
        .base_url
        .join(&urls::invite_accept(&token))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    page.new_invite_link = Some(link.to_string());
    page.new_invite_email = email.to_string();
    render(&page)
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

/// Checks that keep a company from locking itself out.
fn check_change(
    actor: &CurrentUser,
    target: &user::User,
    new_role: Option<Role>,
    owners: i64,
) -> Result<(), String> {
    let target_role = target.role();
    if actor.role != Role::Owner && (target_role == Role::Owner || new_role == Some(Role::Owner)) {
        return Err("Only an owner can change an owner, or make someone an owner.".into());
    }
    let removes_owner =
        target_role == Role::Owner && new_role != Some(Role::Owner) && !target.disabled;
    if removes_owner && owners <= 1 {
        return Err(format!(
            "{} is the company's last owner. Make someone else an owner first.",
            target.name
        ));
    }
    Ok(())
}

pub async fn change_role(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> AppResult<HttpResponse> {
    let target_id = path.into_inner();
    let role = Role::parse(&form.role).map_err(AppError::BadRequest)?;
    let ip = auth::client_ip(&req);
    let actor = user.clone();
    let result = db::run(&pool, move |conn| {
        db::write(conn, |conn| {
            let target = user::in_company(conn, actor.company_id.0, target_id)?;
            let owners = user::active_owner_count(conn, actor.company_id.0)?;
            if let Err(message) = check_change(&actor, &target, Some(role), owners) {
                return Ok(Err(message));
            }
            if target.role() != role {
                user::set_role(conn, target.id, role)?;
                audit::record(
                    conn,
                    Some(actor.company_id.0),
                    Some(actor.id.0),
                    audit::Action::RoleChanged,
                    &format!("{}: {} → {}", target.email, target.role, role.as_str()),
                    Some(&ip),
                )?;
            }
            Ok(Ok(format!(
                "{} is now {}.",
                target.name,
                role.label().to_lowercase()
            )))
        })
    })
    .await?;
    match result {
        Ok(message) => flash::success(&session, message),
        Err(message) => flash::error(&session, message),
    }
    Ok(see_other(urls::USERS))
}

async fn set_disabled(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    target_id: i64,
    disabled: bool,
) -> AppResult<HttpResponse> {
    let ip = auth::client_ip(&req);
    let actor = user.clone();
    let result = db::run(&pool, move |conn| {
        db::write(conn, |conn| {
            let target = user::in_company(conn, actor.company_id.0, target_id)?;
            if disabled {
                if target.id == actor.id.0 {
                    return Ok(Err("You cannot disable yourself.".to_owned()));
                }
                let owners = user::active_owner_count(conn, actor.company_id.0)?;
                if let Err(message) = check_change(&actor, &target, None, owners) {
                    return Ok(Err(message));
                }
            } else if actor.role != Role::Owner && target.role() == Role::Owner {
                return Ok(Err("Only an owner can enable an owner.".to_owned()));
            }
            user::set_disabled(conn, target.id, disabled)?;
            if disabled {
                // Their open sessions end now, not when they time out.
                session_store::end_all_for_user(conn, target.id)?;
                // ...and their tokens in every tool are deleted.
                crate::models::connection::delete_all_for_user(conn, target.id)?;
            }
            let (action, verb) = if disabled {
                (audit::Action::UserDisabled, "disabled")
            } else {
                (audit::Action::UserEnabled, "enabled")
            };
            audit::record(
                conn,
                Some(actor.company_id.0),
                Some(actor.id.0),
                action,
                &target.email,
                Some(&ip),
            )?;
            Ok(Ok(format!("{} is {verb}.", target.name)))
        })
    })
    .await?;
    match result {
        Ok(message) => flash::success(&session, message),
        Err(message) => flash::error(&session, message),
    }
    Ok(see_other(urls::USERS))
}

pub async fn disable(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    set_disabled(req, user, session, pool, path.into_inner(), true).await
}

pub async fn enable(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    set_disabled(req, user, session, pool, path.into_inner(), false).await
}

pub async fn revoke_invite(
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (company_id, id) = (user.company_id.0, path.into_inner());
    let removed = db::run(&pool, move |conn| Ok(invite::revoke(conn, company_id, id)?)).await?;
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    flash::success(
        &session,
        "The invite was revoked; its link no longer works.",
    );
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
}

#[derive(Deserialize)]
pub struct AcceptForm {
    name: String,
    password: String,
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
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    let (found, company_name) = open_invite(&pool, token.clone()).await?;
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
    let role = Role::parse(&found.role).map_err(AppError::Internal)?;
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
            },
        )
    };
    let name = match parse_name(&form.name, "your name") {
        Ok(v) => v,
        Err(e) => return again(e),
    };
    if let Err(e) = password::validate(&form.password, &found.email) {
        return again(e);
    }
    let secret = form.password.clone();
    let hash = password::hash_off_executor(secret).await?;
    let ip = auth::client_ip(&req);
    let invite_row = found.clone();
    let created = db::run(&pool, move |conn| {
        db::write(conn, |conn| {
            if invite::mark_accepted(conn, invite_row.id)? == 0
                || user::email_taken(conn, &invite_row.email)?
            {
                return Ok(None);
            }
            let id = user::create(
                conn,
                invite_row.company_id,
                &invite_row.email,
                &name,
                &hash,
                role,
            )?;
            audit::record(
                conn,
                Some(invite_row.company_id),
                Some(id),
                audit::Action::InviteAccepted,
                &invite_row.email,
                Some(&ip),
            )?;
            Ok(Some(id))
        })
    })
    .await?;
    let Some(user_id) = created else {
        return again("This invite was already used. Log in instead.".into());
    };
    auth::begin_session(&session, UserId(user_id))?;
    flash::success(&session, format!("Welcome to {company_name}!"));
    Ok(see_other(urls::MY_TASKS))
}
