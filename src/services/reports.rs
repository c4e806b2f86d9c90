//! Reports: time by person, tool, project, task and day over a range, and the CSV
//! export of the same entries.
//!
//! Owners, admins and managers report on the whole company; everyone else on their
//! own time only, whatever the query asks. Days are the viewer's days: an entry across
//! midnight counts on both, a running timer counts up to now. Entries are read in
//! keyset-paged chunks, so neither the page nor the export holds a range in memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::stream::{self, Stream};
use jiff::civil::Date;
use jiff::Span;

use crate::connectors::ProviderKind;
use crate::db::{self, now, DbConn, Pool};
use crate::error::{AppError, Unexpected};
use crate::models::report::{self, Cursor, ReportEntry, Scope};
use crate::services::time::{duration, tool_name, Days, Person};

/// Entries read per statement.
pub const CHUNK: i64 = 1_000;
/// The longest custom range, in days.
pub const MAX_DAYS: i64 = 366;

/// The ranges a report offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    ThisWeek,
    LastWeek,
    ThisMonth,
    LastMonth,
    Custom,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::ThisWeek,
        Preset::LastWeek,
        Preset::ThisMonth,
        Preset::LastMonth,
        Preset::Custom,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Preset::ThisWeek => "this-week",
            Preset::LastWeek => "last-week",
            Preset::ThisMonth => "this-month",
            Preset::LastMonth => "last-month",
            Preset::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Preset::ThisWeek => "This week",
            Preset::LastWeek => "Last week",
            Preset::ThisMonth => "This month",
            Preset::LastMonth => "Last month",
            Preset::Custom => "Custom",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.slug() == raw)
    }
}

/// The query string of the page and of the CSV, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub range: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub project: String,
}

/// What a report covers, checked: the range in the viewer's days and whose entries.
#[derive(Debug, Clone)]
pub struct Criteria {
    pub preset: Preset,
    pub first: Date,
    /// The last day, included.
    pub last: Date,
    /// `[from, to)` of the range, UTC seconds.
    pub window: (i64, i64),
    pub scope: Scope,
    /// The viewer reports on the whole company (else on their own time).
    pub company_wide: bool,
}

impl Criteria {
    /// The query that reproduces this report (for the CSV link).
    pub fn query(&self) -> ReportQuery {
        let or_empty = |v: Option<String>| v.unwrap_or_default();
        ReportQuery {
            range: self.preset.slug().into(),
            from: self.first.to_string(),
            to: self.last.to_string(),
            person: if self.company_wide {
                self.scope.person.map(|p| p.to_string()).unwrap_or_default()
            } else {
                String::new()
            },
            tool: or_empty(self.scope.provider.clone()),
            project: or_empty(self.scope.project.clone()),
        }
    }

    pub fn days(&self) -> i64 {
        days_from(self.first, self.last)
    }
}

impl ReportQuery {
    /// `range=…&from=…&to=…&person=…&tool=…&project=…`, for the CSV link.
    pub fn to_query_string(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("range", &self.range)
            .append_pair("from", &self.from)
            .append_pair("to", &self.to)
            .append_pair("person", &self.person)
            .append_pair("tool", &self.tool)
            .append_pair("project", &self.project)
            .finish()
    }
}

/// How many days from `first` to `last`, both included.
fn days_from(first: Date, last: Date) -> i64 {
    first
        .until(last)
        .map(|s| i64::from(s.get_days()) + 1)
        .unwrap_or(1)
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Span::new().days(days)).unwrap_or(date)
}

fn parse_date(raw: &str, which: &str) -> Result<Date, AppError> {
    raw.trim().parse::<Date>().map_err(|_| {
        AppError::BadRequest(format!(
            "Enter the {which} date of the range like 2026-12-01."
        ))
    })
}

/// The first and last day of a preset around `today`, or of a custom range.
fn dates(
    preset: Preset,
    days: &Days,
    today: Date,
    q: &ReportQuery,
) -> Result<(Date, Date), AppError> {
    Ok(match preset {
        Preset::ThisWeek => {
            let first = days.week_of(today);
            (first, add_days(first, 6))
        }
        Preset::LastWeek => {
            let first = add_days(days.week_of(today), -7);
            (first, add_days(first, 6))
        }
        Preset::ThisMonth => (today.first_of_month(), today.last_of_month()),
        Preset::LastMonth => {
            let last = add_days(today.first_of_month(), -1);
            (last.first_of_month(), last)
        }
        Preset::Custom => {
            let first = parse_date(&q.from, "first")?;
            let last = parse_date(&q.to, "last")?;
            if last < first {
                return Err(AppError::BadRequest(format!(
                    "The range ends ({last}) before it starts ({first}): swap the dates."
                )));
            }
            if days_from(first, last) > MAX_DAYS {
                return Err(AppError::BadRequest(format!(
                    "A report covers at most {MAX_DAYS} days: shorten the range."
                )));
            }
            (first, last)
        }
    })
}

fn non_empty(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| raw.chars().take(200).collect())
}

/// The company's people by id: name and email.
pub type People = HashMap<i64, (String, String)>;

/// Checks a query for a viewer: the range in their days, and whose time. A plain
/// user's report is their own, whatever `person` says; a person id outside the
/// viewer's company is not found.
pub fn criteria(
    conn: &mut DbConn,
    viewer: &Person,
    q: &ReportQuery,
    today: Date,
) -> Result<(Criteria, People), AppError> {
    let preset = match Preset::parse(q.range.trim()) {
        Some(p) => p,
        None if !q.from.trim().is_empty() || !q.to.trim().is_empty() => Preset::Custom,
        None => Preset::ThisWeek,
    };
    let (first, last) = dates(preset, &viewer.days, today, q)?;
    let window = viewer.days.range(first, days_from(first, last));
    let people: People = report::people(conn, viewer.company_id)?
        .into_iter()
        .map(|(id, name, email)| (id, (name, email)))
        .collect();
    let company_wide = viewer.role.sees_health();
    let person = if company_wide {
        match non_empty(&q.person) {
            None => None,
            Some(raw) => {
                let id = raw.parse::<i64>().map_err(|_| AppError::NotFound)?;
                if !people.contains_key(&id) {
                    return Err(AppError::NotFound);
                }
                Some(id)
            }
        }
    } else {
        Some(viewer.user_id)
    };
    let provider = non_empty(&q.tool)
        .and_then(|t| ProviderKind::from_slug(&t))
        .map(|k| k.slug().to_owned());
    Ok((
        Criteria {
            preset,
            first,
            last,
            window,
            scope: Scope {
                company_id: viewer.company_id,
                person,
                provider,
                project: non_empty(&q.project),
            },
            company_wide,
        },
        people,
    ))
}

/// Reads the report's entries chunk by chunk, giving each to `each`: the running
/// timers older than the indexed window first, then the window in `(started_at, id)`
/// order.
pub fn for_each_chunk(
    conn: &mut DbConn,
    criteria: &Criteria,
    mut each: impl FnMut(&[ReportEntry]),
) -> diesel::QueryResult<()> {
    each(&report::running_before(
        conn,
        &criteria.scope,
        criteria.window,
    )?);
    let mut after = None;
    loop {
        let chunk = report::chunk(conn, &criteria.scope, criteria.window, after, CHUNK)?;
        each(&chunk);
        match chunk.last() {
            Some(last) if chunk.len() as i64 == CHUNK => after = Some(last.cursor()),
            _ => return Ok(()),
        }
    }
}

/// The part of an entry inside `[from, to)`, a running one counted up to `at`.
fn clipped(entry: &ReportEntry, (from, to): (i64, i64), at: i64) -> Option<(i64, i64)> {
    let end = entry.ended_at.unwrap_or(at).max(entry.started_at);
    let (start, end) = (entry.started_at.max(from), end.min(to));
    (end > start).then_some((start, end))
}

/// One line of a totals table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub label: String,
    /// Beside the label, smaller: a person's email, a project's or task's tool.
    pub detail: String,
    pub secs: i64,
}

impl Total {
    pub fn hm(&self) -> String {
        duration::hm(self.secs)
    }

    pub fn hours(&self) -> String {
        hours(self.secs)
    }
}

/// Decimal hours, two places: `1.50`.
pub fn hours(secs: i64) -> String {
    format!("{:.2}", secs.max(0) as f64 / 3600.0)
}

const NO_TOOL: &str = "No tool";
const NO_PROJECT: &str = "No project";

#[derive(Debug, Default)]
struct Tally {
    by_person: BTreeMap<i64, i64>,
    by_tool: BTreeMap<String, i64>,
    by_project: BTreeMap<(String, String), i64>,
    by_task: BTreeMap<(String, String, String), i64>,
    by_day: BTreeMap<Date, i64>,
    entries: usize,
    total: i64,
}

fn task_label(entry: &ReportEntry) -> String {
    match (&entry.task_title, entry.note.trim()) {
        (Some(title), _) => title.clone(),
        (None, "") => "(no description)".into(),
        (None, note) => note.to_owned(),
    }
}

impl Tally {
    fn add(&mut self, entry: &ReportEntry, days: &Days, window: (i64, i64), at: i64) {
        let Some((start, end)) = clipped(entry, window, at) else {
            return;
        };
        let secs = end - start;
        let tool = tool_name(entry.provider.as_deref())
            .unwrap_or(NO_TOOL)
            .to_owned();
        let project = entry.project.clone().unwrap_or_else(|| NO_PROJECT.into());
        self.entries += 1;
        self.total += secs;
        *self.by_person.entry(entry.user_id).or_default() += secs;
        *self.by_tool.entry(tool.clone()).or_default() += secs;
        *self
            .by_project
            .entry((tool.clone(), project.clone()))
            .or_default() += secs;
        *self
            .by_task
            .entry((tool, project, task_label(entry)))
            .or_default() += secs;
        for (day, secs) in days.split(start, end) {
            *self.by_day.entry(day).or_default() += secs;
        }
    }
}

/// A report: totals in every cut, and each day of the range (days without time too).
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub total: i64,
    pub entries: usize,
    pub by_person: Vec<Total>,
    pub by_tool: Vec<Total>,
    pub by_project: Vec<Total>,
    pub by_task: Vec<Total>,
    pub by_day: Vec<(Date, i64)>,
}

/// Largest first; ties by name.
fn ranked(mut totals: Vec<Total>) -> Vec<Total> {
    totals.sort_by(|a, b| b.secs.cmp(&a.secs).then_with(|| a.label.cmp(&b.label)));
    totals
}

impl Report {
    fn from_tally(tally: Tally, criteria: &Criteria, people: &People) -> Self {
        let unknown = ("(removed person)".to_owned(), String::new());
        let by_person = tally
            .by_person
            .into_iter()
            .map(|(id, secs)| {
                let (name, email) = people.get(&id).unwrap_or(&unknown);
                Total {
                    label: name.clone(),
                    detail: email.clone(),
                    secs,
                }
            })
            .collect();
        let by_tool = tally
            .by_tool
            .into_iter()
            .map(|(tool, secs)| Total {
                label: tool,
                detail: String::new(),
                secs,
            })
            .collect();
        let by_project = tally
            .by_project
            .into_iter()
            .map(|((tool, project), secs)| Total {
                label: project,
                detail: tool,
                secs,
            })
            .collect();
        let by_task = tally
            .by_task
            .into_iter()
            .map(|((tool, project, task), secs)| Total {
                label: task,
                detail: format!("{tool} · {project}"),
                secs,
            })
            .collect();
        let by_day = (0..criteria.days())
            .map(|i| add_days(criteria.first, i))
            .map(|day| (day, tally.by_day.get(&day).copied().unwrap_or(0)))
            .collect();
        Report {
            total: tally.total,
            entries: tally.entries,
            by_person: ranked(by_person),
            by_tool: ranked(by_tool),
            by_project: ranked(by_project),
            by_task: ranked(by_task),
            by_day,
        }
    }
}

/// What the report page shows: the checked criteria, the report, and the choices of
/// its filters.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub criteria: Criteria,
    pub report: Report,
    /// `(id, name)` of the people a company report can be filtered to.
    pub people: Vec<(i64, String)>,
    /// Projects with time in the range: `(tool name, project)`.
    pub projects: Vec<(String, String)>,
}

/// The report for a viewer.
pub async fn report(pool: &Pool, viewer: &Person, q: ReportQuery) -> Result<ReportView, AppError> {
    let viewer = viewer.clone();
    db::run(pool, move |conn| {
        let at = now();
        let (criteria, people) = criteria(conn, &viewer, &q, viewer.days.date_of(at))?;
        let mut tally = Tally::default();
        for_each_chunk(conn, &criteria, |chunk| {
            for entry in chunk {
                tally.add(entry, &viewer.days, criteria.window, at);
            }
        })?;
        let mut projects: Vec<(String, String)> = report::projects(
            conn,
            criteria.scope.company_id,
            criteria.scope.person,
            criteria.window,
        )?
        .into_iter()
        .filter_map(|(tool, project)| {
            Some((
                tool_name(tool.as_deref()).unwrap_or(NO_TOOL).to_owned(),
                project?,
            ))
        })
        .collect();
        projects.sort();
        projects.dedup();
        let report = Report::from_tally(tally, &criteria, &people);
        let mut choices: Vec<(i64, String)> = if criteria.company_wide {
            people
                .into_iter()
                .map(|(id, (name, _))| (id, name))
                .collect()
        } else {
            Vec::new()
        };
        choices.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(ReportView {
            criteria,
            report,
            people: choices,
            projects,
        })
    })
    .await
}

/// The CSV's header row.
pub const CSV_HEADER: [&str; 11] = [
    "Date",
    "Start",
    "End",
    "Person",
    "Email",
    "Tool",
    "Project",
    "Task",
    "Note",
    "Duration (h:mm)",
    "Duration (hours)",
];

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a tab or
/// carriage return before one) is prefixed with `'`, so it stays text.
pub fn safe_cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// The export's file name: `taskbridge-report-2026-12-01-2026-12-31.csv`.
pub fn csv_file_name(criteria: &Criteria) -> String {
    format!("taskbridge-report-{}-{}.csv", criteria.first, criteria.last)
}

/// What each chunk of the export needs, shared by the stream's steps.
struct Export {
    pool: Pool,
    criteria: Criteria,
    days: Days,
    people: People,
    /// Running timers count up to the moment the export began.
    at: i64,
}

impl Export {
    fn rows(&self, entries: &[ReportEntry], header: bool) -> Result<Vec<u8>, AppError> {
        let csv_error =
            |e: csv::Error| AppError::Unexpected(anyhow::Error::new(e).context("writing CSV rows"));
        let mut out = csv::Writer::from_writer(Vec::with_capacity(entries.len() * 128 + 128));
        if header {
            out.write_record(CSV_HEADER).map_err(csv_error)?;
        }
        let unknown = ("(removed person)".to_owned(), String::new());
        for entry in entries {
            let Some((start, end)) = clipped(entry, self.criteria.window, self.at) else {
                continue;
            };
            let started = self.days.zoned(entry.started_at);
            let ended = match entry.ended_at {
                None => "running".to_owned(),
                Some(at) => {
                    let ended = self.days.zoned(at);
                    if ended.date() == started.date() {
                        ended.strftime("%H:%M").to_string()
                    } else {
                        ended.strftime("%Y-%m-%d %H:%M").to_string()
                    }
                }
            };
            let (name, email) = self.people.get(&entry.user_id).unwrap_or(&unknown);
            let tool = tool_name(entry.provider.as_deref()).unwrap_or("");
            let record = [
                started.date().to_string(),
                started.strftime("%H:%M").to_string(),
                ended,
                name.clone(),
                email.clone(),
                tool.to_owned(),
                entry.project.clone().unwrap_or_default(),
                entry.task_title.clone().unwrap_or_default(),
                entry.note.clone(),
                duration::hm(end - start),
                hours(end - start),
            ];
            out.write_record(record.iter().map(|cell| safe_cell(cell).into_owned()))
                .map_err(csv_error)?;
        }
        out.into_inner()
            .map_err(|e| e.into_error())
            .unexpected("finishing a CSV chunk")
    }
}

/// Where the export's stream is.
enum Step {
    /// The header and the running timers older than the window.
    Start,
    /// The window's entries after this cursor.
    Chunk(Option<Cursor>),
    Done,
}

/// Checks the query (a person outside the company is not found, before anything is
/// sent), then answers the file name and the CSV as a stream of chunks, each read in
/// its own trip to the database as the body is pulled.
pub async fn export(
    pool: &Pool,
    viewer: &Person,
    q: ReportQuery,
) -> Result<(String, impl Stream<Item = Result<Vec<u8>, AppError>>), AppError> {
    let checked = viewer.clone();
    let (criteria, people, at) = db::run(pool, move |conn| {
        let at = now();
        let (criteria, people) = criteria(conn, &checked, &q, checked.days.date_of(at))?;
        Ok((criteria, people, at))
    })
    .await?;
    let name = csv_file_name(&criteria);
    let export = Arc::new(Export {
        pool: pool.clone(),
        criteria,
        days: viewer.days.clone(),
        people,
        at,
    });
    let body = stream::unfold(Step::Start, move |step| {
        let export = export.clone();
        async move {
            let (entries, header, next) = match step {
                Step::Done => return None,
                Step::Start => {
                    let read = export.clone();
                    let entries = db::run(&export.pool, move |conn| {
                        Ok(report::running_before(
                            conn,
                            &read.criteria.scope,
                            read.criteria.window,
                        )?)
                    })
                    .await;
                    (entries, true, Step::Chunk(None))
                }
                Step::Chunk(after) => {
                    let read = export.clone();
                    let entries = db::run(&export.pool, move |conn| {
                        Ok(report::chunk(
                            conn,
                            &read.criteria.scope,
                            read.criteria.window,
                            after,
                            CHUNK,
                        )?)
                    })
                    .await;
                    let next = match &entries {
                        Ok(chunk) if chunk.len() as i64 == CHUNK => {
                            chunk.last().map(|e| Step::Chunk(Some(e.cursor())))
                        }
                        _ => None,
                    };
                    if matches!(&entries, Ok(chunk) if chunk.is_empty()) {
                        return None;
                    }
                    (entries, false, next.unwrap_or(Step::Done))
                }
            };
            match entries.and_then(|entries| export.rows(&entries, header)) {
                Ok(bytes) => Some((Ok(bytes), next)),
                // The status is sent already: the error ends the body, so the
                // download fails visibly instead of looking complete.
                Err(e) => Some((Err(e), Step::Done)),
            }
        }
    });
    Ok((name, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn formula_cells_are_made_text() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@x", "'@x"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("Planning", "Planning"),
            ("", ""),
            ("1:30", "1:30"),
        ] {
            assert_eq!(safe_cell(raw), safe, "{raw:?}");
        }
    }

    fn viewer() -> Person {
        Person {
            company_id: 1,
            user_id: 1,
            role: crate::domain::Role::User,
            days: Days::new("Europe/Berlin", "monday"),
        }
    }

    #[test]
    fn presets_are_the_viewers_weeks_and_months() {
        let v = viewer();
        let today = date(2026, 12, 2);
        let q = ReportQuery::default();
        let expected = [
            (Preset::ThisWeek, date(2026, 11, 30), date(2026, 12, 6)),
            (Preset::LastWeek, date(2026, 11, 23), date(2026, 11, 29)),
            (Preset::ThisMonth, date(2026, 12, 1), date(2026, 12, 31)),
            (Preset::LastMonth, date(2026, 11, 1), date(2026, 11, 30)),
        ];
        for (preset, first, last) in expected {
            let range = dates(preset, &v.days, today, &q).unwrap();
            assert_eq!(range, (first, last), "{}", preset.label());
        }
    }

    #[test]
    fn custom_ranges_are_checked() {
        let v = viewer();
        let q = |from: &str, to: &str| ReportQuery {
            from: from.into(),
            to: to.into(),
            ..Default::default()
        };
        let today = date(2026, 12, 2);
        assert_eq!(
            dates(
                Preset::Custom,
                &v.days,
                today,
                &q("2026-12-01", "2026-12-01")
            )
            .unwrap(),
            (date(2026, 12, 1), date(2026, 12, 1))
        );
        assert!(dates(
            Preset::Custom,
            &v.days,
            today,
            &q("2026-12-02", "2026-12-01")
        )
        .is_err());
        assert!(dates(
            Preset::Custom,
            &v.days,
            today,
            &q("2025-01-01", "2026-12-01")
        )
        .is_err());
        assert!(dates(
            Preset::Custom,
            &v.days,
            today,
            &q("yesterday", "2026-12-01")
        )
        .is_err());
    }

    #[test]
    fn a_running_entry_counts_up_to_now_and_only_inside_the_range() {
        let entry = ReportEntry {
            id: 1,
            user_id: 1,
            provider: None,
            project: None,
            task_title: None,
            note: "Planning".into(),
            started_at: 100,
            ended_at: None,
        };
        assert_eq!(clipped(&entry, (0, 1_000), 400), Some((100, 400)));
        assert_eq!(clipped(&entry, (200, 300), 400), Some((200, 300)));
        assert_eq!(clipped(&entry, (500, 600), 400), None);
    }
}
