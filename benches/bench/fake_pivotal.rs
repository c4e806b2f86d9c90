//! A stand-in for Pivotal Tracker's API v5, fast enough not to be what is measured:
//! `GET /me` and `GET /projects/{id}/stories` in Tracker's own shapes, with its
//! offset paging (`limit`, `offset` and the `X-Tracker-Pagination-*` headers, 100 a
//! page unless asked otherwise) and its `ETag`s (a matching `If-None-Match` gets 304).
//! Every story is owned by the one person it knows.

use std::thread;

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "bench-tracker-token";
pub const ME_ID: u64 = 7_700_001;
pub const USERNAME: &str = "bench_runner";

struct Project {
    id: u64,
    /// Each story's JSON, made once.
    stories: Vec<String>,
}

struct State {
    me: String,
    projects: Vec<Project>,
}

/// The stories the fake serves, as taskbridge should store them (title, state, project,
/// due date, url): shared with the database-side measurement, so both write the same.
pub struct Story {
    pub id: u64,
    pub name: String,
    pub state: &'static str,
    pub project: String,
    pub deadline: Option<String>,
    pub url: String,
}

const STATES: [&str; 5] = ["unstarted", "started", "finished", "delivered", "rejected"];

/// `total` stories over `projects` projects, in order.
pub fn stories(total: u64, projects: u64) -> Vec<(u64, String, Vec<Story>)> {
    let per = total.div_ceil(projects);
    (0..projects)
        .map(|p| {
            let pid = 2_400_000 + p;
            let name = format!("Bench project {}", p + 1);
            let list = (0..per)
                .map(|i| p * per + i)
                .filter(|n| *n < total)
                .map(|n| {
                    let id = 180_000_000 + n;
                    Story {
                        id,
                        name: format!("Story {n}: make the import handle a thousand rows"),
                        state: STATES[(n % 5) as usize],
                        project: name.clone(),
                        deadline: (n % 3 != 0)
                            .then(|| format!("2027-{:02}-{:02}T12:00:00Z", n % 12 + 1, n % 28 + 1)),
                        url: format!("https://www.pivotaltracker.com/story/show/{id}"),
                    }
                })
                .collect();
            (pid, name, list)
        })
        .collect()
}

fn story_json(s: &Story, project_id: u64) -> String {
    serde_json::json!({
        "kind": "story",
        "id": s.id,
        "project_id": project_id,
        "name": s.name,
        "description": "Imported from the bench fixture; long enough to look like a real description.",
        "story_type": "feature",
        "current_state": s.state,
        "estimate": 2,
        "requested_by_id": 7_700_002,
        "owner_ids": [ME_ID],
        "owners": [{"kind": "person", "id": ME_ID, "name": "Bench Runner", "email": "runner@bench.test",
                    "initials": "BR", "username": USERNAME}],
        "labels": [],
        "created_at": "2026-01-05T09:00:00Z",
        "updated_at": "2026-02-01T10:30:00Z",
        "deadline": s.deadline,
        "url": s.url,
    })
    .to_string()
}

fn authorized(req: &HttpRequest) -> bool {
    req.headers()
        .get("X-TrackerToken")
        .is_some_and(|v| v.as_bytes() == TOKEN.as_bytes())
}

fn refused() -> HttpResponse {
    HttpResponse::Forbidden().content_type("application/json").body(
        r#"{"code":"invalid_authentication","kind":"error","error":"Invalid authentication credentials were presented."}"#,
    )
}

async fn identity(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    if !authorized(&req) {
        return refused();
    }
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(state.me.clone())
}

#[derive(Deserialize)]
struct Paging {
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn project_stories(
    req: HttpRequest,
    state: web::Data<State>,
    path: web::Path<u64>,
    paging: web::Query<Paging>,
) -> HttpResponse {
    if !authorized(&req) {
        return refused();
    }
    let id = path.into_inner();
    let Some(project) = state.projects.iter().find(|p| p.id == id) else {
        return HttpResponse::NotFound().content_type("application/json").body(
            r#"{"code":"unfound_resource","kind":"error","error":"The object you tried to access could not be found."}"#,
        );
    };
    let limit = paging.limit.unwrap_or(100).clamp(1, 500);
    let offset = paging.offset.unwrap_or(0);
    let total = project.stories.len();
    let page = &project.stories[offset.min(total)..(offset + limit).min(total)];
    let mut body = String::with_capacity(page.iter().map(|s| s.len() + 1).sum::<usize>() + 2);
    body.push('[');
    body.push_str(&page.join(","));
    body.push(']');
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(body.as_bytes())[..16])
    );
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut answer = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .content_type("application/json; charset=utf-8")
        .insert_header((header::ETAG, etag))
        .insert_header(("X-Tracker-Pagination-Total", total.to_string()))
        .insert_header(("X-Tracker-Pagination-Limit", limit.to_string()))
        .insert_header(("X-Tracker-Pagination-Offset", offset.to_string()))
        .insert_header(("X-Tracker-Pagination-Returned", page.len().to_string()));
    if not_modified {
        answer.finish()
    } else {
        answer.body(body)
    }
}

/// The fake, listening; it stops with the process.
pub struct FakePivotal {
    /// Where `TASKBRIDGE_PIVOTAL_API_URL` should point.
    pub api_url: String,
}

pub fn start(total: u64, projects: u64) -> anyhow::Result<FakePivotal> {
    let data = stories(total, projects);
    let me = serde_json::json!({
        "kind": "me", "id": ME_ID, "name": "Bench Runner", "initials": "BR", "username": USERNAME,
        "email": "runner@bench.test",
        "time_zone": {"kind": "time_zone", "olson_name": "Europe/London", "offset": "+00:00"},
        "api_token": TOKEN, "has_google_identity": false,
        "projects": data.iter().map(|(id, name, _)| serde_json::json!({
            "kind": "membership_summary", "id": id + 1, "project_id": id, "project_name": name,
            "project_color": "8100ea", "favorite": false, "role": "member",
            "last_viewed_at": "2026-02-01T10:30:00Z"})).collect::<Vec<_>>(),
        "receives_in_app_notifications": true,
        "created_at": "2025-01-01T00:00:00Z", "updated_at": "2026-02-01T10:30:00Z",
    })
    .to_string();
    let projects = data
        .iter()
        .map(|(id, _, list)| Project {
            id: *id,
            stories: list.iter().map(|s| story_json(s, *id)).collect(),
        })
        .collect::<Vec<_>>();
    let state = web::Data::new(State { me, projects });
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let failed_tx = ready_tx.clone();
    thread::spawn(move || {
        let result = actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .route("/services/v5/me", web::get().to(identity))
                    .route(
                        "/services/v5/projects/{id}/stories",
                        web::get().to(project_stories),
                    )
            })
            .workers(1)
            .listen(listener)?
            .run();
            let _ = ready_tx.send(Ok(()));
            server.await
        });
        if let Err(e) = result {
            let _ = failed_tx.send(Err(e.to_string()));
        }
    });
    ready_rx
        .recv()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_err(|e| anyhow::anyhow!("fake Pivotal Tracker: {e}"))?;
    Ok(FakePivotal {
        api_url: format!("http://127.0.0.1:{port}/services/v5"),
    })
}
