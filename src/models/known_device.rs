//! Browsers a person has signed in from, each known by the SHA-256 of the random
//! token in its device cookie (the token itself is never stored).

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::known_devices;

/// A browser is forgotten this long after it last signed in.
pub const FORGET_AFTER_SECS: i64 = 365 * 24 * 60 * 60;
/// A person's browsers beyond this many (the least recently used) are forgotten.
pub const MAX_PER_PERSON: i64 = 20;

/// The id of the login's known browser with this token hash, if it is one: a browser
/// known in any of the person's companies is known to them.
pub fn find(conn: &mut DbConn, login_id: i64, token_hash: &str) -> QueryResult<Option<i64>> {
    use crate::schema::users;
    let memberships = users::table
        .filter(users::login_id.eq(login_id))
        .select(users::id);
    known_devices::table
        .filter(known_devices::user_id.eq_any(memberships))
        .filter(known_devices::token_hash.eq(token_hash))
        .filter(known_devices::last_used_at.gt(now() - FORGET_AFTER_SECS))
        .select(known_devices::id)
        .first(conn)
        .optional()
}

/// Notes a browser the person just signed in from.
pub fn remember(conn: &mut DbConn, user_id: i64, token_hash: &str) -> QueryResult<()> {
    let at = now();
    diesel::delete(
        known_devices::table.filter(known_devices::last_used_at.lt(at - FORGET_AFTER_SECS)),
    )
    .execute(conn)?;
    diesel::insert_into(known_devices::table)
        .values((
            known_devices::user_id.eq(user_id),
            known_devices::token_hash.eq(token_hash),
            known_devices::created_at.eq(at),
            known_devices::last_used_at.eq(at),
        ))
        .execute(conn)?;
    let forgotten: Vec<i64> = known_devices::table
        .filter(known_devices::user_id.eq(user_id))
        .order((known_devices::last_used_at.desc(), known_devices::id.desc()))
        .offset(MAX_PER_PERSON)
        .select(known_devices::id)
        .load(conn)?;
    if !forgotten.is_empty() {
        diesel::delete(known_devices::table.filter(known_devices::id.eq_any(forgotten)))
            .execute(conn)?;
    }
    Ok(())
}

/// A known browser signed in again.
pub fn touch(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(known_devices::table.filter(known_devices::id.eq(id)))
        .set(known_devices::last_used_at.eq(now()))
        .execute(conn)?;
    Ok(())
}
