//! People and their roles.

use crate::domain::{CompanyId, UserId};
use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::domain::Role;
use crate::schema::{logins, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub company_id: i64,
    pub login_id: i64,
    #[diesel(select_expression = logins::email)]
    #[diesel(select_expression_type = logins::email)]
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    #[diesel(select_expression = logins::email_verified_at)]
    #[diesel(select_expression_type = logins::email_verified_at)]
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

/// A person's place in a company: a new `users` row for an existing login.
pub fn create(
    conn: &mut DbConn,
    company_id: i64,
    login_id: i64,
    name: &str,
    role: Role,
) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values((
            users::company_id.eq(company_id),
            users::login_id.eq(login_id),
            users::name.eq(name),
            users::role.eq(role.as_str()),
            users::disabled.eq(false),
            users::created_at.eq(now()),
        ))
        .returning(users::id)
        .get_result(conn)
}

/// The login's membership of a company, if it has one (active or not).
pub fn of_login_in(conn: &mut DbConn, login_id: i64, company_id: i64) -> QueryResult<Option<User>> {
    users::table
        .inner_join(logins::table)
        .filter(users::login_id.eq(login_id))
        .filter(users::company_id.eq(company_id))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The membership a sign-in lands in: the one used last if it is still active, else
/// the first active one. `None`: the login is disabled in every company.
pub fn to_sign_in(
    conn: &mut DbConn,
    login_id: i64,
    last: Option<i64>,
) -> QueryResult<Option<User>> {
    let active: Vec<User> = users::table
        .inner_join(logins::table)
        .filter(users::login_id.eq(login_id))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)?;
    let last = active.iter().position(|u| Some(u.id) == last);
    Ok(active.into_iter().nth(last.unwrap_or(0)))
}

/// Every membership of the login (active or not), oldest first.
pub fn of_login(conn: &mut DbConn, login_id: i64) -> QueryResult<Vec<User>> {
    users::table
        .inner_join(logins::table)
        .filter(users::login_id.eq(login_id))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)
}

/// A company the person can switch to, as the company menu lists it.
#[derive(Debug, Clone, Queryable)]
pub struct Membership {
    pub company_id: i64,
    pub company_name: String,
    pub company_logo_mime: Option<String>,
}

/// The companies where the login is active, but `except` (the current one), by name.
pub fn other_memberships(
    conn: &mut DbConn,
    login_id: i64,
    except: i64,
) -> QueryResult<Vec<Membership>> {
    use crate::schema::companies;
    users::table
        .inner_join(companies::table)
        .filter(users::login_id.eq(login_id))
        .filter(users::id.ne(except))
        .filter(users::disabled.eq(false))
        .order((companies::name.asc(), companies::id.asc()))
        .select((companies::id, companies::name, companies::logo_mime))
        .load(conn)
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table
        .inner_join(logins::table)
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// A person of this company; another company's id is simply not found.
pub fn in_company(conn: &mut DbConn, company_id: CompanyId, id: i64) -> QueryResult<User> {
    users::table
        .inner_join(logins::table)
        .filter(users::company_id.eq(company_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
}

pub fn list(conn: &mut DbConn, company_id: CompanyId) -> QueryResult<Vec<User>> {
    users::table
        .inner_join(logins::table)
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
pub fn set_time_zone(conn: &mut DbConn, id: UserId, zone: Option<&str>) -> QueryResult<()> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::time_zone.eq(zone))
        .execute(conn)?;
    Ok(())
}

/// Whether the person gets notices by email too.
pub fn email_notices(conn: &mut DbConn, id: UserId) -> QueryResult<bool> {
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
        .inner_join(logins::table)
        .filter(users::id.eq_any(ids))
        .filter(users::disabled.eq(false))
        .filter(users::email_notices.eq(true))
        .order(users::id.asc())
        .select((users::company_id, logins::email))
        .load(conn)
}
