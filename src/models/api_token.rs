//! Personal API tokens: a person's bearer tokens for desktop clients, kept as hashes.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{api_tokens, companies, logins, task_stamps, time_stamps, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub fn insert(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    name: &str,
    token_hash: &str,
    at: i64,
) -> QueryResult<i64> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::company_id.eq(company_id),
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::created_at.eq(at),
        ))
        .returning(api_tokens::id)
        .get_result(conn)
}

/// The person's tokens, newest first, revoked ones too.
pub fn for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes one of the person's tokens; another person's id changes nothing (0).
/// Revokes every live token of a person (one being disabled).
pub fn revoke_all(conn: &mut DbConn, user_id: i64, at: i64) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)
}

pub fn revoke(conn: &mut DbConn, user_id: i64, id: i64, at: i64) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)
}

/// Who a live token acts for: the token, and its person as the time services need
/// them (id, company, name, email, role, company name, own zone, company zone, week
/// start), with the stamps of their tasks and time (`task_stamps`, `time_stamps`).
#[derive(Debug, Clone, Queryable)]
pub struct Bearer {
    pub token_id: i64,
    pub last_used_at: Option<i64>,
    pub user_id: i64,
    pub company_id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub company_name: String,
    pub own_time_zone: Option<String>,
    pub company_time_zone: String,
    pub week_start: String,
    pub tasks_stamp: Option<i64>,
    pub time_stamp: Option<i64>,
}

/// The live token with this hash: not revoked, its person not disabled. Checked on
/// every request, so revoking a token or disabling a person takes effect at once.
pub fn bearer(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<Bearer>> {
    on_backend!(conn, |c| api_tokens::table
        .inner_join(
            users::table
                .inner_join(companies::table)
                .inner_join(logins::table)
                .left_join(task_stamps::table)
                .left_join(time_stamps::table),
        )
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(users::disabled.eq(false))
        .select((
            api_tokens::id,
            api_tokens::last_used_at,
            users::id,
            users::company_id,
            users::name,
            logins::email,
            users::role,
            companies::name,
            users::time_zone,
            companies::time_zone,
            companies::week_start,
            task_stamps::stamp.nullable(),
            time_stamps::stamp.nullable(),
        ))
        .first(c)
        .optional())
}

/// Notes a token's use. Conditional, so that instances racing to note the same minute
/// write once.
pub fn touch(conn: &mut DbConn, id: i64, at: i64, every: i64) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table.filter(api_tokens::id.eq(id)).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.le(at - every)),
        ),
    )
    .set(api_tokens::last_used_at.eq(at))
    .execute(conn)
}
