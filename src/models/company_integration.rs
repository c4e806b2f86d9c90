//! Company integrations: a tool turned on (or off) for the whole company.

use diesel::prelude::*;

use crate::connectors::ProviderKind;
use crate::db::{now, DbConn};
use crate::schema::company_integrations;

/// The company's tools that are ON.
pub fn enabled_providers(conn: &mut DbConn, company_id: i64) -> QueryResult<Vec<ProviderKind>> {
    company_integrations::table
        .filter(company_integrations::company_id.eq(company_id))
        .filter(company_integrations::enabled.eq(true))
        .select(company_integrations::provider)
        .load(conn)
}

pub fn is_enabled(conn: &mut DbConn, company_id: i64, provider: ProviderKind) -> QueryResult<bool> {
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
    provider: ProviderKind,
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
