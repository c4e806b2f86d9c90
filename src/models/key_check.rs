//! The key check: a known value sealed with the secret key when the database was set
//! up, so that a server started with another key is refused at once.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::key_check;

/// The one row's id.
const ROW: i64 = 1;

pub fn load(conn: &mut DbConn) -> QueryResult<Option<Vec<u8>>> {
    key_check::table
        .find(ROW)
        .select(key_check::sealed)
        .first(conn)
        .optional()
}

/// Keeps the sealed value; false when another instance kept one first.
pub fn store(conn: &mut DbConn, sealed: &[u8]) -> QueryResult<bool> {
    let stored = diesel::insert_into(key_check::table)
        .values((
            key_check::id.eq(ROW),
            key_check::sealed.eq(sealed),
            key_check::created_at.eq(now()),
        ))
        .on_conflict_do_nothing();
    let stored = match conn {
        DbConn::Pg(c) => stored.execute(c)?,
        DbConn::Sqlite(c) => stored.execute(c)?,
    };
    Ok(stored == 1)
}
