//! The mailed "confirm your email" links of new accounts (a digest of each, single
//! use, short lived), and the sign-up mails asked for, counted for throttling whether
//! or not the address has an account.

use diesel::prelude::*;

use crate::crypto::sha256_hex;
use crate::db::{now, DbConn};
use crate::schema::{email_verification_requests, email_verifications};

/// A link works for a day.
pub const VALID_FOR_SECS: i64 = 24 * 60 * 60;
/// Mails are counted over an hour…
pub const WINDOW_SECS: i64 = 60 * 60;
/// …at most this many to one address…
pub const MAX_PER_EMAIL: i64 = 3;
/// …and this many asked from one client.
pub const MAX_PER_IP: i64 = 20;

/// Stores a new link under the digest of `token`; older unused links of the person
/// stop working.
pub fn create(conn: &mut DbConn, user_id: i64, token: &str) -> QueryResult<()> {
    diesel::delete(
        email_verifications::table
            .filter(email_verifications::user_id.eq(user_id))
            .filter(email_verifications::used_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(email_verifications::table)
        .values((
            email_verifications::user_id.eq(user_id),
            email_verifications::token_hash.eq(sha256_hex(token)),
            email_verifications::created_at.eq(now()),
            email_verifications::expires_at.eq(now() + VALID_FOR_SECS),
        ))
        .execute(conn)?;
    Ok(())
}

/// Uses the link: the person it is for, or `None` when it is unknown, used or ended.
pub fn use_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<i64>> {
    let found: Option<(i64, i64)> = email_verifications::table
        .filter(email_verifications::token_hash.eq(sha256_hex(token)))
        .filter(email_verifications::used_at.is_null())
        .filter(email_verifications::expires_at.gt(now()))
        .select((email_verifications::id, email_verifications::user_id))
        .first(conn)
        .optional()?;
    let Some((id, user_id)) = found else {
        return Ok(None);
    };
    // Conditional, so two openings at once cannot both use it.
    let changed = diesel::update(
        email_verifications::table
            .filter(email_verifications::id.eq(id))
            .filter(email_verifications::used_at.is_null()),
    )
    .set(email_verifications::used_at.eq(now()))
    .execute(conn)?;
    Ok((changed == 1).then_some(user_id))
}

/// Serializes counting on PostgreSQL (taken inside the caller's transaction).
const COUNT_LOCK_KEY: i64 = 0x7462_7665_7269_6679;

/// Counts a mail asked for `email` from `ip`; `false` when the address or the client
/// asked too often. Runs inside a write transaction.
pub fn note_request(conn: &mut DbConn, email: &str, ip: &str) -> QueryResult<bool> {
    // As for password resets: PostgreSQL's READ COMMITTED would let concurrent requests
    // all count under the limit; the advisory lock makes them take turns.
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({COUNT_LOCK_KEY})")).execute(pg)?;
    }
    let since = now() - WINDOW_SECS;
    diesel::delete(
        email_verification_requests::table
            .filter(email_verification_requests::created_at.lt(since)),
    )
    .execute(conn)?;
    let by_email: i64 = email_verification_requests::table
        .filter(email_verification_requests::email.eq(email))
        .filter(email_verification_requests::created_at.gt(since))
        .count()
        .get_result(conn)?;
    let by_ip: i64 = email_verification_requests::table
        .filter(email_verification_requests::ip.eq(ip))
        .filter(email_verification_requests::created_at.gt(since))
        .count()
        .get_result(conn)?;
    if by_email >= MAX_PER_EMAIL || by_ip >= MAX_PER_IP {
        return Ok(false);
    }
    diesel::insert_into(email_verification_requests::table)
        .values((
            email_verification_requests::email.eq(email),
            email_verification_requests::ip.eq(ip),
            email_verification_requests::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}
