//! The API's endpoints: parse JSON into the services' inputs, call the same services
//! as the pages, answer JSON. Every handler takes `ApiUser` first, except the task list, which checks its `Bearer` in the same trip as the list.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::{ApiUser, Bearer};
use crate::api::problem::{unparsed, ApiError, Problem};
use crate::auth::client_ip;
use crate::connectors::ProviderKind;
use crate::db::{self, now, Pool};
use crate::domain::UserId;
use crate::error::Unexpected;
use crate::models::task::Filter;
use crate::models::time_entry::TimeEntry;
use crate::services::kept::Kept;
use crate::services::sync_now;
use crate::services::sync_now::Waker;
use crate::services::time::{self as tracking, EntryInput, EntryPatch, ExactEntry, StartWith};
use crate::urls;

type ApiResult = Result<HttpResponse, ApiError>;

fn json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// UTC seconds as RFC 3339 (`2026-12-02T09:30:00Z`).
fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn parse_time(raw: &str, field: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!("Give {field} as an RFC 3339 time, like 2026-12-02T09:30:00Z."),
            )
        })
}

// ---- me ----

#[derive(Serialize, ToSchema)]
pub struct Company {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// owner, admin, manager or user.
    pub role: String,
    pub company: Company,
    /// The IANA zone the person's days run on (theirs, else the company's).
    pub time_zone: String,
}

/// The person the token acts for, their company, role and time zone.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses(
        (status = 200, description = "The person", body = Me),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn me(user: ApiUser) -> ApiResult {
    Ok(json(
        StatusCode::OK,
        &Me {
            id: user.person.user_id,
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.person.role.as_str().to_owned(),
            company: Company {
                id: user.person.company_id,
                name: user.company_name.clone(),
            },
            time_zone: user.time_zone.clone(),
        },
    ))
}

// ---- tasks ----

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// Words in the title.
    #[serde(default)]
    pub q: Option<String>,
    /// A tool's slug: basecamp, intellinote, jira, pivotal, salesforce.
    #[serde(default)]
    pub tool: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Tasks per page, 1 to 200 (50).
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiTask {
    pub id: i64,
    pub title: String,
    /// The tool's slug.
    pub tool: String,
    pub project: String,
    pub status: String,
    /// `YYYY-MM-DD`.
    pub due: Option<String>,
    /// The task in its tool.
    pub url: Option<String>,
    /// Time tracked on it today (the person's day) and in all.
    pub seconds_today: i64,
    pub seconds_total: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    pub tasks: Vec<ApiTask>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The cursor is opaque to clients: today it is where the next page starts.
fn encode_cursor(offset: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o{offset}"))
}

fn decode_cursor(raw: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix('o')?
        .parse::<i64>()
        .ok()
        .filter(|o| *o >= 0)
}

/// A strong validator of the body: the same tasks and times give the same tag.
fn etag(body: &[u8]) -> String {
    format!("\"{}\"", &crate::crypto::sha256_hex_bytes(body)[..32])
}

fn matches(if_none_match: Option<&str>, tag: &str) -> bool {
    if_none_match.is_some_and(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == tag)
    })
}

/// The list's filter and window, checked: a bad value names its field.
fn task_window(query: TasksQuery) -> Result<(Filter, i64, i64), ApiError> {
    let tool = non_empty(&query.tool);
    if let Some(t) = &tool {
        if ProviderKind::from_slug(t).is_none() {
            return Err(ApiError::invalid(
                "tool",
                format!("No tool is called \u{201c}{t}\u{201d}."),
            ));
        }
    }
    let filter = Filter {
        provider: tool,
        project: non_empty(&query.project),
        status: non_empty(&query.status),
        due: None,
        search: non_empty(&query.q).map(|q| q.chars().take(100).collect()),
        sort: Default::default(),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "Ask for 1 to 200 tasks a page."));
    }
    let offset = match non_empty(&query.cursor) {
        None => 0,
        Some(raw) => decode_cursor(&raw)
            .ok_or_else(|| ApiError::invalid("cursor", "This cursor is not one we gave."))?,
    };
    Ok((filter, offset, limit))
}

/// A JSON body with its `ETag`, or `304 Not Modified` when the client has it already.
fn with_etag(req: &HttpRequest, body: Vec<u8>) -> HttpResponse {
    let tag = etag(&body);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let unchanged = matches(if_none_match, &tag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if unchanged {
        return response.finish();
    }
    response.content_type("application/json").body(body)
}

/// The person's open tasks as on My Tasks. `ETag` and `If-None-Match` make an
/// unchanged list a `304` (time tracked on a listed task changes it).
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TasksQuery),
    responses(
        (status = 200, description = "A page of tasks", body = TaskPage),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn tasks(
    bearer: Bearer,
    req: HttpRequest,
    pool: web::Data<Pool>,
    kept: web::Data<Kept>,
    query: Result<web::Query<TasksQuery>, actix_web::Error>,
) -> ApiResult {
    // Checked after the token, so that a request without a valid one is a 401 whatever
    // its query says.
    let window = query
        .map_err(|e| unparsed(e, "q"))
        .and_then(|q| task_window(q.into_inner()));
    // The token, the page and the time on it in one trip to the database: this is the
    // request a desktop client repeats every minute.
    let listing = db::run(&pool, move |conn| {
        let (person, stamps) = match bearer.check(conn)? {
            Ok(api) => (api.person, api.stamps),
            Err(refused) => return Ok(Err(refused)),
        };
        let (filter, offset, limit) = match window {
            Ok(w) => w,
            Err(bad) => return Ok(Err(bad)),
        };
        let today = person.days.date_of(now());
        let week_end = today
            .checked_add(jiff::Span::new().days(7))
            .unwrap_or(today);
        let (today, week_end) = (today.to_string(), week_end.to_string());
        // The page and whether more follow (one row past it is read to know): no filter
        // values (My Tasks' own) and no count of them all, which a cursor does not need.
        // Kept by this instance under the stamps read with the token, as My Tasks' page.
        let dates = (today.as_str(), week_end.as_str());
        let user_id = person.user_id;
        let rows = kept.rows(
            conn,
            user_id,
            stamps.tasks,
            &filter,
            dates,
            (offset, limit + 1),
        )?;
        let shown = usize::try_from(limit).unwrap_or(0).min(rows.len());
        let ids: Vec<i64> = rows[..shown].iter().map(|r| r.id).collect();
        let spans = kept.spans(conn, user_id, stamps.time, &ids)?;
        let times = tracking::times_of(&spans, &person.days);
        Ok(Ok((rows, shown, times, offset)))
    })
    .await??;
    let (rows, shown, times, offset) = listing;
    let more = rows.len() > shown;
    let page = TaskPage {
        next_cursor: more.then(|| encode_cursor(offset + shown as i64)),
        tasks: rows[..shown]
            .iter()
            .map(|row| {
                let time = times.get(&row.id).copied().unwrap_or_default();
                ApiTask {
                    id: row.id,
                    title: row.title.clone(),
                    tool: row.provider.clone(),
                    project: row.project.clone(),
                    status: row.status.clone(),
                    due: row.due_on.clone(),
                    url: row.url.clone(),
                    seconds_today: time.today,
                    seconds_total: time.total,
                }
            })
            .collect(),
    };
    let body = serde_json::to_vec(&page).unexpected("encoding the task list")?;
    Ok(with_etag(&req, body))
}

// ---- timer and entries ----

#[derive(Serialize, ToSchema)]
pub struct Entry {
    pub id: i64,
    /// The client-made id it was posted under, if any.
    pub client_id: Option<String>,
    pub task_id: Option<i64>,
    /// The task's tool (slug), project, title and link, kept on the entry.
    pub tool: Option<String>,
    pub project: Option<String>,
    pub task_title: Option<String>,
    pub task_url: Option<String>,
    pub note: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC; null while the timer runs.
    pub ended_at: Option<String>,
    pub running: bool,
    /// Until now for a running timer.
    pub seconds: i64,
}

impl From<TimeEntry> for Entry {
    fn from(e: TimeEntry) -> Self {
        Self {
            seconds: e.seconds(now()),
            running: e.ended_at.is_none(),
            started_at: rfc3339(e.started_at),
            ended_at: e.ended_at.map(rfc3339),
            id: e.id,
            client_id: e.client_id,
            task_id: e.task_id,
            tool: e.provider,
            project: e.project,
            task_title: e.task_title,
            task_url: e.task_url,
            note: e.note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Timer {
    /// The running timer, or null.
    pub running: Option<Entry>,
}

/// The running timer, if any.
#[utoipa::path(get, path = "/api/v1/timer", tag = "timer",
    responses(
        (status = 200, description = "The running timer or null", body = Timer),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn timer(user: ApiUser, pool: web::Data<Pool>) -> ApiResult {
    let running = tracking::running(&pool, &user.person)
        .await
        .map_err(|e| ApiError::from_time(e, "timer"))?;
    Ok(json(
        StatusCode::OK,
        &Timer {
            running: running.map(Entry::from),
        },
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// A task of yours; or give `note`.
    #[serde(default)]
    pub task_id: Option<i64>,
    /// What you are working on, for a timer on no task.
    #[serde(default)]
    pub note: Option<String>,
}

/// Starts the timer on a task or with a note, stopping the one running. Starting the
/// task already running answers it unchanged.
#[utoipa::path(post, path = "/api/v1/timer/start", tag = "timer", request_body = StartBody,
    responses(
        (status = 200, description = "The running timer", body = Entry),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task is closed (TB-API-TASK-CLOSED)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither task nor note", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn start(
    user: ApiUser,
    pool: web::Data<Pool>,
    body: Result<web::Json<StartBody>, actix_web::Error>,
) -> ApiResult {
    let body = body.map_err(|e| unparsed(e, "task_id"))?.into_inner();
    let with = match (body.task_id, body.note) {
        (Some(id), _) => StartWith::Task(id),
        (None, note) => StartWith::Note(note.unwrap_or_default()),
    };
    let entry = tracking::start(&pool, &user.person, with)
        .await
        .map_err(|e| ApiError::from_time(e, "note"))?;
    Ok(json(StatusCode::OK, &Entry::from(entry)))
}

/// Stops the running timer now.
#[utoipa::path(post, path = "/api/v1/timer/stop", tag = "timer",
    responses(
        (status = 200, description = "The stopped entry", body = Entry),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No timer is running (TB-API-NOTHING-RUNNING)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn stop(user: ApiUser, pool: web::Data<Pool>) -> ApiResult {
    let entry = tracking::stop(&pool, &user.person, None)
        .await
        .map_err(|e| ApiError::from_time(e, "timer"))?;
    Ok(json(StatusCode::OK, &Entry::from(entry)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// First day, `YYYY-MM-DD`, in the person's days (today).
    #[serde(default)]
    pub from: Option<String>,
    /// Last day, included (`from`).
    #[serde(default)]
    pub to: Option<String>,
}

fn parse_date(raw: &Option<String>, field: &str) -> Result<Option<Date>, ApiError> {
    match non_empty(raw) {
        None => Ok(None),
        Some(d) => d
            .parse::<Date>()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "Give the date like 2026-12-02.")),
    }
}

#[derive(Serialize, ToSchema)]
pub struct EntryList {
    pub entries: Vec<Entry>,
}

/// The person's entries on their days `from` to `to`, the running one too.
#[utoipa::path(get, path = "/api/v1/time-entries", tag = "time entries", params(EntriesQuery),
    responses(
        (status = 200, description = "The entries, by start", body = EntryList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad dates", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn entries(
    user: ApiUser,
    pool: web::Data<Pool>,
    query: Result<web::Query<EntriesQuery>, actix_web::Error>,
) -> ApiResult {
    let query = query.map_err(|e| unparsed(e, "from"))?.into_inner();
    let today = user.person.days.date_of(now());
    let from = parse_date(&query.from, "from")?.unwrap_or(today);
    let to = parse_date(&query.to, "to")?.unwrap_or(from);
    let entries = tracking::entries(&pool, &user.person, from, to)
        .await
        .map_err(|e| ApiError::from_time(e, "to"))?;
    Ok(json(
        StatusCode::OK,
        &EntryList {
            entries: entries.into_iter().map(Entry::from).collect(),
        },
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntryBody {
    /// A UUID the client made: posting the same id again answers the entry already
    /// made (200) and never makes a second one.
    #[serde(default)]
    pub id: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339; at most 24 hours after the start, not in the future.
    pub ended_at: String,
    #[serde(default)]
    pub task_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A client-made id: a UUID, kept in lower case.
fn client_id(raw: &str) -> Result<String, ApiError> {
    let id = raw.trim().to_ascii_lowercase();
    let ok = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(id)
    } else {
        Err(ApiError::invalid(
            "id",
            "Give the entry's id as a UUID, like 7b0c6a5e-2f7d-4c1e-9a53-0c1f3b8e2d41.",
        ))
    }
}

/// Adds a finished entry (time tracked offline, say).
#[utoipa::path(post, path = "/api/v1/time-entries", tag = "time entries", request_body = NewEntryBody,
    responses(
        (status = 201, description = "The entry, made", body = Entry),
        (status = 200, description = "The entry made earlier under the same client id", body = Entry),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Overlaps another entry (TB-API-OVERLAP)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input; `field` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn add_entry(
    user: ApiUser,
    pool: web::Data<Pool>,
    body: Result<web::Json<NewEntryBody>, actix_web::Error>,
) -> ApiResult {
    let body = body.map_err(|e| unparsed(e, "started_at"))?.into_inner();
    let client_id = body.id.as_deref().map(client_id).transpose()?;
    let input = EntryInput::Exact(ExactEntry {
        started_at: parse_time(&body.started_at, "started_at")?,
        ended_at: parse_time(&body.ended_at, "ended_at")?,
        task_id: body.task_id,
        note: body.note.unwrap_or_default(),
    });
    let (entry, made) = tracking::add_once(&pool, &user.person, input, client_id)
        .await
        .map_err(|e| ApiError::from_time(e, "note"))?;
    let location = urls::api(&format!("{}/{}", urls::API_TIME_ENTRIES, entry.id));
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, location))
        .json(Entry::from(entry)))
}

/// `Some(None)` for an explicit null, `Some(Some(v))` for a value, `None` when absent.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPatchBody {
    /// RFC 3339.
    #[serde(default)]
    pub started_at: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// null takes the entry off its task.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub task_id: Option<Option<i64>>,
    #[serde(default)]
    pub note: Option<String>,
}

fn entry_id(path: Result<web::Path<i64>, actix_web::Error>) -> Result<i64, ApiError> {
    path.map(|p| p.into_inner()).map_err(|_| ApiError::NotFound)
}

/// Changes some of a finished entry's fields, checked like a new entry.
#[utoipa::path(patch, path = "/api/v1/time-entries/{id}", tag = "time entries", request_body = EntryPatchBody,
    params(("id" = i64, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The entry, changed", body = Entry),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Overlaps another entry (TB-API-OVERLAP)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input; `field` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update_entry(
    user: ApiUser,
    req: HttpRequest,
    pool: web::Data<Pool>,
    path: Result<web::Path<i64>, actix_web::Error>,
    body: Result<web::Json<EntryPatchBody>, actix_web::Error>,
) -> ApiResult {
    let id = entry_id(path)?;
    let body = body.map_err(|e| unparsed(e, "started_at"))?.into_inner();
    let patch = EntryPatch {
        started_at: body
            .started_at
            .as_deref()
            .map(|t| parse_time(t, "started_at"))
            .transpose()?,
        ended_at: body
            .ended_at
            .as_deref()
            .map(|t| parse_time(t, "ended_at"))
            .transpose()?,
        task_id: body.task_id,
        note: body.note,
    };
    let entry = tracking::update(
        &pool,
        &user.person,
        id,
        EntryInput::Patch(patch),
        client_ip(&req),
    )
    .await
    .map_err(|e| ApiError::from_time(e, "ended_at"))?;
    Ok(json(StatusCode::OK, &Entry::from(entry)))
}

/// Deletes an entry (a running one too: the timer stops without keeping its time).
#[utoipa::path(delete, path = "/api/v1/time-entries/{id}", tag = "time entries",
    params(("id" = i64, Path, description = "The entry's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry of yours", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete_entry(
    user: ApiUser,
    req: HttpRequest,
    pool: web::Data<Pool>,
    path: Result<web::Path<i64>, actix_web::Error>,
) -> ApiResult {
    let id = entry_id(path)?;
    tracking::delete(&pool, &user.person, id, client_ip(&req))
        .await
        .map_err(|e| ApiError::from_time(e, "id"))?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- sync ----

#[derive(Serialize, ToSchema)]
pub struct ToolSync {
    pub tool: String,
    pub fetched: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SyncState {
    /// A sync of yours is running or about to start.
    pub running: bool,
    /// As My Tasks says it.
    pub text: String,
    pub syncing: Vec<ToolSync>,
}

fn sync_state(p: sync_now::Progress) -> SyncState {
    SyncState {
        running: p.running,
        text: p.text(),
        syncing: p
            .syncing
            .iter()
            .map(|(tool, fetched)| ToolSync {
                tool: (*tool).to_owned(),
                fetched: *fetched,
            })
            .collect(),
    }
}

/// "Sync now": every connection of yours syncs at once.
#[utoipa::path(post, path = "/api/v1/sync", tag = "sync",
    responses(
        (status = 202, description = "Sync started", body = SyncState),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to sync (TB-API-NOTHING-TO-SYNC)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn sync(user: ApiUser, pool: web::Data<Pool>, engine: web::Data<Waker>) -> ApiResult {
    let person = &user.person;
    // Asked again within the cooldown, the sync asked for a moment ago is the answer.
    if sync_now::sync_now(&pool, &engine, UserId(person.user_id)).await?
        == sync_now::SyncNow::NothingToSync
    {
        return Err(ApiError::NothingToSync);
    }
    let progress = sync_now::progress(&pool, UserId(person.user_id)).await?;
    Ok(json(StatusCode::ACCEPTED, &sync_state(progress)))
}

/// How the person's sync is going.
#[utoipa::path(get, path = "/api/v1/sync", tag = "sync",
    responses(
        (status = 200, description = "Sync progress", body = SyncState),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn sync_status(user: ApiUser, pool: web::Data<Pool>) -> ApiResult {
    let person = &user.person;
    let progress = sync_now::progress(&pool, UserId(person.user_id)).await?;
    Ok(json(StatusCode::OK, &sync_state(progress)))
}
