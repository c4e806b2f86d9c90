//! A sync pass's transactions: each writes to several tables at once (tasks, kept
//! pages, the connection's cursor, the run's figures) while the lease is held.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::connectors::RemoteTask;
use crate::db::{self, DbConn};
use crate::models::connection::{self, Connection, Lease};
use crate::models::sync_page::{self, PageMemo};
use crate::models::sync_run::{self, RunStatus};
use crate::models::task::{self, PageChanges, PageCounts};
use crate::schema::sync_runs;

/// A run's figures so far, shown while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub run_id: i64,
    pub fetched: i64,
    pub counts: PageCounts,
}

impl Progress {
    /// A run that has read nothing yet.
    pub fn start(run_id: i64) -> Self {
        Self {
            run_id,
            fetched: 0,
            counts: PageCounts::default(),
        }
    }
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

/// The lease a pass's last transaction leaves, until the run lets go of it a moment
/// later.
const LEASE_SECS_AT_THE_END: i64 = 60;

/// Finishes as interrupted every run still marked running whose connection's lease is
/// free (run out, let go, or held by a sync engine that stopped beating): its process
/// was killed, or a reconnect ended it. One statement, so that a run started meanwhile,
/// with its lease, is not touched. Returns how many.
pub fn interrupt_lapsed_runs(conn: &mut DbConn, error: (&str, &str)) -> QueryResult<usize> {
    let at = db::clock(conn)?;
    diesel::update(
        sync_runs::table
            .filter(sync_runs::status.eq(RunStatus::Running))
            .filter(sync_runs::connection_id.eq_any(connection::with_free_lease(at))),
    )
    .set(sync_run::interrupted(error))
    .execute(conn)
}

/// One write transaction of a pass, only while we still hold the lease (renewing it)
/// and no save of ours under it was lost: a page's changes and what is kept of it, if
/// there is a page, then the checkpoint. Counts the save in `lease`. `false` means the
/// lease was lost (or a save before this one was) and nothing was written.
pub fn save(
    conn: &mut DbConn,
    connection: &Connection,
    lease: &mut Lease,
    lease_secs: i64,
    page: Option<&PageWrite>,
    checkpoint: &Checkpoint,
) -> QueryResult<bool> {
    let ask = Save {
        connection,
        lease,
        lease_secs,
        page,
        checkpoint,
    };
    let saved = match conn {
        DbConn::Pg(c) => save_pg(c, &ask)?,
        DbConn::Sqlite(_) => save_sqlite(conn, &ask)?,
    };
    if saved {
        lease.saves += 1;
    }
    Ok(saved)
}

/// What one [`save`] writes, under which lease.
struct Save<'a> {
    connection: &'a Connection,
    lease: &'a Lease,
    lease_secs: i64,
    page: Option<&'a PageWrite>,
    checkpoint: &'a Checkpoint,
}

/// SQLite: what [`save`] does, as a transaction, with the count of saves compared and
/// bumped as on PostgreSQL. SQLite keeps its own durability settings: with
/// `synchronous = NORMAL` in WAL mode a commit is lost only with the machine, and the
/// engine's memory with it, so here the count never falls behind; it is kept alike on
/// both backends so that a run reads the same.
fn save_sqlite(conn: &mut DbConn, ask: &Save<'_>) -> QueryResult<bool> {
    let Save {
        connection,
        lease,
        lease_secs,
        page,
        checkpoint,
    } = *ask;
    db::write(conn, |conn| {
        if !connection::renew_lease_at_save(conn, lease, lease_secs)? {
            return Ok(false);
        }
        if let Some(page) = page {
            let owner = task::Owner {
                connection_id: connection.id,
                user_id: connection.user_id,
                provider: connection.provider,
            };
            task::write_changes(conn, owner, checkpoint.pass_id, &page.changes)?;
            sync_page::store_page(conn, connection.id, &page.memo)?;
        }
        task::mark_seen(conn, connection.id, checkpoint.pass_id, &checkpoint.seen)?;
        connection::save_cursor(
            conn,
            connection.id,
            checkpoint.cursor.as_deref(),
            checkpoint.pass_id,
        )?;
        if let Some(p) = checkpoint.progress {
            sync_run::progress(conn, p.run_id, p.fetched, p.counts)?;
        }
        Ok(true)
    })
}

/// Whether a PostgreSQL save found its lease.
#[derive(QueryableByName)]
struct Saved {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    held: bool,
}

/// A page's save on PostgreSQL: see [`save_pg`].
///
/// This statement's commit does not wait for the WAL to reach the disk (about 3 ms
/// here, half a page's time): `set_config(…, true)` holds for this statement's own
/// transaction only, so nothing else the app writes (time entries, sessions,
/// accounts, the lease taken, the pass's end, the run's record) stops being durable.
/// A crash of the database may lose the last saves it acknowledged, but never one
/// without those before it (the WAL is replayed in order; a durable commit makes
/// every earlier one durable too). That is safe because the run counts its saves:
/// the row's count, set to 0 with the lease and bumped here only when it equals the
/// run's (`$27`), falls behind after such a loss, so the run's next save, and the
/// pass's end (a durable commit, `finish_pass`), find no row and fence the run out
/// as a lost lease does. The pages lost are read again by the next run from the
/// durable cursor, and the pass never archives on the strength of a page that was
/// lost. A run that ends meanwhile with an error only records what it counted.
const SAVE_PG: &str = "WITH lease AS ( \
       UPDATE connections \
       SET lease_until = CAST(FLOOR(EXTRACT(EPOCH FROM now())) AS BIGINT) + $3, \
           sync_cursor = $4, pass_id = $5, lease_saves = $27 + 1 \
       WHERE id = $1 AND lease_generation = $2 AND lease_saves = $27 \
         AND lease_owner IS NOT NULL \
       RETURNING id), \
     written AS ( \
       INSERT INTO tasks (connection_id, user_id, provider, external_id, created_at, \
         title, status, project, due_on, url, content_hash, archived, seen_pass, \
         updated_at) \
       SELECT $1, $7, $8, e, $6, t, s, p, d, u, h, a, $5, $6 \
       FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
         $14::text[], $15::text[], $16::boolean[]) AS x(e, t, s, p, d, u, h, a) \
       WHERE EXISTS (SELECT 1 FROM lease) \
       ON CONFLICT (connection_id, external_id) DO UPDATE SET \
         title = excluded.title, status = excluded.status, \
         project = excluded.project, due_on = excluded.due_on, url = excluded.url, \
         content_hash = excluded.content_hash, archived = excluded.archived, \
         seen_pass = excluded.seen_pass, updated_at = excluded.updated_at), \
     marked AS ( \
       UPDATE tasks SET seen_pass = $5 WHERE id IN (SELECT t.id \
         FROM unnest($17::text[]) AS seen(external_id) \
         CROSS JOIN LATERAL (SELECT id FROM tasks WHERE connection_id = $1 \
           AND tasks.external_id = seen.external_id \
           AND tasks.seen_pass <> $5 LIMIT 1) AS t \
         WHERE seen.external_id <> ALL($9)) \
       AND EXISTS (SELECT 1 FROM lease)), \
     kept AS ( \
       INSERT INTO sync_pages (connection_id, page_key, etag, next_cursor, external_ids) \
       SELECT $1, $18, $19, $20, $21 \
       WHERE $18 IS NOT NULL AND $19 IS NOT NULL AND EXISTS (SELECT 1 FROM lease) \
       ON CONFLICT (connection_id, page_key) DO UPDATE SET etag = excluded.etag, \
         next_cursor = excluded.next_cursor, external_ids = excluded.external_ids), \
     forgotten AS ( \
       DELETE FROM sync_pages \
       WHERE connection_id = $1 AND page_key = $18 AND $19 IS NULL \
       AND EXISTS (SELECT 1 FROM lease)), \
     figures AS ( \
       UPDATE sync_runs SET fetched = $23, added = $24, updated = $25, archived = $26 \
       WHERE id = $22 AND EXISTS (SELECT 1 FROM lease)) \
     SELECT EXISTS (SELECT 1 FROM lease) AS held \
     FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed";

/// The kept page's binds: a key with an `ETag` is stored, a key without one forgotten.
#[allow(clippy::type_complexity)]
fn kept_page(
    page: Option<&PageWrite>,
) -> QueryResult<(Option<&str>, Option<&str>, Option<&str>, Option<String>)> {
    Ok(match page.map(|p| &p.memo) {
        Some(PageMemo::Store(key, kept)) => {
            let ids = serde_json::to_string(&kept.external_ids)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            (
                Some(key.as_str()),
                Some(kept.etag.as_str()),
                kept.next_cursor.as_deref(),
                Some(ids),
            )
        }
        Some(PageMemo::Forget(key)) => (Some(key.as_str()), None, None, None),
        Some(PageMemo::Keep) | None => (None, None, None, None),
    })
}

/// PostgreSQL: what [`save`] does, as one statement (atomic by itself, so without
/// `BEGIN` and `COMMIT`). As a transaction a page took eight round trips or more (the
/// transaction's two, the clock, the lease, the tasks (an `UPDATE` each for changed
/// ones), the kept page, the seen marks, the cursor, the run's figures); here each
/// write is a data-modifying `WITH` that runs only if the lease's renewal found the
/// row, and the renewal (which locks the connection's row until the commit, so no
/// reconnect slips in) sets the cursor too, since one statement may not update a row
/// twice. For the same reason new and changed tasks are one upsert over column arrays
/// on (connection, the tool's id), and the seen marks skip the tasks it writes (their
/// mark is in the upsert). The renewal also compares and bumps the count of saves
/// under the lease, and the commit does not wait for the disk ([`SAVE_PG`] says why).
fn save_pg(conn: &mut diesel::PgConnection, ask: &Save<'_>) -> QueryResult<bool> {
    use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
    let (connection, checkpoint) = (ask.connection, ask.checkpoint);
    let columns = ask.page.map(|p| p.changes.columns()).unwrap_or_default();
    let (key, etag, next_cursor, ids) = kept_page(ask.page)?;
    let progress = checkpoint.progress;
    let counts = progress.map(|p| p.counts).unwrap_or_default();
    let saved: Saved = db::Prepared(
        diesel::sql_query(SAVE_PG)
            .bind::<BigInt, _>(connection.id)
            .bind::<BigInt, _>(ask.lease.generation)
            .bind::<BigInt, _>(ask.lease_secs)
            .bind::<Nullable<Text>, _>(checkpoint.cursor.as_deref())
            .bind::<BigInt, _>(checkpoint.pass_id)
            .bind::<BigInt, _>(db::now())
            .bind::<BigInt, _>(connection.user_id)
            .bind::<Text, _>(connection.provider.slug())
            .bind::<Array<Text>, _>(&columns.external_ids)
            .bind::<Array<Text>, _>(&columns.titles)
            .bind::<Array<Text>, _>(&columns.statuses)
            .bind::<Array<Text>, _>(&columns.projects)
            .bind::<Array<Nullable<Text>>, _>(&columns.due_on)
            .bind::<Array<Nullable<Text>>, _>(&columns.urls)
            .bind::<Array<Text>, _>(&columns.hashes)
            .bind::<Array<Bool>, _>(&columns.closed)
            .bind::<Array<Text>, _>(&checkpoint.seen)
            .bind::<Nullable<Text>, _>(key)
            .bind::<Nullable<Text>, _>(etag)
            .bind::<Nullable<Text>, _>(next_cursor)
            .bind::<Nullable<Text>, _>(ids.as_deref())
            .bind::<Nullable<BigInt>, _>(progress.map(|p| p.run_id))
            .bind::<BigInt, _>(progress.map_or(0, |p| p.fetched))
            .bind::<BigInt, _>(counts.added)
            .bind::<BigInt, _>(counts.updated)
            .bind::<BigInt, _>(counts.archived)
            .bind::<BigInt, _>(ask.lease.saves),
    )
    .get_result(conn)?;
    Ok(saved.held)
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
    lease: &mut Lease,
    lease_secs: i64,
) -> QueryResult<Option<PageCounts>> {
    let changes = task::page_changes(conn, connection.id, page)?;
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
        lease,
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
/// Returns how many were archived; `None` when the lease was lost, or a save of the
/// pass was (see [`save`]): then nothing is archived. Counts as a save in `lease`; it
/// commits durably, on PostgreSQL too.
pub fn finish_pass(
    conn: &mut DbConn,
    lease: &mut Lease,
    pass_id: i64,
    seen: &HashSet<String>,
    progress_so_far: Option<Progress>,
) -> QueryResult<Option<i64>> {
    let connection_id = lease.connection_id;
    let held = *lease;
    let archived = db::write(conn, |conn| -> QueryResult<Option<i64>> {
        if !connection::renew_lease_at_save(conn, &held, LEASE_SECS_AT_THE_END)? {
            return Ok(None);
        }
        let gone = task::archive_unseen(conn, connection_id, pass_id, seen)?;
        if !gone.is_empty() {
            // A page kept from an earlier pass that lists an archived task was not read
            // in this one; if the tool answered it 304 later, its tasks would count as
            // seen while stored archived. Such pages are read in full next time.
            sync_page::forget_listing(conn, connection_id, &gone)?;
        }
        connection::end_pass(conn, connection_id)?;
        let archived = gone.len() as i64;
        if let Some(p) = progress_so_far {
            let mut counts = p.counts;
            counts.archived += archived;
            sync_run::progress(conn, p.run_id, p.fetched, counts)?;
        }
        Ok(Some(archived))
    })?;
    if archived.is_some() {
        lease.saves += 1;
    }
    Ok(archived)
}
