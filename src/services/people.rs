//! The people of a company: inviting, changing roles, disabling and enabling, and
//! accepting an invite. Each change is written with its audit record in one
//! transaction; a refusal comes back as a `Refusal`, whose words the page shows.

use crate::auth::{session_store, CurrentUser};
use crate::crypto::random_token;
use diesel::QueryResult;

use crate::db::{self, DbConn, Pool};
use crate::domain::{CompanyId, Email, Role, UserId};
use crate::error::AppError;
use crate::models::{api_token, audit, company_integration, connection, invite, login, user};
use crate::services::{mail, sign_up};

/// Why a change to the people of a company was refused. Its text is shown as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Only an owner can invite another owner.")]
    OwnerInvitesOwner,
    #[error("Only an owner can change an owner, or make someone an owner.")]
    OwnerChangesOwner,
    #[error("{0} is the company's last owner. Make someone else an owner first.")]
    LastOwner(String),
    #[error("You cannot disable yourself.")]
    DisableSelf,
    #[error("Only an owner can enable an owner.")]
    OwnerEnablesOwner,
    #[error("This invite was already used. Log in instead.")]
    InviteUsed,
    #[error("You are already in {0}.")]
    AlreadyMember(String),
}

/// What a disabled person's connections say once they are back: why they need
/// connecting again.
pub const DISABLED_REASON: &str =
    "Your account was disabled, so taskbridge deleted its access to the tool. Connect again to sync.";

/// Roles a person may give: only an owner can make (or unmake) another owner.
pub fn grantable_roles(actor: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| actor == Role::Owner || *r != Role::Owner)
        .collect()
}

/// Invites `email` as `role` and mails them the link. Answers the invite's token,
/// shown once: only its digest is stored (and the mail, until it is sent). An email
/// that already has an account gets the same answer and the same mail (the inviter,
/// and the Outbox, learn nothing): its owner joins by opening the link signed in.
pub async fn invite(
    pool: &Pool,
    actor: &CurrentUser,
    email: Email,
    role: Role,
    ip: String,
) -> Result<Result<String, Refusal>, AppError> {
    if !grantable_roles(actor.role).contains(&role) {
        return Ok(Err(Refusal::OwnerInvitesOwner));
    }
    let token = random_token();
    let (inviter, sealed) = (Inviter::of(actor), token.clone());
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let to = email.as_str();
            sign_up::clear_stale(conn, to)?;
            invite::create(conn, inviter.company_id, to, role, inviter.id, &sealed)?;
            inviter.send(conn, to, role, &sealed, "", &ip)?;
            Ok(Ok(token))
        })
    })
    .await
}

/// Who sends an invite, as its transaction needs them.
struct Inviter {
    company_id: i64,
    id: i64,
    company_name: String,
    name: String,
}

impl Inviter {
    fn of(actor: &CurrentUser) -> Self {
        Inviter {
            company_id: actor.company_id.0,
            id: actor.id.0,
            company_name: actor.company_name.clone(),
            name: actor.name.clone(),
        }
    }

    /// Mails the invite's link to `to` and records it, in the caller's transaction.
    fn send(
        &self,
        conn: &mut DbConn,
        to: &str,
        role: Role,
        token: &str,
        note: &str,
        ip: &str,
    ) -> QueryResult<()> {
        let (company_id, name) = (self.company_id, &self.name);
        // The same mail whether or not the email has an account: the link either sets
        // a password or, opened signed in, adds the company to the person's.
        mail::invite(conn, company_id, to, &self.company_name, name, role, token)?;
        let detail = format!("{to} as {}{note}", role.as_str());
        let action = audit::Action::Invited;
        audit::record(
            conn,
            Some(company_id),
            Some(self.id),
            action,
            &detail,
            Some(ip),
        )
    }
}

/// A pending invite again: a new token (the old link stops working), a fresh expiry,
/// and the link mailed again. Answers the email and the new token; `None` when the
/// invite is not a pending one of the actor's company.
pub async fn resend_invite(
    pool: &Pool,
    actor: &CurrentUser,
    id: i64,
    ip: String,
) -> Result<Option<(String, String)>, AppError> {
    let token = random_token();
    let inviter = Inviter::of(actor);
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let renewed = invite::renew(conn, inviter.company_id, id, &token)?;
            let Some((email, role)) = renewed else {
                return Ok(None);
            };
            let role = Role::parse(&role).unwrap_or(Role::User);
            inviter.send(conn, &email, role, &token, " (sent again)", &ip)?;
            Ok(Some((email, token)))
        })
    })
    .await
}

/// A person of the actor's company; another company's id is not found.
pub async fn find(pool: &Pool, actor: &CurrentUser, id: UserId) -> Result<user::User, AppError> {
    let company_id = actor.company_id.0;
    db::run(pool, move |conn| {
        Ok(user::in_company(conn, CompanyId(company_id), id.0)?)
    })
    .await
}

/// Checks that keep a company from locking itself out.
fn check_change(
    conn: &mut DbConn,
    actor: &CurrentUser,
    target: &user::User,
    new_role: Option<Role>,
) -> QueryResult<Result<(), Refusal>> {
    let owners = user::active_owner_count(conn, actor.company_id.0)?;
    Ok(may_change(actor, target, new_role, owners))
}

fn may_change(
    actor: &CurrentUser,
    target: &user::User,
    new_role: Option<Role>,
    owners: i64,
) -> Result<(), Refusal> {
    let target_role = target.role();
    if actor.role != Role::Owner && (target_role == Role::Owner || new_role == Some(Role::Owner)) {
        return Err(Refusal::OwnerChangesOwner);
    }
    let removes_owner =
        target_role == Role::Owner && new_role != Some(Role::Owner) && !target.disabled;
    if removes_owner && owners <= 1 {
        return Err(Refusal::LastOwner(target.name.clone()));
    }
    Ok(())
}

/// What a change to a person did: the audit record to write, if anything changed, and
/// what to tell the actor.
struct Changed {
    audit: Option<(audit::Action, String)>,
    message: String,
}

/// What an owner or admin changes about a person of their company.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A new role.
    Role(Role),
    /// Disables a person (their sessions end, their API tokens are revoked and their
    /// tools' tokens are deleted at once; their connections, synced tasks and time stay,
    /// and show again once they are enabled and reconnect), or enables them again.
    Disabled(bool),
}

/// Loads a person of the actor's company, applies `change` to them and writes its
/// audit record, in one transaction. Answers what to tell the actor, or why not.
pub async fn change(
    pool: &Pool,
    actor: &CurrentUser,
    target: UserId,
    change: Change,
    ip: String,
) -> Result<Result<String, Refusal>, AppError> {
    let actor = actor.clone();
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let (company_id, actor_id) = (actor.company_id.0, actor.id.0);
            let target = user::in_company(conn, actor.company_id, target.0)?;
            let changed = match change {
                Change::Role(role) => new_role(conn, &actor, target, role)?,
                Change::Disabled(disabled) => set_disabled(conn, &actor, target, disabled)?,
            };
            let changed = match changed {
                Ok(changed) => changed,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if let Some((action, detail)) = &changed.audit {
                audit::record(
                    conn,
                    Some(company_id),
                    Some(actor_id),
                    *action,
                    detail,
                    Some(&ip),
                )?;
            }
            Ok(Ok(changed.message))
        })
    })
    .await
}

fn new_role(
    conn: &mut DbConn,
    actor: &CurrentUser,
    target: user::User,
    role: Role,
) -> QueryResult<Result<Changed, Refusal>> {
    if let Err(refusal) = check_change(conn, actor, &target, Some(role))? {
        return Ok(Err(refusal));
    }
    let mut audit = None;
    if target.role() != role {
        user::set_role(conn, target.id, role)?;
        let detail = format!("{}: {} → {}", target.email, target.role, role.as_str());
        audit = Some((audit::Action::RoleChanged, detail));
    }
    let label = role.label().to_lowercase();
    let message = format!("{} is now {label}.", target.name);
    Ok(Ok(Changed { audit, message }))
}

fn set_disabled(
    conn: &mut DbConn,
    actor: &CurrentUser,
    target: user::User,
    disabled: bool,
) -> QueryResult<Result<Changed, Refusal>> {
    if disabled {
        if target.id == actor.id.0 {
            return Ok(Err(Refusal::DisableSelf));
        }
        if let Err(refusal) = check_change(conn, actor, &target, None)? {
            return Ok(Err(refusal));
        }
    } else if actor.role != Role::Owner && target.role() == Role::Owner {
        return Ok(Err(Refusal::OwnerEnablesOwner));
    }
    user::set_disabled(conn, target.id, disabled)?;
    if disabled {
        session_store::end_all_for_user(conn, target.id)?;
        api_token::revoke_all(conn, target.id, crate::db::now())?;
        let why = ("TB-AUTH-REVOKED", DISABLED_REASON);
        connection::drop_credentials_of_user(conn, target.id, why)?;
    }
    let (action, verb) = if disabled {
        (audit::Action::UserDisabled, "disabled")
    } else {
        (audit::Action::UserEnabled, "enabled")
    };
    let message = format!("{} is {verb}.", target.name);
    let audit = Some((action, target.email));
    Ok(Ok(Changed { audit, message }))
}

/// Creates the account an invite asked for (the password already hashed), and marks
/// the invite used, in one transaction.
pub async fn accept_invite(
    pool: &Pool,
    found: invite::Invite,
    role: Role,
    name: String,
    password_hash: String,
    ip: String,
) -> Result<Result<UserId, Refusal>, AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            // The link came by mail to this address: a sign-up never confirmed there
            // does not keep the person out.
            sign_up::release_unverified(conn, &found.email)?;
            // An email with an account joins by opening the link signed in instead,
            // and the invite stays open for that (so it is checked first).
            if login::email_taken(conn, &found.email)?
                || invite::mark_accepted(conn, found.id)? == 0
            {
                return Ok(Err(Refusal::InviteUsed));
            }
            let login_id = login::create(conn, &found.email, &password_hash, true)?;
            Ok(Ok(join(conn, &found, login_id, role, &name, &ip)?))
        })
    })
    .await
}

/// Accepts an invite for a person already signed in with its email: their login gets
/// a place in the inviting company (no new password), and that company is the one
/// they use next. The caller has checked the email is the login's.
pub async fn accept_invite_signed_in(
    pool: &Pool,
    found: invite::Invite,
    role: Role,
    person: &CurrentUser,
    ip: String,
) -> Result<Result<UserId, Refusal>, AppError> {
    let (login_id, name) = (person.login_id, person.name.clone());
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if user::of_login_in(conn, login_id, found.company_id)?.is_some() {
                let company = crate::models::company::name(conn, found.company_id)?;
                return Ok(Err(Refusal::AlreadyMember(company)));
            }
            if invite::mark_accepted(conn, found.id)? == 0 {
                return Ok(Err(Refusal::InviteUsed));
            }
            Ok(Ok(join(conn, &found, login_id, role, &name, &ip)?))
        })
    })
    .await
}

/// The login's new place in the invite's company, told about the tools already on and
/// recorded; the next sign-in lands there.
fn join(
    conn: &mut DbConn,
    found: &invite::Invite,
    login_id: i64,
    role: Role,
    name: &str,
    ip: &str,
) -> QueryResult<UserId> {
    let (company_id, email) = (found.company_id, found.email.as_str());
    let id = user::create(conn, company_id, login_id, name, role)?;
    login::set_last_user(conn, login_id, id)?;
    // Someone joining after a tool was turned on is told, like everyone was.
    for kind in company_integration::enabled_providers(conn, CompanyId(company_id))? {
        let notice = crate::services::mail::active_notice(kind);
        let link = Some(crate::urls::INTEGRATION_SETTINGS);
        crate::models::notification::notify(conn, &[id], &notice, link)?;
    }
    let action = audit::Action::InviteAccepted;
    audit::record(conn, Some(company_id), Some(id), action, email, Some(ip))?;
    Ok(UserId(id))
}
