//! The tasks on My Tasks: filtered, searched, paged.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::tasks;

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

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub provider: Option<String>,
    pub project: Option<String>,
    pub status: Option<String>,
    pub due: Option<Due>,
    pub search: Option<String>,
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

/// One page of the filtered tasks and how many there are in all.
pub fn page(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    dates: (&str, &str),
    window: (i64, i64),
) -> QueryResult<(Vec<TaskRow>, i64)> {
    Ok((
        rows(conn, user_id, f, dates, window)?,
        count(conn, user_id, f, dates)?,
    ))
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

fn rows(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    (today, week_end): (&str, &str),
    (offset, limit): (i64, i64),
) -> QueryResult<Vec<TaskRow>> {
    if f.is_empty() {
        // The page people open most: a fixed query, which diesel keeps prepared (a
        // boxed one is parsed again every time).
        return open_tasks(user_id)
            .order(ordering())
            .offset(offset)
            .limit(limit)
            .select(TaskRow::as_select())
            .load(conn);
    }
    filtered(user_id, f, today, week_end)
        .order(ordering())
        .offset(offset)
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
    pub rows: Vec<TaskRow>,
    pub total: i64,
    pub projects: Vec<String>,
    pub statuses: Vec<String>,
}

pub fn listing(
    conn: &mut DbConn,
    user_id: i64,
    f: &Filter,
    dates: (&str, &str),
    window: (i64, i64),
) -> QueryResult<Listing> {
    // The filter values: distinct pairs, read from the index alone (`tasks_mine`
    // covers them), cheaper than two DISTINCT reads or a GROUP BY with counts.
    let pairs: Vec<(String, String)> = open_tasks(user_id)
        .select((tasks::project, tasks::status))
        .distinct()
        .load(conn)?;
    let rows = rows(conn, user_id, f, dates, window)?;
    // A page that is not full tells the total by itself.
    let (offset, limit) = window;
    let total = match rows.len() as i64 {
        n if n < limit && (n > 0 || offset == 0) => offset + n,
        _ => count(conn, user_id, f, dates)?,
    };
    let mut projects = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    for (project, status) in pairs {
        projects.insert(project);
        statuses.insert(status);
    }
    Ok(Listing {
        rows,
        total,
        projects: projects.into_iter().collect(),
        statuses: statuses.into_iter().collect(),
    })
}

pub fn open_count(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    open_tasks(user_id).count().get_result(conn)
}
