//! Leases, task pages and sync runs: the database side of the sync engine.

use std::collections::HashMap;

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::connectors::RemoteTask;
use crate::db::{self, now, DbConn};
use crate::models::integration::{Connection, STATUS_ACTIVE};
use crate::schema::{company_integrations, connections, sync_runs, tasks};

/// Active connections of companies with the tool ON, due now and not leased.
pub fn due(conn: &mut DbConn, at: i64, limit: i64) -> QueryResult<Vec<i64>> {
    connections::table
        .inner_join(
            company_integrations::table.on(company_integrations::company_id
                .eq(connections::company_id)
                .and(company_integrations::provider.eq(connections::provider))),
        )
        .filter(company_integrations::enabled.eq(true))
        .filter(connections::status.eq(STATUS_ACTIVE))
        .filter(connections::next_sync_at.le(at))
        .filter(
            connections::lease_until
                .is_null()
                .or(connections::lease_until.lt(at)),
        )
        .order(connections::next_sync_at.asc())
        .limit(limit)
        .select(connections::id)
        .load(conn)
}

/// Takes the lease when it is free or expired. The conditional update is atomic on
/// both backends: of two instances racing, exactly one sees a row updated. While
/// leased, `next_sync_at` holds the lease's end, so a "Sync now" during the run (which
/// sets it to 0) is still there when the run lets go.
pub fn try_lease(conn: &mut DbConn, id: i64, owner: &str, secs: i64) -> QueryResult<bool> {
    let at = now();
    let taken = diesel::update(
        connections::table.find(id).filter(
            connections::lease_until
                .is_null()
                .or(connections::lease_until.lt(at)),
        ),
    )
    .set((
        connections::lease_owner.eq(owner),
        connections::lease_until.eq(at + secs),
        connections::next_sync_at.eq(at + secs),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Extends a lease we hold; false when another instance took it over.
pub fn renew_lease(conn: &mut DbConn, id: i64, owner: &str, secs: i64) -> QueryResult<bool> {
    let renewed = diesel::update(
        connections::table
            .find(id)
            .filter(connections::lease_owner.eq(owner)),
    )
    .set(connections::lease_until.eq(now() + secs))
    .execute(conn)?;
    Ok(renewed == 1)
}

/// When a connection syncs next, as its run ends.
#[derive(Debug, Clone, Copy)]
pub enum Next {
    /// At this time, unless "Sync now" was asked for during the run: then at once.
    At(i64),
    /// At this time whatever happened meanwhile (the tool said when to come back).
    NotBefore(i64),
}

/// Lets go of the lease and says when to sync next.
pub fn release(conn: &mut DbConn, id: i64, owner: &str, next: Next) -> QueryResult<()> {
    let mine = connections::table
        .find(id)
        .filter(connections::lease_owner.eq(owner));
    match next {
        Next::At(at) => {
            diesel::update(mine.filter(connections::next_sync_at.ne(0)))
                .set(connections::next_sync_at.eq(at))
                .execute(conn)?;
        }
        Next::NotBefore(at) => {
            diesel::update(mine)
                .set(connections::next_sync_at.eq(at))
                .execute(conn)?;
        }
    }
    diesel::update(mine)
        .set((
            connections::lease_owner.eq(None::<String>),
            connections::lease_until.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn load(conn: &mut DbConn, id: i64) -> QueryResult<Connection> {
    connections::table
        .find(id)
        .select(Connection::as_select())
        .first(conn)
}

/// Makes the connections due now ("Sync now"); returns how many.
pub fn make_due(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(
        connections::table
            .filter(connections::user_id.eq(user_id))
            .filter(connections::status.eq(STATUS_ACTIVE)),
    )
    .set(connections::next_sync_at.eq(0))
    .execute(conn)
}

pub fn store_credentials(conn: &mut DbConn, id: i64, sealed: Vec<u8>) -> QueryResult<()> {
    diesel::update(connections::table.find(id))
        .set((
            connections::credentials.eq(Some(sealed)),
            connections::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records the outcome on the connection: `None` clears the last error.
pub fn set_outcome(
    conn: &mut DbConn,
    id: i64,
    status: &str,
    error: Option<(&str, &str)>,
    synced: bool,
) -> QueryResult<()> {
    let (code, message) = match error {
        Some((c, m)) => (Some(c.to_owned()), Some(m.to_owned())),
        None => (None, None),
    };
    diesel::update(connections::table.find(id))
        .set((
            connections::status.eq(status),
            connections::last_error_code.eq(code),
            connections::last_error.eq(message),
        ))
        .execute(conn)?;
    if synced {
        diesel::update(connections::table.find(id))
            .set(connections::last_sync_at.eq(now()))
            .execute(conn)?;
    }
    Ok(())
}

/// A fingerprint of what a person sees of a task: unchanged tasks are not rewritten.
pub fn content_hash(t: &RemoteTask) -> String {
    let mut h = Sha256::new();
    for part in [
        t.title.as_str(),
        t.status.as_str(),
        t.project.as_deref().unwrap_or(""),
        t.due_on.as_deref().unwrap_or(""),
        t.url.as_deref().unwrap_or(""),
        if t.closed { "closed" } else { "open" },
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageCounts {
    pub added: i64,
    pub updated: i64,
    pub archived: i64,
}

/// A task already stored, as a page's lookup finds it.
#[derive(QueryableByName)]
struct Existing {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    external_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    content_hash: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    archived: bool,
}

/// Writes one page of tasks and the cursor after it in one transaction, but only
/// while we still hold the lease. Upserts on (connection, the tool's id): replaying a
/// page never duplicates. `None` means the lease was lost and nothing was written.
pub fn apply_page(
    conn: &mut DbConn,
    connection: &Connection,
    pass_id: i64,
    page: &[RemoteTask],
    next_cursor: Option<&str>,
    owner: &str,
    lease_secs: i64,
) -> QueryResult<Option<PageCounts>> {
    db::write(conn, |conn| {
        if !renew_lease(conn, connection.id, owner, lease_secs)? {
            return Ok(None);
        }
        let ids: Vec<&str> = page.iter().map(|t| t.external_id.as_str()).collect();
        let mut existing: HashMap<String, (i64, String, bool)> = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i64, String, String, bool)> = match conn {
                // PostgreSQL costs `connection_id = ? AND external_id = ANY(?)` with the
                // average tasks per connection and, for a connection with many more,
                // reads all of them for every page (a first sync of 10,000 tasks read
                // half a million rows). One index lookup per id instead; the LIMIT keeps
                // the planner from turning the lookups back into that scan.
                DbConn::Pg(c) => diesel::sql_query(
                    "SELECT t.id, t.external_id, t.content_hash, t.archived \
                     FROM unnest($2) AS wanted(external_id) \
                     CROSS JOIN LATERAL (SELECT id, external_id, content_hash, archived \
                         FROM tasks WHERE connection_id = $1 \
                         AND tasks.external_id = wanted.external_id LIMIT 1) AS t",
                )
                .bind::<diesel::sql_types::BigInt, _>(connection.id)
                .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(chunk)
                .load::<Existing>(c)?
                .into_iter()
                .map(|e| (e.id, e.external_id, e.content_hash, e.archived))
                .collect(),
                DbConn::Sqlite(_) => tasks::table
                    .filter(tasks::connection_id.eq(connection.id))
                    .filter(tasks::external_id.eq_any(chunk))
                    .select((
                        tasks::id,
                        tasks::external_id,
                        tasks::content_hash,
                        tasks::archived,
                    ))
                    .load(conn)?,
            };
            for (id, ext, hash, archived) in rows {
                existing.insert(ext, (id, hash, archived));
            }
        }
        let mut counts = PageCounts::default();
        let at = now();
        let mut seen: Vec<i64> = Vec::new();
        let mut new_rows = Vec::new();
        for task in page {
            let hash = content_hash(task);
            let project = task.project.clone().unwrap_or_default();
            match existing.get(&task.external_id) {
                Some((id, old_hash, archived)) if *old_hash == hash && *archived == task.closed => {
                    seen.push(*id);
                }
                Some((id, _, archived)) => {
                    diesel::update(tasks::table.find(id))
                        .set((
                            tasks::title.eq(&task.title),
                            tasks::status.eq(&task.status),
                            tasks::project.eq(&project),
                            tasks::due_on.eq(&task.due_on),
                            tasks::url.eq(&task.url),
                            tasks::content_hash.eq(&hash),
                            tasks::archived.eq(task.closed),
                            tasks::seen_pass.eq(pass_id),
                            tasks::updated_at.eq(at),
                        ))
                        .execute(conn)?;
                    if task.closed && !archived {
                        counts.archived += 1;
                    } else {
                        counts.updated += 1;
                    }
                }
                None => {
                    new_rows.push((
                        tasks::connection_id.eq(connection.id),
                        tasks::user_id.eq(connection.user_id),
                        tasks::provider.eq(&connection.provider),
                        tasks::external_id.eq(&task.external_id),
                        tasks::title.eq(&task.title),
                        tasks::status.eq(&task.status),
                        tasks::project.eq(project),
                        tasks::due_on.eq(&task.due_on),
                        tasks::url.eq(&task.url),
                        tasks::content_hash.eq(hash),
                        tasks::archived.eq(task.closed),
                        tasks::seen_pass.eq(pass_id),
                        tasks::created_at.eq(at),
                        tasks::updated_at.eq(at),
                    ));
                    if !task.closed {
                        counts.added += 1;
                    }
                }
            }
        }
        // New tasks in one multi-row INSERT per chunk: a round trip per task is what
        // made a first sync slow on PostgreSQL. (Diesel's multi-backend connection has
        // no batch insert, hence the match; chunks stay under the bind-parameter limits.)
        for chunk in new_rows.chunks(200) {
            let insert = diesel::insert_into(tasks::table).values(chunk);
            match conn {
                DbConn::Pg(c) => insert.execute(c)?,
                DbConn::Sqlite(c) => insert.execute(c)?,
            };
        }
        // Unchanged tasks are only marked as seen in this pass, in bulk.
        for chunk in seen.chunks(500) {
            diesel::update(tasks::table.filter(tasks::id.eq_any(chunk)))
                .set(tasks::seen_pass.eq(pass_id))
                .execute(conn)?;
        }
        diesel::update(connections::table.find(connection.id))
            .set((
                connections::sync_cursor.eq(next_cursor),
                connections::pass_id.eq(pass_id),
            ))
            .execute(conn)?;
        Ok(Some(counts))
    })
}

/// After a complete pass: tasks not seen in it are no longer assigned to the person,
/// so they are archived (kept, hidden from the default view). Returns how many.
pub fn finish_pass(
    conn: &mut DbConn,
    connection_id: i64,
    pass_id: i64,
    owner: &str,
) -> QueryResult<Option<i64>> {
    db::write(conn, |conn| {
        let held: i64 = connections::table
            .find(connection_id)
            .filter(connections::lease_owner.eq(owner))
            .count()
            .get_result(conn)?;
        if held == 0 {
            return Ok(None);
        }
        let archived = diesel::update(
            tasks::table
                .filter(tasks::connection_id.eq(connection_id))
                .filter(tasks::archived.eq(false))
                .filter(tasks::seen_pass.ne(pass_id)),
        )
        .set((tasks::archived.eq(true), tasks::updated_at.eq(now())))
        .execute(conn)?;
        diesel::update(connections::table.find(connection_id))
            .set((
                connections::sync_cursor.eq(None::<String>),
                connections::pass_id.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(Some(archived as i64))
    })
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sync_runs)]
pub struct SyncRun {
    pub id: i64,
    pub connection_id: i64,
    pub trigger: String,
    pub status: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub archived: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

pub const RUN_RUNNING: &str = "running";
pub const RUN_OK: &str = "ok";
pub const RUN_FAILED: &str = "failed";
pub const RUN_WAITING: &str = "waiting";

pub fn start_run(conn: &mut DbConn, connection_id: i64, trigger: &str) -> QueryResult<i64> {
    diesel::insert_into(sync_runs::table)
        .values((
            sync_runs::connection_id.eq(connection_id),
            sync_runs::trigger.eq(trigger),
            sync_runs::status.eq(RUN_RUNNING),
            sync_runs::started_at.eq(now()),
        ))
        .returning(sync_runs::id)
        .get_result(conn)
}

pub fn progress(
    conn: &mut DbConn,
    run_id: i64,
    fetched: i64,
    counts: PageCounts,
) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(run_id))
        .set((
            sync_runs::fetched.eq(fetched),
            sync_runs::added.eq(counts.added),
            sync_runs::updated.eq(counts.updated),
            sync_runs::archived.eq(counts.archived),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn finish_run(
    conn: &mut DbConn,
    run_id: i64,
    status: &str,
    error: Option<(&str, &str)>,
) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(run_id))
        .set((
            sync_runs::status.eq(status),
            sync_runs::finished_at.eq(now()),
            sync_runs::error_code.eq(error.map(|e| e.0)),
            sync_runs::error_message.eq(error.map(|e| e.1)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn runs_for(conn: &mut DbConn, connection_id: i64, limit: i64) -> QueryResult<Vec<SyncRun>> {
    sync_runs::table
        .filter(sync_runs::connection_id.eq(connection_id))
        .order(sync_runs::id.desc())
        .limit(limit)
        .select(SyncRun::as_select())
        .load(conn)
}

/// The person's runs still going, for the "Sync now" progress.
pub fn running_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(String, i64)>> {
    sync_runs::table
        .inner_join(connections::table)
        .filter(connections::user_id.eq(user_id))
        .filter(sync_runs::status.eq(RUN_RUNNING))
        .select((connections::provider, sync_runs::fetched))
        .load(conn)
}
