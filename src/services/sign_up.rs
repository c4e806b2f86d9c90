//! Sign-up and the email it confirms: a new company and owner whose account works
//! once the mailed link is opened, the same answer whether or not the email already
//! has an account (its owner is mailed instead), and the link sent again.

use diesel::QueryResult;

use crate::auth::password;
use crate::crypto::random_token;
use crate::db::{self, now, DbConn, Pool};
use crate::domain::{CompanyId, Email, Role, UserId};
use crate::error::AppError;
use crate::models::{audit, company, email_verification, login, user};
use crate::services::mail;

/// A sign-up as the form brings it, its words already checked.
pub struct NewCompany {
    pub company_name: String,
    pub name: String,
    pub email: Email,
    pub secret: String,
    pub ip: String,
}

/// How a sign-up ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SignUp {
    /// No mail to confirm the email by (no SMTP server): the account works at once.
    SignedIn(UserId),
    /// No mail, and the email has an account: there is no private way to say so.
    Taken,
    /// "Check your email": a new account's link went out, or the owner of the email
    /// was told someone tried; the page cannot tell which.
    CheckEmail,
}

/// Creates a company and its owner. With mail (`mails`), the owner cannot sign in until
/// they open the link mailed to them, and an email that has an account gets a mail
/// instead of a second account. The password is hashed either way, so both answers
/// take as long.
pub async fn sign_up(pool: &Pool, form: NewCompany, mails: bool) -> Result<SignUp, AppError> {
    let NewCompany {
        company_name,
        name,
        email,
        secret,
        ip,
    } = form;
    let hash = password::hash_off_executor(secret).await?;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let email = email.as_str();
            clear_stale(conn, email)?;
            if let Some(existing) = login::by_email(conn, email)? {
                if !mails {
                    return Ok(SignUp::Taken);
                }
                let person = user::to_sign_in(conn, existing.id, existing.last_user_id)?;
                if let Some(person) = person {
                    if email_verification::note_request(conn, email, &ip)? {
                        mail::sign_up_attempted(conn, &person)?;
                    }
                }
                return Ok(SignUp::CheckEmail);
            }
            let company_id = company::create(conn, &company_name)?;
            let login_id = login::create(conn, email, &hash, !mails)?;
            let user_id = user::create(conn, company_id, login_id, &name, Role::Owner)?;
            login::set_last_user(conn, login_id, user_id)?;
            let detail = format!("{email} created {company_name}");
            let (company, actor) = (Some(company_id), Some(user_id));
            audit::record(
                conn,
                company,
                actor,
                audit::Action::SignUp,
                &detail,
                Some(&ip),
            )?;
            if !mails {
                return Ok(SignUp::SignedIn(UserId(user_id)));
            }
            // Counted like the mail to an existing email, so sign-ups cannot be used
            // to mail anyone without end; over the limit the account waits for "Send
            // the link again".
            if email_verification::note_request(conn, email, &ip)? {
                send_link(conn, user_id)?;
            } else {
                tracing::info!("verification mails throttled");
            }
            Ok(SignUp::CheckEmail)
        })
    })
    .await
}

/// A new link for the person, mailed (older ones stop working).
fn send_link(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    let Some(person) = user::by_id(conn, user_id)? else {
        return Ok(());
    };
    let token = random_token();
    email_verification::create(conn, user_id, &token)?;
    mail::verify_email(conn, &person, &token)
}

/// An account whose email was never confirmed and whose link has run out holds its
/// email no longer: it goes, so someone else's sign-up cannot keep an address from its
/// owner.
pub fn clear_stale(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    release(conn, email, true)
}

/// An invite's link proves the email is the invited person's: an account made with it
/// by a sign-up never confirmed goes, whatever its age.
pub fn release_unverified(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    release(conn, email, false)
}

fn release(conn: &mut DbConn, email: &str, only_stale: bool) -> QueryResult<()> {
    let Some(found) = login::by_email(conn, email)? else {
        return Ok(());
    };
    let ran_out = found.created_at + email_verification::VALID_FOR_SECS <= now();
    if found.verified() || (only_stale && !ran_out) {
        return Ok(());
    }
    // Its sign-up made a company no one could use; it goes too, unless (it should not
    // happen) someone else is in it.
    for person in user::of_login(conn, found.id)? {
        if user::list(conn, CompanyId(person.company_id))?.len() <= 1 {
            company::delete(conn, person.company_id)?;
        }
    }
    login::delete(conn, found.id)
}

/// Opens a mailed link: the email is confirmed and the person may sign in. `None`:
/// the link is unknown, used, or ran out.
pub async fn verify(pool: &Pool, token: String, ip: String) -> Result<Option<UserId>, AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let Some(user_id) = email_verification::use_token(conn, &token)? else {
                return Ok(None);
            };
            let Some(person) = user::by_id(conn, user_id)?.filter(|u| !u.disabled) else {
                return Ok(None);
            };
            login::mark_verified(conn, person.login_id)?;
            let (company, actor) = (Some(person.company_id), Some(user_id));
            let action = audit::Action::EmailVerified;
            audit::record(conn, company, actor, action, &person.email, Some(&ip))?;
            Ok(Some(UserId(user_id)))
        })
    })
    .await
}

/// "Send the link again": within the throttle, an account at `email` whose email is
/// not confirmed gets a new link. Nothing comes back: the page says the same whatever
/// happened (and the caller runs this after answering).
pub async fn resend_link(pool: &Pool, email: String, ip: String) -> Result<(), AppError> {
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if !email_verification::note_request(conn, &email, &ip)? {
                tracing::info!("verification mails throttled");
                return Ok(());
            }
            let Some(found) = login::by_email(conn, &email)?.filter(|l| !l.verified()) else {
                return Ok(());
            };
            match user::to_sign_in(conn, found.id, found.last_user_id)? {
                Some(person) => Ok(send_link(conn, person.id)?),
                None => Ok(()),
            }
        })
    })
    .await
}
