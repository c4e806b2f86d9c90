//! Leases, task pages and sync runs: the database side of the sync engine.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::connectors::RemoteTask;
use crate::db::{self, now, DbConn};
use crate::models::integration::{Connection, STATUS_ACTIVE};
use crate::schema::{company_integrations, connections, sync_pages, sync_runs, tasks};

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

impl PageCounts {
    pub fn add(&mut self, other: PageCounts) {
        self.added += other.added;
        self.updated += other.updated;
        self.archived += other.archived;
    }
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

/// The stored tasks of a connection among `ids`: (id, content hash, archived) by the tool's id.
fn stored_tasks(
    conn: &mut DbConn,
    connection_id: i64,
    ids: &[&str],
) -> QueryResult<HashMap<String, (i64, String, bool)>> {
    let mut existing = HashMap::with_capacity(ids.len());
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
            .bind::<diesel::sql_types::BigInt, _>(connection_id)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(chunk)
            .load::<Existing>(c)?
            .into_iter()
            .map(|e| (e.id, e.external_id, e.content_hash, e.archived))
            .collect(),
            DbConn::Sqlite(_) => tasks::table
                .filter(tasks::connection_id.eq(connection_id))
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
    Ok(existing)
}

/// What a page changes against the stored tasks, worked out before anything is written.
#[derive(Debug, Clone, Default)]
pub struct PageChanges {
    /// Tasks not stored yet, with their content hash.
    new: Vec<(RemoteTask, String)>,
    /// Stored tasks that changed: row id, whether it was archived, the task, its hash.
    changed: Vec<(i64, bool, RemoteTask, String)>,
    /// The tool's ids of the page's tasks stored as they are: nothing to write for them
    /// but a mark that this pass saw them.
    pub unchanged: Vec<String>,
    /// What writing the page adds, updates and archives.
    pub counts: PageCounts,
}

impl PageChanges {
    /// Whether the page writes no task.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.changed.is_empty()
    }
}

/// Compares a page with the stored tasks (one indexed read). A task the tool lists
/// twice on a page counts once, as its last listing.
pub fn page_changes(
    conn: &mut DbConn,
    connection_id: i64,
    page: &[RemoteTask],
) -> QueryResult<PageChanges> {
    let mut last: HashMap<&str, &RemoteTask> = HashMap::with_capacity(page.len());
    let mut order: Vec<&str> = Vec::with_capacity(page.len());
    for task in page {
        if last.insert(task.external_id.as_str(), task).is_none() {
            order.push(task.external_id.as_str());
        }
    }
    let existing = stored_tasks(conn, connection_id, &order)?;
    let mut changes = PageChanges::default();
    for ext in order {
        let Some(task) = last.get(ext) else { continue };
        let hash = content_hash(task);
        match existing.get(ext) {
            Some((_, old_hash, archived)) if *old_hash == hash && *archived == task.closed => {
                changes.unchanged.push(ext.to_owned());
            }
            Some((id, _, archived)) => {
                if task.closed && !archived {
                    changes.counts.archived += 1;
                } else {
                    changes.counts.updated += 1;
                }
                changes
                    .changed
                    .push((*id, *archived, (*task).clone(), hash));
            }
            None => {
                if !task.closed {
                    changes.counts.added += 1;
                }
                changes.new.push(((*task).clone(), hash));
            }
        }
    }
    Ok(changes)
}

/// Writes a page's changes, marking what it writes as seen in `pass_id`.
fn write_changes(
    conn: &mut DbConn,
    connection: &Connection,
    pass_id: i64,
    changes: &PageChanges,
) -> QueryResult<()> {
    let at = now();
    for (id, _, task, hash) in &changes.changed {
        diesel::update(tasks::table.find(id))
            .set((
                tasks::title.eq(&task.title),
                tasks::status.eq(&task.status),
                tasks::project.eq(task.project.as_deref().unwrap_or_default()),
                tasks::due_on.eq(&task.due_on),
                tasks::url.eq(&task.url),
                tasks::content_hash.eq(hash),
                tasks::archived.eq(task.closed),
                tasks::seen_pass.eq(pass_id),
                tasks::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    let new_rows: Vec<_> = changes
        .new
        .iter()
        .map(|(task, hash)| {
            (
                tasks::connection_id.eq(connection.id),
                tasks::user_id.eq(connection.user_id),
                tasks::provider.eq(&connection.provider),
                tasks::external_id.eq(&task.external_id),
                tasks::title.eq(&task.title),
                tasks::status.eq(&task.status),
                tasks::project.eq(task.project.as_deref().unwrap_or_default()),
                tasks::due_on.eq(&task.due_on),
                tasks::url.eq(&task.url),
                tasks::content_hash.eq(hash),
                tasks::archived.eq(task.closed),
                tasks::seen_pass.eq(pass_id),
                tasks::created_at.eq(at),
                tasks::updated_at.eq(at),
            )
        })
        .collect();
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
    Ok(())
}

/// Marks stored tasks, by the tool's ids, as seen in `pass_id`; rows already marked are
/// left alone (a replayed page writes nothing).
fn mark_seen(
    conn: &mut DbConn,
    connection_id: i64,
    pass_id: i64,
    external_ids: &[String],
) -> QueryResult<()> {
    for chunk in external_ids.chunks(500) {
        match conn {
            // As for the lookup: one index probe per id, whatever the planner thinks
            // of the connection's size (a plain join with `unnest` was planned as a
            // scan of all the connection's tasks, 10,000 rows for 100 marks).
            DbConn::Pg(c) => {
                diesel::sql_query(
                    "UPDATE tasks SET seen_pass = $3 WHERE id IN (SELECT t.id \
                     FROM unnest($2) AS seen(external_id) \
                     CROSS JOIN LATERAL (SELECT id FROM tasks WHERE connection_id = $1 \
                         AND tasks.external_id = seen.external_id \
                         AND tasks.seen_pass <> $3 LIMIT 1) AS t)",
                )
                .bind::<diesel::sql_types::BigInt, _>(connection_id)
                .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(chunk)
                .bind::<diesel::sql_types::BigInt, _>(pass_id)
                .execute(c)?;
            }
            DbConn::Sqlite(_) => {
                diesel::update(
                    tasks::table
                        .filter(tasks::connection_id.eq(connection_id))
                        .filter(tasks::external_id.eq_any(chunk))
                        .filter(tasks::seen_pass.ne(pass_id)),
                )
                .set(tasks::seen_pass.eq(pass_id))
                .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// What the engine keeps of a page of tasks for conditional requests: the `ETag` it
/// had, the tool's ids on it and the cursor after it, since a 304 carries neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPage {
    pub etag: String,
    pub next_cursor: Option<String>,
    pub external_ids: Vec<String>,
}

/// The key a page is kept under: '' for the first page, else a digest of the cursor
/// that asks for it (cursors can be long: Pivotal Tracker's carries the project list).
pub fn page_key(cursor: Option<&str>) -> String {
    match cursor {
        None => String::new(),
        Some(c) => hex::encode(Sha256::digest(c.as_bytes())),
    }
}

/// Every page kept for a connection, by key.
pub fn known_pages(
    conn: &mut DbConn,
    connection_id: i64,
) -> QueryResult<HashMap<String, KnownPage>> {
    let rows: Vec<(String, String, Option<String>, String)> = sync_pages::table
        .filter(sync_pages::connection_id.eq(connection_id))
        .select((
            sync_pages::page_key,
            sync_pages::etag,
            sync_pages::next_cursor,
            sync_pages::external_ids,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, etag, next_cursor, ids)| {
            // A row that does not read back is as good as none: the page is asked for
            // in full and kept again.
            let external_ids = serde_json::from_str(&ids).ok()?;
            Some((
                key,
                KnownPage {
                    etag,
                    next_cursor,
                    external_ids,
                },
            ))
        })
        .collect())
}

/// How what is kept of a page changes with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageMemo {
    /// Nothing to change.
    Keep,
    /// The page has a new `ETag`: keep it under this key.
    Store(String, KnownPage),
    /// The page came without an `ETag`: forget what was kept under this key.
    Forget(String),
}

fn store_page(conn: &mut DbConn, connection_id: i64, memo: &PageMemo) -> QueryResult<()> {
    match memo {
        PageMemo::Keep => {}
        PageMemo::Store(key, page) => {
            let ids = serde_json::to_string(&page.external_ids)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            let row = (
                sync_pages::connection_id.eq(connection_id),
                sync_pages::page_key.eq(key),
                sync_pages::etag.eq(&page.etag),
                sync_pages::next_cursor.eq(&page.next_cursor),
                sync_pages::external_ids.eq(&ids),
            );
            let update = (
                sync_pages::etag.eq(&page.etag),
                sync_pages::next_cursor.eq(&page.next_cursor),
                sync_pages::external_ids.eq(&ids),
            );
            let upsert = diesel::insert_into(sync_pages::table)
                .values(row)
                .on_conflict((sync_pages::connection_id, sync_pages::page_key))
                .do_update()
                .set(update);
            match conn {
                DbConn::Pg(c) => upsert.execute(c)?,
                DbConn::Sqlite(c) => upsert.execute(c)?,
            };
        }
        PageMemo::Forget(key) => {
            diesel::delete(
                sync_pages::table
                    .filter(sync_pages::connection_id.eq(connection_id))
                    .filter(sync_pages::page_key.eq(key)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

/// Forgets every page kept for a connection (its account was re-linked).
pub fn forget_pages(conn: &mut DbConn, connection_id: i64) -> QueryResult<usize> {
    diesel::delete(sync_pages::table.filter(sync_pages::connection_id.eq(connection_id)))
        .execute(conn)
}

/// A run's figures so far, shown while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub run_id: i64,
    pub fetched: i64,
    pub counts: PageCounts,
}

/// Where a pass stands, made durable: the cursor of the next page to read and, for the
/// pages before it, every task marked as seen in the pass (those written carry the mark
/// already; `seen` lists the others since the last checkpoint). A pass resumed from
/// here archives exactly what a pass run from start to end would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub pass_id: i64,
    pub cursor: Option<String>,
    pub seen: Vec<String>,
    pub progress: Option<Progress>,
}

/// A page of tasks to write: its changes and what to keep of it.
#[derive(Debug, Clone)]
pub struct PageWrite {
    pub changes: PageChanges,
    pub memo: PageMemo,
}

/// One write transaction of a pass, only while we still hold the lease (renewing it): a
/// page's changes and what is kept of it, if there is a page, then the checkpoint.
/// `false` means the lease was lost and nothing was written.
pub fn save(
    conn: &mut DbConn,
    connection: &Connection,
    owner: &str,
    lease_secs: i64,
    page: Option<&PageWrite>,
    checkpoint: &Checkpoint,
) -> QueryResult<bool> {
    db::write(conn, |conn| {
        if !renew_lease(conn, connection.id, owner, lease_secs)? {
            return Ok(false);
        }
        if let Some(page) = page {
            write_changes(conn, connection, checkpoint.pass_id, &page.changes)?;
            store_page(conn, connection.id, &page.memo)?;
        }
        mark_seen(conn, connection.id, checkpoint.pass_id, &checkpoint.seen)?;
        diesel::update(connections::table.find(connection.id))
            .set((
                connections::sync_cursor.eq(&checkpoint.cursor),
                connections::pass_id.eq(checkpoint.pass_id),
            ))
            .execute(conn)?;
        if let Some(p) = checkpoint.progress {
            progress(conn, p.run_id, p.fetched, p.counts)?;
        }
        Ok(true)
    })
}

/// Writes one page of tasks and the cursor after it in one transaction, but only
/// while we still hold the lease, as an instance that checkpoints at every page does:
/// the page's changes, and seen marks for its unchanged tasks. Upserts on
/// (connection, the tool's id): replaying a page never duplicates. `None` means the
/// lease was lost and nothing was written.
pub fn apply_page(
    conn: &mut DbConn,
    connection: &Connection,
    pass_id: i64,
    page: &[RemoteTask],
    next_cursor: Option<&str>,
    owner: &str,
    lease_secs: i64,
) -> QueryResult<Option<PageCounts>> {
    let changes = page_changes(conn, connection.id, page)?;
    let counts = changes.counts;
    let checkpoint = Checkpoint {
        pass_id,
        cursor: next_cursor.map(str::to_owned),
        seen: changes.unchanged.clone(),
        progress: None,
    };
    let page = PageWrite {
        changes,
        memo: PageMemo::Keep,
    };
    let written = save(
        conn,
        connection,
        owner,
        lease_secs,
        Some(&page),
        &checkpoint,
    )?;
    Ok(written.then_some(counts))
}

/// After a complete pass: open tasks neither marked as seen in it nor among `seen` (the
/// tool's ids seen since the last checkpoint) are no longer assigned to the person, so
/// they are archived (kept, hidden from the default view) and the pages that listed
/// them forgotten. Ends the pass (cursor and pass id cleared) and records `progress`
/// with the archived tasks added, in one transaction, only while we hold the lease.
/// Returns how many were archived; `None` when the lease was lost.
pub fn finish_pass(
    conn: &mut DbConn,
    connection_id: i64,
    pass_id: i64,
    seen: &HashSet<String>,
    owner: &str,
    progress_so_far: Option<Progress>,
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
        let unmarked: Vec<(i64, String)> = tasks::table
            .filter(tasks::connection_id.eq(connection_id))
            .filter(tasks::archived.eq(false))
            .filter(tasks::seen_pass.ne(pass_id))
            .select((tasks::id, tasks::external_id))
            .load(conn)?;
        let (gone_ids, gone): (Vec<i64>, HashSet<String>) = unmarked
            .into_iter()
            .filter(|(_, ext)| !seen.contains(ext))
            .unzip();
        let at = now();
        for chunk in gone_ids.chunks(500) {
            diesel::update(tasks::table.filter(tasks::id.eq_any(chunk)))
                .set((tasks::archived.eq(true), tasks::updated_at.eq(at)))
                .execute(conn)?;
        }
        if !gone.is_empty() {
            // A page kept from an earlier pass that lists an archived task was not read
            // in this one; if the tool answered it 304 later, its tasks would count as
            // seen while stored archived. Such pages are read in full next time.
            let kept: Vec<(String, String)> = sync_pages::table
                .filter(sync_pages::connection_id.eq(connection_id))
                .select((sync_pages::page_key, sync_pages::external_ids))
                .load(conn)?;
            let stale: Vec<String> = kept
                .into_iter()
                .filter(|(_, ids)| {
                    serde_json::from_str::<Vec<String>>(ids)
                        .map(|ids| ids.iter().any(|id| gone.contains(id)))
                        .unwrap_or(true)
                })
                .map(|(key, _)| key)
                .collect();
            for chunk in stale.chunks(500) {
                diesel::delete(
                    sync_pages::table
                        .filter(sync_pages::connection_id.eq(connection_id))
                        .filter(sync_pages::page_key.eq_any(chunk)),
                )
                .execute(conn)?;
            }
        }
        diesel::update(connections::table.find(connection_id))
            .set((
                connections::sync_cursor.eq(None::<String>),
                connections::pass_id.eq(None::<i64>),
            ))
            .execute(conn)?;
        let archived = gone_ids.len() as i64;
        if let Some(p) = progress_so_far {
            let mut counts = p.counts;
            counts.archived += archived;
            progress(conn, p.run_id, p.fetched, counts)?;
        }
        Ok(Some(archived))
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
