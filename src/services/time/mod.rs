//! Time tracking: the timer, manual entries and edits, and a person's week.
//!
//! Every use case takes the person it acts for ([`Person`]) and answers either the
//! entry or a [`TimeError`] whose message names the problem, so a form can show it.

pub mod duration;

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};

use crate::auth::{CurrentUser, Loaded};
use crate::connectors::ProviderKind;
use crate::db::{self, now, DbConn, Pool};
use crate::domain::Role;
use crate::error::AppError;
use crate::models::audit;
use crate::models::time_entry::{self, NewEntry, TaskSnapshot, TimeEntry, MAX_ENTRY_SECS};

pub use crate::days::Days;

/// Who a use case acts for, and whose days it counts in.
#[derive(Debug, Clone)]
pub struct Person {
    pub company_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub days: Days,
}

impl Person {
    pub fn of(user: &CurrentUser) -> Self {
        Self {
            company_id: user.company_id.0,
            user_id: user.id.0,
            role: user.role,
            days: user.days(),
        }
    }

    /// The person a signed-in page's statement loaded, before the page went on.
    pub fn loaded(person: &Loaded) -> Result<Self, AppError> {
        Ok(Self {
            company_id: person.company_id().0,
            user_id: person.user_id(),
            role: person.role()?,
            days: person.days(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TimeError {
    #[error("{0}")]
    Invalid(String),
    /// Bad input in one field (the API names it; pages show the message).
    #[error("{message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("The end ({end}) is before the start ({start}).")]
    EndBeforeStart { start: String, end: String },
    #[error("An entry can be at most 24 hours long; this one is {0}. Split it into days.")]
    TooLong(String),
    #[error("The entry ends in the future ({0}). Use the timer for time that is still going on.")]
    InFuture(String),
    #[error("It overlaps your entry \u{201c}{label}\u{201d} from {from} to {to}. Change the times, or edit that entry.")]
    Overlap {
        id: i64,
        label: String,
        from: String,
        to: String,
    },
    #[error("This task was closed in {0}, so no new timer can start on it. Its time is kept.")]
    TaskClosed(&'static str),
    #[error("This task is no longer in taskbridge (its integration was disconnected). Its time is kept.")]
    TaskGone,
    #[error("No timer is running.")]
    NothingRunning,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    App(#[from] AppError),
}

impl TimeError {
    /// The input field at fault, where one is (`started_at`, `ended_at`, `task_id`,
    /// `note`, as the API names them).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            TimeError::Field { field, .. } => Some(field),
            TimeError::EndBeforeStart { .. } | TimeError::TooLong(_) | TimeError::InFuture(_) => {
                Some("ended_at")
            }
            TimeError::Overlap { .. } => Some("started_at"),
            TimeError::TaskClosed(_) | TimeError::TaskGone => Some("task_id"),
            _ => None,
        }
    }
}

impl From<diesel::result::Error> for TimeError {
    fn from(e: diesel::result::Error) -> Self {
        TimeError::App(e.into())
    }
}

impl From<TimeError> for AppError {
    fn from(e: TimeError) -> Self {
        match e {
            TimeError::NotFound => AppError::NotFound,
            TimeError::App(app) => app,
            shown => AppError::BadRequest(shown.to_string()),
        }
    }
}

/// A tool's name, for an entry's stored slug.
pub fn tool_name(slug: Option<&str>) -> Option<&'static str> {
    slug.and_then(ProviderKind::from_slug).map(|k| k.name())
}

/// What a timer starts on.
#[derive(Debug, Clone)]
pub enum StartWith {
    Task(i64),
    Note(String),
}

const MAX_NOTE: usize = 500;

fn note(raw: &str) -> Result<String, TimeError> {
    let note = raw.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(TimeError::Field {
            field: "note",
            message: format!("A note can be at most {MAX_NOTE} characters."),
        });
    }
    Ok(note.to_owned())
}

/// Starts the person's timer, stopping the one running. Two starts at once leave one
/// timer running: the database allows one running entry per person.
pub async fn start(pool: &Pool, person: &Person, with: StartWith) -> Result<TimeEntry, TimeError> {
    let person = person.clone();
    let note = match &with {
        StartWith::Note(text) if text.trim().is_empty() => {
            return Err(TimeError::Invalid(
                "Write what you are working on, or start the timer from a task on My Tasks.".into(),
            ))
        }
        StartWith::Note(text) => note(text)?,
        StartWith::Task(_) => String::new(),
    };
    db::run(pool, move |conn| {
        // Starts are serialised per person (`lock_person`); should two still meet,
        // the unique index refuses the second insert, which tries again.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match db::write(conn, |conn| start_in(conn, &person, &with, &note)) {
                Err(TimeError::App(AppError::Database(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )))) if attempt < 3 => continue,
                other => return Ok(other),
            }
        }
    })
    .await?
}

fn start_in(
    conn: &mut DbConn,
    person: &Person,
    with: &StartWith,
    note: &str,
) -> Result<TimeEntry, TimeError> {
    time_entry::lock_person(conn, person.user_id)?;
    let task = match with {
        StartWith::Task(id) => Some(startable_task(conn, person, *id)?),
        StartWith::Note(_) => None,
    };
    let at = now();
    if let Some(running) = time_entry::running(conn, person.company_id, person.user_id)? {
        if task.is_some() && running.task_id == task.as_ref().map(|t| t.task_id) {
            // Starting the task already running changes nothing.
            return Ok(running);
        }
    }
    time_entry::stop_running(conn, person.user_id, at)?;
    Ok(time_entry::insert(
        conn,
        &NewEntry {
            company_id: person.company_id,
            user_id: person.user_id,
            task: task.as_ref(),
            note,
            started_at: at,
            ended_at: None,
            client_id: None,
        },
    )?)
}

fn startable_task(conn: &mut DbConn, person: &Person, id: i64) -> Result<TaskSnapshot, TimeError> {
    let task = time_entry::task_of(conn, person.user_id, id)?.ok_or(TimeError::NotFound)?;
    if task.archived {
        return Err(TimeError::TaskClosed(
            tool_name(Some(&task.provider)).unwrap_or("its tool"),
        ));
    }
    Ok(task)
}

/// Stops the person's running timer now, or at `at` (a timer left running: stop it
/// at the time the work really ended, never before it started nor in the future).
pub async fn stop(pool: &Pool, person: &Person, at: Option<i64>) -> Result<TimeEntry, TimeError> {
    let person = person.clone();
    db::run(pool, move |conn| {
        Ok(db::write(conn, |conn| {
            time_entry::lock_person(conn, person.user_id)?;
            let running = time_entry::running(conn, person.company_id, person.user_id)?
                .ok_or(TimeError::NothingRunning)?;
            let now = now();
            let end = match at {
                None => now,
                Some(at) if at < running.started_at => {
                    return Err(TimeError::EndBeforeStart {
                        start: person.days.describe(running.started_at),
                        end: person.days.describe(at),
                    })
                }
                Some(at) if at > now => return Err(TimeError::InFuture(person.days.describe(at))),
                Some(at) => at,
            };
            time_entry::stop_running(conn, person.user_id, end)?.ok_or(TimeError::NothingRunning)
        }))
    })
    .await?
}

/// A manual entry or an edit as the form sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub task_id: String,
    #[serde(default)]
    pub note: String,
}

/// An entry as a client sends it: exact times in UTC seconds.
#[derive(Debug, Clone, Default)]
pub struct ExactEntry {
    pub started_at: i64,
    pub ended_at: i64,
    pub task_id: Option<i64>,
    pub note: String,
}

/// A change to some of an entry's fields; the others stay as they are.
#[derive(Debug, Clone, Default)]
pub struct EntryPatch {
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `Some(None)` takes the entry off its task.
    pub task_id: Option<Option<i64>>,
    pub note: Option<String>,
}

/// What a new entry or an edit is made from: the pages' form, or the API's times.
#[derive(Debug, Clone)]
pub enum EntryInput {
    Form(EntryForm),
    Exact(ExactEntry),
    Patch(EntryPatch),
}

impl From<EntryForm> for EntryInput {
    fn from(form: EntryForm) -> Self {
        EntryInput::Form(form)
    }
}

impl EntryInput {
    /// Checked in `days`; a patch is laid over `before` (the entry it changes).
    fn check(&self, days: &Days, before: Option<&TimeEntry>) -> Result<Checked, TimeError> {
        match self {
            EntryInput::Form(form) => form.check(days),
            EntryInput::Exact(e) => check_entry(days, e.started_at, e.ended_at, e.task_id, &e.note),
            EntryInput::Patch(p) => {
                let Some(before) = before else {
                    return Err(TimeError::Invalid("Give the entry's start and end.".into()));
                };
                check_entry(
                    days,
                    p.started_at.unwrap_or(before.started_at),
                    p.ended_at.or(before.ended_at).unwrap_or(before.started_at),
                    p.task_id.unwrap_or(before.task_id),
                    p.note.as_deref().unwrap_or(&before.note),
                )
            }
        }
    }
}

/// The checks every entry passes, however it was entered.
fn check_entry(
    days: &Days,
    started_at: i64,
    ended_at: i64,
    task_id: Option<i64>,
    raw_note: &str,
) -> Result<Checked, TimeError> {
    if ended_at <= started_at {
        return Err(TimeError::EndBeforeStart {
            start: days.describe(started_at),
            end: days.describe(ended_at),
        });
    }
    if ended_at - started_at > MAX_ENTRY_SECS {
        return Err(TimeError::TooLong(duration::hm(ended_at - started_at)));
    }
    if ended_at > now() {
        return Err(TimeError::InFuture(days.describe(ended_at)));
    }
    let note = note(raw_note)?;
    if task_id.is_none() && note.is_empty() {
        return Err(TimeError::Invalid(
            "Choose a task or write a note, so the entry says what the time was for.".into(),
        ));
    }
    Ok(Checked {
        started_at,
        ended_at,
        task_id,
        note,
    })
}

/// An entry's times and subject, checked.
struct Checked {
    started_at: i64,
    ended_at: i64,
    task_id: Option<i64>,
    note: String,
}

fn parse_date(raw: &str) -> Result<Date, TimeError> {
    raw.trim()
        .parse::<Date>()
        .map_err(|_| TimeError::Invalid("Enter the date like 2026-12-02.".into()))
}

fn parse_time(raw: &str, which: &str) -> Result<Time, TimeError> {
    raw.trim()
        .parse::<Time>()
        .map_err(|_| TimeError::Invalid(format!("Enter the {which} time like 09:30.")))
}

impl EntryForm {
    fn check(&self, days: &Days) -> Result<Checked, TimeError> {
        let date = parse_date(&self.date)?;
        let started_at = days.at(date, parse_time(&self.start, "start")?);
        let ended_at = if !self.end.trim().is_empty() {
            let end = parse_time(&self.end, "end")?;
            let ended_at = days.at(date, end);
            if ended_at <= started_at {
                return Err(TimeError::EndBeforeStart {
                    start: self.start.trim().to_owned(),
                    end: self.end.trim().to_owned(),
                });
            }
            ended_at
        } else if !self.duration.trim().is_empty() {
            started_at + duration::parse(&self.duration).map_err(TimeError::Invalid)?
        } else {
            return Err(TimeError::Invalid(
                "Enter an end time or a duration (like 1:30).".into(),
            ));
        };
        let task_id = match self.task_id.trim() {
            "" => None,
            raw => Some(
                raw.parse::<i64>()
                    .map_err(|_| TimeError::Invalid("Choose a task from the list.".into()))?,
            ),
        };
        check_entry(days, started_at, ended_at, task_id, &self.note)
    }

    /// The form filled in from an entry, for its edit page.
    pub fn from_entry(entry: &TimeEntry, days: &Days) -> Self {
        let start = days.zoned(entry.started_at);
        let end = days.zoned(entry.end_or(now()));
        let duration = if start.date() == end.date() {
            String::new()
        } else {
            duration::hm(entry.seconds(now()))
        };
        Self {
            date: start.date().to_string(),
            start: start.time().strftime("%H:%M").to_string(),
            end: if duration.is_empty() {
                end.time().strftime("%H:%M").to_string()
            } else {
                String::new()
            },
            duration,
            task_id: entry.task_id.map(|t| t.to_string()).unwrap_or_default(),
            note: entry.note.clone(),
        }
    }
}

impl Days {
    /// "Wed 2 Dec, 09:30", in these days' zone.
    pub fn describe(&self, secs: i64) -> String {
        self.zoned(secs).strftime("%a %-d %b, %H:%M").to_string()
    }
}

fn refuse_overlap(
    conn: &mut DbConn,
    person: &Person,
    (from, to): (i64, i64),
    except: Option<i64>,
) -> Result<(), TimeError> {
    let clash = time_entry::overlapping(conn, person.company_id, person.user_id, (from, to))?
        .into_iter()
        .find(|e| Some(e.id) != except);
    match clash {
        None => Ok(()),
        Some(entry) => Err(TimeError::Overlap {
            id: entry.id,
            label: entry.label().to_owned(),
            from: person.days.describe(entry.started_at),
            to: match entry.ended_at {
                Some(end) => person.days.describe(end),
                None => "now (it is running)".into(),
            },
        }),
    }
}

fn task_for_entry(
    conn: &mut DbConn,
    user_id: i64,
    task_id: Option<i64>,
) -> Result<Option<TaskSnapshot>, TimeError> {
    match task_id {
        None => Ok(None),
        Some(id) => Ok(Some(time_entry::task_of(conn, user_id, id)?.ok_or_else(
            || TimeError::Field {
                field: "task_id",
                message: "That task is not one of yours; choose another.".into(),
            },
        )?)),
    }
}

/// Adds past time on a task or a note.
pub async fn add(
    pool: &Pool,
    person: &Person,
    input: impl Into<EntryInput>,
) -> Result<TimeEntry, TimeError> {
    add_once(pool, person, input.into(), None)
        .await
        .map(|(entry, _)| entry)
}

/// Adds past time, at most once per client-made id: the same id again answers the
/// entry it made (`false`: not new) without checking or adding anything, so a client
/// retrying after being offline never duplicates time. Two posts at once are
/// serialised per person; should they still meet, the unique index on (person, client
/// id) refuses the second, which then finds the first.
pub async fn add_once(
    pool: &Pool,
    person: &Person,
    input: EntryInput,
    client_id: Option<String>,
) -> Result<(TimeEntry, bool), TimeError> {
    let person = person.clone();
    db::run(pool, move |conn| {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let made = db::write(conn, |conn| {
                add_in(conn, &person, &input, client_id.as_deref())
            });
            match made {
                Err(TimeError::App(AppError::Database(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )))) if attempt < 3 && client_id.is_some() => continue,
                other => return Ok(other),
            }
        }
    })
    .await?
}

fn add_in(
    conn: &mut DbConn,
    person: &Person,
    input: &EntryInput,
    client_id: Option<&str>,
) -> Result<(TimeEntry, bool), TimeError> {
    if let Some(client_id) = client_id {
        time_entry::lock_person(conn, person.user_id)?;
        if let Some(made) =
            time_entry::by_client_id(conn, person.company_id, person.user_id, client_id)?
        {
            return Ok((made, false));
        }
    }
    let checked = input.check(&person.days, None)?;
    let task = task_for_entry(conn, person.user_id, checked.task_id)?;
    refuse_overlap(conn, person, (checked.started_at, checked.ended_at), None)?;
    let entry = time_entry::insert(
        conn,
        &NewEntry {
            company_id: person.company_id,
            user_id: person.user_id,
            task: task.as_ref(),
            note: &checked.note,
            started_at: checked.started_at,
            ended_at: Some(checked.ended_at),
            client_id,
        },
    )?;
    Ok((entry, true))
}

/// The person's entries that touch their local days `from` to `to` (both included),
/// the running one too.
pub async fn entries(
    pool: &Pool,
    person: &Person,
    from: Date,
    to: Date,
) -> Result<Vec<TimeEntry>, TimeError> {
    let days = (to - from).get_days() as i64 + 1;
    if days < 1 {
        return Err(TimeError::Field {
            field: "to",
            message: "The end date is before the start date.".into(),
        });
    }
    if days > 366 {
        return Err(TimeError::Field {
            field: "to",
            message: "Ask for at most 366 days at a time.".into(),
        });
    }
    let range = person.days.range(from, days);
    let (company_id, user_id) = (person.company_id, person.user_id);
    Ok(db::run(pool, move |conn| {
        Ok(time_entry::for_person(conn, company_id, user_id, range)?)
    })
    .await?)
}

/// The person's running timer, if any.
pub async fn running(pool: &Pool, person: &Person) -> Result<Option<TimeEntry>, TimeError> {
    let (company_id, user_id) = (person.company_id, person.user_id);
    Ok(db::run(pool, move |conn| {
        Ok(time_entry::running(conn, company_id, user_id)?)
    })
    .await?)
}

/// An entry the actor may change: their own, or anyone's in their company for owners
/// and admins. Another company's id, or someone else's entry for everyone else, is
/// not found.
fn editable(conn: &mut DbConn, actor: &Person, id: i64) -> Result<TimeEntry, TimeError> {
    let entry = time_entry::find(conn, actor.company_id, id)?.ok_or(TimeError::NotFound)?;
    if entry.user_id != actor.user_id && !actor.role.manages_company() {
        return Err(TimeError::NotFound);
    }
    Ok(entry)
}

/// One entry to show or edit, checked as [`editable`] checks it.
pub async fn find(pool: &Pool, actor: &Person, id: i64) -> Result<TimeEntry, TimeError> {
    let actor = actor.clone();
    db::run(pool, move |conn| Ok(editable(conn, &actor, id))).await?
}

fn audit_line(entry: &TimeEntry, days: &Days) -> String {
    format!(
        "\u{201c}{}\u{201d} {} to {}",
        entry.label(),
        days.describe(entry.started_at),
        entry
            .ended_at
            .map(|e| days.describe(e))
            .unwrap_or_else(|| "running".into())
    )
}

/// Changes an entry. An owner or admin changing someone else's entry is written to
/// the audit log with the entry before and after. The times are read in the entry's
/// owner's days.
pub async fn update(
    pool: &Pool,
    actor: &Person,
    id: i64,
    input: impl Into<EntryInput>,
    ip: String,
) -> Result<TimeEntry, TimeError> {
    let actor = actor.clone();
    let input = input.into();
    db::run(pool, move |conn| {
        Ok(db::write(conn, |conn| {
            let before = editable(conn, &actor, id)?;
            let owner = owner_of(conn, &actor, &before)?;
            if before.ended_at.is_none() {
                return Err(TimeError::Invalid(
                    "This timer is still running: stop it first, then edit it.".into(),
                ));
            }
            let checked = input.check(&owner.days, Some(&before))?;
            let task = if checked.task_id == before.task_id {
                None
            } else {
                task_for_entry(conn, owner.user_id, checked.task_id)?
            };
            refuse_overlap(
                conn,
                &owner,
                (checked.started_at, checked.ended_at),
                Some(id),
            )?;
            let mut after = before.clone();
            after.started_at = checked.started_at;
            after.ended_at = Some(checked.ended_at);
            after.note = checked.note;
            if checked.task_id.is_none() {
                (
                    after.task_id,
                    after.provider,
                    after.project,
                    after.task_title,
                    after.task_url,
                ) = (None, None, None, None, None);
            } else if let Some(task) = task {
                after.task_id = Some(task.task_id);
                after.provider = Some(task.provider);
                after.project = Some(task.project);
                after.task_title = Some(task.title);
                after.task_url = task.url;
            }
            let after = time_entry::update(conn, &after)?;
            if before.user_id != actor.user_id {
                let detail = format!(
                    "entry {id} of person {}: before {}; after {}",
                    before.user_id,
                    audit_line(&before, &owner.days),
                    audit_line(&after, &owner.days)
                );
                audit::record(
                    conn,
                    Some(actor.company_id),
                    Some(actor.user_id),
                    audit::Action::TimeEntryEdited,
                    &detail,
                    Some(&ip),
                )?;
            }
            Ok(after)
        }))
    })
    .await?
}

/// The person an entry belongs to, with their days (the actor, or someone the actor
/// manages).
fn owner_of(conn: &mut DbConn, actor: &Person, entry: &TimeEntry) -> Result<Person, TimeError> {
    if entry.user_id == actor.user_id {
        return Ok(actor.clone());
    }
    let (zone, week_start) = crate::models::user::days_of(conn, entry.user_id)?;
    Ok(Person {
        company_id: actor.company_id,
        user_id: entry.user_id,
        role: Role::User,
        days: Days::new(&zone, &week_start),
    })
}

/// Deletes an entry (a running one too: the timer stops without keeping its time);
/// answers the entry as it was.
pub async fn delete(
    pool: &Pool,
    actor: &Person,
    id: i64,
    ip: String,
) -> Result<TimeEntry, TimeError> {
    let actor = actor.clone();
    db::run(pool, move |conn| {
        Ok(db::write(conn, |conn| {
            let entry = editable(conn, &actor, id)?;
            time_entry::delete(conn, actor.company_id, id)?;
            if entry.user_id != actor.user_id {
                let owner = owner_of(conn, &actor, &entry)?;
                let detail = format!(
                    "entry {id} of person {}: {}",
                    entry.user_id,
                    audit_line(&entry, &owner.days)
                );
                audit::record(
                    conn,
                    Some(actor.company_id),
                    Some(actor.user_id),
                    audit::Action::TimeEntryDeleted,
                    &detail,
                    Some(&ip),
                )?;
            }
            Ok(entry)
        }))
    })
    .await?
}

/// Time on each task: today (in the person's days) and in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskTime {
    pub today: i64,
    pub total: i64,
}

/// The time on each task from the person's entries on them (`time_entry::on_tasks`,
/// read now or kept), as of now: a running entry counts up to now.
pub fn times_of(spans: &[time_entry::Span], days: &Days) -> BTreeMap<i64, TaskTime> {
    let at = now();
    let today = days.date_of(at);
    let (day_start, day_end) = days.range(today, 1);
    let mut times: BTreeMap<i64, TaskTime> = BTreeMap::new();
    for &(task_id, start, end) in spans {
        let Some(task_id) = task_id else { continue };
        let end = end.unwrap_or(at).max(start);
        let time = times.entry(task_id).or_default();
        time.total += end - start;
        time.today += (end.min(day_end) - start.max(day_start)).max(0);
    }
    times
}
