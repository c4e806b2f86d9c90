//! Emulated Pivotal Tracker API v5: `X-TrackerToken`, `/me`, stories with offset paging,
//! `ETag`s and 304s.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::pages::{self, esc};
use super::seed::{
    projects_static, spec, Behaviour, Builder, PersonSpec, JANE, JOHN, ROB, SALLY, SID,
};
use super::seed::{Person, Task, Tool};
use super::{json_with_etag, pass, retry_after, Call, Gate, SandboxState};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::PivotalTracker;
/// The sandbox pages by 5 at most, whatever the client asks, so paging is always exercised.
const MAX_LIMIT: usize = 5;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sandbox/pivotal", web::get().to(landing))
        .route("/sandbox/pivotal/", web::get().to(landing))
        .route("/sandbox/pivotal/services/v5/me", web::get().to(me))
        .route(
            "/sandbox/pivotal/services/v5/projects/{project}/stories",
            web::get().to(stories),
        )
        .route(
            "/sandbox/pivotal/story/show/{id}",
            super::pages::task_route(KIND),
        );
}

fn tracker_error(status: StatusCode, code: &str, error: &str, fix: Option<&str>) -> HttpResponse {
    let mut body = json!({"code": code, "kind": "error", "error": error});
    if let Some(fix) = fix {
        body["possible_fix"] = Value::from(fix);
    }
    HttpResponse::build(status).json(body)
}

fn invalid_authentication() -> HttpResponse {
    tracker_error(
        StatusCode::FORBIDDEN,
        "invalid_authentication",
        "Invalid authentication credentials were presented.",
        Some("Verify that your token value matches what's shown on your Profile page in Tracker."),
    )
}

fn refusal(gate: Gate) -> HttpResponse {
    match gate {
        Gate::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(retry_after())
            .json(json!({
                "code": "rate_limit_exceeded",
                "kind": "error",
                "error": "Too many requests; please wait before trying again.",
            })),
        Gate::ServerError => tracker_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "An unexpected error occurred on the server.",
            None,
        ),
        _ => invalid_authentication(),
    }
}

/// The person whose API token the request carries.
fn token_holder(state: &SandboxState, req: &HttpRequest) -> Option<(Person, Tool)> {
    let token = req.headers().get("X-TrackerToken")?.to_str().ok()?;
    let tool = state.tool(KIND);
    let person = tool
        .people
        .iter()
        .find(|p| p.token.as_deref() == Some(token))?
        .clone();
    Some((person, tool))
}

async fn caller(
    state: &SandboxState,
    req: &HttpRequest,
    call: Call,
) -> Result<(Person, Tool), HttpResponse> {
    let (person, tool) = token_holder(state, req).ok_or_else(invalid_authentication)?;
    pass(state.gate(KIND, &person, None, call))
        .await
        .map_err(refusal)?;
    Ok((person, tool))
}

fn num(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

fn initials(p: &Person) -> String {
    p.first_name
        .chars()
        .take(1)
        .chain(p.last_name.chars().take(1))
        .collect::<String>()
        .to_uppercase()
}

async fn me(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    let (p, tool) = match caller(&state, &req, Call::Identity).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let projects: Vec<Value> = p
        .accounts
        .iter()
        .enumerate()
        .filter_map(|(i, id)| tool.project(id).map(|pr| (i, pr)))
        .map(|(i, pr)| {
            json!({
                "kind": "membership_summary",
                "id": 4_000_000 + i,
                "project_id": num(&pr.id),
                "project_name": pr.name,
                "project_color": "555555",
                "favorite": false,
                "role": "member",
                "last_viewed_at": "2025-04-01T09:00:00Z",
            })
        })
        .collect();
    let body = json!({
        "kind": "me",
        "id": num(&p.id),
        "name": p.name(),
        "initials": initials(&p),
        "username": p.username,
        "time_zone": {"kind": "time_zone", "olson_name": "Etc/UTC", "offset": "+00:00"},
        "api_token": p.token,
        "has_google_identity": false,
        "projects": projects,
        "email": p.email,
        "receives_in_app_notifications": true,
        "created_at": "2014-03-02T07:09:48Z",
        "updated_at": "2025-04-01T09:00:00Z",
    });
    json_with_etag(&state, &req, HttpResponse::Ok(), &body)
}

/// Splits a Tracker search string into terms, keeping quoted values together.
fn terms(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in filter.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a story matches the search terms the sandbox understands (`owner:`, `state:`).
fn matches(terms: &[String], task: &Task, tool: &Tool) -> bool {
    terms.iter().all(|term| {
        let (negated, term) = match term.strip_prefix('-') {
            Some(t) => (true, t),
            None => (false, term.as_str()),
        };
        let Some((key, value)) = term.split_once(':') else {
            return true;
        };
        let hit = match key {
            "owner" => tool.person(&task.assignee).is_some_and(|p| {
                p.username.eq_ignore_ascii_case(value)
                    || initials(p).eq_ignore_ascii_case(value)
                    || p.name().eq_ignore_ascii_case(value)
            }),
            "state" => task.status.eq_ignore_ascii_case(value),
            _ => return true,
        };
        hit != negated
    })
}

fn story_json(state: &SandboxState, tool: &Tool, t: &Task, with_owners: bool) -> Value {
    let seq: usize = t.id.bytes().map(usize::from).sum();
    let story_type = match t.due_on {
        // Only releases carry a deadline in Tracker.
        Some(_) => "release",
        None => ["feature", "bug", "chore"][seq % 3],
    };
    let mut story = json!({
        "kind": "story",
        "id": num(&t.id),
        "created_at": t.updated_at,
        "updated_at": t.updated_at,
        "story_type": story_type,
        "name": t.title,
        "description": "",
        "current_state": t.status,
        "requested_by_id": tool.people.first().map(|p| num(&p.id)),
        "url": state.url(&format!("/sandbox/pivotal/story/show/{}", t.id)),
        "project_id": num(&t.project),
        "owner_ids": [num(&t.assignee)],
        "labels": [],
    });
    if let Some(d) = t.due_on {
        story["deadline"] = Value::from(format!("{d}T00:00:00Z"));
    }
    if t.closed {
        story["accepted_at"] = Value::from(t.updated_at.clone());
    }
    if with_owners {
        story["owners"] = json!(tool
            .person(&t.assignee)
            .map(|p| vec![json!({
                "kind": "person",
                "id": num(&p.id),
                "name": p.name(),
                "email": p.email,
                "initials": initials(p),
                "username": p.username,
            })])
            .unwrap_or_default());
    }
    story
}

async fn stories(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let project = path.into_inner();
    let (person, tool) = match caller(&state, &req, Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if tool.project(&project).is_none() {
        return tracker_error(
            StatusCode::NOT_FOUND,
            "unfound_resource",
            "The object you tried to access could not be found.  It may have been removed by another user, you may be using the ID of another object type, or you may be trying to access a sub-resource at the wrong point in a tree.",
            None,
        );
    }
    if !person.accounts.contains(&project) {
        return tracker_error(
            StatusCode::FORBIDDEN,
            "unauthorized_operation",
            "Authorization failure.",
            None,
        );
    }
    let terms = terms(query.get("filter").map(String::as_str).unwrap_or(""));
    let with_state = query.get("with_state");
    let all: Vec<&Task> = tool
        .tasks
        .iter()
        .filter(|t| t.project == project)
        .filter(|t| with_state.is_none_or(|s| &t.status == s))
        .filter(|t| matches(&terms, t, &tool))
        .collect();
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, MAX_LIMIT);
    let offset = query
        .get("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let with_owners = query
        .get("fields")
        .is_some_and(|f| f.split(',').any(|x| x == "owners"));
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|t| story_json(&state, &tool, t, with_owners))
        .collect();
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header(("X-Tracker-Pagination-Total", all.len().to_string()))
        .insert_header(("X-Tracker-Pagination-Limit", limit.to_string()))
        .insert_header(("X-Tracker-Pagination-Offset", offset.to_string()))
        .insert_header(("X-Tracker-Pagination-Returned", page.len().to_string()))
        .insert_header(("X-Tracker-Project-Version", "42"));
    json_with_etag(&state, &req, answer, &Value::Array(page))
}

async fn landing(state: web::Data<SandboxState>) -> HttpResponse {
    let tool = state.tool(KIND);
    let mut body = String::from(
        "<p>Pivotal Tracker connects with a personal API token. Paste one of these into \
         taskbridge's \"API token\" field. Any other token is refused as invalid.</p><ul class=\"people\">",
    );
    for p in &tool.people {
        body.push_str(&format!(
            "<li>{}<p>API token: <code>{}</code></p></li>",
            pages::person_html(p),
            esc(p.token.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</ul>");
    pages::page(&state, StatusCode::OK, "API tokens", Some(KIND), &body)
}

/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::PivotalTracker, today);
    b.account("pivotal", "Pivotal Tracker", "tracker", false);
    b.project("2001001", "Website Redesign", "pivotal");
    b.project("2001002", "Mobile App", "pivotal");
    b.project("2001003", "Billing", "pivotal");
    let tokens = [
        ("sandbox-jane-doe", &JANE),
        ("sandbox-john-roe", &JOHN),
        ("sandbox-rate-limited", &ROB),
        ("sandbox-server-error", &SID),
        ("sandbox-slow", &SALLY),
    ];
    for (i, (token, s)) in tokens.into_iter().enumerate() {
        let projects = projects_static(i);
        let id = b.person(
            &PersonSpec {
                token: Some(token),
                accounts: projects_static(i),
                ..spec(s.first, s.last, s.email, s.username, s.behaviour)
            },
            &[],
        );
        let n = match i {
            0 => 12,
            1 => 7,
            _ => 3,
        };
        b.tasks(&id, projects, n, if i == 0 { 5 } else { 0 });
    }
    let max = b.person(
        &PersonSpec {
            token: Some("sandbox-many-stories"),
            note: Some("13 stories in one project: they come over several pages of the stories list (offset paging)."),
            accounts: &["2001003"],
            ..spec("Many", "Max", "max.many@acme.test", "max", Behaviour::Normal)
        },
        &[],
    );
    b.tasks(&max, &["2001003"], 13, 0);
    b.tool
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn search_terms_keep_quoted_values_together() {
        assert_eq!(
            terms("owner:\"Jane Doe\" -state:accepted"),
            ["owner:Jane Doe", "-state:accepted"]
        );
    }
}
