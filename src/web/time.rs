//! Time tracking pages: the timer's start and stop, the Timesheet, entry edits, and
//! the time zone settings.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use jiff::civil::Date;
use serde::Deserialize;

use crate::auth::{client_ip, CompanyManager, CurrentUser, SignedIn, Stamps};
use crate::config::Settings;
use crate::days::{self, parse_week_start, WEEK_STARTS};
use crate::db::{self, now, Pool};
use crate::domain::CompanyId;
use crate::error::{AppError, AppResult};
use crate::models::time_entry::{self, Finished, TaskChoice, TimeEntry};
use crate::models::user;
use crate::services::kept::Kept;
use crate::services::time::duration::hm;
use crate::services::time::{
    self as tracking, tool_name, Days, EntryForm, Person, StartWith, TimeError,
};
use crate::urls;
use crate::web::confirm::{self, Confirmation, Question};
use crate::web::shell::{Action, Nav, Page, Shell};
use crate::web::{flash, render, render_status, see_other};

/// Where to go back to after a timer button: the page it was pressed on, when that is
/// a path of this app, else My Tasks. Never another site.
fn back(raw: &str) -> String {
    let raw = raw.trim();
    let local = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control);
    if local {
        raw.to_owned()
    } else {
        urls::MY_TASKS.to_owned()
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    task_id: Option<i64>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

/// "Start": on a task, or with a note. Stops the timer running, if any.
pub async fn start(
    act: Action,
    pool: web::Data<Pool>,
    form: web::Form<StartForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let with = match form.task_id {
        Some(id) => StartWith::Task(id),
        None => StartWith::Note(form.note),
    };
    match tracking::start(&pool, &Person::of(&act.user), with).await {
        Ok(entry) => act.success(format!("Timer started: {}.", entry.label())),
        Err(TimeError::NotFound) => return Err(AppError::NotFound),
        Err(TimeError::App(e)) => return Err(e),
        Err(shown) => act.error(shown.to_string()),
    }
    Ok(see_other(&back(&form.back)))
}

#[derive(Deserialize)]
pub struct StopForm {
    /// "Stop at": a date and time in the person's days, for a timer left running.
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    back: String,
}

pub async fn stop(
    act: Action,
    pool: web::Data<Pool>,
    form: web::Form<StopForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let person = Person::of(&act.user);
    let at = if form.time.trim().is_empty() {
        None
    } else {
        let parsed = form
            .date
            .trim()
            .parse::<Date>()
            .ok()
            .zip(form.time.trim().parse::<jiff::civil::Time>().ok());
        match parsed {
            Some((date, time)) => Some(person.days.at(date, time)),
            None => {
                act.error("Enter the date and time the work ended, like 17:30.");
                return Ok(see_other(&back(&form.back)));
            }
        }
    };
    match tracking::stop(&pool, &person, at).await {
        Ok(entry) => act.success(format!(
            "Timer stopped: {} on {}.",
            hm(entry.seconds(now())),
            entry.label()
        )),
        Err(TimeError::App(e)) => return Err(e),
        Err(shown) => act.error(shown.to_string()),
    }
    Ok(see_other(&back(&form.back)))
}

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    week: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    person: Option<i64>,
}

/// A row of the week: one task (or one note), its time per day.
pub struct WeekRow {
    pub tool: String,
    pub project: String,
    pub label: String,
    pub url: Option<String>,
    pub state: Option<String>,
    pub cells: Vec<String>,
    pub total: String,
}

/// An entry in the day's list.
pub struct DayEntry {
    pub id: i64,
    pub label: String,
    pub tool: Option<&'static str>,
    pub url: Option<String>,
    pub note: String,
    pub times: String,
    pub duration: String,
    pub running: bool,
    pub state: Option<String>,
}

pub struct DayColumn {
    pub date: String,
    pub name: String,
    pub total: String,
    pub link: String,
    pub selected: bool,
    pub today: bool,
}

#[derive(Template)]
#[template(path = "timesheet.html")]
pub struct TimesheetPage {
    pub shell: Shell,
    /// Whose week: `None` for one's own.
    pub person_name: Option<String>,
    pub person: Option<i64>,
    pub title: String,
    pub columns: Vec<DayColumn>,
    pub rows: Vec<WeekRow>,
    pub week_total: String,
    pub day_title: String,
    pub day_entries: Vec<DayEntry>,
    pub prev: String,
    pub next: String,
    pub this_week: String,
    pub is_this_week: bool,
    pub zone: String,
    pub here: String,
    /// "Add time" on the selected day (the form is a page of its own, so the week
    /// does not read every open task).
    pub add_time: String,
}

/// What a state label says of an entry's task, given whether the task is archived
/// (`None`: the task is gone): `None` while it is open.
fn task_state(entry: &TimeEntry, archived: Option<bool>) -> Option<String> {
    let tool = tool_name(entry.provider.as_deref()).unwrap_or("its tool");
    match entry.task_id {
        None if entry.task_title.is_some() => Some("disconnected".into()),
        None => None,
        Some(_) => match archived {
            Some(false) => None,
            Some(true) => Some(format!("closed in {tool}")),
            None => Some("disconnected".into()),
        },
    }
}

fn safe_url(url: &Option<String>) -> Option<String> {
    url.clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// The person whose week is shown: oneself, or for owners and admins anyone in the
/// company (another company's person: 404).
fn whose(
    conn: &mut db::DbConn,
    viewer: &Person,
    asked: Option<i64>,
) -> AppResult<(Person, Option<String>)> {
    match asked {
        Some(id) if id != viewer.user_id => {
            if !viewer.role.manages_company() {
                return Err(AppError::NotFound);
            }
            let other = user::in_company(conn, CompanyId(viewer.company_id), id)?;
            let (zone, week_start) = user::days_of(conn, id)?;
            Ok((
                Person {
                    company_id: viewer.company_id,
                    user_id: id,
                    role: other.role(),
                    days: Days::new(&zone, &week_start),
                },
                Some(other.name),
            ))
        }
        _ => Ok((viewer.clone(), None)),
    }
}

struct WeekData {
    person: Person,
    person_name: Option<String>,
    /// The week's finished entries (kept between views, or read).
    finished: Arc<Finished>,
    /// The running timer when it started before the week's end, and its task's state.
    running: Option<TimeEntry>,
    running_archived: Option<bool>,
}

impl WeekData {
    /// The week's entries in order, the running timer last.
    fn entries(&self) -> impl Iterator<Item = &TimeEntry> {
        self.finished.entries.iter().chain(&self.running)
    }

    /// The state of an entry's task, when the task is still there: archived or not.
    fn archived(&self, entry: &TimeEntry) -> Option<bool> {
        let task = entry.task_id?;
        if self.running.as_ref().and_then(|r| r.task_id) == Some(task) {
            return self.running_archived;
        }
        self.finished.archived.get(&task).copied()
    }
}

/// Who looks at a week: what the caller keeps (the signed-in person's row), the person,
/// their running timer and the stamps of their tasks and time.
type Viewer<W> = (W, Person, Option<TimeEntry>, Stamps);

/// The week's data in one trip to the database, after `viewer` (run first, on the
/// same connection) says who is looking; `None` when it finds no one.
async fn load_week<W: Send + 'static>(
    (pool, kept): (&Pool, &web::Data<Kept>),
    asked: Option<i64>,
    week: &WeekQuery,
    viewer: impl FnOnce(&mut db::DbConn) -> AppResult<Option<Viewer<W>>> + Send + 'static,
) -> AppResult<Option<(W, WeekData, Date, Date)>> {
    let (week_q, day_q) = (week.week.clone(), week.day.clone());
    let kept = kept.clone();
    db::run(pool, move |conn| {
        let Some((with, viewer, viewer_running, stamps)) = viewer(conn)? else {
            return Ok(None);
        };
        let (person, person_name) = whose(conn, &viewer, asked)?;
        let own = person.user_id == viewer.user_id;
        let days = &person.days;
        let today = days.date_of(now());
        let first = days.week_of(week_q.trim().parse::<Date>().unwrap_or(today));
        let week_days = days.week(first);
        let day = day_q
            .trim()
            .parse::<Date>()
            .ok()
            .filter(|d| week_days.contains(d))
            .unwrap_or(if week_days.contains(&today) {
                today
            } else {
                first
            });
        let range = days.range(first, 7);
        let of = (person.company_id, person.user_id);
        // The viewer's own week may be kept, under the stamps read with them; their
        // running timer is already read. Someone else's week is read, timer and all.
        let (finished, running) = if own {
            (kept.finished(conn, of, stamps, range)?, viewer_running)
        } else {
            let finished = time_entry::finished_with_states(conn, of.0, of.1, range)?;
            (Arc::new(finished), time_entry::running(conn, of.0, of.1)?)
        };
        let running = running.filter(|r| r.started_at < range.1);
        let running_archived = match running.as_ref().and_then(|r| r.task_id) {
            // The running timer's task: one more look, only for that one.
            Some(task) => time_entry::archived(conn, task)?,
            None => None,
        };
        Ok(Some((
            with,
            WeekData {
                person,
                person_name,
                finished,
                running,
                running_archived,
            },
            first,
            day,
        )))
    })
    .await
}

/// The week's rows, grouped by tool, project and task (or note), in that order.
fn week_rows(data: &WeekData, week_days: &[Date; 7], at: i64) -> (Vec<WeekRow>, [i64; 7]) {
    type Key = (String, String, String, Option<i64>);
    let mut rows: BTreeMap<Key, ([i64; 7], &TimeEntry)> = BTreeMap::new();
    let mut totals = [0i64; 7];
    for entry in data.entries() {
        let tool = tool_name(entry.provider.as_deref())
            .unwrap_or("")
            .to_owned();
        let key = (
            tool,
            entry.project.clone().unwrap_or_default(),
            entry.label().to_owned(),
            entry.task_id,
        );
        let row = rows.entry(key).or_insert(([0; 7], entry));
        for (date, secs) in data.person.days.split(entry.started_at, entry.end_or(at)) {
            if let Some(i) = week_days.iter().position(|d| *d == date) {
                row.0[i] += secs;
                totals[i] += secs;
            }
        }
    }
    let rows = rows
        .into_iter()
        .map(|((tool, project, label, _), (cells, entry))| WeekRow {
            tool: if tool.is_empty() {
                "No tool".into()
            } else {
                tool
            },
            project,
            label,
            url: safe_url(&entry.task_url),
            state: task_state(entry, data.archived(entry)),
            total: hm(cells.iter().sum()),
            cells: cells
                .iter()
                .map(|s| if *s > 0 { hm(*s) } else { String::new() })
                .collect(),
        })
        .collect();
    (rows, totals)
}

fn day_entries(data: &WeekData, day: Date, at: i64) -> Vec<DayEntry> {
    let days = &data.person.days;
    let (from, to) = days.range(day, 1);
    data.entries()
        .filter(|e| e.started_at < to && e.end_or(at) > from)
        .map(|e| {
            let start = days.zoned(e.started_at);
            let times = match e.ended_at {
                Some(end) => {
                    let end = days.zoned(end);
                    let end_text = if end.date() == start.date() {
                        end.strftime("%H:%M").to_string()
                    } else {
                        end.strftime("%a %H:%M").to_string()
                    };
                    format!("{}–{}", start.strftime("%H:%M"), end_text)
                }
                None => format!("{}–now", start.strftime("%H:%M")),
            };
            DayEntry {
                id: e.id,
                label: e.label().to_owned(),
                tool: tool_name(e.provider.as_deref()),
                url: safe_url(&e.task_url),
                note: if e.task_title.is_some() {
                    e.note.clone()
                } else {
                    String::new()
                },
                times,
                duration: hm(e.seconds(at)),
                running: e.ended_at.is_none(),
                state: task_state(e, data.archived(e)),
            }
        })
        .collect()
}

/// The Timesheet of a week that is loaded.
fn sheet(shell: Shell, data: WeekData, first: Date, day: Date) -> TimesheetPage {
    let days = &data.person.days;
    let at = now();
    let today = days.date_of(at);
    let week_days = days.week(first);
    let (rows, totals) = week_rows(&data, &week_days, at);
    let person = data.person_name.as_ref().map(|_| data.person.user_id);
    let columns = week_days
        .iter()
        .zip(totals.iter())
        .map(|(d, t)| DayColumn {
            date: d.to_string(),
            name: d.strftime("%a %-d").to_string(),
            total: hm(*t),
            link: urls::timesheet(first, d, person),
            selected: *d == day,
            today: *d == today,
        })
        .collect();
    let shift = |weeks: i64| {
        let d = first
            .checked_add(jiff::Span::new().days(7 * weeks))
            .unwrap_or(first);
        urls::timesheet(d, d, person)
    };
    let last = week_days[6];
    let title = if first.year() == last.year() {
        format!(
            "{} – {}",
            first.strftime("%-d %b"),
            last.strftime("%-d %b %Y")
        )
    } else {
        format!(
            "{} – {}",
            first.strftime("%-d %b %Y"),
            last.strftime("%-d %b %Y")
        )
    };
    TimesheetPage {
        shell,
        day_entries: day_entries(&data, day, at),
        day_title: day.strftime("%A %-d %B").to_string(),
        rows,
        week_total: hm(totals.iter().sum()),
        columns,
        title,
        prev: shift(-1),
        next: shift(1),
        this_week: urls::timesheet(days.week_of(today), today, person),
        is_this_week: week_days.contains(&today),
        zone: days.tz.iana_name().unwrap_or("UTC").to_owned(),
        person_name: data.person_name,
        person,
        here: urls::timesheet(first, day, person),
        add_time: urls::new_entry(day),
    }
}

/// The week: the session's row, the person and the week read in one trip.
pub async fn timesheet(
    signed_in: SignedIn,
    session: Session,
    settings: web::Data<Settings>,
    pool: web::Data<Pool>,
    kept: web::Data<Kept>,
    query: web::Query<WeekQuery>,
) -> AppResult<HttpResponse> {
    let claim = signed_in.claim();
    let loaded = load_week((&pool, &kept), query.person, &query, move |conn| {
        let Some(loaded) = SignedIn::load(conn, &claim)? else {
            return Ok(None);
        };
        let viewer = Person::loaded(&loaded)?;
        let running = loaded.running().cloned();
        let stamps = loaded.stamps();
        Ok(Some((loaded, viewer, running, stamps)))
    })
    .await?;
    let Some((loaded, data, first, day)) = loaded else {
        return Err(signed_in.gone());
    };
    let user = signed_in.into_current(loaded)?;
    let shell = Shell::new(&user, &session, Nav::Timesheet, settings.sandbox);
    render(&sheet(shell, data, first, day))
}

#[derive(Template)]
#[template(path = "time_entry_new.html")]
pub struct AddPage {
    pub shell: Shell,
    pub form: EntryForm,
    pub error: Option<String>,
    pub tasks: Vec<TaskChoice>,
    /// The Timesheet week of the form's date, for "Cancel".
    pub back: String,
    pub zone: String,
}

impl AddPage {
    pub fn tool_of(&self, slug: &str) -> &'static str {
        tool_name(Some(slug)).unwrap_or("Other")
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewEntryQuery {
    #[serde(default)]
    date: String,
    /// Kept as text: an id that is not a number, or not an open task of the person,
    /// just preselects nothing.
    #[serde(default)]
    task_id: String,
}

/// "Add time": the form with the person's open tasks, the only page that reads them
/// all. A refused entry comes back here with the problem named (status 400) and the
/// fields as typed.
async fn add_page(
    page: &Page,
    pool: &Pool,
    form: EntryForm,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let person = Person::of(&page.user);
    let user_id = person.user_id;
    let tasks = db::run(pool, move |conn| Ok(time_entry::open_tasks(conn, user_id)?)).await?;
    let days = &person.days;
    let date = form
        .date
        .trim()
        .parse::<Date>()
        .unwrap_or_else(|_| days.date_of(now()));
    let status = if error.is_some() {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    render_status(
        status,
        &AddPage {
            shell: page.shell(Nav::Timesheet),
            form,
            error,
            tasks,
            back: urls::timesheet(days.week_of(date), date, None),
            zone: days.tz.iana_name().unwrap_or("UTC").to_owned(),
        },
    )
}

/// `GET` "Add time": `?date=` fills the date (else the person's today), `?task_id=`
/// picks the task.
pub async fn new_entry(
    page: Page,
    pool: web::Data<Pool>,
    query: web::Query<NewEntryQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let days = &Person::of(&page.user).days;
    let date = query
        .date
        .trim()
        .parse::<Date>()
        .unwrap_or_else(|_| days.date_of(now()));
    let form = EntryForm {
        date: date.to_string(),
        task_id: query.task_id.trim().to_owned(),
        ..EntryForm::default()
    };
    add_page(&page, &pool, form, None).await
}

/// A manual entry. Refused input comes back on the "Add time" page with the problem
/// named.
pub async fn add(
    page: Page,
    pool: web::Data<Pool>,
    form: web::Form<EntryForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let person = Person::of(&page.user);
    match tracking::add(&pool, &person, form.clone()).await {
        Ok(entry) => {
            page.success(format!(
                "Added {} on {}.",
                hm(entry.seconds(now())),
                entry.label()
            ));
            let date = person.days.date_of(entry.started_at);
            Ok(see_other(&urls::timesheet(
                person.days.week_of(date),
                date,
                None,
            )))
        }
        Err(TimeError::App(e)) => Err(e),
        Err(TimeError::NotFound) => Err(AppError::NotFound),
        Err(shown) => add_page(&page, &pool, form, Some(shown.to_string())).await,
    }
}

#[derive(Template)]
#[template(path = "time_entry_edit.html")]
pub struct EditPage {
    pub shell: Shell,
    pub id: i64,
    pub form: EntryForm,
    pub error: Option<String>,
    pub tasks: Vec<TaskChoice>,
    /// The entry's task when it is no longer open (closed or disconnected).
    pub kept_task: Option<String>,
    pub owner_name: Option<String>,
    pub back: String,
    pub zone: String,
}

impl EditPage {
    pub fn tool_of(&self, slug: &str) -> &'static str {
        tool_name(Some(slug)).unwrap_or("Other")
    }
}

async fn edit_page(
    page: &Page,
    pool: &Pool,
    id: i64,
    form: Option<(EntryForm, String)>,
) -> AppResult<HttpResponse> {
    let user = &page.user;
    let actor = Person::of(user);
    let entry = tracking::find(pool, &actor, id).await?;
    let viewer = user.clone();
    let owner_id = entry.user_id;
    let task_id = entry.task_id;
    let (owner, owner_name, tasks, archived) = db::run(pool, move |conn| {
        let (owner, name) = whose(conn, &Person::of(&viewer), Some(owner_id))?;
        let tasks = time_entry::open_tasks(conn, owner_id)?;
        let archived = match task_id {
            Some(task) => time_entry::archived(conn, task)?,
            None => None,
        };
        Ok((owner, name, tasks, archived))
    })
    .await?;
    let kept_task =
        task_state(&entry, archived).map(|state| format!("{} ({state})", entry.label()));
    let date = owner.days.date_of(entry.started_at);
    let person = owner_name.as_ref().map(|_| owner.user_id);
    let (form, error) = match form {
        Some((form, error)) => (form, Some(error)),
        None => (EntryForm::from_entry(&entry, &owner.days), None),
    };
    let edit = EditPage {
        shell: page.shell(Nav::Timesheet),
        id,
        form,
        tasks,
        kept_task,
        owner_name,
        back: urls::timesheet(owner.days.week_of(date), date, person),
        zone: owner.days.tz.iana_name().unwrap_or("UTC").to_owned(),
        error: error.clone(),
    };
    if error.is_some() {
        render_status(actix_web::http::StatusCode::BAD_REQUEST, &edit)
    } else {
        render(&edit)
    }
}

pub async fn edit_form(
    page: Page,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    edit_page(&page, &pool, path.into_inner(), None).await
}

pub async fn update(
    req: HttpRequest,
    page: Page,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
    form: web::Form<EntryForm>,
) -> AppResult<HttpResponse> {
    let (user, session) = (&page.user, &page.session);
    let id = path.into_inner();
    let form = form.into_inner();
    let actor = Person::of(user);
    match tracking::update(&pool, &actor, id, form.clone(), client_ip(&req)).await {
        Ok(entry) => {
            flash::success(session, format!("Saved {}.", entry.label()));
            owners_week(&pool, user, &entry).await
        }
        Err(TimeError::App(e)) => Err(e),
        Err(TimeError::NotFound) => Err(AppError::NotFound),
        Err(shown) => edit_page(&page, &pool, id, Some((form, shown.to_string()))).await,
    }
}

pub async fn delete(
    act: Action,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
    form: web::Form<Confirmation>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    if !form.given() {
        let entry = tracking::find(&pool, &Person::of(&act.user), id).await?;
        let question = Question {
            title: format!("Delete \u{201c}{}\u{201d}?", entry.label()),
            message: "This time entry is removed from the Timesheet and from reports.".into(),
            action: urls::entry_delete(id),
            button: "Delete",
            back: urls::TIMESHEET.to_owned(),
        };
        return confirm::ask(&act, Nav::Timesheet, question);
    }
    let entry = tracking::delete(&pool, &Person::of(&act.user), id, act.ip.clone()).await?;
    act.success(format!("Deleted the entry on {}.", entry.label()));
    owners_week(&pool, &act.user, &entry).await
}

/// Back to the Timesheet week of an entry, in its owner's days (an owner or admin who
/// changed someone else's entry lands on that person's week).
async fn owners_week(
    pool: &Pool,
    viewer: &CurrentUser,
    entry: &TimeEntry,
) -> AppResult<HttpResponse> {
    let (viewer, owner_id) = (viewer.clone(), entry.user_id);
    let (owner, name) = db::run(pool, move |conn| {
        whose(conn, &Person::of(&viewer), Some(owner_id))
    })
    .await?;
    let date = owner.days.date_of(entry.started_at);
    let person = name.map(|_| owner.user_id);
    Ok(see_other(&urls::timesheet(
        owner.days.week_of(date),
        date,
        person,
    )))
}

#[derive(Template)]
#[template(path = "preferences.html")]
pub struct PreferencesPage {
    pub shell: Shell,
    pub zones: Vec<String>,
    pub own: String,
    pub company_zone: String,
    pub error: Option<String>,
    /// Notices by email too (the "Email" section).
    pub email_notices: bool,
}

async fn email_notices(pool: &Pool, page: &Page) -> AppResult<bool> {
    let user_id = page.user.id;
    db::run(pool, move |conn| Ok(user::email_notices(conn, user_id)?)).await
}

pub async fn preferences(page: Page, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    render(&PreferencesPage {
        email_notices: email_notices(&pool, &page).await?,
        shell: page.shell(Nav::Preferences),
        zones: days::zone_names(),
        own: page.user.own_time_zone.clone().unwrap_or_default(),
        company_zone: page.user.company_time_zone.clone(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    time_zone: String,
}

pub async fn save_preferences(
    page: Page,
    pool: web::Data<Pool>,
    form: web::Form<ZoneForm>,
) -> AppResult<HttpResponse> {
    let (user, session) = (&page.user, &page.session);
    let raw = form.into_inner().time_zone.trim().to_owned();
    if !raw.is_empty() && days::parse_zone(&raw).is_none() {
        return render_status(
            actix_web::http::StatusCode::BAD_REQUEST,
            &PreferencesPage {
                shell: page.shell(Nav::Preferences),
                zones: days::zone_names(),
                own: raw.clone(),
                company_zone: user.company_time_zone.clone(),
                error: Some(format!(
                    "\u{201c}{raw}\u{201d} is not a time zone. Choose one from the list."
                )),
                email_notices: email_notices(&pool, &page).await?,
            },
        );
    }
    let user_id = user.id;
    let zone = (!raw.is_empty()).then_some(raw.clone());
    db::run(&pool, move |conn| {
        Ok(user::set_time_zone(conn, user_id, zone.as_deref())?)
    })
    .await?;
    flash::success(
        session,
        if raw.is_empty() {
            format!(
                "Your days now follow the company's time zone ({}).",
                user.company_time_zone
            )
        } else {
            format!("Your days now run on {raw} time.")
        },
    );
    Ok(see_other(urls::PREFERENCES))
}

#[derive(Deserialize)]
pub struct CompanyTimeForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    week_start: String,
}

/// The company's time zone and week start (owners and admins).
pub async fn save_company_time(
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    form: web::Form<CompanyTimeForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let zone = form.time_zone.trim().to_owned();
    if days::parse_zone(&zone).is_none() {
        flash::error(
            &session,
            format!("\u{201c}{zone}\u{201d} is not a time zone. Choose one from the list."),
        );
        return Ok(see_other(urls::COMPANY_SETTINGS));
    }
    if parse_week_start(&form.week_start).is_none() {
        flash::error(
            &session,
            "Choose the day weeks start on: Monday, Sunday or Saturday.",
        );
        return Ok(see_other(urls::COMPANY_SETTINGS));
    }
    crate::services::company::set_days(&pool, &user, zone.clone(), form.week_start.clone()).await?;
    let start = WEEK_STARTS
        .iter()
        .find(|(k, _)| *k == form.week_start)
        .map(|(_, label)| *label)
        .unwrap_or("Monday");
    flash::success(
        &session,
        format!("Time zone set to {zone}; weeks start on {start}."),
    );
    Ok(see_other(urls::COMPANY_SETTINGS))
}
