//! Emulated Asana: OAuth under `/-/` (form-encoded token requests, PKCE, a refresh token
//! from the code exchange only), and under `/api/1.0` the person (`users/me`) and their
//! tasks (`tasks?assignee=…&workspace=…`, compact unless `opt_fields`, paged by `offset`),
//! with errors as `{"errors":[{"message": …}]}`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{json, Value};

use super::oauth::Issued;
use super::seed::Builder;
use super::seed::{Person, Task, Tool};
use super::{retry_after, Call, Called, Gate, SandboxState};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::Asana;
/// The sandbox sends 5 tasks a page at most, whatever `limit` asks (1 to 100), so that
/// a sync always walks `next_page.offset`.
const MAX_PAGE: usize = 5;
const API: &str = "/sandbox/asana/api/1.0";
const HELP: &str = "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(&format!("{API}/users/me"), web::get().to(users_me))
        .route(&format!("{API}/tasks"), web::get().to(tasks))
        .route(
            "/sandbox/asana/1/{workspace}/task/{id}",
            super::pages::task_route(KIND),
        );
}

/// Only the code exchange carries a refresh token.
pub(super) fn token_fields(_: &SandboxState, issued: &Issued) -> Value {
    let p = &issued.person;
    json!({
        "access_token": issued.access_token,
        "expires_in": 3600,
        "token_type": "bearer",
        "data": {
            "id": p.id.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(p.id.clone())),
            "gid": p.id,
            "name": p.name(),
            "email": p.email,
        },
    })
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"errors": [{"message": message, "help": HELP}]}))
}

fn not_authorized() -> HttpResponse {
    error(StatusCode::UNAUTHORIZED, "Not Authorized")
}

fn refusal(gate: Gate, expired: bool) -> HttpResponse {
    match gate {
        Gate::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(retry_after())
            .json(json!({"errors": [{"message": "You've made too many requests and hit a rate limit. Please retry after the given amount of time."}]})),
        Gate::ServerError => HttpResponse::InternalServerError()
            .json(json!({"errors": [{"message": "Server Error", "phrase": "6 sad squid snuggle softly"}]})),
        _ if expired => error(
            StatusCode::UNAUTHORIZED,
            "The bearer token has expired. If you have a refresh token, please use it to request a new bearer token, otherwise allow the user to re-authenticate.",
        ),
        _ => error(StatusCode::UNAUTHORIZED, "Not Authorized"),
    }
}

async fn caller(state: &SandboxState, req: &HttpRequest, call: Call) -> Called {
    state
        .caller((KIND, call), req, not_authorized, refusal)
        .await
}

fn compact(resource_type: &str, gid: &str, name: &str) -> Value {
    json!({"gid": gid, "resource_type": resource_type, "name": name})
}

async fn users_me(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    let (p, tool) = match caller(&state, &req, Call::Identity).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let workspaces: Vec<Value> = p
        .accounts
        .iter()
        .filter_map(|id| tool.account(id))
        .map(|w| compact("workspace", &w.id, &w.name))
        .collect();
    HttpResponse::Ok().json(json!({"data": {
        "gid": p.id,
        "resource_type": "user",
        "name": p.name(),
        "email": p.email,
        "photo": Value::Null,
        "workspaces": workspaces,
    }}))
}

/// A task with every field the sandbox knows, as `GET /tasks/{gid}` would show it.
fn full_task(state: &SandboxState, tool: &Tool, t: &Task) -> Value {
    let project = tool.project(&t.project);
    let project_ref = project.map(|p| compact("project", &p.id, &p.name));
    let workspace = tool.account(&t.account);
    json!({
        "gid": t.id,
        "resource_type": "task",
        "resource_subtype": "default_task",
        "name": t.title,
        "completed": t.closed,
        "completed_at": Value::Null,
        "due_on": t.due_on.map(|d| d.to_string()),
        "due_at": Value::Null,
        "modified_at": t.updated_at,
        "permalink_url": state.url(&format!("/sandbox/asana/1/{}/task/{}", t.account, t.id)),
        "projects": project_ref.iter().collect::<Vec<_>>(),
        "memberships": project_ref.iter().map(|p| json!({
            "project": p,
            "section": {"gid": format!("{}1", t.project), "resource_type": "section", "name": "Untitled section"},
        })).collect::<Vec<_>>(),
        "workspace": workspace.map(|w| compact("workspace", &w.id, &w.name)),
        "assignee": tool.person(&t.assignee).map(|p| compact("user", &p.id, &p.name())),
    })
}

/// The fields of `full` that `opt_fields` asks for (by their first part: `projects.name`
/// keeps `projects`), with `gid` always; without `opt_fields`, Asana's compact record.
fn with_fields(full: Value, opt_fields: Option<&str>) -> Value {
    let wanted: Vec<&str> = match opt_fields {
        Some(f) => f
            .split(',')
            .filter_map(|f| f.trim().split('.').next())
            .collect(),
        None => vec!["resource_type", "name", "resource_subtype"],
    };
    match full {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k == "gid" || wanted.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

fn offset_token(workspace: &str, index: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{workspace}:{index}"))
}

fn offset_index(workspace: &str, token: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (ws, index) = text.split_once(':')?;
    (ws == workspace).then_some(())?;
    index.parse().ok()
}

/// The checked parameters of a `GET /tasks`: the workspace, who, and the page.
struct TaskQuery {
    workspace: String,
    assignee: String,
    open_only: bool,
    limit: Option<usize>,
    start: usize,
}

fn task_query(
    q: &HashMap<String, String>,
    me: &Person,
    tool: &Tool,
) -> Result<TaskQuery, (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned());
    let workspace = q
        .get("workspace")
        .ok_or_else(|| bad("workspace: Missing input"))?;
    if !me.accounts.contains(workspace) {
        return Err((
            StatusCode::NOT_FOUND,
            format!("workspace: Unknown object: {workspace}"),
        ));
    }
    let assignee = match q.get("assignee").map(String::as_str) {
        Some("me") => me.id.clone(),
        Some(who) => tool
            .person_named(who)
            .map(|p| p.id.clone())
            .ok_or_else(|| bad(&format!("assignee: Unknown object: {who}")))?,
        None => return Err(bad("assignee: Missing input")),
    };
    let open_only = match q.get("completed_since").map(String::as_str) {
        None => false,
        Some("now") => true,
        Some(at) => {
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .map_err(|_| bad("completed_since: Not a valid date-time"))?;
            true
        }
    };
    let limit = match q.get("limit") {
        None => None,
        Some(l) => Some(
            l.parse::<usize>()
                .ok()
                .filter(|l| (1..=100).contains(l))
                .ok_or_else(|| bad("limit: Must be between 1 and 100"))?,
        ),
    };
    let start = match q.get("offset") {
        None => 0,
        Some(o) => offset_index(workspace, o)
            .ok_or_else(|| bad("offset: Your pagination token is invalid or has expired."))?,
    };
    Ok(TaskQuery {
        workspace: workspace.clone(),
        assignee,
        open_only,
        limit,
        start,
    })
}

/// `next_page` for the page that ends before `next`: the same request with its offset.
fn next_page(state: &SandboxState, q: &HashMap<String, String>, token: &str) -> Value {
    let mut pairs: Vec<(&String, &String)> = q.iter().filter(|(k, _)| *k != "offset").collect();
    pairs.sort();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    query.append_pair("offset", token);
    let query = query.finish();
    json!({
        "offset": token,
        "path": format!("/tasks?{query}"),
        "uri": state.url_with_query(&format!("{API}/tasks"), &query),
    })
}

async fn tasks(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (me, tool) = match caller(&state, &req, Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let q = match task_query(&query, &me, &tool) {
        Ok(q) => q,
        Err((status, message)) => return error(status, &message),
    };
    let matching: Vec<&Task> = tool
        .tasks
        .iter()
        .filter(|t| t.account == q.workspace && t.assignee == q.assignee)
        .filter(|t| !(q.open_only && t.closed))
        .collect();
    // Without `limit` Asana answers one unpaged list (cut short when very long).
    let size = q.limit.map_or(matching.len(), |l| l.min(MAX_PAGE));
    let end = q.start.saturating_add(size).min(matching.len());
    let opt_fields = query.get("opt_fields").map(String::as_str);
    let data: Vec<Value> = matching
        .get(q.start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|t| with_fields(full_task(&state, &tool, t), opt_fields))
        .collect();
    let next = match q.limit {
        Some(_) if end < matching.len() => {
            next_page(&state, &query, &offset_token(&q.workspace, end))
        }
        _ => Value::Null,
    };
    HttpResponse::Ok().json(json!({"data": data, "next_page": next}))
}

/// Asana's workspaces: Jane is in both, so her tasks come from two workspaces, the
/// first over several pages.
/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let acme = "1202000000000001";
    let labs = "1202000000000002";
    let mut b = Builder::new(ProviderKind::Asana, today);
    b.account(acme, "Acme", "workspace", false);
    b.account(labs, "Acme Labs", "workspace", false);
    b.project("1203000000000001", "Website Redesign", acme);
    b.project("1203000000000002", "Mobile App", acme);
    b.project("1203000000000003", "Office Move", acme);
    b.project("1203000000000004", "Research", labs);
    b.usual_people(
        &["1203000000000001", "1203000000000002", "1203000000000003"],
        acme,
        true,
    );
    let jane = b
        .tool
        .people
        .first()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    if let Some(p) = b.tool.people.first_mut() {
        p.accounts.push(labs.into());
        p.note = Some("Works normally. In two workspaces (Acme and Acme Labs); Acme's tasks come over several pages.");
    }
    b.tasks(&jane, &["1203000000000004"], 3, 0);
    b.tool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_belong_to_their_workspace() {
        let t = offset_token("111", 5);
        assert_eq!(offset_index("111", &t), Some(5));
        assert_eq!(offset_index("222", &t), None);
        assert_eq!(offset_index("111", "garbage!"), None);
    }

    #[test]
    fn records_are_compact_unless_fields_are_asked_for() {
        let full = json!({"gid": "1", "resource_type": "task", "name": "n", "resource_subtype": "default_task", "due_on": "2026-01-01", "projects": []});
        let compact = with_fields(full.clone(), None);
        assert!(compact.get("due_on").is_none() && compact.get("name").is_some());
        let asked = with_fields(full, Some("name,due_on,projects.name"));
        assert!(asked.get("due_on").is_some() && asked.get("projects").is_some());
        assert!(asked.get("resource_subtype").is_none());
    }
}
