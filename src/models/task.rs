//! Tasks: those on My Tasks (filtered, searched, paged) and their writes by the sync
//! (a page of a tool's tasks compared with the stored ones, then written).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use diesel::dsl::Eq;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::connectors::{ProviderKind, RemoteTask};
use crate::db::{now, DbConn};
use crate::schema::{task_stamps, tasks};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

type Backend = <DbConn as diesel::Connection>::Backend;

/// Which due dates to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Overdue,
    Today,
    ThisWeek,
    NoDate,
}

impl Due {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "overdue" => Some(Due::Overdue),
            "today" => Some(Due::Today),
            "week" => Some(Due::ThisWeek),
            "none" => Some(Due::NoDate),
            _ => None,
        }
    }
}

/// The order My Tasks lists tasks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Grouped by tool and project, soonest due first in each (the default).
    #[default]
    Tool,
    /// Soonest due first across every tool; undated last.
    Due,
    /// By project name, then soonest due.
    Project,
    /// The tasks the tools changed most recently first.
    Updated,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Tool, Sort::Due, Sort::Project, Sort::Updated];

    pub fn parse(raw: &str) -> Self {
        match raw {
            "due" => Sort::Due,
            "project" => Sort::Project,
            "updated" => Sort::Updated,
            _ => Sort::Tool,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Sort::Tool => "tool",
            Sort::Due => "due",
            Sort::Project => "project",
            Sort::Updated => "updated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Tool => "Tool",
            Sort::Due => "Due date",
            Sort::Project => "Project",
            Sort::Updated => "Updated",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub provider: Option<String>,
    pub project: Option<String>,
    pub status: Option<String>,
    pub due: Option<Due>,
    pub search: Option<String>,
    /// Not a filter: the order of the list.
    pub sort: Sort,
}

impl Filter {
    /// No filter and no search: every open task.
    pub fn is_empty(&self) -> bool {
        self.provider.is_none()
            && self.project.is_none()
            && self.status.is_none()
            && self.due.is_none()
            && self.search.is_none()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct TaskRow {
    pub id: i64,
    pub provider: String,
    pub title: String,
    pub status: String,
    pub project: String,
    pub due_on: Option<String>,
    pub url: Option<String>,
}

type OpenTasks = diesel::dsl::Filter<
    diesel::dsl::Filter<tasks::table, diesel::dsl::Eq<tasks::user_id, i64>>,
    diesel::dsl::Eq<tasks::archived, bool>,
>;

/// A person's open tasks, as a fixed query diesel keeps prepared (`tasks_mine` serves
/// it).
fn open_tasks(user_id: i64) -> OpenTasks {
    tasks::table
        .filter(tasks::user_id.eq(user_id))
        .filter(tasks::archived.eq(false))
}

/// `today` and `week_end` are `YYYY-MM-DD`; dates compare as text.
fn filtered<'a>(
    user_id: i64,
    f: &'a Filter,
    today: &'a str,
    week_end: &'a str,
) -> tasks::BoxedQuery<'a, Backend> {
    let mut q = open_tasks(user_id).into_boxed();
    if let Some(p) = &f.provider {
        q = q.filter(tasks::provider.eq(p));
    }
    if let Some(p) = &f.project {
        q = q.filter(tasks::project.eq(p));
    }
    if let Some(s) = &f.status {
        q = q.filter(tasks::status.eq(s));
    }
    match f.due {
        Some(Due::Overdue) => q = q.filter(tasks::due_on.lt(today)),
        Some(Due::Today) => q = q.filter(tasks::due_on.eq(today)),
        Some(Due::ThisWeek) => {
            q = q.filter(tasks::due_on.ge(today).and(tasks::due_on.le(week_end)))
        }
        Some(Due::NoDate) => q = q.filter(tasks::due_on.is_null()),
        None => {}
    }
    if let Some(s) = &f.search {
        // Searched literally: LIKE's wildcards in the search are escaped.
        let mut escaped = String::with_capacity(s.len());
        for c in s.to_lowercase().chars() {
            if matches!(c, '\\' | '%' | '_') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        let pattern = format!("%{escaped}%");
        q = q.filter(lower(tasks::title).like(pattern).escape('\\'));
    }
    q
}

/// One page of the filtered tasks and how many there are in all (without the filter
/// values My Tasks also shows: what the desktop API lists).
pub fn page(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    dates: (&str, &str),
    window: (i64, i64),
) -> QueryResult<(Vec<TaskRow>, i64)> {
    let rows = rows(conn, user_id, f, dates, window)?;
    let total = total(conn, user_id, f, dates, window, rows.len())?;
    Ok((rows, total))
}

/// How many tasks match in all: a page that is not full tells it by itself.
fn total(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    dates: (&str, &str),
    (offset, limit): (i64, i64),
    shown: usize,
) -> QueryResult<i64> {
    match shown as i64 {
        n if n < limit && (n > 0 || offset == 0) => Ok(offset + n),
        _ => count(conn, user_id, f, dates),
    }
}

/// Grouped by tool and project, dated tasks first, soonest first.
type Ordering = (
    diesel::dsl::Asc<tasks::provider>,
    diesel::dsl::Asc<tasks::project>,
    diesel::dsl::Asc<diesel::dsl::IsNull<tasks::due_on>>,
    diesel::dsl::Asc<tasks::due_on>,
    diesel::dsl::Asc<tasks::id>,
);

fn ordering() -> Ordering {
    (
        tasks::provider.asc(),
        tasks::project.asc(),
        tasks::due_on.is_null().asc(),
        tasks::due_on.asc(),
        tasks::id.asc(),
    )
}

type InListOrder = diesel::dsl::Limit<diesel::dsl::Offset<diesel::dsl::Order<OpenTasks, Ordering>>>;

/// A page of the person's open tasks in My Tasks' own order, which `tasks_mine` holds
/// them in: the page is read in order and ends at its last row, with no sort.
fn in_list_order(user_id: i64, (offset, limit): (i64, i64)) -> InListOrder {
    open_tasks(user_id)
        .order(ordering())
        .offset(offset)
        .limit(limit)
}

/// A page of the person's open tasks that match `f`, in the order it asks.
pub fn rows(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    (today, week_end): (&str, &str),
    (offset, limit): (i64, i64),
) -> QueryResult<Vec<TaskRow>> {
    if f.is_empty() && f.sort == Sort::Tool {
        // The page people open most: a fixed query, which diesel keeps prepared (a
        // boxed one is parsed again every time).
        return on_backend!(conn, |c| in_list_order(user_id, (offset, limit))
            .select(TaskRow::as_select())
            .load(c));
    }
    let q = filtered(user_id, f, today, week_end);
    let q = match f.sort {
        Sort::Tool => q.order(ordering()),
        Sort::Due => q.order((
            tasks::due_on.is_null().asc(),
            tasks::due_on.asc(),
            tasks::id.asc(),
        )),
        Sort::Project => q.order((
            tasks::project.asc(),
            tasks::due_on.is_null().asc(),
            tasks::due_on.asc(),
            tasks::id.asc(),
        )),
        Sort::Updated => q.order((tasks::updated_at.desc(), tasks::id.desc())),
    };
    q.offset(offset)
        .limit(limit)
        .select(TaskRow::as_select())
        .load(conn)
}

/// How many open tasks match.
fn count(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    (today, week_end): (&str, &str),
) -> QueryResult<i64> {
    if f.is_empty() {
        return open_count(conn, user_id);
    }
    filtered(user_id, f, today, week_end)
        .count()
        .get_result(conn)
}

/// What My Tasks shows: a page of tasks, how many match, and the values the filters
/// can take (from all the person's open tasks).
#[derive(Debug, Clone)]
pub struct Listing {
    pub rows: Arc<[TaskRow]>,
    pub total: i64,
    pub projects: Vec<String>,
    pub statuses: Vec<String>,
}

/// The (project, status) pairs of a person's open tasks, with how many tasks each has.
pub type Pairs = Vec<(String, String, i64)>;

/// The person's pairs, read from the index alone (`tasks_mine` covers them), with the
/// stamp of their tasks read in the same statement (`task_stamps`): so the pairs are
/// exactly those of that stamp, and may be kept under it. No stamp when the person has
/// no open task (no row) or never had a task.
pub fn pairs(conn: &mut DbConn, user_id: i64) -> QueryResult<(Pairs, Option<i64>)> {
    let stamp = task_stamps::table
        .filter(task_stamps::user_id.eq(user_id))
        .select(task_stamps::stamp)
        .single_value();
    let rows: Vec<(String, String, i64, Option<i64>)> = on_backend!(conn, |c| open_tasks(user_id)
        .group_by((tasks::project, tasks::status))
        .select((
            tasks::project,
            tasks::status,
            diesel::dsl::count_star(),
            stamp,
        ))
        .load(c))?;
    let stamp = rows.first().and_then(|r| r.3);
    Ok((
        rows.into_iter().map(|(p, s, n, _)| (p, s, n)).collect(),
        stamp,
    ))
}

/// My Tasks' list over the person's `pairs` (from [`pairs`], or kept) and the page's
/// `rows` (from [`rows`], or kept): the filter values are the pairs', and the counts
/// answer "how many match" for the page people open most (no filter, or only a project
/// or status), so that view makes no COUNT of its own.
pub fn listing(
    conn: &mut DbConn,
    user_id: i64,
    (pairs, rows): (&Pairs, Arc<[TaskRow]>),
    f: &Filter,
    dates: (&str, &str),
    window: (i64, i64),
) -> QueryResult<Listing> {
    let total = match total_of_pairs(pairs, f) {
        Some(total) => total,
        None => total(conn, user_id, f, dates, window, rows.len())?,
    };
    let mut projects = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    for (project, status, _) in pairs {
        projects.insert(project.clone());
        statuses.insert(status.clone());
    }
    Ok(Listing {
        rows,
        total,
        projects: projects.into_iter().collect(),
        statuses: statuses.into_iter().collect(),
    })
}

/// How many open tasks match, from the (project, status) counts, when the filter asks
/// nothing else of them; `None` when it does (a tool, a due date, a search).
fn total_of_pairs(pairs: &[(String, String, i64)], f: &Filter) -> Option<i64> {
    if f.provider.is_some() || f.due.is_some() || f.search.is_some() {
        return None;
    }
    let matches = |project: &str, status: &str| {
        f.project.as_deref().is_none_or(|p| p == project)
            && f.status.as_deref().is_none_or(|s| s == status)
    };
    Some(
        pairs
            .iter()
            .filter(|(project, status, _)| matches(project, status))
            .map(|(_, _, n)| n)
            .sum(),
    )
}

/// Deletes what a connection synced (time tracked on it stays, without its task).
pub fn delete_of_connection(conn: &mut DbConn, connection_id: i64) -> QueryResult<usize> {
    diesel::delete(tasks::table.filter(tasks::connection_id.eq(connection_id))).execute(conn)
}

pub fn open_count(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    on_backend!(conn, |c| open_tasks(user_id).count().get_result(c))
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
            DbConn::Pg(c) => crate::db::Prepared(
                diesel::sql_query(
                    "SELECT t.id, t.external_id, t.content_hash, t.archived \
                     FROM unnest($2) AS wanted(external_id) \
                     CROSS JOIN LATERAL (SELECT id, external_id, content_hash, archived \
                         FROM tasks WHERE connection_id = $1 \
                         AND tasks.external_id = wanted.external_id LIMIT 1) AS t",
                )
                .bind::<diesel::sql_types::BigInt, _>(connection_id)
                .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(chunk),
            )
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

    /// The tasks to write, column by column: new and changed alike, for PostgreSQL,
    /// which writes both with one upsert on (connection, the tool's id) over `unnest`.
    pub fn columns(&self) -> Columns<'_> {
        let tasks = self
            .new
            .iter()
            .map(|(task, hash)| (task, hash))
            .chain(self.changed.iter().map(|(_, _, task, hash)| (task, hash)));
        let mut c = Columns::default();
        for (task, hash) in tasks {
            c.external_ids.push(&task.external_id);
            c.titles.push(&task.title);
            c.statuses.push(&task.status);
            c.projects.push(task.project.as_deref().unwrap_or_default());
            c.due_on.push(task.due_on.as_deref());
            c.urls.push(task.url.as_deref());
            c.hashes.push(hash);
            c.closed.push(task.closed);
        }
        c
    }
}

/// A page's tasks to write as column arrays (see [`PageChanges::columns`]).
#[derive(Debug, Default)]
pub struct Columns<'a> {
    pub external_ids: Vec<&'a str>,
    pub titles: Vec<&'a str>,
    pub statuses: Vec<&'a str>,
    pub projects: Vec<&'a str>,
    pub due_on: Vec<Option<&'a str>>,
    pub urls: Vec<Option<&'a str>>,
    pub hashes: Vec<&'a str>,
    pub closed: Vec<bool>,
}

/// Compares a page with the stored tasks (one indexed read). A task the tool lists
/// twice on a page counts once, as its last listing.
pub fn page_changes(
    conn: &mut DbConn,
    connection_id: i64,
    page: &[RemoteTask],
) -> QueryResult<PageChanges> {
    let (last, order) = last_listings(page);
    let existing = stored_tasks(conn, connection_id, &order)?;
    Ok(judge(&last, order, &existing))
}

/// Whether the connection has any task stored, archived ones included.
pub fn any_stored(conn: &mut DbConn, connection_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        tasks::table.filter(tasks::connection_id.eq(connection_id)),
    ))
    .get_result(conn)
}

/// The tasks a run has written to a connection that had none stored when the run
/// began, under its lease (no one else writes the connection's tasks meanwhile). A page
/// none of whose tasks are among them is all new, judged without reading the table:
/// the first sync of a connection, a page a statement fewer.
#[derive(Debug, Default)]
pub struct Fresh {
    written: HashSet<String>,
}

impl Fresh {
    /// What the page changes, when none of its tasks were written in this run; `None`
    /// when one was (a tool's page that shifted under the run), for [`page_changes`].
    pub fn changes(&self, page: &[RemoteTask]) -> Option<PageChanges> {
        let (last, order) = last_listings(page);
        if order.iter().any(|id| self.written.contains(*id)) {
            return None;
        }
        Some(judge(&last, order, &HashMap::new()))
    }

    /// Remembers the tasks a page's save adds (call before the save: a save that fails
    /// ends the run, and this with it).
    pub fn wrote(&mut self, changes: &PageChanges) {
        let new = changes.new.iter().map(|(task, _)| task.external_id.clone());
        self.written.extend(new);
    }
}

/// Each of the page's tasks as the tool last lists it, and their ids in first-listed order.
fn last_listings(page: &[RemoteTask]) -> (HashMap<&str, &RemoteTask>, Vec<&str>) {
    let mut last: HashMap<&str, &RemoteTask> = HashMap::with_capacity(page.len());
    let mut order: Vec<&str> = Vec::with_capacity(page.len());
    for task in page {
        if last.insert(task.external_id.as_str(), task).is_none() {
            order.push(task.external_id.as_str());
        }
    }
    (last, order)
}

/// The page's tasks sorted into new, changed and unchanged against `existing` (row id,
/// content hash and archived, by the tool's id), with what writing them counts.
fn judge(
    last: &HashMap<&str, &RemoteTask>,
    order: Vec<&str>,
    existing: &HashMap<String, (i64, String, bool)>,
) -> PageChanges {
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
    changes
}

/// What the tool says of a task, and this pass's mark: the columns a page sets alike on
/// the tasks it adds and on those it updates.
type ContentColumns<'a> = (
    Eq<tasks::title, &'a String>,
    Eq<tasks::status, &'a String>,
    Eq<tasks::project, &'a str>,
    Eq<tasks::due_on, &'a Option<String>>,
    Eq<tasks::url, &'a Option<String>>,
    Eq<tasks::content_hash, &'a String>,
    Eq<tasks::archived, bool>,
    Eq<tasks::seen_pass, i64>,
    Eq<tasks::updated_at, i64>,
);

fn content_columns<'a>(
    task: &'a RemoteTask,
    hash: &'a String,
    pass_id: i64,
    at: i64,
) -> ContentColumns<'a> {
    (
        tasks::title.eq(&task.title),
        tasks::status.eq(&task.status),
        tasks::project.eq(task.project.as_deref().unwrap_or_default()),
        tasks::due_on.eq(&task.due_on),
        tasks::url.eq(&task.url),
        tasks::content_hash.eq(hash),
        tasks::archived.eq(task.closed),
        tasks::seen_pass.eq(pass_id),
        tasks::updated_at.eq(at),
    )
}

/// Whose tasks a page's writes are: the connection, its person, its tool.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub connection_id: i64,
    pub user_id: i64,
    pub provider: ProviderKind,
}

/// Writes a page's changes, marking what it writes as seen in `pass_id`. (PostgreSQL
/// writes a page in one statement instead, `sync_pass::save`.)
pub fn write_changes(
    conn: &mut DbConn,
    owner: Owner,
    pass_id: i64,
    changes: &PageChanges,
) -> QueryResult<()> {
    let at = now();
    for (id, _, task, hash) in &changes.changed {
        diesel::update(tasks::table.find(id))
            .set(content_columns(task, hash, pass_id, at))
            .execute(conn)?;
    }
    let new_rows: Vec<_> = changes
        .new
        .iter()
        .map(|(task, hash)| {
            (
                tasks::connection_id.eq(owner.connection_id),
                tasks::user_id.eq(owner.user_id),
                tasks::provider.eq(owner.provider),
                tasks::external_id.eq(&task.external_id),
                tasks::created_at.eq(at),
                content_columns(task, hash, pass_id, at),
            )
        })
        .collect();
    // New tasks in one multi-row INSERT per chunk: a round trip per task is what
    // made a first sync slow on PostgreSQL. (Diesel's multi-backend connection has
    // no batch insert, hence the match; chunks stay under the bind-parameter limits.)
    // "New" was decided by a read before this transaction: a row written since (a
    // replayed page, another run of the connection) is updated, not a unique-key
    // failure of the whole page.
    for chunk in new_rows.chunks(200) {
        use diesel::upsert::excluded;
        let insert = diesel::insert_into(tasks::table)
            .values(chunk)
            .on_conflict((tasks::connection_id, tasks::external_id))
            .do_update()
            .set((
                tasks::title.eq(excluded(tasks::title)),
                tasks::status.eq(excluded(tasks::status)),
                tasks::project.eq(excluded(tasks::project)),
                tasks::due_on.eq(excluded(tasks::due_on)),
                tasks::url.eq(excluded(tasks::url)),
                tasks::content_hash.eq(excluded(tasks::content_hash)),
                tasks::archived.eq(excluded(tasks::archived)),
                tasks::seen_pass.eq(excluded(tasks::seen_pass)),
                tasks::updated_at.eq(excluded(tasks::updated_at)),
            ));
        match conn {
            DbConn::Pg(c) => insert.execute(c)?,
            DbConn::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// Marks stored tasks, by the tool's ids, as seen in `pass_id`; rows already marked are
/// left alone (a replayed page writes nothing).
pub fn mark_seen(
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

/// Archives the connection's open tasks neither marked as seen in `pass_id` nor among
/// `seen`; returns the tool's ids of those archived.
pub fn archive_unseen(
    conn: &mut DbConn,
    connection_id: i64,
    pass_id: i64,
    seen: &HashSet<String>,
) -> QueryResult<HashSet<String>> {
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
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(id: &str, title: &str, closed: bool) -> RemoteTask {
        RemoteTask {
            external_id: id.into(),
            title: title.into(),
            status: "open".into(),
            project: None,
            due_on: None,
            url: None,
            closed,
            updated_at: None,
        }
    }

    #[test]
    fn a_fresh_run_judges_pages_new_until_one_repeats_a_task_it_wrote() {
        let mut fresh = Fresh::default();
        let page = [
            remote("1", "One", false),
            remote("2", "Two", true),
            remote("1", "One, again", false),
        ];
        let changes = fresh.changes(&page).unwrap();
        let written: Vec<&str> = changes.columns().titles;
        assert_eq!(
            written,
            ["One, again", "Two"],
            "each task once, as last listed"
        );
        assert_eq!(
            (changes.counts.added, changes.counts.updated),
            (1, 0),
            "a closed new task is written but not counted as added"
        );
        assert!(changes.unchanged.is_empty());
        fresh.wrote(&changes);
        assert!(fresh.changes(&[remote("3", "Three", false)]).is_some());
        assert!(
            fresh
                .changes(&[remote("3", "Three", false), remote("2", "Two", true)])
                .is_none(),
            "a page with a task written before is compared with the table"
        );
    }

    fn pairs() -> Vec<(String, String, i64)> {
        [
            ("Web", "started", 3),
            ("Web", "done", 2),
            ("App", "started", 4),
        ]
        .into_iter()
        .map(|(p, s, n)| (p.to_owned(), s.to_owned(), n))
        .collect()
    }

    #[test]
    fn the_pairs_count_what_a_project_or_status_filter_matches() {
        let all = Filter::default();
        assert_eq!(total_of_pairs(&pairs(), &all), Some(9));
        let web = Filter {
            project: Some("Web".into()),
            ..Filter::default()
        };
        assert_eq!(total_of_pairs(&pairs(), &web), Some(5));
        let started_web = Filter {
            status: Some("started".into()),
            ..web
        };
        assert_eq!(total_of_pairs(&pairs(), &started_web), Some(3));
        let nowhere = Filter {
            project: Some("Nope".into()),
            ..Filter::default()
        };
        assert_eq!(total_of_pairs(&pairs(), &nowhere), Some(0));
    }

    #[test]
    fn a_tool_due_or_search_filter_is_counted_by_the_database() {
        for f in [
            Filter {
                provider: Some("basecamp".into()),
                ..Filter::default()
            },
            Filter {
                due: Some(Due::Today),
                ..Filter::default()
            },
            Filter {
                search: Some("web".into()),
                ..Filter::default()
            },
        ] {
            assert_eq!(total_of_pairs(&pairs(), &f), None);
        }
    }

    /// My Tasks' page is read from `tasks_mine` in its order: SQLite's plan for it has
    /// no sort (no temporary b-tree), so a page reads its own rows and stops there,
    /// however many tasks the person has.
    #[test]
    fn my_tasks_page_is_read_in_index_order_without_a_sort() {
        #[derive(QueryableByName)]
        struct Step {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }
        let pool = crate::db::connect(":memory:").unwrap();
        let mut conn = pool.get().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        let query = in_list_order(1, (0, 50)).select(TaskRow::as_select());
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string();
        let sql = sql.split(" -- binds").next().unwrap();
        let DbConn::Sqlite(c) = &mut *conn else {
            panic!("a SQLite connection");
        };
        let plan: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(c)
            .unwrap();
        let plan: Vec<&str> = plan.iter().map(|s| s.detail.as_str()).collect();
        assert!(
            plan.iter().any(|d| d.contains("INDEX tasks_mine")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|d| d.contains("TEMP B-TREE")), "{plan:?}");
    }
}
