//! Signing in: the throttle, the password check off the executor, and the audit log.

use crate::auth::session_store;
use crate::auth::{password, throttle, CurrentUser};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{self, DbConn, Pool};
use crate::domain::UserId;
use crate::error::AppError;
use crate::models::{audit, company, known_device, login, password_reset, user};
use crate::services::mail;
use diesel::QueryResult;

/// How a sign-in ended.
pub enum LogIn {
    /// Too many failures: try again in this many seconds.
    Throttled(i64),
    Refused,
    Disabled,
    /// The right password, but the email is not confirmed yet (the mailed link).
    Unverified,
    /// Signed in; `new_device` is a fresh device token for the browser's cookie when
    /// the browser was not yet known as this person's.
    SignedIn {
        user_id: i64,
        new_device: Option<String>,
    },
}

/// A sign-in as the form and the browser bring it.
pub struct Attempt {
    pub email: String,
    pub secret: String,
    pub ip: String,
    /// The token in the browser's device cookie, if it has one.
    pub device: Option<String>,
}

/// What the first step found: the login, its browser if known, the counted attempt.
struct Counted {
    found: Option<login::Login>,
    device_id: Option<i64>,
    attempt: i64,
}

fn source(ip: &str, device_id: Option<i64>) -> throttle::Source<'_> {
    match device_id {
        Some(id) => throttle::Source::Device { id, ip },
        None => throttle::Source::Address(ip),
    }
}

/// Checks an email and password. Three steps, so no database connection is held
/// while the password is hashed; the attempt is counted in the first, before the hash.
pub async fn log_in(pool: &Pool, attempt: Attempt) -> Result<LogIn, AppError> {
    let Attempt {
        email,
        secret,
        ip,
        device,
    } = attempt;
    let counted = {
        let (email, ip) = (email.clone(), ip.clone());
        db::run(pool, move |conn| {
            db::write(conn, |conn| {
                let found = login::by_email(conn, &email)?;
                let device_id = match (&found, &device) {
                    (Some(l), Some(token)) => known_device::find(conn, l.id, &sha256_hex(token))?,
                    _ => None,
                };
                Ok(
                    throttle::begin_attempt(conn, &email, source(&ip, device_id))?.map(|attempt| {
                        Counted {
                            found,
                            device_id,
                            attempt,
                        }
                    }),
                )
            })
        })
        .await?
    };
    let Counted {
        found,
        device_id,
        attempt,
    } = match counted {
        Err(wait) => return Ok(LogIn::Throttled(wait)),
        Ok(counted) => counted,
    };
    // Hash either way, so an unknown email takes as long as a known one.
    let stored = found
        .as_ref()
        .map(|l| l.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_owned());
    let matches = password::verify_off_executor(secret, stored).await?;
    db::run(pool, move |conn| {
        db::write(conn, |conn| match found {
            Some(l) if matches => {
                throttle::forgive(conn, attempt, &email, source(&ip, device_id))?;
                // The company used last, or the first where the person is active.
                let Some(u) = user::to_sign_in(conn, l.id, l.last_user_id)? else {
                    return Ok(LogIn::Disabled);
                };
                if !l.verified() {
                    return Ok(LogIn::Unverified);
                }
                login::set_last_user(conn, l.id, u.id)?;
                let (company, actor) = (Some(u.company_id), Some(u.id));
                let action = audit::Action::SignIn;
                audit::record(conn, company, actor, action, &email, Some(&ip))?;
                let new_device = known_browser(conn, u.id, device_id)?;
                Ok(LogIn::SignedIn {
                    user_id: u.id,
                    new_device,
                })
            }
            other => {
                // The attempt already counts as a failure (`begin_attempt`).
                let company = match other {
                    Some(l) => user::to_sign_in(conn, l.id, l.last_user_id)?.map(|u| u.company_id),
                    None => None,
                };
                let action = audit::Action::SignInFailed;
                audit::record(conn, company, None, action, &email, Some(&ip))?;
                Ok(LogIn::Refused)
            }
        })
    })
    .await
}

/// The browser the person signed in with: a known one is touched (`None`), a new one
/// remembered, answering the token for its device cookie (only its hash is kept).
fn known_browser(
    conn: &mut DbConn,
    user_id: i64,
    device_id: Option<i64>,
) -> QueryResult<Option<String>> {
    if let Some(id) = device_id {
        known_device::touch(conn, id)?;
        return Ok(None);
    }
    remember(conn, user_id).map(Some)
}

/// A new known browser of the person's: the token for its cookie.
fn remember(conn: &mut DbConn, user_id: i64) -> QueryResult<String> {
    let token = random_token();
    known_device::remember(conn, user_id, &sha256_hex(&token))?;
    Ok(token)
}

/// Makes the browser a person just signed in with known as theirs: the token for its
/// device cookie (only its hash is kept).
pub async fn remember_browser(pool: &Pool, user_id: UserId) -> Result<String, AppError> {
    db::run(pool, move |conn| Ok(remember(conn, user_id.0)?)).await
}

/// Notes a sign-out in the audit log (the session itself is purged by the caller).
pub async fn log_out(pool: &Pool, user: &CurrentUser, ip: String) -> Result<(), AppError> {
    let (company, actor, email) = (user.company_id.0, user.id.0, user.email.clone());
    db::run(pool, move |conn| {
        let action = audit::Action::SignOut;
        audit::record(conn, Some(company), Some(actor), action, &email, Some(&ip))?;
        Ok(())
    })
    .await
}

/// Puts the first-run checklist on My Tasks away for this person.
pub async fn dismiss_checklist(pool: &Pool, user: &CurrentUser) -> Result<(), AppError> {
    let user_id = user.id.0;
    db::run(pool, move |conn| {
        crate::models::first_run::dismiss(conn, user_id)?;
        Ok(())
    })
    .await
}

/// "Forgot password?": counts the request and, for an active account within the
/// throttle, mails a single-use link. Nothing comes back: the page says the same
/// whatever happened here (and the caller runs this after answering, so the time it
/// takes tells nothing either).
pub async fn request_password_reset(
    pool: &Pool,
    email: String,
    ip: String,
) -> Result<(), AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if !password_reset::note_request(conn, &email, &ip)? {
                tracing::info!("password reset requests throttled");
                return Ok(());
            }
            // Through the company the person would sign in to: one link sets the
            // password of every company they are in.
            let Some(found) = login::by_email(conn, &email)? else {
                return Ok(());
            };
            let Some(person) = user::to_sign_in(conn, found.id, found.last_user_id)? else {
                return Ok(());
            };
            let token = random_token();
            password_reset::create(conn, person.id, &token)?;
            mail::password_reset(conn, &person, &token)?;
            let (company, actor) = (Some(person.company_id), Some(person.id));
            let action = audit::Action::PasswordResetRequested;
            audit::record(conn, company, actor, action, &email, Some(&ip))?;
            Ok(())
        })
    })
    .await
}

/// Whom a reset link is for: what the password rules check a new password against.
pub struct ResetFor {
    pub email: String,
    pub name: String,
    pub company: String,
}

/// The person a reset link is for, while the link is unused and fresh.
pub async fn open_password_reset(pool: &Pool, token: String) -> Result<Option<ResetFor>, AppError> {
    db::run(pool, move |conn| {
        let Some((_, user_id)) = password_reset::open_by_token(conn, &token)? else {
            return Ok(None);
        };
        let Some(person) = active_person(conn, user_id)? else {
            return Ok(None);
        };
        Ok(Some(ResetFor {
            company: company::name(conn, person.company_id)?,
            email: person.email,
            name: person.name,
        }))
    })
    .await
}

/// Uses a reset link: the new password (already hashed) is set, the link is spent and
/// every session of the person ends. `None`: the link no longer works.
pub async fn reset_password(
    pool: &Pool,
    token: String,
    password_hash: String,
    ip: String,
) -> Result<Option<UserId>, AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let Some((reset_id, user_id)) = password_reset::open_by_token(conn, &token)? else {
                return Ok(None);
            };
            let Some(person) = active_person(conn, user_id)? else {
                return Ok(None);
            };
            if !password_reset::mark_used(conn, reset_id)? {
                return Ok(None);
            }
            login::set_password_hash(conn, person.login_id, &password_hash)?;
            // The link came by mail: the email is the person's.
            login::mark_verified(conn, person.login_id)?;
            session_store::end_all_for_login(conn, person.login_id)?;
            throttle::clear_account(conn, &person.email)?;
            login::set_last_user(conn, person.login_id, person.id)?;
            let (company, actor) = (Some(person.company_id), Some(person.id));
            let action = audit::Action::PasswordReset;
            audit::record(conn, company, actor, action, &person.email, Some(&ip))?;
            Ok(Some(UserId(person.id)))
        })
    })
    .await
}

/// The person a mailed link was made for, in a company where they are still active
/// (that one, else the one they would sign in to).
fn active_person(conn: &mut DbConn, user_id: i64) -> QueryResult<Option<user::User>> {
    let Some(person) = user::by_id(conn, user_id)? else {
        return Ok(None);
    };
    if !person.disabled {
        return Ok(Some(person));
    }
    user::to_sign_in(conn, person.login_id, None)
}

/// How a password change ended.
pub enum PasswordChange {
    /// Too many wrong passwords: try again in this many seconds.
    Throttled(i64),
    /// The current password given is not the person's.
    WrongCurrent,
    /// Changed, and every session of the person ended: the caller renews its own.
    Changed,
}

/// "Change password": the current password is checked behind the sign-in throttle (so
/// a borrowed session cannot try passwords), then the new one (already checked by the
/// password rules) is set and every session of the person ends, in one transaction.
/// The caller keeps its own session by renewing it.
pub async fn change_password(
    pool: &Pool,
    user: &CurrentUser,
    current: String,
    new: String,
    ip: String,
) -> Result<PasswordChange, AppError> {
    let (user_id, login_id, email) = (user.id.0, user.login_id, user.email.clone());
    let stored = {
        let (email, ip) = (email.clone(), ip.clone());
        db::run(pool, move |conn| {
            db::write(conn, |conn| {
                // Counted before the slow hash, so guesses sent at once cannot all be
                // tried; the right password clears it below.
                let source = throttle::Source::Address(&ip);
                if let Err(wait) = throttle::begin_attempt(conn, &email, source)? {
                    return Ok(Err(wait));
                }
                Ok(Ok(login::by_id(conn, login_id)?.map(|l| l.password_hash)))
            })
        })
        .await?
    };
    let stored = match stored {
        Err(wait) => return Ok(PasswordChange::Throttled(wait)),
        Ok(stored) => stored.unwrap_or_else(|| password::dummy_hash().to_owned()),
    };
    if !password::verify_off_executor(current, stored).await? {
        return Ok(PasswordChange::WrongCurrent);
    }
    let hash = password::hash_off_executor(new).await?;
    let company = user.company_id.0;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            login::set_password_hash(conn, login_id, &hash)?;
            session_store::end_all_for_login(conn, login_id)?;
            throttle::clear_account(conn, &email)?;
            let action = audit::Action::PasswordChanged;
            audit::record(
                conn,
                Some(company),
                Some(user_id),
                action,
                &email,
                Some(&ip),
            )?;
            Ok(PasswordChange::Changed)
        })
    })
    .await
}

/// "Log out everywhere else": every session of the person ends, in every company they
/// are in; the caller renews its own. Answers how many there were besides the caller's.
pub async fn end_other_sessions(
    pool: &Pool,
    user: &CurrentUser,
    ip: String,
) -> Result<usize, AppError> {
    let (company, user_id, email) = (user.company_id.0, user.id.0, user.email.clone());
    let login_id = user.login_id;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let others = session_store::end_all_for_login(conn, login_id)?.saturating_sub(1);
            let detail = format!("{email}: {others} other sessions ended");
            let action = audit::Action::OtherSessionsEnded;
            audit::record(
                conn,
                Some(company),
                Some(user_id),
                action,
                &detail,
                Some(&ip),
            )?;
            Ok(others)
        })
    })
    .await
}

/// Notices by email on or off for this person.
pub async fn set_email_notices(pool: &Pool, user: &CurrentUser, on: bool) -> Result<(), AppError> {
    let user_id = user.id.0;
    db::run(pool, move |conn| {
        Ok(user::set_email_notices(conn, user_id, on)?)
    })
    .await
}
