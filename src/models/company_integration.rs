//! Company integrations: a tool turned on (or off) for the whole company.

use crate::domain::CompanyId;
use diesel::prelude::*;

use crate::connectors::ProviderKind;
use crate::db::{now, DbConn};
use crate::schema::company_integrations;

/// The company's tools that are ON.
pub fn enabled_providers(
    conn: &mut DbConn,
    company_id: CompanyId,
) -> QueryResult<Vec<ProviderKind>> {
    company_integrations::table
        .filter(company_integrations::company_id.eq(company_id))
        .filter(company_integrations::enabled.eq(true))
        .select(company_integrations::provider)
        .load(conn)
}

/// Whether the company has any tool on.
pub fn any_enabled(conn: &mut DbConn, company_id: CompanyId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        company_integrations::table
            .filter(company_integrations::company_id.eq(company_id))
            .filter(company_integrations::enabled.eq(true)),
    ))
    .get_result(conn)
}

pub fn is_enabled(
    conn: &mut DbConn,
    company_id: CompanyId,
    provider: ProviderKind,
) -> QueryResult<bool> {
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
    let was = is_enabled(conn, CompanyId(company_id), provider)?;
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

/// Whether the company's GitHub brings in pull requests besides issues (yes until an
/// owner or admin says otherwise).
pub fn includes_pull_requests(conn: &mut DbConn, company_id: CompanyId) -> QueryResult<bool> {
    let set: Option<bool> = company_integrations::table
        .filter(company_integrations::company_id.eq(company_id))
        .filter(company_integrations::provider.eq(ProviderKind::GitHub))
        .select(company_integrations::include_pull_requests)
        .first(conn)
        .optional()?;
    Ok(set.unwrap_or(true))
}

/// Sets whether GitHub brings in pull requests; returns whether that changed anything
/// (false, too, when GitHub was never turned on for the company).
pub fn set_include_pull_requests(
    conn: &mut DbConn,
    company_id: i64,
    include: bool,
    by: i64,
) -> QueryResult<bool> {
    let changed = diesel::update(
        company_integrations::table
            .filter(company_integrations::company_id.eq(company_id))
            .filter(company_integrations::provider.eq(ProviderKind::GitHub))
            .filter(company_integrations::include_pull_requests.ne(include)),
    )
    .set((
        company_integrations::include_pull_requests.eq(include),
        company_integrations::changed_by.eq(by),
        company_integrations::changed_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}
