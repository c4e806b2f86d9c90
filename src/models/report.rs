//! Reports: a company's (or one person's) time entries that touch a range, read in
//! keyset-paged chunks so a report or an export of any size runs in constant memory.
//!
//! Every statement is bounded on the `(company_id, started_at)` index: a finished
//! entry is at most [`MAX_ENTRY_SECS`] long, so one that touches `[from, to)` started
//! in `[from - MAX_ENTRY_SECS, to)`. Running timers can be older than that and are
//! read on their own ([`running_before`]); there is at most one per person.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::models::time_entry::MAX_ENTRY_SECS;
use crate::schema::{logins, time_entries, users};

type Backend = <DbConn as diesel::Connection>::Backend;

/// Whose entries a report reads. `company_id` is the viewer's company, always; the
/// person has been checked to belong to it (or is the viewer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub company_id: i64,
    pub person: Option<i64>,
    pub provider: Option<String>,
    pub project: Option<String>,
}

/// An entry as reports and the CSV read it. The person's name comes from the
/// company's people, read once per report, so the hot statement stays on one table.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = time_entries)]
pub struct ReportEntry {
    pub id: i64,
    pub user_id: i64,
    pub provider: Option<String>,
    pub project: Option<String>,
    pub task_title: Option<String>,
    pub note: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

impl ReportEntry {
    /// Where the keyset continues after this entry.
    pub fn cursor(&self) -> Cursor {
        (self.started_at, self.id)
    }
}

/// `(started_at, id)` of the last entry read.
pub type Cursor = (i64, i64);

/// The scope's entries, before any range: the company, then the filters.
fn scoped(
    scope: &Scope,
) -> time_entries::BoxedQuery<
    '_,
    Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ReportEntry, Backend>>,
> {
    let mut q = time_entries::table
        .filter(time_entries::company_id.eq(scope.company_id))
        .select(ReportEntry::as_select())
        .into_boxed();
    if let Some(person) = scope.person {
        q = q.filter(time_entries::user_id.eq(person));
    }
    if let Some(provider) = &scope.provider {
        q = q.filter(time_entries::provider.eq(provider));
    }
    if let Some(project) = &scope.project {
        q = q.filter(time_entries::project.eq(project));
    }
    q
}

/// The company's people: `(id, name, email)`, everyone who may have time in it.
pub fn people(conn: &mut DbConn, company_id: i64) -> QueryResult<Vec<(i64, String, String)>> {
    users::table
        .inner_join(logins::table)
        .filter(users::company_id.eq(company_id))
        .order((users::name, users::id))
        .select((users::id, users::name, logins::email))
        .load(conn)
}

/// Running timers that started before the indexed window of `[from, to)` (at most one
/// per person), ordered as the chunks are.
pub fn running_before(
    conn: &mut DbConn,
    scope: &Scope,
    (from, _to): (i64, i64),
) -> QueryResult<Vec<ReportEntry>> {
    scoped(scope)
        .filter(time_entries::ended_at.is_null())
        .filter(time_entries::started_at.lt(from - MAX_ENTRY_SECS))
        .order((time_entries::started_at, time_entries::id))
        .load(conn)
}

/// The next `limit` entries touching `[from, to)` after `after`, ordered by
/// `(started_at, id)`. Running timers that started in the window are among them.
pub fn chunk(
    conn: &mut DbConn,
    scope: &Scope,
    (from, to): (i64, i64),
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<ReportEntry>> {
    let mut q = scoped(scope)
        .filter(time_entries::started_at.ge(from - MAX_ENTRY_SECS))
        .filter(time_entries::started_at.lt(to))
        .filter(
            time_entries::ended_at
                .gt(from)
                .or(time_entries::ended_at.is_null()),
        );
    if let Some((started_at, id)) = after {
        // The plain bound lets each chunk start its index range at the cursor instead
        // of scanning from the range's start again; the `OR` then breaks ties by id.
        q = q.filter(time_entries::started_at.ge(started_at)).filter(
            time_entries::started_at
                .gt(started_at)
                .or(time_entries::started_at
                    .eq(started_at)
                    .and(time_entries::id.gt(id))),
        );
    }
    q.order((time_entries::started_at, time_entries::id))
        .limit(limit)
        .load(conn)
}

/// The (tool, project) pairs of the entries touching `[from, to)` for these people
/// (the whole company, or one person), for the filters' choices.
pub fn projects(
    conn: &mut DbConn,
    company_id: i64,
    person: Option<i64>,
    (from, to): (i64, i64),
) -> QueryResult<Vec<(Option<String>, Option<String>)>> {
    let mut q = time_entries::table
        .filter(time_entries::company_id.eq(company_id))
        .filter(time_entries::started_at.ge(from - MAX_ENTRY_SECS))
        .filter(time_entries::started_at.lt(to))
        .select((time_entries::provider, time_entries::project))
        .distinct()
        .into_boxed::<Backend>();
    if let Some(person) = person {
        q = q.filter(time_entries::user_id.eq(person));
    }
    q.order((time_entries::provider, time_entries::project))
        .load(conn)
}
