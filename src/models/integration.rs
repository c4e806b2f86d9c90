//! Company integrations (a tool turned on for the company) and connections (a
//! person's own account in that tool, with its encrypted credentials).

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::{company_integrations, connections, users};

/// The company's tools that are ON.
pub fn enabled_providers(conn: &mut DbConn, company_id: i64) -> QueryResult<Vec<String>> {
    company_integrations::table
        .filter(company_integrations::company_id.eq(company_id))
        .filter(company_integrations::enabled.eq(true))
        .select(company_integrations::provider)
        .load(conn)
}

pub fn is_enabled(conn: &mut DbConn, company_id: i64, provider: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        company_integrations::table
            .filter(company_integrations::company_id.eq(company_id))
            .filter(company_integrations::provider.eq(provider))
            .filter(company_integrations::enabled.eq(true)),
    ))
    .get_result(conn)
}

/// Turns the company integration on or off; returns whether that changed anything.
pub fn set_enabled(
    conn: &mut DbConn,
    company_id: i64,
    provider: &str,
    enabled: bool,
    by: i64,
) -> QueryResult<bool> {
    let was = is_enabled(conn, company_id, provider)?;
    let updated = diesel::update(
        company_integrations::table
            .filter(company_integrations::company_id.eq(company_id))
            .filter(company_integrations::provider.eq(provider)),
    )
    .set((
        company_integrations::enabled.eq(enabled),
        company_integrations::changed_by.eq(by),
        company_integrations::changed_at.eq(now()),
    ))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(company_integrations::table)
            .values((
                company_integrations::company_id.eq(company_id),
                company_integrations::provider.eq(provider),
                company_integrations::enabled.eq(enabled),
                company_integrations::changed_by.eq(by),
                company_integrations::changed_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(was != enabled)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = connections)]
pub struct Connection {
    pub id: i64,
    pub company_id: i64,
    pub user_id: i64,
    pub provider: String,
    pub status: String,
    pub external_user_id: String,
    pub external_account_id: String,
    pub account_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub api_base: Option<String>,
    pub credentials: Option<Vec<u8>>,
    pub last_error_code: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub next_sync_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub sync_cursor: Option<String>,
    pub pass_id: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub last_error: Option<String>,
}

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_NEEDS_RECONNECT: &str = "needs_reconnect";

/// What a new connection links: the person, the tool account, the sealed credentials.
pub struct NewConnection<'a> {
    pub company_id: i64,
    pub user_id: i64,
    pub provider: &'a str,
    pub external_user_id: &'a str,
    pub external_account_id: &'a str,
    pub account_name: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub api_base: Option<&'a str>,
    pub credentials: Vec<u8>,
}

/// The person already linked to this tool account in the company, if any other.
pub fn account_linked_to_other(
    conn: &mut DbConn,
    company_id: i64,
    provider: &str,
    external_account_id: &str,
    external_user_id: &str,
    user_id: i64,
) -> QueryResult<Option<String>> {
    connections::table
        .inner_join(users::table)
        .filter(connections::company_id.eq(company_id))
        .filter(connections::provider.eq(provider))
        .filter(connections::external_account_id.eq(external_account_id))
        .filter(connections::external_user_id.eq(external_user_id))
        .filter(connections::user_id.ne(user_id))
        .select(users::name)
        .first(conn)
        .optional()
}

/// Creates the person's connection to a tool, or re-links the existing one in place
/// (so a reconnect keeps the tasks already synced, and its next pass reads every page
/// in full), and makes it due for sync at once.
pub fn upsert(conn: &mut DbConn, new: NewConnection<'_>) -> QueryResult<i64> {
    let existing: Option<i64> = connections::table
        .filter(connections::user_id.eq(new.user_id))
        .filter(connections::provider.eq(new.provider))
        .select(connections::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        diesel::update(connections::table.find(id))
            .set((
                connections::status.eq(STATUS_ACTIVE),
                connections::external_user_id.eq(new.external_user_id),
                connections::external_account_id.eq(new.external_account_id),
                connections::account_name.eq(new.account_name),
                connections::display_name.eq(new.display_name),
                connections::email.eq(new.email),
                connections::api_base.eq(new.api_base),
                connections::credentials.eq(Some(new.credentials)),
                connections::last_error_code.eq(None::<String>),
                connections::last_error.eq(None::<String>),
                connections::sync_cursor.eq(None::<String>),
                connections::next_sync_at.eq(0),
                connections::updated_at.eq(now()),
            ))
            .execute(conn)?;
        // What was kept of the old account's pages says nothing of the new one's.
        crate::models::sync::forget_pages(conn, id)?;
        return Ok(id);
    }
    diesel::insert_into(connections::table)
        .values((
            connections::company_id.eq(new.company_id),
            connections::user_id.eq(new.user_id),
            connections::provider.eq(new.provider),
            connections::status.eq(STATUS_ACTIVE),
            connections::external_user_id.eq(new.external_user_id),
            connections::external_account_id.eq(new.external_account_id),
            connections::account_name.eq(new.account_name),
            connections::display_name.eq(new.display_name),
            connections::email.eq(new.email),
            connections::api_base.eq(new.api_base),
            connections::credentials.eq(Some(new.credentials)),
            connections::next_sync_at.eq(0),
            connections::created_at.eq(now()),
            connections::updated_at.eq(now()),
        ))
        .returning(connections::id)
        .get_result(conn)
}

pub fn for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<Connection>> {
    connections::table
        .filter(connections::user_id.eq(user_id))
        .select(Connection::as_select())
        .load(conn)
}

pub fn of_user(conn: &mut DbConn, user_id: i64, provider: &str) -> QueryResult<Option<Connection>> {
    connections::table
        .filter(connections::user_id.eq(user_id))
        .filter(connections::provider.eq(provider))
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

/// Disconnects: the row and its tokens are deleted.
pub fn delete_for_user(conn: &mut DbConn, user_id: i64, provider: &str) -> QueryResult<usize> {
    diesel::delete(
        connections::table
            .filter(connections::user_id.eq(user_id))
            .filter(connections::provider.eq(provider)),
    )
    .execute(conn)
}

/// A removed person's tokens go with them.
pub fn delete_all_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::delete(connections::table.filter(connections::user_id.eq(user_id))).execute(conn)
}
