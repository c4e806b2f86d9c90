//! My Tasks: the tasks assigned to me in every connected tool, and "Sync now".

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{CurrentUser, SignedIn};
use crate::config::Settings;
use crate::connectors::{self, ProviderKind};
use crate::db::{self, Pool};
use crate::error::AppResult;
use crate::models::connection::{self, ConnectionStatus, State};
use crate::models::task::{self, Due, Filter, Sort};
use crate::models::{company_integration, first_run};
use crate::services::kept::Kept;
use crate::services::sync_now::Waker;
use crate::services::time::duration::hm;
use crate::urls;
use crate::web::format::{ago, until};
use crate::web::shell::{Action, Nav, Shell};
use crate::web::{flash, render, see_other};

pub const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct TasksQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tool: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<i64>,
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl TasksQuery {
    fn filter(&self) -> Filter {
        Filter {
            provider: non_empty(&self.tool).filter(|t| ProviderKind::from_slug(t).is_some()),
            project: non_empty(&self.project),
            status: non_empty(&self.status),
            due: Due::parse(self.due.trim()),
            search: non_empty(&self.q).map(|q| q.chars().take(100).collect()),
            sort: Sort::parse(self.sort.trim()),
        }
    }

    fn link_to_page(&self, page: i64) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("tool", self.tool.as_str()),
            ("project", self.project.as_str()),
            ("status", self.status.as_str()),
            ("due", self.due.as_str()),
            ("sort", self.sort.as_str()),
        ];
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(k, v);
        }
        query.append_pair("page", &page.to_string());
        format!("{}?{}", urls::MY_TASKS, query.finish())
    }
}

pub struct TaskView {
    pub id: i64,
    pub tool: &'static str,
    /// The due date in words, in the person's days: "today", "tomorrow", "in 3 days",
    /// "2 days ago", "Fri 18 Dec"; the date itself is its tooltip.
    pub due_label: Option<String>,
    pub title: String,
    /// Time tracked on it today and in all ("0:30", "2:15"); empty when none.
    pub today: String,
    pub total: String,
    pub running: bool,
    pub status: String,
    pub due: Option<String>,
    pub overdue: bool,
    pub url: Option<String>,
}

/// A heading of the list and its tasks: a tool and project (the tool's tag shown in
/// the heading), a due-date section, a project, or the whole list.
pub struct Group {
    pub tool: Option<&'static str>,
    pub heading: String,
    pub tasks: Vec<TaskView>,
}

/// A connected tool's state, shown above the list.
pub struct ToolState {
    pub name: &'static str,
    pub slug: &'static str,
    /// Reconnecting goes straight to the tool's sign-in (OAuth tools).
    pub oauth: bool,
    /// The tool's mark: its initial on its colour.
    pub mark: char,
    pub state: State,
    /// "Synced just now · 3 new, 1 closed".
    pub last_sync: String,
    /// When a sync that failed is tried again ("in 4 min").
    pub next_try: Option<String>,
    pub error_title: Option<String>,
    pub error_fix: Option<String>,
    pub error_code: Option<String>,
}

pub enum Empty {
    NoIntegration,
    NotConnected,
    NothingAssigned(String),
    /// Every connected tool failed its last sync: nothing is known yet.
    NotFetched(String),
    NoMatch,
}

/// "Basecamp", "Basecamp and Salesforce", "Basecamp, Intellinote and Salesforce".
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[derive(Template)]
#[template(path = "my_tasks.html")]
pub struct MyTasksPage {
    pub shell: Shell,
    pub sort: &'static str,
    pub sorts: Vec<(&'static str, &'static str)>,
    pub checklist: Option<Checklist>,
    pub manages_company: bool,
    pub groups: Vec<Group>,
    pub total: i64,
    pub tools: Vec<ToolState>,
    pub empty: Option<Empty>,
    pub syncing: bool,
    pub q: String,
    pub tool: String,
    pub project: String,
    pub status: String,
    pub due: String,
    pub tool_options: Vec<(&'static str, &'static str)>,
    pub projects: Vec<String>,
    pub statuses: Vec<String>,
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub has_connections: bool,
    pub show_filters: bool,
    /// A filter or search is on: "Clear" shows.
    pub filtering: bool,
}

/// What My Tasks reads besides the person, in the same trip.
struct Listing {
    /// The company has a tool on.
    any_tool_on: bool,
    connections: Vec<connection::Shown>,
    tasks: task::Listing,
    times: std::collections::BTreeMap<i64, crate::services::time::TaskTime>,
    /// For owners and admins: what the first-run checklist reads.
    first_run: Option<first_run::Facts>,
}

/// The sort as the address carries it: nothing for the default.
fn sort_value(sort: Sort) -> &'static str {
    if sort == Sort::Tool {
        ""
    } else {
        sort.slug()
    }
}

/// A due date in words, counted in the person's days.
fn due_in_words(due: jiff::civil::Date, today: jiff::civil::Date) -> String {
    let days = (due - today).get_days();
    match days {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        2..=6 => format!("in {days} days"),
        -6..=-2 => format!("{} days ago", -days),
        _ if due.year() == today.year() => due.strftime("%a %-d %b").to_string(),
        _ => due.strftime("%a %-d %b %Y").to_string(),
    }
}

/// The due-date section a task falls in when the list is sorted by due date.
fn due_section(due: Option<jiff::civil::Date>, today: jiff::civil::Date) -> &'static str {
    let Some(due) = due else {
        return "No due date";
    };
    match (due - today).get_days() {
        d if d < 0 => "Overdue",
        0 => "Today",
        1..=7 => "This week",
        _ => "Later",
    }
}

/// A step of the first-run checklist.
pub struct Step {
    pub label: &'static str,
    pub hint: &'static str,
    pub done: bool,
    pub href: &'static str,
    pub action: &'static str,
}

/// The first-run checklist owners and admins see until every step is done or they put
/// it away.
pub struct Checklist {
    pub steps: Vec<Step>,
    pub done: usize,
}

impl Checklist {
    fn new(facts: &first_run::Facts, tool_on: bool, connected: bool) -> Option<Self> {
        if facts.dismissed {
            return None;
        }
        let steps = vec![
            Step {
                label: "Turn on a task tool for your company",
                hint:
                    "Basecamp, Intellinote, Pivotal Tracker or Salesforce, in Company Integrations.",
                done: tool_on,
                href: urls::COMPANY_INTEGRATIONS,
                action: "Open Company Integrations",
            },
            Step {
                label: "Connect your own account",
                hint: "Your tasks from the tool appear here once you turn on your own integration.",
                done: connected,
                href: urls::INTEGRATION_SETTINGS,
                action: "Open Integration Settings",
            },
            Step {
                label: "Invite your team",
                hint: "Each person connects their own account and sees their own tasks.",
                done: facts.team,
                href: urls::USERS,
                action: "Invite people",
            },
            Step {
                label: "Track your first time",
                hint: "Press Start on a task below, or add time on your Timesheet.",
                done: facts.tracked,
                href: urls::TIMESHEET,
                action: "Open your Timesheet",
            },
        ];
        let done = steps.iter().filter(|s| s.done).count();
        (done < steps.len()).then_some(Checklist { steps, done })
    }
}

/// The person and the page in one trip to the database: this is the page people keep
/// open.
async fn load(
    pool: &Pool,
    kept: web::Data<Kept>,
    signed_in: SignedIn,
    filter: &Filter,
    page: i64,
) -> AppResult<(CurrentUser, Listing)> {
    let claim = signed_in.claim();
    let filter = filter.clone();
    let loaded = db::run(pool, move |conn| {
        let Some((person, connections)) = SignedIn::load_with_cards(conn, &claim)? else {
            return Ok(None);
        };
        let user_id = person.user_id();
        // "Today" and "this week" are the person's own days.
        let today = person.days().date_of(crate::db::now());
        let week_end = today
            .checked_add(jiff::Span::new().days(7))
            .unwrap_or(today);
        let (today, week_end) = (today.to_string(), week_end.to_string());
        let window = ((page - 1) * PER_PAGE, PER_PAGE);
        let stamps = person.stamps();
        let dates = (today.as_str(), week_end.as_str());
        let pairs = kept.pairs(conn, user_id, stamps.tasks)?;
        let rows = kept.rows(conn, user_id, stamps.tasks, &filter, dates, window)?;
        let tasks = task::listing(conn, user_id, (&pairs, rows), &filter, dates, window)?;
        let ids: Vec<i64> = tasks.rows.iter().map(|r| r.id).collect();
        // A tool of one's own that is on says the company has one: no second look.
        let any_tool_on = connections.iter().any(|c| c.tool_on)
            || company_integration::any_enabled(conn, person.company_id())?;
        let listing = Listing {
            any_tool_on,
            connections,
            // Someone who never tracked time has none on these tasks.
            times: if person.first_run().tracked {
                let spans = kept.spans(conn, user_id, stamps.time, &ids)?;
                crate::services::time::times_of(&spans, &person.days())
            } else {
                Default::default()
            },
            first_run: person.manages_company().then(|| person.first_run().clone()),
            tasks,
        };
        Ok(Some((person, listing)))
    })
    .await?;
    let Some((person, listing)) = loaded else {
        return Err(signed_in.gone());
    };
    Ok((signed_in.into_current(person)?, listing))
}

/// Time on a task as the list shows it: empty when there is none.
fn hm_or_blank(secs: i64) -> String {
    if secs > 0 {
        hm(secs)
    } else {
        String::new()
    }
}

/// The page's rows under their headings, in the order they came: by tool and project,
/// by due-date section, by project, or one list.
fn groups(
    rows: &[task::TaskRow],
    times: &std::collections::BTreeMap<i64, crate::services::time::TaskTime>,
    running_task: Option<i64>,
    today: jiff::civil::Date,
    sort: Sort,
) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for row in rows {
        let tool = ProviderKind::from_slug(&row.provider)
            .map(|k| k.name())
            .unwrap_or("Other");
        let time = times.get(&row.id).copied().unwrap_or_default();
        let due = row
            .due_on
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok());
        let project = if row.project.is_empty() {
            "No project".to_owned()
        } else {
            row.project.clone()
        };
        let (group_tool, heading) = match sort {
            Sort::Tool => (Some(tool), project),
            Sort::Due => (None, due_section(due, today).to_owned()),
            Sort::Project => (None, project),
            Sort::Updated => (None, "Recently updated".to_owned()),
        };
        let view = TaskView {
            id: row.id,
            tool,
            due_label: due.map(|d| due_in_words(d, today)),
            today: hm_or_blank(time.today),
            total: hm_or_blank(time.total),
            running: running_task == Some(row.id),
            overdue: due.is_some_and(|d| d < today),
            title: row.title.clone(),
            status: row.status.clone(),
            due: row.due_on.clone(),
            url: row
                .url
                .as_ref()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .cloned(),
        };
        match groups.last_mut() {
            Some(g) if g.tool == group_tool && g.heading == heading => g.tasks.push(view),
            _ => groups.push(Group {
                tool: group_tool,
                heading,
                tasks: vec![view],
            }),
        }
    }
    groups
}

/// When the connection last synced and what that brought.
fn last_sync(c: &connection::Card, now: i64) -> String {
    let Some(at) = c.last_sync_at else {
        return "Not synced yet".into();
    };
    let changes = match (c.last_added, c.last_closed) {
        (0, 0) => "no changes".to_owned(),
        (added, 0) => format!("{added} new"),
        (0, closed) => format!("{closed} closed"),
        (added, closed) => format!("{added} new, {closed} closed"),
    };
    format!("Synced {} · {changes}", ago(at, now))
}

/// A connected tool's card above the list.
fn tool_state(c: &connection::Card, now: i64) -> ToolState {
    let info = c
        .last_error_code
        .as_deref()
        .and_then(crate::sync::error_info);
    let kind = c.provider;
    ToolState {
        name: kind.name(),
        slug: kind.slug(),
        oauth: kind.auth_kind() == connectors::AuthKind::OAuth,
        mark: kind.mark(),
        state: State::of_card(c, now),
        last_sync: last_sync(c, now),
        // (A wait the tool asked for already says its next try.)
        next_try: (c.last_error_code.is_some()
            && c.status == ConnectionStatus::Active
            && c.next_sync_at > now
            && !c
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains(crate::catalogue::NEXT_TRY)))
        .then(|| until(c.next_sync_at, now)),
        // What the last run said (a wait's next try, a partial sync's page), else
        // the code's title.
        error_title: c
            .last_error
            .clone()
            .or_else(|| info.map(|i| i.title.to_owned())),
        error_fix: info.map(|i| i.fix.to_owned()),
        error_code: c.last_error_code.clone(),
    }
}

/// What the page says when it lists no task: why, and what to do.
fn empty_state(
    total: i64,
    filtering: bool,
    any_enabled: bool,
    tools: &[ToolState],
) -> Option<Empty> {
    if total > 0 {
        return None;
    }
    if filtering {
        return Some(Empty::NoMatch);
    }
    if !any_enabled {
        return Some(Empty::NoIntegration);
    }
    if tools.is_empty() {
        return Some(Empty::NotConnected);
    }
    let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
    let failing: Vec<&str> = tools
        .iter()
        .filter(|t| t.error_title.is_some())
        .map(|t| t.name)
        .collect();
    if !failing.is_empty() && failing.len() == names.len() {
        Some(Empty::NotFetched(and_list(&failing)))
    } else {
        Some(Empty::NothingAssigned(and_list(&names)))
    }
}

pub async fn my_tasks(
    signed_in: SignedIn,
    session: Session,
    pool: web::Data<Pool>,
    kept: web::Data<Kept>,
    settings: web::Data<Settings>,
    query: web::Query<TasksQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let filter = query.filter();
    let filtering = !filter.is_empty();
    let page = query.page.unwrap_or(1).max(1);
    let sort = filter.sort;
    let (user, listing) = load(&pool, kept, signed_in, &filter, page).await?;
    let today = user.days().date_of(crate::db::now());
    let Listing {
        any_tool_on,
        connections,
        times,
        first_run,
        tasks:
            task::Listing {
                rows,
                total,
                projects,
                statuses,
            },
    } = listing;
    let active: Vec<&connection::Card> = connections
        .iter()
        .filter(|c| c.tool_on)
        .map(|c| &c.connection)
        .collect();
    let syncing = crate::services::sync_now::Progress::of(&connections).running;
    let running_task = user.running.as_ref().and_then(|e| e.task_id);
    let now = crate::db::now();
    let tools: Vec<ToolState> = active.iter().map(|c| tool_state(c, now)).collect();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let checklist = first_run
        .as_ref()
        .and_then(|facts| Checklist::new(facts, any_tool_on, !active.is_empty()));
    render(&MyTasksPage {
        checklist,
        manages_company: user.role.manages_company(),
        shell: Shell::new(&user, &session, Nav::MyTasks, settings.sandbox),
        groups: groups(&rows, &times, running_task, today, sort),
        sort: sort_value(sort),
        sorts: Sort::ALL
            .iter()
            .map(|s| (sort_value(*s), s.label()))
            .collect(),
        total,
        has_connections: !active.is_empty(),
        show_filters: total > 0 || filtering,
        filtering,
        empty: empty_state(total, filtering, any_tool_on, &tools),
        tools,
        syncing,
        tool_options: ProviderKind::ALL
            .into_iter()
            .filter(|k| active.iter().any(|c| c.provider == *k))
            .map(|k| (k.slug(), k.name()))
            .collect(),
        projects,
        statuses,
        page,
        pages,
        prev: (page > 1).then(|| query.link_to_page(page - 1)),
        next: (page < pages).then(|| query.link_to_page(page + 1)),
        q: query.q,
        tool: query.tool,
        project: query.project,
        status: query.status,
        due: query.due,
    })
}

/// "Sync now": every connection of mine is due at once.
pub async fn sync_now(
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    engine: web::Data<Waker>,
) -> AppResult<HttpResponse> {
    use crate::services::sync_now::{self, SyncNow};
    match sync_now::sync_now(&pool, &engine, user.id).await? {
        SyncNow::Requested(_) => {}
        SyncNow::NothingToSync => flash::error(
            &session,
            "There is nothing to sync yet: turn on an integration in Integration Settings.",
        ),
        SyncNow::TooSoon { wait_secs } => flash::success(
            &session,
            format!("Sync asked for just now and on its way. Try again in {wait_secs} s."),
        ),
    }
    Ok(see_other(urls::MY_TASKS))
}

/// Progress for the page's script: is a sync of mine still going, and how far.
pub async fn sync_status(user: CurrentUser, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    let progress = crate::services::sync_now::progress(&pool, user.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "running": progress.running, "text": progress.text() })))
}

/// "Dismiss" on the first-run checklist.
pub async fn dismiss_checklist(act: Action, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    crate::services::account::dismiss_checklist(&pool, &act.user).await?;
    act.success("The checklist is put away. Everything on it stays in the menu.");
    Ok(see_other(urls::MY_TASKS))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tool_names_read_as_a_sentence() {
        assert_eq!(super::and_list(&["Basecamp"]), "Basecamp");
        assert_eq!(
            super::and_list(&["Basecamp", "Salesforce"]),
            "Basecamp and Salesforce"
        );
        assert_eq!(
            super::and_list(&["Basecamp", "Intellinote", "Salesforce"]),
            "Basecamp, Intellinote and Salesforce"
        );
    }
}
