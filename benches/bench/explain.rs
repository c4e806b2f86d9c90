//! The query plans of the hot queries on PostgreSQL. The SQL is not written out again
//! here: taskbridge's own model functions run on a connection whose instrumentation
//! records each statement and its binds, and each recorded statement is then
//! explained with `EXPLAIN (ANALYZE, BUFFERS)` inside a transaction that is rolled
//! back (the sync's writes included).

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use diesel::sql_types::Text;
use taskbridge::db::{self, DbConn};
use taskbridge::models::task::{self, Filter};
use taskbridge::models::{connection, sync_page, sync_pass};

use crate::seed::Person;

pub struct Plan {
    pub name: String,
    pub sql: String,
    pub plan: String,
    /// Tables of the database with more than 10,000 rows.
    big_tables: Vec<String>,
}

impl Plan {
    /// The scans in the plan, e.g. "Index Only Scan using tasks_mine on tasks".
    pub fn scans(&self) -> Vec<String> {
        self.plan
            .lines()
            .map(|l| l.trim_start().trim_start_matches("->").trim())
            .filter(|l| l.contains(" Scan ") || l.starts_with("Seq Scan"))
            .map(|l| l.split("  (").next().unwrap_or(l).to_owned())
            .collect()
    }

    /// Reads big tables (more than 10,000 rows) only through indexes: a sequential
    /// scan of one would grow with the database.
    pub fn uses_indexes(&self) -> bool {
        !self.scans().iter().any(|s| {
            s.strip_prefix("Seq Scan on ")
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|table| self.big_tables.iter().any(|b| b == table))
        })
    }

    pub fn time_ms(&self) -> Option<f64> {
        self.plan
            .lines()
            .find_map(|l| l.trim().strip_prefix("Execution Time:"))
            .and_then(|t| t.trim().trim_end_matches(" ms").parse().ok())
    }
}

struct Recorder(Arc<Mutex<Vec<String>>>);

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(query.to_string());
            }
        }
    }
}

/// Splits diesel's debug form of a bind list (`[5, "pivotal", ["a", "b"], None]`)
/// into SQL literals.
fn literals(binds: &str) -> Vec<String> {
    fn split_top(s: &str) -> Vec<String> {
        let (mut parts, mut cur, mut depth, mut quoted, mut escaped) =
            (Vec::new(), String::new(), 0, false, false);
        for c in s.chars() {
            if quoted {
                cur.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    quoted = false;
                }
                continue;
            }
            match c {
                '"' => {
                    quoted = true;
                    cur.push(c);
                }
                '[' | '(' => {
                    depth += 1;
                    cur.push(c);
                }
                ']' | ')' => {
                    depth -= 1;
                    cur.push(c);
                }
                ',' if depth == 0 => parts.push(std::mem::take(&mut cur).trim().to_owned()),
                _ => cur.push(c),
            }
        }
        if !cur.trim().is_empty() {
            parts.push(cur.trim().to_owned());
        }
        parts
    }
    fn literal(v: &str) -> String {
        if let Some(inner) = v.strip_prefix("Some(").and_then(|r| r.strip_suffix(')')) {
            return literal(inner);
        }
        if v == "None" {
            return "NULL".into();
        }
        if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let items: Vec<String> = split_top(inner).iter().map(|i| literal(i)).collect();
            // An empty `ARRAY[]` has no type; `'{}'` takes its type from where it is used
            // (`= ANY(…)`, or a cast as in the sync's `unnest($9::text[], …)`).
            if items.is_empty() {
                return "'{}'".into();
            }
            return format!("ARRAY[{}]", items.join(", "));
        }
        if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            let text = inner.replace("\\\"", "\"").replace("\\\\", "\\");
            return format!("'{}'", text.replace('\'', "''"));
        }
        // A text-column enum (`RunStatus::Running`, `ConnectionStatus::NeedsReconnect`)
        // debug-prints as its variant; its stored text is the variant in snake case.
        if v.starts_with(|c: char| c.is_ascii_uppercase())
            && v.chars().all(|c| c.is_ascii_alphanumeric())
        {
            let mut text = String::new();
            for (i, c) in v.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    text.push('_');
                }
                text.push(c.to_ascii_lowercase());
            }
            return format!("'{text}'");
        }
        v.to_owned()
    }
    let inner = binds
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or("");
    split_top(inner).iter().map(|v| literal(v)).collect()
}

/// The SQL with its binds written in, ready for EXPLAIN.
fn with_literals(recorded: &str) -> String {
    let (sql, binds) = recorded
        .split_once(" -- binds: ")
        .unwrap_or((recorded, "[]"));
    let values = literals(binds);
    let mut sql = sql.to_owned();
    for (i, v) in values.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), v);
    }
    sql
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

type Step = Box<dyn Fn(&mut DbConn) -> QueryResult<()>>;

/// Explains the statements My Tasks, the scheduler and a sync page run, for `person`
/// (My Tasks) and `sync_connection` (a connection with tasks already synced).
pub fn hot_queries(url: &str, person: &Person, sync_connection: i64) -> anyhow::Result<Vec<Plan>> {
    let (mut recorded, seen) = recording(url)?;
    let user_id = person.user_id;
    let (today, week_end) = crate::reference::dates();
    // The pass the synced tasks were last seen in: a page explained with it finds them
    // all seen already, as in an unchanged pass.
    let last_pass: i64 = {
        use taskbridge::schema::tasks;
        tasks::table
            .filter(tasks::connection_id.eq(sync_connection))
            .select(diesel::dsl::max(tasks::seen_pass))
            .first::<Option<i64>>(&mut recorded)?
            .unwrap_or(0)
    };
    // The connection's ids: an unchanged re-sync whose pages were all 304s ends its
    // pass with every one of them seen in memory and none marked.
    let all_ids: std::collections::HashSet<String> = {
        use taskbridge::schema::tasks;
        tasks::table
            .filter(tasks::connection_id.eq(sync_connection))
            .select(tasks::external_id)
            .load::<String>(&mut recorded)?
            .into_iter()
            .collect()
    };
    let claim = crate::seed::session_claim(&mut recorded, user_id)?;
    if let Ok(mut s) = seen.lock() {
        s.clear();
    }
    let page: Vec<taskbridge::connectors::RemoteTask> = crate::syncing::pages(100, 1)
        .into_iter()
        .next()
        .unwrap_or_default();
    let page_ids: Vec<String> = page.iter().map(|t| t.external_id.clone()).collect();
    let steps: Vec<(&str, Step)> = vec![
        (
            "My Tasks: signed-in person with the connection cards",
            Box::new(move |c| taskbridge::auth::SignedIn::load_with_cards(c, &claim).map(drop)),
        ),
        (
            "My Tasks: filter values with their stamp (when the stamp moved), page of 50",
            Box::new(move |c| {
                let (pairs, _) = task::pairs(c, user_id)?;
                let (f, dates) = (Filter::default(), (today.as_str(), week_end.as_str()));
                let rows = task::rows(c, user_id, &f, dates, (0, 50))?.into();
                task::listing(c, user_id, (&pairs, rows), &f, dates, (0, 50)).map(drop)
            }),
        ),
        (
            "Scheduler: due connections",
            Box::new(|c| connection::due(c, 4).map(drop)),
        ),
        (
            "Sync: one page of 100",
            Box::new(move |c| {
                let Some(mut lease) = connection::try_lease(c, sync_connection, "explain", 60)?
                else {
                    return Err(diesel::result::Error::NotFound);
                };
                let connection = connection::find(c, sync_connection)?;
                sync_pass::apply_page(
                    c,
                    &connection,
                    last_pass,
                    &page,
                    Some("{}"),
                    &mut lease,
                    60,
                )?;
                Ok(())
            }),
        ),
        (
            "Sync: pages kept for conditional requests",
            Box::new(move |c| sync_page::known_pages(c, sync_connection).map(drop)),
        ),
        (
            "Sync: checkpoint marking a page seen",
            Box::new(move |c| {
                let Some(mut lease) = connection::try_lease(c, sync_connection, "explain", 60)?
                else {
                    return Err(diesel::result::Error::NotFound);
                };
                let connection = connection::find(c, sync_connection)?;
                let checkpoint = sync_pass::Checkpoint {
                    pass_id: last_pass + 1,
                    cursor: Some("{}".into()),
                    seen: page_ids.clone(),
                    progress: None,
                };
                sync_pass::save(c, &connection, &mut lease, 60, None, &checkpoint).map(drop)
            }),
        ),
        (
            "Sync: archive after a pass",
            Box::new(move |c| {
                let Some(mut lease) = connection::try_lease(c, sync_connection, "explain", 60)?
                else {
                    return Err(diesel::result::Error::NotFound);
                };
                sync_pass::finish_pass(c, &mut lease, last_pass + 1, &all_ids, None).map(drop)
            }),
        ),
    ];
    explain_steps(url, &mut recorded, &seen, steps)
}

/// A connection whose statements (with their binds) are recorded.
fn recording(url: &str) -> anyhow::Result<(DbConn, Arc<Mutex<Vec<String>>>)> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut recorded = PgConnection::establish(url)?;
    recorded.set_instrumentation(Recorder(seen.clone()));
    Ok((DbConn::Pg(recorded), seen))
}

/// Runs each step on `recorded` (rolled back) and explains the statements it made.
fn explain_steps(
    url: &str,
    recorded: &mut DbConn,
    seen: &Mutex<Vec<String>>,
    steps: Vec<(&str, Step)>,
) -> anyhow::Result<Vec<Plan>> {
    let mut explainer = PgConnection::establish(url)?;
    let big_tables: Vec<String> = diesel::sql_query(
        "SELECT relname::text AS \"QUERY PLAN\" FROM pg_class WHERE relkind = 'r' AND reltuples > 10000",
    )
    .load::<Line>(&mut explainer)?
    .into_iter()
    .map(|l| l.line)
    .collect();
    let mut plans = Vec::new();
    for (name, step) in steps {
        if let Ok(mut s) = seen.lock() {
            s.clear();
        }
        // The steps that write are rolled back.
        let _ = recorded.transaction::<(), diesel::result::Error, _>(|c| {
            step(c)?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        let statements: Vec<String> = seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|sql| {
                let upper = sql.trim_start().to_ascii_uppercase();
                !["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]
                    .iter()
                    .any(|w| upper.starts_with(w))
            })
            .collect();
        let n = statements.len();
        for (k, sql) in statements.into_iter().enumerate() {
            let literal_sql = with_literals(&sql);
            let lines: Vec<Line> = explainer
                .transaction(|c| {
                    let lines =
                        diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {literal_sql}"))
                            .load(c);
                    match lines {
                        Ok(lines) => Err::<Vec<Line>, _>(ExplainDone::Lines(lines)),
                        Err(e) => Err(ExplainDone::Failed(e)),
                    }
                })
                .or_else(|done| match done {
                    ExplainDone::Lines(lines) => Ok(lines),
                    ExplainDone::Failed(e) => Err(e),
                })?;
            plans.push(Plan {
                name: if n > 1 {
                    format!("{name} ({}/{n})", k + 1)
                } else {
                    name.to_owned()
                },
                sql: literal_sql,
                plan: lines
                    .into_iter()
                    .map(|l| l.line)
                    .collect::<Vec<_>>()
                    .join("\n"),
                big_tables: big_tables.clone(),
            });
        }
    }
    Ok(plans)
}

/// The plans grouped by step (the name before " (k/n)"): the step, its statements'
/// execution times added up, the scans they use, and whether every big table is read
/// through an index.
pub fn by_step(plans: &[Plan]) -> Vec<(String, f64, Vec<String>, bool)> {
    let mut steps: Vec<(String, f64, Vec<String>, bool)> = Vec::new();
    for p in plans {
        let step = p.name.split(" (").next().unwrap_or(&p.name).to_owned();
        if steps.last().is_none_or(|s| s.0 != step) {
            steps.push((step, 0.0, Vec::new(), true));
        }
        if let Some(s) = steps.last_mut() {
            s.1 += p.time_ms().unwrap_or(0.0);
            s.3 &= p.uses_indexes();
            for scan in p.scans() {
                if !s.2.contains(&scan) {
                    s.2.push(scan);
                }
            }
        }
    }
    steps
}

/// What the time-tracking statements are explained for: the person whose week is
/// read and who starts a timer, the owner whose company report is read, and the
/// ranges.
pub struct TimeCase {
    pub person: Person,
    pub owner: Person,
    /// `[from, to)` of the person's week, UTC seconds.
    pub week: (i64, i64),
    /// `[from, to)` of the month's report.
    pub month: (i64, i64),
}

/// Explains the statements the Timesheet, the timer, My Tasks' time per task and a
/// month's company report (and its CSV) run.
pub fn time_queries(url: &str, case: &TimeCase) -> anyhow::Result<Vec<Plan>> {
    use taskbridge::models::report::{self, Scope};
    use taskbridge::models::time_entry::{self, NewEntry};
    let (mut recorded, seen) = recording(url)?;
    let (company_id, user_id) = (case.person.company_id, case.person.user_id);
    let (week, month) = (case.week, case.month);
    let company = Scope {
        company_id: case.owner.company_id,
        ..Scope::default()
    };
    let one_person = Scope {
        person: Some(user_id),
        ..company.clone()
    };
    // The person's first page of tasks, and one open task to start a timer on.
    let (today, week_end) = crate::reference::dates();
    let page_tasks: Vec<i64> = task::page(
        &mut recorded,
        user_id,
        &Filter::default(),
        (&today, &week_end),
        (0, 50),
    )?
    .0
    .iter()
    .map(|t| t.id)
    .collect();
    let open_task = *page_tasks
        .first()
        .ok_or_else(|| anyhow::anyhow!("no tasks"))?;
    let cursor = report::chunk(&mut recorded, &company, month, None, 1_000)?
        .last()
        .map(|e| e.cursor());
    let company_for_chunk = company.clone();
    let company_for_projects = company.clone();
    let company_for_running = company.clone();
    let steps: Vec<(&str, Step)> = vec![
        (
            "Shell: the running timer",
            Box::new(move |c| time_entry::running(c, company_id, user_id).map(drop)),
        ),
        (
            "My Tasks: time on the page's tasks",
            Box::new(move |c| time_entry::on_tasks(c, user_id, &page_tasks).map(drop)),
        ),
        (
            "Timesheet: the week's finished entries with their tasks' states",
            Box::new(move |c| {
                time_entry::finished_with_states(c, company_id, user_id, week).map(drop)
            }),
        ),
        (
            "Timesheet: the running timer's task closed or gone",
            Box::new(move |c| time_entry::archived(c, open_task).map(drop)),
        ),
        (
            "Add time: open tasks for the form",
            Box::new(move |c| time_entry::open_tasks(c, user_id).map(drop)),
        ),
        (
            "Timer: start on a task, then stop",
            Box::new(move |c| {
                time_entry::lock_person(c, user_id)?;
                let task = time_entry::task_of(c, user_id, open_task)?
                    .ok_or(diesel::result::Error::NotFound)?;
                time_entry::running(c, company_id, user_id)?;
                time_entry::stop_running(c, user_id, db::now())?;
                time_entry::insert(
                    c,
                    &NewEntry {
                        company_id,
                        user_id,
                        task: Some(&task),
                        note: "",
                        started_at: db::now(),
                        ended_at: None,
                        client_id: None,
                    },
                )?;
                time_entry::stop_running(c, user_id, db::now()).map(drop)
            }),
        ),
        (
            "Report: the company's people",
            Box::new(move |c| report::people(c, company_id).map(drop)),
        ),
        (
            "Report: timers running since before the month",
            Box::new(move |c| report::running_before(c, &company_for_running, month).map(drop)),
        ),
        (
            "Report: first chunk of 1,000",
            Box::new(move |c| report::chunk(c, &company, month, None, 1_000).map(drop)),
        ),
        (
            "Report: a later chunk, from a keyset cursor",
            Box::new(move |c| report::chunk(c, &company_for_chunk, month, cursor, 1_000).map(drop)),
        ),
        (
            "Report: projects for the filter",
            Box::new(move |c| {
                report::projects(c, company_for_projects.company_id, None, month).map(drop)
            }),
        ),
        (
            "Report: one person's month",
            Box::new(move |c| report::chunk(c, &one_person, month, None, 1_000).map(drop)),
        ),
    ];
    explain_steps(url, &mut recorded, &seen, steps)
}

/// Carries the EXPLAIN output out of a transaction that is always rolled back.
enum ExplainDone {
    Lines(Vec<Line>),
    Failed(diesel::result::Error),
}

impl From<diesel::result::Error> for ExplainDone {
    fn from(e: diesel::result::Error) -> Self {
        ExplainDone::Failed(e)
    }
}
