//! Signing in: the throttle, the password check off the executor, and the audit log.

use crate::auth::{password, throttle};
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::models::{audit, user};

/// How a sign-in ended.
pub enum LogIn {
    /// Too many failures: try again in this many seconds.
    Throttled(i64),
    Refused,
    Disabled,
    SignedIn(i64),
}

/// Checks an email and password. Three steps, so no database connection is held
/// while the password is hashed.
pub async fn log_in(
    pool: &Pool,
    email: String,
    secret: String,
    ip: String,
) -> Result<LogIn, AppError> {
    let found = {
        let (email, ip) = (email.clone(), ip.clone());
        db::run(pool, move |conn| {
            if let Err(wait) = throttle::check(conn, &email, &ip)? {
                return Ok(Err(wait));
            }
            Ok(Ok(user::by_email(conn, &email)?))
        })
        .await?
    };
    let found = match found {
        Err(wait) => return Ok(LogIn::Throttled(wait)),
        Ok(found) => found,
    };
    // Hash either way, so an unknown email takes as long as a known one.
    let stored = found
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_owned());
    let matches = password::verify_off_executor(secret, stored).await?;
    db::run(pool, move |conn| match found {
        Some(u) if matches && u.disabled => Ok(LogIn::Disabled),
        Some(u) if matches => {
            throttle::clear_account(conn, &email)?;
            let (company, actor) = (Some(u.company_id), Some(u.id));
            let action = audit::Action::SignIn;
            audit::record(conn, company, actor, action, &email, Some(&ip))?;
            Ok(LogIn::SignedIn(u.id))
        }
        other => {
            throttle::record_failure(conn, &email, &ip)?;
            let company = other.as_ref().map(|u| u.company_id);
            let action = audit::Action::SignInFailed;
            audit::record(conn, company, None, action, &email, Some(&ip))?;
            Ok(LogIn::Refused)
        }
    })
    .await
}
