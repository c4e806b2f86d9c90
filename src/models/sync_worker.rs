//! Sync workers: the sync engines alive, each beating every few seconds, so that a
//! lease held by one that stopped (a killed process) is free at once.

use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::schema::sync_workers;

/// Notes that `owner` is alive now, by the database's clock.
pub fn beat(conn: &mut DbConn, owner: &str) -> QueryResult<()> {
    let at = db::clock(conn)?;
    let upsert = diesel::insert_into(sync_workers::table)
        .values((sync_workers::owner.eq(owner), sync_workers::seen_at.eq(at)))
        .on_conflict(sync_workers::owner)
        .do_update()
        .set(sync_workers::seen_at.eq(at));
    // The upsert is written per backend: MultiConnection has no common ON CONFLICT.
    match conn {
        DbConn::Pg(c) => upsert.execute(c)?,
        DbConn::Sqlite(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Forgets workers not seen for `secs` (long gone processes).
pub fn forget_silent(conn: &mut DbConn, secs: i64) -> QueryResult<usize> {
    let at = db::clock(conn)?;
    diesel::delete(sync_workers::table.filter(sync_workers::seen_at.lt(at - secs))).execute(conn)
}
