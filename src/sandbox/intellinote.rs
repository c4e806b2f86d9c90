//! Emulated Intellinote: OAuth with JSON token requests, `/v2/user/-`, orgs and TASK notes.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::oauth::Issued;
use super::seed::Builder;
use super::seed::{Person, Tool};
use super::{retry_after, Call, Called, Gate, SandboxState};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::Intellinote;
/// The sandbox sends 5 notes a page at most, whatever the client asks, so paging is
/// always exercised (Intellinote's own paging is undocumented: a client cannot count
/// on getting as many as it asked for).
const MAX_LIMIT: usize = 5;
const V: &str = "/sandbox/intellinote/rest/{v:v2(\\.0)?}";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(&format!("{V}/user/-"), web::get().to(user))
        .route(&format!("{V}/orgs"), web::get().to(orgs))
        .route(&format!("{V}/ping/authed"), web::get().to(ping))
        .route(&format!("{V}/org/{{org}}/notes"), web::get().to(notes))
        .route(
            "/sandbox/intellinote/org/{org}/note/{id}",
            super::pages::task_route(KIND),
        );
}

pub(super) fn token_fields(_: &SandboxState, issued: &Issued) -> Value {
    json!({"access_token": issued.access_token, "token_type": "bearer"})
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(json!({"error": "Active authorization bearer token required."}))
}

fn refusal(gate: Gate) -> HttpResponse {
    match gate {
        Gate::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(retry_after())
            .json(json!({"error": "Too many requests. Please slow down."})),
        Gate::ServerError => {
            HttpResponse::InternalServerError().json(json!({"error": "Internal server error."}))
        }
        _ => unauthorized(),
    }
}

async fn caller(state: &SandboxState, req: &HttpRequest, call: Call) -> Called {
    state
        .caller((KIND, call), req, unauthorized, |gate, _| refusal(gate))
        .await
}

fn orgs_of(person: &Person, tool: &Tool) -> Vec<Value> {
    person
        .accounts
        .iter()
        .filter_map(|id| tool.account(id))
        .map(|a| json!({"org_id": num(&a.id), "name": a.name}))
        .collect()
}

fn num(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

async fn user(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    match caller(&state, &req, Call::Identity).await {
        Ok((p, tool)) => HttpResponse::Ok().json(json!({
            "user_id": p.id,
            "given_name": p.first_name,
            "family_name": p.last_name,
            "email": p.email,
            "avatar": Value::Null,
            "orgs": orgs_of(&p, &tool),
        })),
        Err(r) => r,
    }
}

async fn orgs(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    match caller(&state, &req, Call::Identity).await {
        Ok((p, tool)) => HttpResponse::Ok().json(orgs_of(&p, &tool)),
        Err(r) => r,
    }
}

async fn ping(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    match caller(&state, &req, Call::Identity).await {
        Ok(_) => HttpResponse::Ok().json(json!({
            "timestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000
        })),
        Err(r) => r,
    }
}

fn user_ref(p: Option<&Person>) -> Value {
    match p {
        Some(p) => json!({"user_id": p.id, "given_name": p.first_name, "family_name": p.last_name}),
        None => Value::Null,
    }
}

async fn notes(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (_, org) = path.into_inner();
    let (person, tool) = match caller(&state, &req, Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !person.accounts.contains(&org) {
        return HttpResponse::NotFound().json(json!({"error": "Not found."}));
    }
    if query
        .get("note_type")
        .is_some_and(|t| !t.eq_ignore_ascii_case("TASK"))
    {
        return HttpResponse::Ok().json(Vec::<Value>::new());
    }
    let include = query
        .get("include_complete")
        .map(String::as_str)
        .unwrap_or("false");
    let assignee = query.get("assignee");
    let mut list: Vec<Value> = tool
        .tasks
        .iter()
        .filter(|t| t.account == org)
        .filter(|t| assignee.is_none_or(|a| &t.assignee == a))
        .filter(|t| match include {
            "true" => true,
            "only" => t.closed,
            _ => !t.closed,
        })
        .map(|t| {
            let workspace = tool.project(&t.project);
            json!({
                "note_id": num(&t.id),
                "note_type": "TASK",
                "title": t.title,
                "viewed": false,
                "state": "ACTIVE",
                "creator": user_ref(tool.people.first()),
                "workspace": {
                    "workspace_id": num(&t.project),
                    "name": workspace.map(|w| w.name.clone()),
                },
                "tags": [],
                "body": "",
                "assignee": user_ref(tool.person(&t.assignee)),
                "complete": t.closed,
                "due": t.due_on.map(|d| d.midnight().assume_utc().unix_timestamp() * 1000),
            })
        })
        .collect();
    let offset = query
        .get("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0)
        .min(list.len());
    list.drain(..offset);
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(MAX_LIMIT)
        .clamp(1, MAX_LIMIT);
    list.truncate(limit);
    HttpResponse::Ok().json(list)
}

/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let mut b = Builder::new(ProviderKind::Intellinote, today);
    b.account("5", "Acme Corp", "org", false);
    b.project("41", "Marketing", "5");
    b.project("42", "Engineering", "5");
    b.project("43", "Operations", "5");
    b.usual_people(&["41", "42", "43"], "5", true);
    b.tool
}
