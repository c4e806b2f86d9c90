//! People and their roles.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::domain::Role;
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub company_id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    pub email_verified_at: Option<i64>,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }

    /// Whether the person has shown they read mail at this address.
    pub fn verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// A new person, their email confirmed (an invite's link, or no mail to confirm by).
pub fn create(
    conn: &mut DbConn,
    company_id: i64,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
) -> QueryResult<i64> {
    let id = create_unverified(conn, company_id, email, name, password_hash, role)?;
    mark_verified(conn, id)?;
    Ok(id)
}

/// A new person who cannot sign in until they open the link mailed to them.
pub fn create_unverified(
    conn: &mut DbConn,
    company_id: i64,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values((
            users::company_id.eq(company_id),
            users::email.eq(email),
            users::name.eq(name),
            users::password_hash.eq(password_hash),
            users::role.eq(role.as_str()),
            users::disabled.eq(false),
            users::created_at.eq(now()),
        ))
        .returning(users::id)
        .get_result(conn)
}

/// Deletes a person (what is theirs goes by the foreign keys).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(users::table.find(id)).execute(conn)?;
    Ok(())
}

/// The person's email is confirmed (from now, if it was not yet).
pub fn mark_verified(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::email_verified_at.is_null()),
    )
    .set(users::email_verified_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::email.eq(email)),
    ))
    .get_result(conn)
}

pub fn by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// A person of this company; another company's id is simply not found.
pub fn in_company(conn: &mut DbConn, company_id: i64, id: i64) -> QueryResult<User> {
    users::table
        .filter(users::company_id.eq(company_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
}

pub fn list(conn: &mut DbConn, company_id: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::company_id.eq(company_id))
        .order((users::name.asc(), users::id.asc()))
        .select(User::as_select())
        .load(conn)
}

/// People of the company who can sign in.
pub fn active_count(conn: &mut DbConn, company_id: i64) -> QueryResult<i64> {
    users::table
        .filter(users::company_id.eq(company_id))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}

pub fn active_owner_count(conn: &mut DbConn, company_id: i64) -> QueryResult<i64> {
    users::table
        .filter(users::company_id.eq(company_id))
        .filter(users::role.eq(Role::Owner.as_str()))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}

pub fn set_role(conn: &mut DbConn, id: i64, role: Role) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::role.eq(role.as_str()))
        .execute(conn)?;
    Ok(())
}

pub fn set_disabled(conn: &mut DbConn, id: i64, disabled: bool) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)?;
    Ok(())
}

/// Everyone active in the company but `except`.
pub fn others_in_company(conn: &mut DbConn, company_id: i64, except: i64) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::company_id.eq(company_id))
        .filter(users::id.ne(except))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)
}

/// A person's time zone (their own, else their company's) and their company's week
/// start.
pub fn days_of(conn: &mut DbConn, id: i64) -> QueryResult<(String, String)> {
    use crate::schema::companies;
    let (own, company, week_start): (Option<String>, String, String) = users::table
        .inner_join(companies::table)
        .filter(users::id.eq(id))
        .select((
            users::time_zone,
            companies::time_zone,
            companies::week_start,
        ))
        .first(conn)?;
    Ok((own.unwrap_or(company), week_start))
}

/// A person's own time zone; `None` follows the company's.
pub fn set_time_zone(conn: &mut DbConn, id: i64, zone: Option<&str>) -> QueryResult<()> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::time_zone.eq(zone))
        .execute(conn)?;
    Ok(())
}

/// Whether the person gets notices by email too.
pub fn email_notices(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    users::table
        .find(id)
        .select(users::email_notices)
        .first(conn)
}

pub fn set_email_notices(conn: &mut DbConn, id: i64, on: bool) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::email_notices.eq(on))
        .execute(conn)?;
    Ok(())
}

/// (company, email) of each of `ids` who is active and wants notices by email.
pub fn notice_recipients(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::disabled.eq(false))
        .filter(users::email_notices.eq(true))
        .order(users::id.asc())
        .select((users::company_id, users::email))
        .load(conn)
}

pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(())
}
