//! Emulated task tools under `/sandbox/<tool>/`, offline and in memory.
//!
//! Each speaks its real API's shapes, so the connectors work against it unchanged when
//! their configured URLs point here (see [`provider_config`]):
//!
//! | tool | configured URL | what lives there |
//! |---|---|---|
//! | Asana | `{base}/sandbox/asana` | `-/oauth_authorize`, `-/oauth_token`, `api/1.0/users/me`, `api/1.0/tasks` (`offset` paging, 5 tasks a page at most); `permalink_url` is `{base}/sandbox/asana/1/<workspace>/task/<id>` |
//! | Basecamp | `{base}/sandbox/basecamp/launchpad` | `authorization/new`, `authorization/token`, `authorization.json`; accounts' `href` is `{base}/sandbox/basecamp/api/<account_id>` (`my/assignments.json`, `my/profile.json`, `reports/todos/assigned/<person>.json`) |
//! | GitHub | `{base}/sandbox/github` (web) and `{base}/sandbox/github/api` (API) | `login/oauth/authorize`, `login/oauth/access_token` (errors in a 200, as GitHub does); `api/user`, `api/issues` (`Link` paging, 5 a page at most); links open `{base}/sandbox/github/<owner>/<repo>/issues/<n>` (or `pull/<n>`) |
//! | Intellinote | `{base}/sandbox/intellinote/rest` | `auth/oauth2/authorization`, `auth/oauth2/access`, `v2/user/-`, `v2/orgs`, `v2/org/<org>/notes` (`limit`/`offset`, 5 notes a page at most) |
//! | Jira | `{base}/sandbox/jira/auth` (auth) and `{base}/sandbox/jira/api` (API) | `authorize`, `oauth/token` (JSON body, rotating refresh tokens); `api/oauth/token/accessible-resources`, `api/ex/jira/<cloudId>/rest/api/3/myself`, `…/search/jql` (`nextPageToken`, 5 issues a page at most; the old `…/search` answers 410); sites' URLs are `{base}/sandbox/jira/site/<site>` (`browse/<KEY>`) |
//! | Pivotal Tracker | `{base}/sandbox/pivotal/services/v5` | `me`, `projects/<id>/stories` (5 stories a page at most); sample API tokens listed at `/sandbox/pivotal/` |
//! | Salesforce | `{base}/sandbox/salesforce/login` | `services/oauth2/authorize`, `services/oauth2/token`, `id/<org>/<user>`; `instance_url` is `{base}/sandbox/salesforce/instance` (`services/data/`, `services/data/vXX.X/query`) |
//!
//! `/sandbox/` lists every sample person and what each one's tool does on purpose.
//!
//! Control API, for tests and demos (JSON, no authentication: the data is all fake):
//! - `GET /sandbox/_control/state`: every tool's people, accounts, projects and tasks.
//! - `POST /sandbox/_control/reset`: back to the seeded data (issued tokens stay valid).
//! - `POST /sandbox/<tool>/_control/reassign` with `{"task_id": "…", "assignee": "<email or id>", "closed": true|false}`
//!   (both optional): moves a task to another sample person and/or closes or reopens it;
//!   answers the task, 404 for an unknown task, 400 for an unknown person.
//! - `POST /sandbox/<tool>/_control/rate-limit` with `{"person": "<email or id>", "after_calls": N}`:
//!   the person's next N task calls work, the one after answers 429 with `Retry-After: 2`
//!   (and so does every task call in those 2 seconds); 404 for an unknown tool, 400 for an
//!   unknown person.
//! - `POST /sandbox/<tool>/_control/expire-tokens` with `{"person": "<email or id>"}`: every
//!   access token issued to the person so far answers 401 from now on, as when it runs
//!   out (refresh tokens keep working); 404 for an unknown tool, 400 for an unknown person.
//! - `GET /sandbox/_control/stats`: `{"api_calls": …, "not_modified": …}`, the API calls
//!   answered so far and how many of them were 304s to an `If-None-Match`.
//!
//! Pages of tasks (and Pivotal Tracker's `/me`) carry an `ETag` made from their body and
//! answer a matching `If-None-Match` with 304 Not Modified, as the real tools do.
//!
//! The app builds one [`SandboxState`] at start, wraps it in `web::Data`, registers it with
//! `App::app_data` in every worker, and mounts the routes with `App::configure(configure)`.

mod asana;
mod basecamp;
mod github;
mod intellinote;
mod jira;
mod oauth;
mod pages;
mod pivotal;
mod salesforce;
mod seed;
mod stand_ins;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::connectors::{AuthKind, ProviderConfig, ProviderKind};
pub use seed::Behaviour;
use seed::{Person, Tool};
use stand_ins::stand_in;

/// The OAuth client id every emulated tool accepts.
pub const SANDBOX_CLIENT_ID: &str = "taskbridge-sandbox";
/// The OAuth client secret every emulated tool accepts.
pub const SANDBOX_CLIENT_SECRET: &str = "taskbridge-sandbox-secret";
/// How long the slow sample accounts take to answer.
pub const SLOW_RESPONSE: Duration = Duration::from_secs(20);
const RETRY_AFTER_SECS: u64 = 2;
/// How long a rate-limited person's calls work once they waited.
const RATE_WINDOW: Duration = Duration::from_secs(60);
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Who called a tool's API and the tool's data, or the tool's refusal.
type Called = Result<(Person, Tool), HttpResponse>;

fn under(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// A connector configuration pointing `kind` at the sandbox of an app served at `base`.
pub fn provider_config(kind: ProviderKind, base: &Url) -> ProviderConfig {
    let emulated = stand_in(kind);
    let oauth = kind.auth_kind() == AuthKind::OAuth;
    ProviderConfig {
        kind,
        base_url: under(base, emulated.base),
        api_url: emulated.api.map(|api| under(base, api)),
        client_id: oauth.then(|| SANDBOX_CLIENT_ID.to_string()),
        client_secret: oauth.then(|| SecretString::from(SANDBOX_CLIENT_SECRET)),
        sandbox: true,
        limits: Default::default(),
    }
}

/// A token the sandbox issued, and to whom.
#[derive(Debug, Clone)]
struct Grant {
    kind: ProviderKind,
    person: String,
    /// Issued already expired (Expired Eddie's first token).
    expired: bool,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
struct Code {
    kind: ProviderKind,
    person: String,
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    issued: Instant,
}

struct Inner {
    tools: HashMap<ProviderKind, Tool>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    /// When each rate-limited person was last told to wait.
    throttled: HashMap<(ProviderKind, String), Instant>,
    /// Task calls each person may still make before one is rate limited (control API).
    limit_after: HashMap<(ProviderKind, String), u32>,
    api_calls: u64,
    not_modified: u64,
}

/// The emulated tools' shared, in-memory state; build one per app, not per worker.
pub struct SandboxState {
    base: Url,
    client_id: String,
    client_secret: String,
    inner: Mutex<Inner>,
}

fn seeded() -> HashMap<ProviderKind, Tool> {
    let today = time::OffsetDateTime::now_utc().date();
    ProviderKind::ALL
        .into_iter()
        .map(|k| (k, seed::sample(k, today)))
        .collect()
}

/// Which kind of call a misbehaving person's tool is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// Who am I (Launchpad `authorization.json`, `/v2/user/-`, `/me`, Salesforce id URL).
    Identity,
    /// Other REST calls that connecting needs (Salesforce `services/data`, Organization query).
    Rest,
    /// Listing tasks.
    Tasks,
}

/// What a misbehaving person's tool does with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Pass,
    Slow,
    Unauthorized,
    RateLimited,
    ServerError,
    ApiDisabled,
    RequestLimit,
}

impl SandboxState {
    /// A sandbox for an app served at `base`, accepting [`SANDBOX_CLIENT_ID`] and [`SANDBOX_CLIENT_SECRET`].
    pub fn new(base: Url) -> Self {
        Self::with_client(base, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    }

    /// A sandbox accepting another OAuth client.
    pub fn with_client(base: Url, client_id: &str, client_secret: &str) -> Self {
        Self {
            base,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            inner: Mutex::new(Inner {
                tools: seeded(),
                codes: HashMap::new(),
                access: HashMap::new(),
                refresh: HashMap::new(),
                throttled: HashMap::new(),
                limit_after: HashMap::new(),
                api_calls: 0,
                not_modified: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The data is all fake; a panic elsewhere must not take the sandbox down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An absolute URL on this app for `path` (which starts with `/`).
    fn url(&self, path: &str) -> String {
        under(&self.base, path).to_string()
    }

    /// [`Self::url`] with a query string (`query` without its `?`). Put into the path,
    /// the `?` would be percent-encoded as part of it.
    fn url_with_query(&self, path: &str, query: &str) -> String {
        let mut url = under(&self.base, path);
        url.set_query(Some(query));
        url.to_string()
    }

    /// A clone of one tool's sample data.
    fn tool(&self, kind: ProviderKind) -> Tool {
        self.lock()
            .tools
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| seed::sample(kind, time::OffsetDateTime::now_utc().date()))
    }

    fn person(&self, kind: ProviderKind, id: &str) -> Option<Person> {
        self.lock().tools.get(&kind)?.person(id).cloned()
    }

    /// The person an access token belongs to, with the grant.
    fn holder(&self, kind: ProviderKind, token: &str) -> Option<(Person, Grant)> {
        let inner = self.lock();
        let grant = inner.access.get(token).filter(|g| g.kind == kind)?.clone();
        let person = inner.tools.get(&kind)?.person(&grant.person)?.clone();
        Some((person, grant))
    }

    /// The person behind the request's `Authorization: Bearer` token.
    fn bearer(&self, kind: ProviderKind, req: &HttpRequest) -> Option<(Person, Grant)> {
        let value = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.holder(kind, token.trim())
    }

    fn issue(&self, kind: ProviderKind, person: &str, expired: bool) -> (String, String) {
        let access = crate::crypto::random_token();
        let refresh = crate::crypto::random_token();
        let mut inner = self.lock();
        inner.access.insert(
            access.clone(),
            Grant {
                kind,
                person: person.into(),
                expired,
            },
        );
        inner.refresh.insert(
            refresh.clone(),
            Grant {
                kind,
                person: person.into(),
                expired: false,
            },
        );
        (access, refresh)
    }

    /// The holder of the request's bearer token and the tool's data, once the tool's
    /// gate lets the call through; otherwise the tool's own answer: `unauthorized` for a
    /// token it does not know, `refusal` for the gate's (told whether the token was
    /// issued already expired).
    async fn caller(
        &self,
        (kind, call): (ProviderKind, Call),
        req: &HttpRequest,
        unauthorized: fn() -> HttpResponse,
        refusal: impl FnOnce(Gate, bool) -> HttpResponse,
    ) -> Called {
        let (person, grant) = self.bearer(kind, req).ok_or_else(unauthorized)?;
        pass(self.gate(kind, &person, Some(&grant), call))
            .await
            .map_err(|gate| refusal(gate, grant.expired))?;
        Ok((person, self.tool(kind)))
    }

    /// What `person`'s tool does with this call, on purpose.
    fn gate(&self, kind: ProviderKind, person: &Person, grant: Option<&Grant>, call: Call) -> Gate {
        let mut inner = self.lock();
        inner.api_calls += 1;
        if grant.is_some_and(|g| g.expired) {
            return Gate::Unauthorized;
        }
        if call == Call::Tasks && person.behaviour != Behaviour::RateLimited {
            let now = Instant::now();
            let key = (kind, person.id.clone());
            match inner.limit_after.get_mut(&key) {
                Some(0) => {
                    inner.limit_after.remove(&key);
                    inner.throttled.insert(key, now);
                    return Gate::RateLimited;
                }
                Some(left) => *left -= 1,
                None => {
                    let waiting = inner.throttled.get(&key).is_some_and(|at| {
                        now.duration_since(*at) < Duration::from_secs(RETRY_AFTER_SECS)
                    });
                    if waiting {
                        return Gate::RateLimited;
                    }
                }
            }
        }
        match (person.behaviour, call) {
            (Behaviour::Revoked, Call::Tasks) => Gate::Unauthorized,
            (Behaviour::ServerErrors, Call::Tasks) => Gate::ServerError,
            (Behaviour::Slow, Call::Tasks) => Gate::Slow,
            (Behaviour::ApiDisabled, Call::Rest | Call::Tasks) => Gate::ApiDisabled,
            (Behaviour::RequestLimit, Call::Rest | Call::Tasks) => Gate::RequestLimit,
            (Behaviour::RateLimited, Call::Tasks) => {
                let now = Instant::now();
                let key = (kind, person.id.clone());
                match inner.throttled.get(&key) {
                    Some(at) if now.duration_since(*at) < Duration::from_secs(RETRY_AFTER_SECS) => {
                        Gate::RateLimited
                    }
                    Some(at) if now.duration_since(*at) < RATE_WINDOW => Gate::Pass,
                    _ => {
                        inner.throttled.insert(key, now);
                        Gate::RateLimited
                    }
                }
            }
            _ => Gate::Pass,
        }
    }

    fn api_calls(&self) -> u64 {
        self.lock().api_calls
    }
}

/// Answers `body` as JSON with an `ETag` made from it, or 304 Not Modified without a body
/// when the request's `If-None-Match` names that `ETag`; `answer` carries the other headers.
fn json_with_etag(
    state: &SandboxState,
    req: &HttpRequest,
    mut answer: actix_web::HttpResponseBuilder,
    body: &serde_json::Value,
) -> HttpResponse {
    use actix_web::http::header;
    use sha2::{Digest, Sha256};
    let bytes = body.to_string();
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(bytes.as_bytes())[..16])
    );
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.trim_start_matches("W/") == etag
            })
        });
    answer.insert_header((header::ETAG, etag));
    if matches {
        state.lock().not_modified += 1;
        return answer
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish();
    }
    answer
        .content_type("application/json; charset=utf-8")
        .body(bytes)
}

/// Waits out a slow person's delay; any other misbehaviour is returned for the tool to render.
async fn pass(gate: Gate) -> Result<(), Gate> {
    match gate {
        Gate::Pass => Ok(()),
        Gate::Slow => {
            actix_web::rt::time::sleep(SLOW_RESPONSE).await;
            Ok(())
        }
        other => Err(other),
    }
}

/// The current time as RFC 3339, to the second.
fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn retry_after() -> (&'static str, String) {
    ("Retry-After", RETRY_AFTER_SECS.to_string())
}

fn tool_from_slug(slug: &str) -> Option<ProviderKind> {
    ProviderKind::from_slug(slug)
}

async fn control_state(state: web::Data<SandboxState>) -> HttpResponse {
    let inner = state.lock();
    let mut out = serde_json::Map::new();
    for kind in ProviderKind::ALL {
        if let Some(tool) = inner.tools.get(&kind) {
            out.insert(kind.slug().into(), seed::tool_json(tool));
        }
    }
    HttpResponse::Ok().json(out)
}

async fn control_reset(state: web::Data<SandboxState>) -> HttpResponse {
    let mut inner = state.lock();
    inner.tools = seeded();
    inner.throttled.clear();
    inner.limit_after.clear();
    HttpResponse::NoContent().finish()
}

async fn control_stats(state: web::Data<SandboxState>) -> HttpResponse {
    let inner = state.lock();
    HttpResponse::Ok().json(serde_json::json!({
        "api_calls": inner.api_calls,
        "not_modified": inner.not_modified,
    }))
}

/// What a control call names that the sandbox does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unknown {
    Tool,
    Person,
    Task,
}

impl Unknown {
    /// 404 for a tool or a task, 400 for a sample person, each saying which.
    fn answer(self) -> HttpResponse {
        match self {
            Unknown::Tool => {
                HttpResponse::NotFound().json(serde_json::json!({"error": "no such tool"}))
            }
            Unknown::Person => HttpResponse::BadRequest()
                .json(serde_json::json!({"error": "no such sample person"})),
            Unknown::Task => {
                HttpResponse::NotFound().json(serde_json::json!({"error": "no such task"}))
            }
        }
    }
}

impl Inner {
    /// The tool a control path's `slug` names and the id there of the sample person `who`
    /// (an email or an id).
    fn sample_person(&self, slug: &str, who: &str) -> Result<(ProviderKind, String), Unknown> {
        let kind = tool_from_slug(slug).ok_or(Unknown::Tool)?;
        let tool = self.tools.get(&kind).ok_or(Unknown::Person)?;
        let person = tool.person_named(who).ok_or(Unknown::Person)?;
        Ok((kind, person.id.clone()))
    }
}

/// A control call about one sample person: `change` gets the sandbox, the tool the path
/// names and the person's id, and the call answers 204; an unknown tool answers 404 and an
/// unknown person 400, changing nothing.
fn about_sample_person(
    state: &SandboxState,
    slug: &str,
    who: &str,
    change: impl FnOnce(&mut Inner, ProviderKind, String),
) -> HttpResponse {
    let mut inner = state.lock();
    match inner.sample_person(slug, who) {
        Ok((kind, person)) => {
            change(&mut inner, kind, person);
            HttpResponse::NoContent().finish()
        }
        Err(unknown) => unknown.answer(),
    }
}

#[derive(Deserialize)]
struct RateLimit {
    person: String,
    after_calls: u32,
}

async fn control_rate_limit(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    body: web::Json<RateLimit>,
) -> HttpResponse {
    about_sample_person(&state, &path, &body.person, |inner, kind, person| {
        inner.limit_after.insert((kind, person), body.after_calls);
    })
}

#[derive(Deserialize)]
struct Expire {
    person: String,
}

async fn control_expire_tokens(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    body: web::Json<Expire>,
) -> HttpResponse {
    about_sample_person(&state, &path, &body.person, |inner, kind, person| {
        let issued = inner.access.values_mut();
        for grant in issued.filter(|g| g.kind == kind && g.person == person) {
            grant.expired = true;
        }
    })
}

#[derive(Deserialize)]
struct Reassign {
    task_id: String,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    closed: Option<bool>,
}

async fn control_reassign(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    body: web::Json<Reassign>,
) -> HttpResponse {
    match reassign(&mut state.lock(), &path, &body) {
        Ok(task) => HttpResponse::Ok().json(task),
        Err(unknown) => unknown.answer(),
    }
}

/// Moves a task of the tool `slug` names to another sample person and/or closes or
/// reopens it, as `ask` says; the task as the control API shows it.
fn reassign(inner: &mut Inner, slug: &str, ask: &Reassign) -> Result<serde_json::Value, Unknown> {
    let kind = tool_from_slug(slug).ok_or(Unknown::Tool)?;
    let tool = inner.tools.get_mut(&kind).ok_or(Unknown::Tool)?;
    let assignee = match &ask.assignee {
        Some(who) => Some(tool.person_named(who).ok_or(Unknown::Person)?.id.clone()),
        None => None,
    };
    let task = tool
        .tasks
        .iter_mut()
        .find(|t| t.id == ask.task_id)
        .ok_or(Unknown::Task)?;
    if let Some(a) = assignee {
        task.assignee = a;
    }
    if let Some(closed) = ask.closed {
        task.closed = closed;
        let emulated = stand_in(kind);
        task.status = if closed {
            emulated.closed
        } else {
            emulated.reopened
        }
        .into();
    }
    task.updated_at = now_rfc3339();
    let task = task.clone();
    Ok(seed::task_json(tool, &task))
}

/// Mounts every sandbox route under `/sandbox`; needs `web::Data<SandboxState>` in app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sandbox", web::get().to(pages::index))
        .route("/sandbox/", web::get().to(pages::index))
        .route("/sandbox/sandbox.css", web::get().to(pages::css))
        .route("/sandbox/_control/state", web::get().to(control_state))
        .route("/sandbox/_control/reset", web::post().to(control_reset))
        .route("/sandbox/_control/stats", web::get().to(control_stats))
        .route(
            "/sandbox/{tool}/_control/rate-limit",
            web::post().to(control_rate_limit),
        )
        .route(
            "/sandbox/{tool}/_control/expire-tokens",
            web::post().to(control_expire_tokens),
        )
        .route(
            "/sandbox/{tool}/_control/reassign",
            web::post().to(control_reassign),
        )
        .route(
            "/sandbox/{tool}/_oauth/sign-in",
            web::post().to(oauth::sign_in),
        )
        .route(
            "/sandbox/{tool}/_oauth/decide",
            web::post().to(oauth::decide),
        );
    for kind in ProviderKind::ALL {
        let tool = stand_in(kind);
        if kind.auth_kind() == AuthKind::OAuth {
            cfg.route(tool.authorize, oauth::authorize_route(kind));
        }
        if let Some((path, body, fields)) = tool.token {
            cfg.route(path, oauth::token_route(kind, body, fields));
        }
        (tool.routes)(cfg);
    }
}
