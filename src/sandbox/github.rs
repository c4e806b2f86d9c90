//! Emulated GitHub: OAuth App sign-in (token errors in a 200, as GitHub answers them),
//! `GET /user`, and `GET /issues` with `Link` paging, `ETag`s and GitHub's rate-limit
//! headers.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::oauth::{self, TokenParams};
use super::seed::{Behaviour, Person, Task, Tool};
use super::seed::{Builder, PersonSpec, JANE, JOHN, RITA, ROB, SALLY, SID};
use super::{json_with_etag, pass, Call, Gate, SandboxState, RETRY_AFTER_SECS};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::GitHub;
/// The sandbox sends 5 items a page at most, whatever the client asks (GitHub: 100),
/// so paging is always exercised.
const MAX_PER_PAGE: usize = 5;
const DOCS: &str = "https://docs.github.com/rest";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/sandbox/github/login/oauth/access_token",
        web::post().to(access_token),
    )
    .route("/sandbox/github/api/user", web::get().to(user))
    .route("/sandbox/github/api/issues", web::get().to(issues))
    .route(
        "/sandbox/github/{owner}/{repo}/{kind:issues|pull}/{number}",
        web::get().to(issue_page),
    );
}

/// GitHub's name for a refusal the shared token endpoint words the standard way.
fn github_error(e: &oauth::TokenError) -> (&'static str, &'static str) {
    match (e.error, e.description) {
        ("invalid_client", _) => (
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ),
        (_, "redirect_uri mismatch") => (
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        ),
        ("unsupported_grant_type", _) => ("unsupported_grant_type", e.description),
        _ => (
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        ),
    }
}

/// Token answers: JSON when asked for with `Accept: application/json`, else
/// form-encoded; errors come with HTTP 200 and an `error` field.
async fn access_token(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let mut form = form.into_inner();
    // GitHub needs no grant_type; an OAuth App's token is never refreshed.
    let refresh = form.get("grant_type").map(String::as_str) == Some("refresh_token");
    form.entry("grant_type".into())
        .or_insert_with(|| "authorization_code".into());
    let result = if refresh {
        Err((
            "bad_refresh_token",
            "The refresh token passed is incorrect or expired.",
        ))
    } else {
        oauth::token(&state, KIND, &TokenParams::from_form(form)).map_err(|e| github_error(&e))
    };
    let fields: Vec<(&str, String)> = match result {
        Ok(issued) => vec![
            ("access_token", issued.access_token),
            ("scope", "repo".into()),
            ("token_type", "bearer".into()),
        ],
        Err((error, description)) => vec![
            ("error", error.into()),
            ("error_description", description.into()),
            ("error_uri", "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors".into()),
        ],
    };
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let mut answer = HttpResponse::Ok();
    answer.insert_header(("Cache-Control", "no-store"));
    if wants_json {
        let body: serde_json::Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        return answer.json(body);
    }
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &fields {
        body.append_pair(k, v);
    }
    answer
        .content_type("application/x-www-form-urlencoded; charset=utf-8")
        .body(body.finish())
}

fn message(status: StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "message": text,
        "documentation_url": DOCS,
        "status": status.as_u16().to_string(),
    }))
}

fn bad_credentials() -> HttpResponse {
    message(StatusCode::UNAUTHORIZED, "Bad credentials")
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn refusal(gate: Gate, person: &Person) -> HttpResponse {
    match gate {
        // Rate-limited Rob meets the primary limit; anyone limited through the control
        // API meets a secondary one, which says how long in `retry-after`.
        Gate::RateLimited if person.behaviour != Behaviour::RateLimited => {
            HttpResponse::TooManyRequests()
                .insert_header(("retry-after", RETRY_AFTER_SECS.to_string()))
                .json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                }))
        }
        // A primary limit: remaining 0 until the reset (a whole second past the wait).
        Gate::RateLimited => {
            let reset = now_secs() + RETRY_AFTER_SECS as i64 + 1;
            HttpResponse::Forbidden()
                .insert_header(("x-ratelimit-limit", "5000"))
                .insert_header(("x-ratelimit-remaining", "0"))
                .insert_header(("x-ratelimit-used", "5000"))
                .insert_header(("x-ratelimit-reset", reset.to_string()))
                .insert_header(("x-ratelimit-resource", "core"))
                .json(json!({
                    "message": format!("API rate limit exceeded for user ID {}.", person.id),
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                }))
        }
        Gate::ServerError => message(StatusCode::BAD_GATEWAY, "Server Error"),
        _ => bad_credentials(),
    }
}

/// The caller, checked the way GitHub does: a User-Agent, then the token.
async fn caller(
    state: &SandboxState,
    req: &HttpRequest,
    call: Call,
) -> Result<(Person, Tool), HttpResponse> {
    if !req.headers().contains_key(header::USER_AGENT) {
        return Err(message(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
        ));
    }
    let (person, grant) = state.bearer(KIND, req).ok_or_else(bad_credentials)?;
    let gate = state.gate(KIND, &person, Some(&grant), call);
    pass(gate).await.map_err(|g| refusal(g, &person))?;
    Ok((person, state.tool(KIND)))
}

fn num(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

fn user_json(state: &SandboxState, p: &Person) -> Value {
    json!({
        "login": p.username,
        "id": num(&p.id),
        "node_id": format!("U_{}", p.id),
        "avatar_url": state.url(&format!("/sandbox/github/{}.png", p.username)),
        "url": state.url(&format!("/sandbox/github/api/users/{}", p.username)),
        "html_url": state.url(&format!("/sandbox/github/{}", p.username)),
        "type": "User",
        "site_admin": false,
    })
}

async fn user(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    let (p, _) = match caller(&state, &req, Call::Identity).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut body = user_json(&state, &p);
    body["name"] = Value::from(p.name());
    body["email"] = Value::from(p.email.clone());
    body["company"] = Value::from("Acme");
    HttpResponse::Ok()
        .insert_header(("x-oauth-scopes", "repo"))
        .json(body)
}

/// The issue's number in its repository: its place among the repository's issues.
fn number_of(tool: &Tool, task: &Task) -> usize {
    tool.tasks
        .iter()
        .filter(|t| t.project == task.project)
        .position(|t| t.id == task.id)
        .map_or(0, |i| i + 1)
}

fn issue_json(state: &SandboxState, tool: &Tool, t: &Task) -> Value {
    let repo = tool
        .project(&t.project)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let n = number_of(tool, t);
    let web = if t.pull_request { "pull" } else { "issues" };
    let assignee = tool.person(&t.assignee).map(|p| user_json(state, p));
    let mut item = json!({
        "id": num(&t.id),
        "node_id": format!("I_{}", t.id),
        "url": state.url(&format!("/sandbox/github/api/repos/{repo}/issues/{n}")),
        "repository_url": state.url(&format!("/sandbox/github/api/repos/{repo}")),
        "html_url": state.url(&format!("/sandbox/github/{repo}/{web}/{n}")),
        "number": n,
        "state": if t.closed { "closed" } else { "open" },
        "state_reason": if t.closed { Value::from("completed") } else { Value::Null },
        "title": t.title,
        "body": Value::Null,
        "user": assignee,
        "labels": [],
        "assignee": assignee,
        "assignees": assignee.iter().collect::<Vec<_>>(),
        "milestone": Value::Null,
        "locked": false,
        "comments": 0,
        "closed_at": Value::Null,
        "created_at": t.updated_at,
        "updated_at": t.updated_at,
        "repository": {
            "id": num(&t.project),
            "name": repo.split('/').nth(1).unwrap_or_default(),
            "full_name": repo,
            "private": true,
            "html_url": state.url(&format!("/sandbox/github/{repo}")),
        },
    });
    if t.pull_request {
        item["pull_request"] = json!({
            "url": state.url(&format!("/sandbox/github/api/repos/{repo}/pulls/{n}")),
            "html_url": state.url(&format!("/sandbox/github/{repo}/pull/{n}")),
            "diff_url": state.url(&format!("/sandbox/github/{repo}/pull/{n}.diff")),
            "patch_url": state.url(&format!("/sandbox/github/{repo}/pull/{n}.patch")),
            "merged_at": Value::Null,
        });
    }
    item
}

/// The `Link` header for page `page` of `last`, keeping the list's own parameters.
fn link_header(
    state: &SandboxState,
    q: &HashMap<String, String>,
    page: usize,
    last: usize,
) -> String {
    let at = |n: usize| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for key in ["filter", "state", "per_page"] {
            if let Some(v) = q.get(key) {
                query.append_pair(key, v);
            }
        }
        query.append_pair("page", &n.to_string());
        state.url_with_query("/sandbox/github/api/issues", &query.finish())
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", at(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", at(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", at(1)));
        links.push(format!("<{}>; rel=\"prev\"", at(page - 1)));
    }
    links.join(", ")
}

/// `GET /issues`: the caller's assigned issues and pull requests, `state` open by default.
async fn issues(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (person, tool) = match caller(&state, &req, Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let wanted = query.get("state").map_or("open", String::as_str);
    let list: Vec<&Task> = tool
        .tasks
        .iter()
        .filter(|t| t.assignee == person.id)
        .filter(|t| match wanted {
            "all" => true,
            "closed" => t.closed,
            _ => !t.closed,
        })
        .collect();
    let per_page = query
        .get("per_page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, MAX_PER_PAGE);
    let page = query
        .get("page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = list.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = list
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|t| issue_json(&state, &tool, t))
        .collect();
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header(("x-ratelimit-limit", "5000"))
        .insert_header(("x-ratelimit-remaining", "4999"))
        .insert_header(("x-ratelimit-resource", "core"))
        .insert_header(("Cache-Control", "private, max-age=60, s-maxage=60"));
    let link = link_header(&state, &query, page, last);
    if !link.is_empty() {
        answer.insert_header(("Link", link));
    }
    json_with_etag(&state, &req, answer, &Value::from(items))
}

async fn issue_page(
    state: web::Data<SandboxState>,
    path: web::Path<(String, String, String, usize)>,
) -> HttpResponse {
    let (owner, repo, _, number) = path.into_inner();
    let full = format!("{owner}/{repo}");
    let tool = state.tool(KIND);
    let task = number.checked_sub(1).and_then(|i| {
        tool.tasks
            .iter()
            .filter(|t| tool.project(&t.project).is_some_and(|p| p.name == full))
            .nth(i)
    });
    let id = task.map(|t| t.id.clone()).unwrap_or_default();
    super::pages::task_page(&state, KIND, &id)
}

/// GitHub: repositories are the projects; everyone has issues and one pull request,
/// Jane a dozen open ones mixing both, over three of the sandbox's pages.
/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::GitHub, today);
    b.account("github", "GitHub", "github", false);
    b.project("70001", "acme/website", "github");
    b.project("70002", "acme/mobile-app", "github");
    b.project("70003", "acme/infrastructure", "github");
    let repos = ["70001", "70002", "70003"];
    let jane = b.person(&JANE, &["github"]);
    b.tasks(&jane, &repos, 14, 5);
    let john = b.person(&JOHN, &["github"]);
    b.tasks(&john, &repos[..2], 5, 0);
    // No Expired Eddie: OAuth App tokens do not expire.
    let rita = PersonSpec {
        note: Some("Signing in works; API calls answer 401 Bad credentials (access revoked), and with no refresh token for a GitHub OAuth App that asks for a reconnect."),
        ..RITA
    };
    let rob = PersonSpec {
        note: Some("Issue calls answer 403 with x-ratelimit-remaining: 0 and x-ratelimit-reset 3 seconds on; after the reset, they work for a minute."),
        ..ROB
    };
    let sid = PersonSpec {
        note: Some("Issue calls answer 502 Server Error, as GitHub's do when it is down."),
        ..SID
    };
    for s in [&rita, &rob, &sid, &SALLY] {
        let id = b.person(s, &["github"]);
        b.tasks(&id, &repos[..1], 3, 0);
    }
    // Each person's first task is a pull request, and every fourth of Jane's.
    let mut seen = std::collections::HashMap::new();
    for t in &mut b.tool.tasks {
        let n = seen.entry(t.assignee.clone()).or_insert(0usize);
        t.pull_request = *n == 0 || (t.assignee == jane && *n % 4 == 0);
        *n += 1;
    }
    b.tool
}
