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

/// One write transaction of a pass, only while we still hold the lease (renewing it): a
/// page's changes and what is kept of it, if there is a page, then the checkpoint.
/// `false` means the lease was lost and nothing was written.
pub fn save(
    conn: &mut DbConn,
    connection: &Connection,
    lease: &Lease,
    lease_secs: i64,
    page: Option<&PageWrite>,
    checkpoint: &Checkpoint,
) -> QueryResult<bool> {
    db::write(conn, |conn| {
        if !connection::renew_lease(conn, lease, lease_secs)? {
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
    lease: &Lease,
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
/// Returns how many were archived; `None` when the lease was lost.
pub fn finish_pass(
    conn: &mut DbConn,
    lease: &Lease,
    pass_id: i64,
    seen: &HashSet<String>,
    progress_so_far: Option<Progress>,
) -> QueryResult<Option<i64>> {
    let connection_id = lease.connection_id;
    db::write(conn, |conn| {
        if !connection::renew_lease(conn, lease, LEASE_SECS_AT_THE_END)? {
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
    })
}
