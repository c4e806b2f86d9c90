//! Sign-in throttling per account and per address, kept in the database so that
//! every app instance sees the same count.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::sign_in_failures;

pub const WINDOW_SECS: i64 = 15 * 60;
pub const MAX_PER_ACCOUNT: i64 = 5;
pub const MAX_PER_ADDRESS: i64 = 20;

/// `Err(seconds)` when the next attempt must wait.
pub fn check(conn: &mut DbConn, email: &str, ip: &str) -> QueryResult<Result<(), i64>> {
    let since = now() - WINDOW_SECS;
    let by_account = sign_in_failures::table
        .filter(sign_in_failures::email.eq(email))
        .filter(sign_in_failures::created_at.gt(since));
    let by_address = sign_in_failures::table
        .filter(sign_in_failures::ip.eq(ip))
        .filter(sign_in_failures::created_at.gt(since));
    let mut wait = 0;
    for (count, oldest, limit) in [
        (
            by_account.count().get_result::<i64>(conn)?,
            by_account
                .select(diesel::dsl::min(sign_in_failures::created_at))
                .first::<Option<i64>>(conn)?,
            MAX_PER_ACCOUNT,
        ),
        (
            by_address.count().get_result::<i64>(conn)?,
            by_address
                .select(diesel::dsl::min(sign_in_failures::created_at))
                .first::<Option<i64>>(conn)?,
            MAX_PER_ADDRESS,
        ),
    ] {
        if count >= limit {
            let until = oldest.unwrap_or_else(now) + WINDOW_SECS;
            wait = wait.max(until - now());
        }
    }
    Ok(if wait > 0 { Err(wait) } else { Ok(()) })
}

pub fn record_failure(conn: &mut DbConn, email: &str, ip: &str) -> QueryResult<()> {
    diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::email.eq(email),
            sign_in_failures::ip.eq(ip),
            sign_in_failures::created_at.eq(now()),
        ))
        .execute(conn)?;
    diesel::delete(
        sign_in_failures::table.filter(sign_in_failures::created_at.lt(now() - WINDOW_SECS)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn clear_account(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::email.eq(email)))
        .execute(conn)?;
    Ok(())
}

/// "Try again in 14 minutes."
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
    #[test]
    fn wait_message_rounds_up_to_minutes() {
        assert!(super::wait_message(30).ends_with("try again in a minute."));
        assert!(super::wait_message(61).ends_with("try again in 2 minutes."));
        assert!(super::wait_message(899).ends_with("try again in 15 minutes."));
    }
}
