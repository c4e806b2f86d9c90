//! Sync runs: every run of a connection's sync, with its figures and how it ended.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{AsExpression, FromSqlRow};

use crate::db::{now, DbConn};
use crate::models::task::PageCounts;
use crate::schema::sync_runs;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sync_runs)]
pub struct SyncRun {
    pub id: i64,
    pub connection_id: i64,
    pub trigger: String,
    pub status: RunStatus,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub archived: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Where a sync run stands, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum RunStatus {
    Running,
    Ok,
    Failed,
    /// The tool asked to wait; the run resumes from its cursor later.
    Waiting,
    /// Stopped before its end: its process was killed, or a newer run took the
    /// connection over (a reconnect, a lease that ran out). The next run carries on.
    Interrupted,
}

impl RunStatus {
    fn as_text(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Waiting => "waiting",
            Self::Interrupted => "interrupted",
        }
    }

    fn from_text(text: &str) -> Option<Self> {
        [
            Self::Running,
            Self::Ok,
            Self::Failed,
            Self::Waiting,
            Self::Interrupted,
        ]
        .into_iter()
        .find(|s| s.as_text() == text)
    }
}

text_column!(RunStatus);

pub fn start_run(conn: &mut DbConn, connection_id: i64, trigger: &str) -> QueryResult<i64> {
    diesel::insert_into(sync_runs::table)
        .values((
            sync_runs::connection_id.eq(connection_id),
            sync_runs::trigger.eq(trigger),
            sync_runs::status.eq(RunStatus::Running),
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
    status: RunStatus,
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

/// Finishes the run as interrupted, unless it has finished already.
pub fn interrupt(conn: &mut DbConn, run_id: i64, error: (&str, &str)) -> QueryResult<usize> {
    diesel::update(
        sync_runs::table
            .find(run_id)
            .filter(sync_runs::status.eq(RunStatus::Running)),
    )
    .set(interrupted(error))
    .execute(conn)
}

/// Finishes the connection's runs still marked running as interrupted: the one who
/// takes the lease knows no earlier run goes on.
pub fn interrupt_running(
    conn: &mut DbConn,
    connection_id: i64,
    error: (&str, &str),
) -> QueryResult<usize> {
    diesel::update(
        sync_runs::table
            .filter(sync_runs::connection_id.eq(connection_id))
            .filter(sync_runs::status.eq(RunStatus::Running)),
    )
    .set(interrupted(error))
    .execute(conn)
}

#[diesel::dsl::auto_type(no_type_alias)]
pub(crate) fn interrupted<'a>(error: (&'a str, &'a str)) -> _ {
    let code: &'a str = error.0;
    let message: &'a str = error.1;
    let at: i64 = now();
    let status: RunStatus = RunStatus::Interrupted;
    (
        sync_runs::status.eq(status),
        sync_runs::finished_at.eq(at),
        sync_runs::error_code.eq(code),
        sync_runs::error_message.eq(message),
    )
}

pub fn runs_for(conn: &mut DbConn, connection_id: i64, limit: i64) -> QueryResult<Vec<SyncRun>> {
    sync_runs::table
        .filter(sync_runs::connection_id.eq(connection_id))
        .order(sync_runs::id.desc())
        .limit(limit)
        .select(SyncRun::as_select())
        .load(conn)
}
