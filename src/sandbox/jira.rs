//! Emulated Jira Cloud: Atlassian's 3LO (JSON token requests, rotating refresh tokens, no
//! PKCE), `accessible-resources`, `/myself` and `/search/jql` paged by `nextPageToken`,
//! on a gateway path per site (`/ex/jira/<cloudId>/…`) as the real API gateway has.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::oauth::{self, TokenParams};
use super::seed::{spec, Behaviour, Builder, PersonSpec, JIRA_ACME, JIRA_GLOBEX, JIRA_WIKI};
use super::seed::{Account, Person, Task, Tool};
use super::{retry_after, Call, Called, Gate, SandboxState};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::Jira;
/// The sandbox sends 5 issues a page at most, whatever `maxResults` says (Jira too may
/// send fewer than asked), so paging by `nextPageToken` is always exercised.
const MAX_RESULTS: usize = 5;
const API: &str = "/sandbox/jira/api/ex/jira/{cloud}/rest/api/3";
const SCOPES: &str = "read:jira-work read:jira-user offline_access";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sandbox/jira/auth/oauth/token", web::post().to(token))
        .route(
            "/sandbox/jira/api/oauth/token/accessible-resources",
            web::get().to(accessible_resources),
        )
        .route(&format!("{API}/myself"), web::get().to(myself))
        .route(&format!("{API}/search/jql"), web::get().to(search_get))
        .route(&format!("{API}/search/jql"), web::post().to(search_post))
        .route(&format!("{API}/search"), web::route().to(old_search))
        .route(
            "/sandbox/jira/site/{site}/browse/{key}",
            web::get().to(browse),
        );
}

/// Atlassian's token endpoint: JSON only; a wrong or missing client secret is `401
/// access_denied` and a spent refresh token `403 invalid_grant` (as Atlassian documents
/// and was observed).
async fn token(state: web::Data<SandboxState>, body: web::Json<Value>) -> HttpResponse {
    let params = TokenParams::from_json(&body);
    let refreshing = body.get("grant_type").and_then(Value::as_str) == Some("refresh_token");
    match oauth::token(&state, KIND, &params) {
        Ok(issued) => {
            let answer = json!({
                "access_token": issued.access_token,
                "expires_in": 3600,
                "scope": SCOPES,
                "token_type": "bearer",
            });
            oauth::token_answer(answer, issued.refresh_token)
        }
        Err(e) if e.error == "invalid_client" => HttpResponse::Unauthorized()
            .json(json!({"error": "access_denied", "error_description": "Unauthorized"})),
        Err(e) if refreshing && e.error == "invalid_grant" => HttpResponse::Forbidden().json(
            json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}),
        ),
        Err(e) => oauth::token_error_response(&e),
    }
}

fn error_collection(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"errorMessages": [message], "errors": {}}))
}

/// The gateway's answer to a missing, expired or revoked token (observed shape).
fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"code": 401, "message": "Unauthorized"}))
}

fn refusal(gate: Gate) -> HttpResponse {
    match gate {
        Gate::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(retry_after())
            .insert_header(("RateLimit-Reason", "jira-quota-based"))
            .json(json!({"errorMessages": ["Rate limit exceeded."], "errors": {}})),
        Gate::ServerError => {
            error_collection(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
        }
        _ => unauthorized(),
    }
}

async fn caller(state: &SandboxState, req: &HttpRequest, call: Call) -> Called {
    state
        .caller((KIND, call), req, unauthorized, |gate, _| refusal(gate))
        .await
}

fn site_slug(account: &Account) -> String {
    account.name.to_lowercase().replace(' ', "-")
}

fn site_url(state: &SandboxState, account: &Account) -> String {
    state.url(&format!("/sandbox/jira/site/{}", site_slug(account)))
}

async fn accessible_resources(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    let (person, tool) = match caller(&state, &req, Call::Identity).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // In no particular order, as Atlassian says: the Confluence site comes first.
    let sites: Vec<Value> = person
        .accounts
        .iter()
        .rev()
        .filter_map(|id| tool.account(id))
        .map(|a| {
            let scopes: &[&str] = if a.product == "jira" {
                &["read:jira-work", "read:jira-user"]
            } else {
                &["read:confluence-content.all"]
            };
            json!({
                "id": a.id,
                "name": a.name,
                "url": site_url(&state, a),
                "scopes": scopes,
                "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
            })
        })
        .collect();
    HttpResponse::Ok().json(sites)
}

/// The caller and the Jira site the path names, which their grant must reach.
async fn on_site(
    state: &SandboxState,
    req: &HttpRequest,
    cloud: &str,
    call: Call,
) -> Result<(Person, Tool, Account), HttpResponse> {
    let (person, tool) = caller(state, req, call).await?;
    let site = tool
        .account(cloud)
        .filter(|a| a.product == "jira" && person.accounts.iter().any(|id| id == cloud))
        .cloned()
        .ok_or_else(unauthorized)?;
    Ok((person, tool, site))
}

async fn myself(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (p, _, _) = match on_site(&state, &req, &path, Call::Identity).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    HttpResponse::Ok().json(json!({
        "accountId": p.id,
        "accountType": "atlassian",
        "active": true,
        "displayName": p.name(),
        "emailAddress": p.email,
        "timeZone": "Europe/London",
        "locale": "en_GB",
        "self": state.url(&format!("/sandbox/jira/api/ex/jira/{}/rest/api/3/user", path.as_str())),
    }))
}

/// Jira's project keys for the sample projects.
fn project_key(project: &str) -> &'static str {
    match project {
        "10000" => "WEB",
        "10001" => "MOB",
        "10002" => "OFF",
        "10003" => "GLX",
        _ => "PROJ",
    }
}

fn issue_key(task: &Task) -> String {
    let n = task
        .id
        .parse::<u64>()
        .map_or(0, |id| id.saturating_sub(10_000));
    format!("{}-{n}", project_key(&task.project))
}

/// What a search asks, from the query string (GET) or the JSON body (POST).
#[derive(Default)]
struct Search {
    jql: String,
    next_page_token: Option<String>,
    max_results: Option<usize>,
    /// `None`: not asked, and Jira then sends the issues' ids only.
    fields: Option<Vec<String>>,
}

async fn search_get(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let search = Search {
        jql: query.get("jql").cloned().unwrap_or_default(),
        next_page_token: query.get("nextPageToken").cloned(),
        max_results: query.get("maxResults").and_then(|m| m.parse().ok()),
        fields: query
            .get("fields")
            .map(|f| f.split(',').map(|s| s.trim().to_string()).collect()),
    };
    search_issues(&state, &req, &path, search).await
}

async fn search_post(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let search = Search {
        jql: text("jql").unwrap_or_default(),
        next_page_token: text("nextPageToken"),
        max_results: body
            .get("maxResults")
            .and_then(Value::as_u64)
            .map(|m| m as usize),
        fields: body.get("fields").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        }),
    };
    search_issues(&state, &req, &path, search).await
}

/// Which issues a JQL selects, for the only queries the sandbox understands: those
/// bounded by `assignee = currentUser()`, with or without `statusCategory != Done`.
fn open_only(jql: &str) -> Option<bool> {
    let flat: String = jql
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    flat.contains("assignee=currentuser()")
        .then(|| flat.contains("statuscategory!=done"))
}

fn page_offset(token: Option<&str>) -> Option<usize> {
    match token {
        None => Some(0),
        Some(t) => t.strip_prefix("sbx-page-")?.parse().ok(),
    }
}

async fn search_issues(
    state: &SandboxState,
    req: &HttpRequest,
    cloud: &str,
    search: Search,
) -> HttpResponse {
    let (person, tool, site) = match on_site(state, req, cloud, Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(open_only) = open_only(&search.jql) else {
        return error_collection(
            StatusCode::BAD_REQUEST,
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        );
    };
    let Some(offset) = page_offset(search.next_page_token.as_deref()) else {
        return error_collection(
            StatusCode::BAD_REQUEST,
            "The provided next page token is invalid or expired.",
        );
    };
    let mut issues: Vec<&Task> = tool
        .tasks
        .iter()
        .filter(|t| t.account == site.id && t.assignee == person.id)
        .filter(|t| !(open_only && t.closed))
        .collect();
    issues.sort_by(|a, b| a.id.cmp(&b.id));
    let size = search.max_results.unwrap_or(50).clamp(1, MAX_RESULTS);
    let end = (offset + size).min(issues.len());
    let page: Vec<Value> = issues
        .get(offset.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|t| issue_json(state, &tool, t, cloud, search.fields.as_deref()))
        .collect();
    let is_last = end >= issues.len();
    let mut answer = json!({"issues": page, "isLast": is_last});
    if !is_last {
        answer["nextPageToken"] = Value::from(format!("sbx-page-{end}"));
    }
    HttpResponse::Ok().json(answer)
}

fn status_category(task: &Task) -> Value {
    let (id, key, name) = match task.status.as_str() {
        "Done" => (3, "done", "Done"),
        "To Do" => (2, "new", "To Do"),
        _ => (4, "indeterminate", "In Progress"),
    };
    json!({"id": id, "key": key, "name": name, "colorName": "blue-gray"})
}

fn issue_json(
    state: &SandboxState,
    tool: &Tool,
    task: &Task,
    cloud: &str,
    fields: Option<&[String]>,
) -> Value {
    let wanted = |name: &str| {
        fields.is_some_and(|f| {
            f.iter()
                .any(|x| x == name || x == "*all" || x == "*navigable")
        })
    };
    let project = tool.project(&task.project);
    let all = [
        ("summary", json!(task.title)),
        (
            "status",
            json!({"name": task.status, "statusCategory": status_category(task)}),
        ),
        (
            "duedate",
            task.due_on.map_or(Value::Null, |d| json!(d.to_string())),
        ),
        (
            "project",
            json!({
                "id": task.project,
                "key": project_key(&task.project),
                "name": project.map(|p| p.name.clone()),
            }),
        ),
        ("updated", json!(task.updated_at.replace('Z', ".000+0000"))),
    ];
    let chosen: serde_json::Map<String, Value> = all
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    json!({
        "expand": "",
        "id": task.id,
        "key": issue_key(task),
        "self": state.url(&format!("/sandbox/jira/api/ex/jira/{cloud}/rest/api/3/issue/{}", task.id)),
        "fields": chosen,
    })
}

/// The old `/search`, removed in 2025: 410 with the body Atlassian sends (observed).
async fn old_search() -> HttpResponse {
    error_collection(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

/// `<site>/browse/<KEY>`: the issue's page on its site.
async fn browse(state: web::Data<SandboxState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (site, key) = path.into_inner();
    let tool = state.tool(KIND);
    let id = tool
        .tasks
        .iter()
        .find(|t| {
            issue_key(t) == key
                && tool
                    .account(&t.account)
                    .is_some_and(|a| site_slug(a) == site)
        })
        .map(|t| t.id.clone())
        .unwrap_or_default();
    super::pages::task_page(&state, KIND, &id)
}

/// Sites are accounts (`product` "jira", or "confluence" for a site a Jira connector
/// must leave out); projects' ids are Jira's numeric ones (their keys are in
/// `sandbox::jira`).
/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::Jira, today);
    b.account(JIRA_ACME, "Acme", "jira", false);
    b.account(JIRA_GLOBEX, "Globex", "jira", false);
    b.account(JIRA_WIKI, "Acme Wiki", "confluence", false);
    b.project("10000", "Website Redesign", JIRA_ACME);
    b.project("10001", "Mobile App", JIRA_ACME);
    b.project("10002", "Office Move", JIRA_ACME);
    b.project("10003", "Globex Launch", JIRA_GLOBEX);
    b.usual_people(&["10000", "10001", "10002"], JIRA_ACME, true);
    let sam = b.person(
        &PersonSpec {
            note: Some("One Atlassian sign-in reaching two Jira sites (Acme, Globex) and a Confluence-only site (Acme Wiki) that must be left out."),
            accounts: &[JIRA_ACME, JIRA_GLOBEX, JIRA_WIKI],
            ..spec("Several", "Sam", "sam.several@acme.test", "sam", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&sam, &["10000"], 2, 0);
    b.tasks(&sam, &["10003"], 3, 0);
    b.person(
        &PersonSpec {
            note: Some("Reaches only a Confluence site: there is no Jira site to sync."),
            accounts: &[JIRA_WIKI],
            ..spec(
                "Wiki-only",
                "Wendy",
                "wendy.wiki@acme.test",
                "wendy",
                Behaviour::Normal,
            )
        },
        &[],
    );
    b.tool
}
