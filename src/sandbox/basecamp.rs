//! Emulated Basecamp: Launchpad OAuth and identity, and the bc3 API of each account.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::oauth::Issued;
use super::seed::{spec, Behaviour, Builder, PersonSpec};
use super::seed::{Account, Person, Task, Tool};
use super::{pass, retry_after, Call, Gate, SandboxState};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::Basecamp;
const TWO_WEEKS: i64 = 1_209_600;
/// Basecamp's geared page sizes: 15, 30, 50, then 100.
const GEARS: [usize; 3] = [15, 30, 50];

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/sandbox/basecamp/launchpad/authorization.json",
        web::get().to(authorization),
    )
    .route(
        "/sandbox/basecamp/api/{account}/my/profile.json",
        web::get().to(profile),
    )
    .route(
        "/sandbox/basecamp/api/{account}/my/assignments.json",
        web::get().to(assignments),
    )
    .route(
        "/sandbox/basecamp/api/{account}/reports/todos/assigned/{person}.json",
        web::get().to(assigned_report),
    )
    .route(
        "/sandbox/basecamp/app/{account}/buckets/{bucket}/todos/{id}",
        super::pages::task_route(KIND),
    );
}

pub(super) fn token_fields(_: &SandboxState, issued: &Issued) -> Value {
    json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": TWO_WEEKS,
    })
}

/// Ids are numbers in Basecamp's JSON.
fn num(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

fn error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

fn refusal(gate: Gate) -> HttpResponse {
    match gate {
        Gate::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(retry_after())
            .json(json!({"error": "Rate limit exceeded"})),
        Gate::ServerError => error(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
        ),
        _ => unauthorized(),
    }
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer realm=\"Basecamp\""))
        .json(json!({"error": "OAuth token expired or invalid"}))
}

/// Basecamp refuses requests that do not say who is calling.
fn has_user_agent(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty())
}

fn missing_user_agent() -> HttpResponse {
    error(
        actix_web::http::StatusCode::BAD_REQUEST,
        "Please include a User-Agent header naming your app and a link or email to contact you",
    )
}

/// The caller, checked the way Basecamp does: User-Agent, token, then the account.
async fn caller(
    state: &SandboxState,
    req: &HttpRequest,
    account: Option<&str>,
    call: Call,
) -> Result<(Person, Tool), HttpResponse> {
    if !has_user_agent(req) {
        return Err(missing_user_agent());
    }
    let (person, grant) = state.bearer(KIND, req).ok_or_else(unauthorized)?;
    let gate = state.gate(KIND, &person, Some(&grant), call);
    pass(gate).await.map_err(refusal)?;
    let tool = state.tool(KIND);
    if let Some(id) = account {
        let reachable = person.accounts.iter().any(|a| a == id)
            && tool.account(id).is_some_and(|a| a.product == "bc3");
        if !reachable {
            return Err(error(actix_web::http::StatusCode::NOT_FOUND, "Not found"));
        }
    }
    Ok((person, tool))
}

async fn authorization(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    let (person, tool) = match caller(&state, &req, None, Call::Identity).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let expires_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(TWO_WEEKS);
    let accounts: Vec<Value> = person
        .accounts
        .iter()
        .filter_map(|id| tool.account(id))
        .map(|a: &Account| {
            let href = if a.product == "bc3" {
                state.url(&format!("/sandbox/basecamp/api/{}", a.id))
            } else {
                state.url(&format!("/sandbox/basecamp/bcx/{}/api/v1", a.id))
            };
            json!({
                "product": a.product,
                "id": num(&a.id),
                "name": a.name,
                "href": href,
                "app_href": state.url(&format!("/sandbox/basecamp/app/{}", a.id)),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "expires_at": expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "identity": {
            "id": num(&person.id),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email_address": person.email,
        },
        "accounts": accounts,
    }))
}

fn person_json(state: &SandboxState, p: &Person, account: &str, tool: &Tool) -> Value {
    json!({
        "id": num(&p.person_id),
        "name": p.name(),
        "email_address": p.email,
        "personable_type": "User",
        "title": Value::Null,
        "bio": Value::Null,
        "location": Value::Null,
        "admin": false,
        "owner": false,
        "client": false,
        "employee": true,
        "time_zone": "Etc/UTC",
        "avatar_url": state.url(&format!("/sandbox/basecamp/api/{account}/people/{}/avatar", p.person_id)),
        "company": {"id": 1, "name": tool.account(account).map(|a| a.name.clone()).unwrap_or_default()},
        "can_ping": true,
        "can_manage_projects": true,
        "can_manage_people": false,
        "can_access_timesheet": false,
        "can_access_hill_charts": true,
    })
}

async fn profile(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let account = path.into_inner();
    match caller(&state, &req, Some(&account), Call::Identity).await {
        Ok((person, tool)) => {
            HttpResponse::Ok().json(person_json(&state, &person, &account, &tool))
        }
        Err(r) => r,
    }
}

fn todo_urls(state: &SandboxState, t: &Task) -> (String, String, String) {
    let bucket_app = state.url(&format!(
        "/sandbox/basecamp/app/{}/buckets/{}",
        t.account, t.project
    ));
    let app = format!("{bucket_app}/todos/{}", t.id);
    let api = state.url(&format!(
        "/sandbox/basecamp/api/{}/todos/{}.json",
        t.account, t.id
    ));
    (bucket_app, app, api)
}

fn open_tasks_of<'a>(tool: &'a Tool, person: &Person, account: &str) -> Vec<&'a Task> {
    tool.tasks
        .iter()
        .filter(|t| t.assignee == person.id && t.account == account && !t.closed)
        .collect()
}

fn assignment_json(
    state: &SandboxState,
    tool: &Tool,
    person: &Person,
    t: &Task,
    priority: bool,
) -> Value {
    let (bucket_app, app, _) = todo_urls(state, t);
    let project = tool
        .project(&t.project)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut item = json!({
        "id": num(&t.id),
        "app_url": app,
        "content": t.title,
        "starts_on": Value::Null,
        "due_on": t.due_on.map(|d| d.to_string()),
        "bucket": {"id": num(&t.project), "name": project, "app_url": bucket_app},
        "completed": t.closed,
        "type": "todo",
        "assignees": [{"id": num(&person.person_id), "name": person.name()}],
        "comments_count": 0,
        "has_description": false,
        "parent": {"id": num(&format!("{}1", t.project)), "title": "To-dos", "app_url": format!("{bucket_app}/todolists/{}1", t.project)},
        "children": [],
    });
    if priority {
        item["priority_recording_id"] = num(&format!("{}7", t.id));
    }
    item
}

async fn assignments(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let account = path.into_inner();
    let (person, tool) = match caller(&state, &req, Some(&account), Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if tool.account(&account).is_some_and(|a| a.legacy) {
        return error(actix_web::http::StatusCode::NOT_FOUND, "Not found");
    }
    let tasks = open_tasks_of(&tool, &person, &account);
    let (priorities, rest) = tasks.split_at(2.min(tasks.len()));
    let body = json!({
        "priorities": priorities.iter().map(|t| assignment_json(&state, &tool, &person, t, true)).collect::<Vec<_>>(),
        "non_priorities": rest.iter().map(|t| assignment_json(&state, &tool, &person, t, false)).collect::<Vec<_>>(),
    });
    with_etag(&state, &req, body, None)
}

fn todo_json(
    state: &SandboxState,
    tool: &Tool,
    person: &Person,
    account: &str,
    t: &Task,
    position: usize,
) -> Value {
    let (bucket_app, app, api) = todo_urls(state, t);
    let project = tool
        .project(&t.project)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    json!({
        "id": num(&t.id),
        "status": "active",
        "visible_to_clients": false,
        "created_at": t.updated_at,
        "updated_at": t.updated_at,
        "title": t.title,
        "inherits_status": true,
        "type": "Todo",
        "url": api,
        "app_url": app,
        "comments_count": 0,
        "position": position,
        "parent": {
            "id": num(&format!("{}1", t.project)),
            "title": "To-dos",
            "type": "Todolist",
            "url": state.url(&format!("/sandbox/basecamp/api/{account}/todolists/{}1.json", t.project)),
            "app_url": format!("{bucket_app}/todolists/{}1", t.project),
        },
        "bucket": {"id": num(&t.project), "name": project, "type": "Project"},
        "description": "",
        "completed": t.closed,
        "content": t.title,
        "starts_on": Value::Null,
        "due_on": t.due_on.map(|d| d.to_string()),
        "assignees": [person_json(state, person, account, tool)],
    })
}

/// The slice of `total` items on geared page `page` (1-based), and whether more follow.
fn gear(page: usize, total: usize) -> (usize, usize, bool) {
    let mut start = 0;
    for p in 1..page {
        start += GEARS.get(p - 1).copied().unwrap_or(100);
    }
    let size = GEARS.get(page - 1).copied().unwrap_or(100);
    let start = start.min(total);
    let end = (start + size).min(total);
    (start, end, end < total)
}

async fn assigned_report(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (account, person_id) = path.into_inner();
    let (_caller, tool) = match caller(&state, &req, Some(&account), Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(person) = tool
        .people
        .iter()
        .find(|p| p.person_id == person_id && p.accounts.contains(&account))
    else {
        return error(actix_web::http::StatusCode::NOT_FOUND, "Not found");
    };
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let tasks = open_tasks_of(&tool, person, &account);
    let (start, end, more) = gear(page, tasks.len());
    let todos: Vec<Value> = tasks[start..end]
        .iter()
        .enumerate()
        .map(|(i, t)| todo_json(&state, &tool, person, &account, t, start + i + 1))
        .collect();
    let body = json!({
        "person": person_json(&state, person, &account, &tool),
        "grouped_by": "bucket",
        "todos": todos,
    });
    let next = more.then(|| {
        state.url_with_query(
            &format!("/sandbox/basecamp/api/{account}/reports/todos/assigned/{person_id}.json"),
            &format!("page={}", page + 1),
        )
    });
    let mut response = with_etag(&state, &req, body, next.as_deref());
    if let Ok(v) = header::HeaderValue::from_str(&tasks.len().to_string()) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("x-total-count"), v);
    }
    response
}

/// A JSON answer with an ETag, or 304 when the caller already has it.
fn with_etag(
    state: &SandboxState,
    req: &HttpRequest,
    body: Value,
    next: Option<&str>,
) -> HttpResponse {
    let mut answer = HttpResponse::Ok();
    answer.insert_header((header::CACHE_CONTROL, "max-age=0, private, must-revalidate"));
    if let Some(next) = next {
        answer.insert_header((header::LINK, format!("<{next}>; rel=\"next\"")));
    }
    super::json_with_etag(state, req, answer, &body)
}

/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::Basecamp, today);
    b.account("5550001", "Acme", "bc3", false);
    b.account("5550002", "Globex", "bc3", false);
    b.account("5550003", "Initech", "bc3", false);
    b.account("5550004", "Acme (Basecamp 2)", "bcx", false);
    b.account("5550005", "Acme Archive", "bc3", true);
    b.project("2085958501", "Website Redesign", "5550001");
    b.project("2085958502", "Mobile App", "5550001");
    b.project("2085958503", "Office Move", "5550001");
    b.project("2085958504", "Globex Launch", "5550002");
    b.project("2085958505", "TPS Reports", "5550003");
    b.project("2085958506", "Old Projects", "5550005");
    b.usual_people(&["2085958501", "2085958502", "2085958503"], "5550001", true);
    let sam = b.person(
        &PersonSpec {
            note: Some("One sign-in reaching three Basecamp accounts (Acme, Globex, Initech) and an old Basecamp 2 account that must be ignored."),
            accounts: &["5550001", "5550002", "5550003", "5550004"],
            ..spec("Several", "Sam", "sam.several@acme.test", "sam", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&sam, &["2085958501"], 2, 0);
    b.tasks(&sam, &["2085958504"], 3, 0);
    b.tasks(&sam, &["2085958505"], 4, 0);
    let lou = b.person(
        &PersonSpec {
            note: Some("An older Basecamp without /my/assignments.json (404): tasks come from the paginated assigned to-dos report, 40 of them."),
            accounts: &["5550005"],
            ..spec("Legacy", "Lou", "lou.legacy@acme.test", "lou", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&lou, &["2085958506"], 40, 0);
    b.tool
}

#[cfg(test)]
mod tests {
    use super::gear;

    #[test]
    fn pages_are_geared() {
        assert_eq!(gear(1, 40), (0, 15, true));
        assert_eq!(gear(2, 40), (15, 40, false));
        assert_eq!(gear(3, 200), (45, 95, true));
        assert_eq!(gear(4, 200), (95, 195, true));
        assert_eq!(gear(1, 0), (0, 0, false));
    }
}
