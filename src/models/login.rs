//! Logins: what belongs to the human rather than to one company (the email they sign
//! in with, the password, whether the email is confirmed). A person in several
//! companies has one login and a `users` row (a membership) in each.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::logins;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = logins)]
pub struct Login {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    /// The membership (a `users` id) used last: signing in lands there if it still can.
    pub last_user_id: Option<i64>,
    pub created_at: i64,
}

impl Login {
    /// Whether the person has shown they read mail at this address.
    pub fn verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// A new login; `verified` when the email needs no confirming (an invite's link, or no
/// mail to confirm by).
pub fn create(
    conn: &mut DbConn,
    email: &str,
    password_hash: &str,
    verified: bool,
) -> QueryResult<i64> {
    let at = now();
    diesel::insert_into(logins::table)
        .values((
            logins::email.eq(email),
            logins::password_hash.eq(password_hash),
            logins::email_verified_at.eq(verified.then_some(at)),
            logins::created_at.eq(at),
        ))
        .returning(logins::id)
        .get_result(conn)
}

pub fn by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Login>> {
    logins::table
        .filter(logins::email.eq(email))
        .select(Login::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<Login>> {
    logins::table
        .find(id)
        .select(Login::as_select())
        .first(conn)
        .optional()
}

pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        logins::table.filter(logins::email.eq(email)),
    ))
    .get_result(conn)
}

/// The email is confirmed (from now, if it was not yet).
pub fn mark_verified(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(
        logins::table
            .find(id)
            .filter(logins::email_verified_at.is_null()),
    )
    .set(logins::email_verified_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// A new password, for every company the person is in.
pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<()> {
    diesel::update(logins::table.find(id))
        .set(logins::password_hash.eq(hash))
        .execute(conn)?;
    Ok(())
}

/// Notes the membership the person is using now: the next sign-in lands there.
pub fn set_last_user(conn: &mut DbConn, id: i64, user_id: i64) -> QueryResult<()> {
    diesel::update(logins::table.find(id))
        .set(logins::last_user_id.eq(Some(user_id)))
        .execute(conn)?;
    Ok(())
}

/// Deletes a login and, through the foreign keys, its memberships.
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(logins::table.find(id)).execute(conn)?;
    Ok(())
}
