//! Invitations: a link that lets a person set their name and password.

use crate::domain::CompanyId;
use diesel::prelude::*;

use crate::crypto::sha256_hex;
use crate::db::{now, DbConn};
use crate::domain::Role;
use crate::schema::invites;

pub const VALID_FOR_SECS: i64 = 7 * 24 * 60 * 60;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invites)]
pub struct Invite {
    pub id: i64,
    pub company_id: i64,
    pub email: String,
    pub role: String,
    pub token_hash: String,
    pub invited_by: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

/// Stores the invite under a digest of its token; the token itself is shown once.
pub fn create(
    conn: &mut DbConn,
    company_id: i64,
    email: &str,
    role: Role,
    invited_by: i64,
    token: &str,
) -> QueryResult<i64> {
    // A new invite for the same address replaces any still pending.
    diesel::delete(
        invites::table
            .filter(invites::company_id.eq(company_id))
            .filter(invites::email.eq(email))
            .filter(invites::accepted_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(invites::table)
        .values((
            invites::company_id.eq(company_id),
            invites::email.eq(email),
            invites::role.eq(role.as_str()),
            invites::token_hash.eq(sha256_hex(token)),
            invites::invited_by.eq(invited_by),
            invites::created_at.eq(now()),
            invites::expires_at.eq(now() + VALID_FOR_SECS),
        ))
        .returning(invites::id)
        .get_result(conn)
}

/// Whether `token` could be an invite's (what [`crate::crypto::random_token`] makes),
/// before it goes into a path.
pub fn looks_like_token(token: &str) -> bool {
    (16..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An invite that can still be accepted.
pub fn open_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Invite>> {
    invites::table
        .filter(invites::token_hash.eq(sha256_hex(token)))
        .filter(invites::accepted_at.is_null())
        .filter(invites::expires_at.gt(now()))
        .select(Invite::as_select())
        .first(conn)
        .optional()
}

pub fn mark_accepted(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(
        invites::table
            .find(id)
            .filter(invites::accepted_at.is_null()),
    )
    .set(invites::accepted_at.eq(now()))
    .execute(conn)
}

/// A pending invite of the company with a new token and a fresh expiry: the old link
/// stops working. Answers its (email, role); `None`: no such pending invite.
pub fn renew(
    conn: &mut DbConn,
    company_id: i64,
    id: i64,
    token: &str,
) -> QueryResult<Option<(String, String)>> {
    diesel::update(
        invites::table
            .filter(invites::company_id.eq(company_id))
            .filter(invites::id.eq(id))
            .filter(invites::accepted_at.is_null()),
    )
    .set((
        invites::token_hash.eq(sha256_hex(token)),
        invites::created_at.eq(now()),
        invites::expires_at.eq(now() + VALID_FOR_SECS),
    ))
    .returning((invites::email, invites::role))
    .get_result(conn)
    .optional()
}

/// Invites not accepted yet, expired ones included (they can be sent again).
pub fn pending(conn: &mut DbConn, company_id: CompanyId) -> QueryResult<Vec<Invite>> {
    invites::table
        .filter(invites::company_id.eq(company_id))
        .filter(invites::accepted_at.is_null())
        .order(invites::id.desc())
        .select(Invite::as_select())
        .load(conn)
}

pub fn revoke(conn: &mut DbConn, company_id: CompanyId, id: i64) -> QueryResult<usize> {
    diesel::delete(
        invites::table
            .filter(invites::company_id.eq(company_id))
            .filter(invites::id.eq(id))
            .filter(invites::accepted_at.is_null()),
    )
    .execute(conn)
}
