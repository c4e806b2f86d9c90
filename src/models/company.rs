//! Companies.

use crate::domain::CompanyId;
use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::companies;

pub fn create(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    diesel::insert_into(companies::table)
        .values((companies::name.eq(name), companies::created_at.eq(now())))
        .returning(companies::id)
        .get_result(conn)
}

pub fn name(conn: &mut DbConn, id: i64) -> QueryResult<String> {
    companies::table
        .find(id)
        .select(companies::name)
        .first(conn)
}

pub fn rename(conn: &mut DbConn, id: i64, name: &str) -> QueryResult<()> {
    diesel::update(companies::table.find(id))
        .set(companies::name.eq(name))
        .execute(conn)?;
    Ok(())
}

pub fn set_logo(conn: &mut DbConn, id: i64, logo: Option<(Vec<u8>, &str)>) -> QueryResult<()> {
    let (bytes, mime) = match logo {
        Some((bytes, mime)) => (Some(bytes), Some(mime.to_owned())),
        None => (None, None),
    };
    diesel::update(companies::table.find(id))
        .set((companies::logo.eq(bytes), companies::logo_mime.eq(mime)))
        .execute(conn)?;
    Ok(())
}

pub fn logo(conn: &mut DbConn, id: CompanyId) -> QueryResult<Option<(Vec<u8>, String)>> {
    let (bytes, mime): (Option<Vec<u8>>, Option<String>) = companies::table
        .find(id)
        .select((companies::logo, companies::logo_mime))
        .first(conn)?;
    Ok(bytes.zip(mime))
}

/// The company's time zone and week start (both checked by the caller).
pub fn set_days(conn: &mut DbConn, id: i64, zone: &str, week_start: &str) -> QueryResult<()> {
    diesel::update(companies::table.find(id))
        .set((
            companies::time_zone.eq(zone),
            companies::week_start.eq(week_start),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a company and, through its foreign keys, everything it holds.
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(companies::table.find(id)).execute(conn)?;
    Ok(())
}
