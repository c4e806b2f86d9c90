//! Time entries: a person's tracked time in a company, running or finished.
//!
//! Times are UTC seconds. An entry keeps its task's title, tool, project and link, so
//! it stays readable when the task is closed in its tool or removed with its
//! connection (`task_id` then becomes NULL through the foreign key).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::{tasks, time_entries};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = time_entries)]
pub struct TimeEntry {
    pub id: i64,
    pub company_id: i64,
    pub user_id: i64,
    pub task_id: Option<i64>,
    pub provider: Option<String>,
    pub project: Option<String>,
    pub task_title: Option<String>,
    pub task_url: Option<String>,
    pub note: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub client_id: Option<String>,
}

impl TimeEntry {
    /// The end, or `at` for a running timer.
    pub fn end_or(&self, at: i64) -> i64 {
        self.ended_at.unwrap_or(at).max(self.started_at)
    }

    pub fn seconds(&self, at: i64) -> i64 {
        self.end_or(at) - self.started_at
    }

    /// What the entry is about, in a few words: the task's title, else the note.
    pub fn label(&self) -> &str {
        match (&self.task_title, self.note.trim()) {
            (Some(title), _) => title,
            (None, "") => "(no description)",
            (None, note) => note,
        }
    }
}

/// The task an entry is on, copied onto the entry when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct TaskSnapshot {
    pub task_id: i64,
    pub provider: String,
    pub project: String,
    pub title: String,
    pub url: Option<String>,
    pub archived: bool,
}

/// One of the person's tasks (any state), or `None`.
pub fn task_of(conn: &mut DbConn, user_id: i64, task_id: i64) -> QueryResult<Option<TaskSnapshot>> {
    tasks::table
        .filter(tasks::id.eq(task_id))
        .filter(tasks::user_id.eq(user_id))
        .select((
            tasks::id,
            tasks::provider,
            tasks::project,
            tasks::title,
            tasks::url,
            tasks::archived,
        ))
        .first(conn)
        .optional()
}

pub struct NewEntry<'a> {
    pub company_id: i64,
    pub user_id: i64,
    pub task: Option<&'a TaskSnapshot>,
    pub note: &'a str,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// A client-made id (API): unique per person.
    pub client_id: Option<&'a str>,
}

pub fn insert(conn: &mut DbConn, new: &NewEntry<'_>) -> QueryResult<TimeEntry> {
    let at = now();
    // `as_returning` does not reach through the two-backend connection: the id comes
    // back and the row is read.
    let id: i64 = diesel::insert_into(time_entries::table)
        .values((
            time_entries::company_id.eq(new.company_id),
            time_entries::user_id.eq(new.user_id),
            time_entries::task_id.eq(new.task.map(|t| t.task_id)),
            time_entries::provider.eq(new.task.map(|t| t.provider.as_str())),
            time_entries::project.eq(new.task.map(|t| t.project.as_str())),
            time_entries::task_title.eq(new.task.map(|t| t.title.as_str())),
            time_entries::task_url.eq(new.task.and_then(|t| t.url.as_deref())),
            time_entries::note.eq(new.note),
            time_entries::started_at.eq(new.started_at),
            time_entries::ended_at.eq(new.ended_at),
            time_entries::client_id.eq(new.client_id),
            time_entries::created_at.eq(at),
            time_entries::updated_at.eq(at),
        ))
        .returning(time_entries::id)
        .get_result(conn)?;
    by_id(conn, id)
}

fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<TimeEntry> {
    time_entries::table
        .filter(time_entries::id.eq(id))
        .select(TimeEntry::as_select())
        .first(conn)
}

/// The person's entry made under a client's id, if any.
pub fn by_client_id(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    client_id: &str,
) -> QueryResult<Option<TimeEntry>> {
    time_entries::table
        .filter(time_entries::company_id.eq(company_id))
        .filter(time_entries::user_id.eq(user_id))
        .filter(time_entries::client_id.eq(client_id))
        .select(TimeEntry::as_select())
        .first(conn)
        .optional()
}

/// The person's running timer in a company, with whether its task is still open.
pub fn running(conn: &mut DbConn, company_id: i64, user_id: i64) -> QueryResult<Option<TimeEntry>> {
    on_backend!(conn, |c| time_entries::table
        .filter(time_entries::user_id.eq(user_id))
        .filter(time_entries::company_id.eq(company_id))
        .filter(time_entries::ended_at.is_null())
        .select(TimeEntry::as_select())
        .first(c)
        .optional())
}

/// Stops the person's running timer at `at` (never before it started).
pub fn stop_running(conn: &mut DbConn, user_id: i64, at: i64) -> QueryResult<Option<TimeEntry>> {
    let running: Option<TimeEntry> = time_entries::table
        .filter(time_entries::user_id.eq(user_id))
        .filter(time_entries::ended_at.is_null())
        .select(TimeEntry::as_select())
        .first(conn)
        .optional()?;
    let Some(entry) = running else {
        return Ok(None);
    };
    let end = at.max(entry.started_at);
    diesel::update(time_entries::table.filter(time_entries::id.eq(entry.id)))
        .set((
            time_entries::ended_at.eq(end),
            time_entries::updated_at.eq(now()),
        ))
        .execute(conn)?;
    by_id(conn, entry.id).map(Some)
}

/// One entry of the company, or `None` (another company's id is not found).
pub fn find(conn: &mut DbConn, company_id: i64, id: i64) -> QueryResult<Option<TimeEntry>> {
    time_entries::table
        .filter(time_entries::id.eq(id))
        .filter(time_entries::company_id.eq(company_id))
        .select(TimeEntry::as_select())
        .first(conn)
        .optional()
}

/// The person's entries that share time with `[from, to)`, ordered by start. A running
/// entry runs until now, and `to` is never in the future, so it overlaps when it
/// started before `to`.
pub fn overlapping(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    (from, to): (i64, i64),
) -> QueryResult<Vec<TimeEntry>> {
    time_entries::table
        .filter(time_entries::company_id.eq(company_id))
        .filter(time_entries::user_id.eq(user_id))
        .filter(time_entries::started_at.lt(to))
        .filter(
            time_entries::ended_at
                .gt(from)
                .or(time_entries::ended_at.is_null()),
        )
        .order((time_entries::started_at, time_entries::id))
        .select(TimeEntry::as_select())
        .load(conn)
}

/// The longest an entry can be: an entry starting this long before a range cannot
/// reach into it, which bounds range scans on the start index. Running timers are the
/// exception and are read separately.
pub const MAX_ENTRY_SECS: i64 = 24 * 60 * 60;

/// The person's finished entries that touch `[from, to)`: started before its end and
/// no more than the longest entry before its start (the start index's range), and ended
/// after its start.
#[diesel::dsl::auto_type]
fn finished_touching(company_id: i64, user_id: i64, from: i64, to: i64) -> _ {
    let earliest: i64 = from - MAX_ENTRY_SECS;
    time_entries::company_id
        .eq(company_id)
        .and(time_entries::user_id.eq(user_id))
        .and(time_entries::started_at.ge(earliest))
        .and(time_entries::started_at.lt(to))
        .and(time_entries::ended_at.gt(from))
}

/// The person's entries that touch `[from, to)`, running one included.
pub fn for_person(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    (from, to): (i64, i64),
) -> QueryResult<Vec<TimeEntry>> {
    let mut entries: Vec<TimeEntry> = on_backend!(conn, |c| time_entries::table
        .filter(finished_touching(company_id, user_id, from, to))
        .order((time_entries::started_at, time_entries::id))
        .select(TimeEntry::as_select())
        .load(c))?;
    if let Some(running) = running(conn, company_id, user_id)? {
        if running.started_at < to {
            entries.push(running);
        }
    }
    Ok(entries)
}

/// A person's finished entries that touch a range, as [`for_person`] reads them, in
/// order, with the states of their tasks (`true`: closed in its tool; a task missing
/// here is gone).
#[derive(Debug, Default)]
pub struct Finished {
    pub entries: Vec<TimeEntry>,
    pub archived: HashMap<i64, bool>,
}

/// The Timesheet's week without its running timer: the person's finished entries that
/// touch `[from, to)`, each with its task's state, in one join.
pub fn finished_with_states(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    (from, to): (i64, i64),
) -> QueryResult<Finished> {
    let rows: Vec<(TimeEntry, Option<bool>)> = on_backend!(conn, |c| time_entries::table
        .left_join(tasks::table)
        .filter(finished_touching(company_id, user_id, from, to))
        .order((time_entries::started_at, time_entries::id))
        .select((TimeEntry::as_select(), tasks::archived.nullable()))
        .load(c))?;
    let mut finished = Finished {
        entries: Vec::with_capacity(rows.len()),
        archived: HashMap::new(),
    };
    for (entry, archived) in rows {
        if let (Some(task), Some(archived)) = (entry.task_id, archived) {
            finished.archived.insert(task, archived);
        }
        finished.entries.push(entry);
    }
    Ok(finished)
}

/// Changes an entry's times, task and note.
pub fn update(conn: &mut DbConn, entry: &TimeEntry) -> QueryResult<TimeEntry> {
    diesel::update(time_entries::table.filter(time_entries::id.eq(entry.id)))
        .set((
            time_entries::task_id.eq(entry.task_id),
            time_entries::provider.eq(entry.provider.as_deref()),
            time_entries::project.eq(entry.project.as_deref()),
            time_entries::task_title.eq(entry.task_title.as_deref()),
            time_entries::task_url.eq(entry.task_url.as_deref()),
            time_entries::note.eq(&entry.note),
            time_entries::started_at.eq(entry.started_at),
            time_entries::ended_at.eq(entry.ended_at),
            time_entries::updated_at.eq(now()),
        ))
        .execute(conn)?;
    by_id(conn, entry.id)
}

pub fn delete(conn: &mut DbConn, company_id: i64, id: i64) -> QueryResult<usize> {
    diesel::delete(
        time_entries::table
            .filter(time_entries::id.eq(id))
            .filter(time_entries::company_id.eq(company_id)),
    )
    .execute(conn)
}

/// An entry's task, start and end.
pub type Span = (Option<i64>, i64, Option<i64>);

/// The (task, start, end) of the person's entries on these tasks, for the time shown
/// beside each task on My Tasks.
pub fn on_tasks(conn: &mut DbConn, user_id: i64, task_ids: &[i64]) -> QueryResult<Vec<Span>> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let spans = time_entries::table
        .filter(time_entries::user_id.eq(user_id))
        .select((
            time_entries::task_id,
            time_entries::started_at,
            time_entries::ended_at,
        ));
    match conn {
        DbConn::Sqlite(c) => {
            // The page's ids as one JSON bind (`json_ids`): the same statement on every
            // My Tasks view, kept prepared.
            let listed = diesel::dsl::sql::<diesel::sql_types::Bool>(
                "time_entries.task_id IN (SELECT value FROM json_each(",
            )
            .bind::<diesel::sql_types::Text, _>(json_ids(task_ids)?)
            .sql("))");
            crate::db::Prepared(spans.filter(listed)).load(c)
        }
        DbConn::Pg(c) => spans.filter(time_entries::task_id.eq_any(task_ids)).load(c),
    }
}

/// A task a person can pick for an entry: (id, tool, project, title).
pub type TaskChoice = (i64, String, String, String);

/// The person's open tasks, for the task list of the entry forms.
pub fn open_tasks(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<TaskChoice>> {
    tasks::table
        .filter(tasks::user_id.eq(user_id))
        .filter(tasks::archived.eq(false))
        .order((tasks::provider, tasks::project, tasks::title))
        .limit(1000)
        .select((tasks::id, tasks::provider, tasks::project, tasks::title))
        .load(conn)
}

/// Whether a task is closed (archived) in its tool; `None`: the task is gone.
pub fn archived(conn: &mut DbConn, task_id: i64) -> QueryResult<Option<bool>> {
    tasks::table
        .find(task_id)
        .select(tasks::archived)
        .first(conn)
        .optional()
}

/// Ids as one JSON array, for `IN (SELECT value FROM json_each(?))` on SQLite: one bind
/// whatever their number, so the statement's text is always the same and is kept
/// prepared (an `IN` list of one bind an id, which diesel never keeps, is parsed and
/// planned by SQLite on every call).
fn json_ids(ids: &[i64]) -> QueryResult<String> {
    serde_json::to_string(ids).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

/// Serialises one person's timer changes for the rest of the transaction. On
/// PostgreSQL two starts at once would otherwise both find nothing running; the person
/// row is locked instead. SQLite's write transactions (`BEGIN IMMEDIATE`) already run
/// one at a time.
pub fn lock_person(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    use crate::schema::users;
    if let DbConn::Pg(pg) = conn {
        users::table
            .filter(users::id.eq(user_id))
            .select(users::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}
