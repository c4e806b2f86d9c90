//! "Forgot password?" links (a digest of each, single use, short lived) and the
//! requests for them, counted for throttling whether or not the address has an account.

use diesel::prelude::*;

use crate::crypto::sha256_hex;
use crate::db::{now, DbConn};
use crate::schema::{password_reset_requests, password_resets};

/// A link works for half an hour.
pub const VALID_FOR_SECS: i64 = 30 * 60;
/// Requests are counted over an hour…
pub const WINDOW_SECS: i64 = 60 * 60;
/// …at most this many for one address…
pub const MAX_PER_EMAIL: i64 = 3;
/// …and this many from one client.
pub const MAX_PER_IP: i64 = 20;

/// Stores a new link under the digest of `token`; older unused links of the person
/// stop working.
pub fn create(conn: &mut DbConn, user_id: i64, token: &str) -> QueryResult<()> {
    diesel::delete(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(sha256_hex(token)),
            password_resets::created_at.eq(now()),
            password_resets::expires_at.eq(now() + VALID_FOR_SECS),
        ))
        .execute(conn)?;
    Ok(())
}

/// The person a link is for, while it is unused and fresh.
pub fn open_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<(i64, i64)>> {
    password_resets::table
        .filter(password_resets::token_hash.eq(sha256_hex(token)))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now()))
        .select((password_resets::id, password_resets::user_id))
        .first(conn)
        .optional()
}

/// Uses the link; `false` when it was used (or ended) meanwhile.
pub fn mark_used(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        password_resets::table
            .filter(password_resets::id.eq(id))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now())),
    )
    .set(password_resets::used_at.eq(now()))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Serializes counting on PostgreSQL (taken inside the caller's transaction).
const COUNT_LOCK_KEY: i64 = 0x7462_7273_6574_7271;

/// Counts this request; `false` when the address or the client asked too often. Runs
/// inside a write transaction.
pub fn note_request(conn: &mut DbConn, email: &str, ip: &str) -> QueryResult<bool> {
    // Count, then insert: SQLite's IMMEDIATE transaction already lets one writer in at
    // a time, but PostgreSQL's READ COMMITTED would let concurrent requests all count
    // under the limit. A transaction-scoped advisory lock makes them take turns.
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({COUNT_LOCK_KEY})")).execute(pg)?;
    }
    let since = now() - WINDOW_SECS;
    diesel::delete(
        password_reset_requests::table.filter(password_reset_requests::created_at.lt(since)),
    )
    .execute(conn)?;
    let by_email: i64 = password_reset_requests::table
        .filter(password_reset_requests::email.eq(email))
        .filter(password_reset_requests::created_at.gt(since))
        .count()
        .get_result(conn)?;
    let by_ip: i64 = password_reset_requests::table
        .filter(password_reset_requests::ip.eq(ip))
        .filter(password_reset_requests::created_at.gt(since))
        .count()
        .get_result(conn)?;
    if by_email >= MAX_PER_EMAIL || by_ip >= MAX_PER_IP {
        return Ok(false);
    }
    diesel::insert_into(password_reset_requests::table)
        .values((
            password_reset_requests::email.eq(email),
            password_reset_requests::ip.eq(ip),
            password_reset_requests::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}
