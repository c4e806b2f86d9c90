//! Sign-in throttling, kept in the database so that every app instance sees the same
//! count. Failures count per account and address together (per account and browser
//! for a browser the person signed in from before), and per address across accounts.
//! Past a few free tries each failure doubles the wait, up to a cap: nothing locks an
//! account for everyone, since a stranger's failures from elsewhere never hold the
//! person back, and their own known browser has a count of its own.
//!
//! An attempt is counted (as a failure) before its password is hashed and forgiven
//! when the password turns out right, so concurrent guesses cannot all slip in
//! between the check and the count.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::sign_in_failures;

/// Failures older than this are forgotten.
pub const WINDOW_SECS: i64 = 60 * 60;
/// Failures for one account from one address (or known browser) before any wait.
pub const FREE_PER_ACCOUNT: i64 = 5;
/// Failures from one address, over every account, before any wait.
pub const FREE_PER_ADDRESS: i64 = 20;
/// The first wait; each further failure doubles it, up to [`MAX_WAIT_SECS`].
pub const FIRST_WAIT_SECS: i64 = 30;
pub const MAX_WAIT_SECS: i64 = 15 * 60;

/// Where a sign-in comes from, as the throttle counts it.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// An address (a browser the person has not signed in from before).
    Address(&'a str),
    /// A known browser of the person (see `models::known_device`), at an address.
    Device { id: i64, ip: &'a str },
}

/// The wait still due after `failures` failures, the latest at `latest`.
pub fn wait_after(failures: i64, free: i64, latest: Option<i64>, at: i64) -> i64 {
    let Some(latest) = latest.filter(|_| failures >= free) else {
        return 0;
    };
    let doublings = u32::try_from((failures - free).min(20)).unwrap_or(20);
    let wait = FIRST_WAIT_SECS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_WAIT_SECS);
    (latest + wait - at).max(0)
}

/// Counts an attempt, to be called in a write transaction before the password is
/// checked: `Ok(id)` of the attempt's row (a failure until [`forgive`]), or
/// `Err(seconds)` when it must wait and is not tried at all.
pub fn begin_attempt(
    conn: &mut DbConn,
    email: &str,
    source: Source<'_>,
) -> QueryResult<Result<i64, i64>> {
    if let DbConn::Pg(_) = conn {
        // PostgreSQL: one attempt counts at a time (self-conflicting lock, held to the
        // transaction's end), so concurrent attempts see each other's rows. SQLite's
        // IMMEDIATE transactions already do this.
        diesel::sql_query("LOCK TABLE sign_in_failures IN SHARE ROW EXCLUSIVE MODE")
            .execute(conn)?;
    }
    let at = now();
    diesel::delete(
        sign_in_failures::table.filter(sign_in_failures::created_at.lt(at - WINDOW_SECS)),
    )
    .execute(conn)?;
    let wait = match source {
        Source::Address(ip) => {
            let pair = tally(conn, Some(email), Some(ip), None)?;
            let address = tally(conn, None, Some(ip), None)?;
            wait_after(pair.0, FREE_PER_ACCOUNT, pair.1, at).max(wait_after(
                address.0,
                FREE_PER_ADDRESS,
                address.1,
                at,
            ))
        }
        Source::Device { id, .. } => {
            let device = tally(conn, Some(email), None, Some(id))?;
            wait_after(device.0, FREE_PER_ACCOUNT, device.1, at)
        }
    };
    if wait > 0 {
        return Ok(Err(wait));
    }
    let (ip, device_id) = match source {
        Source::Address(ip) => (ip, None),
        Source::Device { id, ip } => (ip, Some(id)),
    };
    let id = diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::email.eq(email),
            sign_in_failures::ip.eq(ip),
            sign_in_failures::device_id.eq(device_id),
            sign_in_failures::created_at.eq(at),
        ))
        .returning(sign_in_failures::id)
        .get_result(conn)?;
    Ok(Ok(id))
}

/// How many failures match, and when the latest was. `device: None` counts only
/// attempts from addresses (a known browser's failures are its own).
fn tally(
    conn: &mut DbConn,
    email: Option<&str>,
    ip: Option<&str>,
    device: Option<i64>,
) -> QueryResult<(i64, Option<i64>)> {
    let mut query = sign_in_failures::table.into_boxed();
    if let Some(email) = email {
        query = query.filter(sign_in_failures::email.eq(email.to_owned()));
    }
    if let Some(ip) = ip {
        query = query.filter(sign_in_failures::ip.eq(ip.to_owned()));
    }
    query = match device {
        Some(id) => query.filter(sign_in_failures::device_id.eq(id)),
        None => query.filter(sign_in_failures::device_id.is_null()),
    };
    query
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(sign_in_failures::created_at),
        ))
        .first(conn)
}

/// The password was right: the attempt was no failure, and the account's failures
/// from the same source are forgiven.
pub fn forgive(
    conn: &mut DbConn,
    attempt: i64,
    email: &str,
    source: Source<'_>,
) -> QueryResult<()> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::id.eq(attempt)))
        .execute(conn)?;
    let same_account = sign_in_failures::table.filter(sign_in_failures::email.eq(email));
    match source {
        Source::Address(ip) => diesel::delete(
            same_account
                .filter(sign_in_failures::ip.eq(ip))
                .filter(sign_in_failures::device_id.is_null()),
        )
        .execute(conn)?,
        Source::Device { id, .. } => {
            diesel::delete(same_account.filter(sign_in_failures::device_id.eq(id))).execute(conn)?
        }
    };
    Ok(())
}

pub fn clear_account(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::email.eq(email)))
        .execute(conn)?;
    Ok(())
}

/// "Try again in 2 minutes."
pub fn wait_message(seconds: i64) -> String {
    let minutes = (seconds + 59) / 60;
    let when = if minutes <= 1 {
        "in a minute".to_owned()
    } else {
        format!("in {minutes} minutes")
    };
    format!("Too many failed sign-ins. For your security, try again {when}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_message_rounds_up_to_minutes() {
        assert!(wait_message(30).ends_with("try again in a minute."));
        assert!(wait_message(61).ends_with("try again in 2 minutes."));
        assert!(wait_message(899).ends_with("try again in 15 minutes."));
    }

    #[test]
    fn waits_double_past_the_free_tries_up_to_the_cap() {
        let at = 1_000_000;
        assert_eq!(wait_after(4, 5, Some(at), at), 0);
        assert_eq!(wait_after(5, 5, Some(at), at), 30);
        assert_eq!(wait_after(6, 5, Some(at), at), 60);
        assert_eq!(wait_after(7, 5, Some(at), at), 120);
        assert_eq!(wait_after(9, 5, Some(at), at), 480);
        assert_eq!(wait_after(10, 5, Some(at), at), MAX_WAIT_SECS);
        assert_eq!(wait_after(500, 5, Some(at), at), MAX_WAIT_SECS);
        // Counted from the latest failure.
        assert_eq!(wait_after(5, 5, Some(at - 20), at), 10);
        assert_eq!(wait_after(5, 5, Some(at - 40), at), 0);
    }
}
