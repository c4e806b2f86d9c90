//! The soak's stand-in for Pivotal Tracker (point 8): the same API v5 shapes as
//! [`crate::fake_pivotal`] (`GET /me`, `GET /projects/{id}/stories` with offset paging,
//! the `X-Tracker-Pagination-*` headers and `ETag`s), but for many people in several
//! companies, each with their own token, over data that changes while it runs, and
//! with faults: `429` with `Retry-After`, `5xx`, answers slower than the client's
//! timeout, and slow answers. It lives in the suite's process, so it outlives every
//! kill of the server, and it is the truth the database is checked against at the end.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Stories a page at most, whatever the client asks for (Tracker may answer with a
/// smaller limit than asked): several pages a project.
const PAGE_LIMIT: usize = 10;
/// How long an answer that times out is held: past the connectors' 15 s timeout.
const HANG: Duration = Duration::from_secs(20);
/// The chances, per request while faults are on, of each fault.
const P_RATE_LIMITED: f64 = 0.04;
const P_SERVER_ERROR: f64 = 0.06;
const P_TIMEOUT: f64 = 0.01;
const P_SLOW: f64 = 0.05;
/// The states a story moves through before it is accepted (closed).
const OPEN_STATES: [&str; 5] = [
    "unscheduled",
    "unstarted",
    "started",
    "finished",
    "delivered",
];

/// The size of the soak's world.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub companies: usize,
    pub people: usize,
    pub projects: usize,
    pub stories_per_person: usize,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub tracker_id: u64,
    pub username: String,
    /// The person's Tracker API token.
    pub token: String,
    pub name: String,
    pub email: String,
    /// Index of the company, from 0.
    pub company: usize,
}

struct Project {
    id: u64,
    name: String,
    company: usize,
}

#[derive(Debug, Clone)]
struct Story {
    id: u64,
    project: u64,
    name: String,
    state: &'static str,
    /// Index into the people.
    owner: usize,
    deadline: Option<String>,
    /// Bumped on every change, for `updated_at`.
    version: u64,
    /// What happened to it, with the seconds since the stand-in started.
    history: Vec<String>,
}

/// Changes made to the data, by kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Changes {
    pub added: u64,
    pub closed: u64,
    pub reassigned: u64,
    pub renamed: u64,
    pub restated: u64,
}

impl Changes {
    pub fn total(&self) -> u64 {
        self.added + self.closed + self.reassigned + self.renamed + self.restated
    }
}

struct World {
    started: std::time::Instant,
    people: Vec<Person>,
    projects: Vec<Project>,
    stories: BTreeMap<u64, Story>,
    next_id: u64,
    changes: Changes,
}

/// What was answered, by kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answered {
    pub requests: u64,
    pub not_modified: u64,
    pub rate_limited: u64,
    pub server_errors: u64,
    pub timeouts: u64,
    pub slow: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    not_modified: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    timeouts: AtomicU64,
    slow: AtomicU64,
}

struct Shared {
    world: Mutex<World>,
    faults: AtomicBool,
    counters: Counters,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        // A poisoned lock means a handler panicked mid-change; the data is still whole.
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The stand-in, listening; it stops with the process.
#[derive(Clone)]
pub struct SoakTool {
    /// Where `TASKBRIDGE_PIVOTAL_API_URL` should point.
    pub api_url: String,
    shared: Arc<Shared>,
}

/// A person's open stories as the tool has them: the tool's id, then title and state.
pub type Truth = BTreeMap<String, (String, String)>;

impl SoakTool {
    pub fn people(&self) -> Vec<Person> {
        self.shared.world().people.clone()
    }

    pub fn set_faults(&self, on: bool) {
        self.shared.faults.store(on, Ordering::SeqCst);
    }

    pub fn answered(&self) -> Answered {
        let c = &self.shared.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Answered {
            requests: n(&c.requests),
            not_modified: n(&c.not_modified),
            rate_limited: n(&c.rate_limited),
            server_errors: n(&c.server_errors),
            timeouts: n(&c.timeouts),
            slow: n(&c.slow),
        }
    }

    pub fn changes(&self) -> Changes {
        self.shared.world().changes
    }

    /// Every person's open stories (owned by them, not accepted), by person index.
    pub fn truth(&self) -> Vec<Truth> {
        let w = self.shared.world();
        let mut all = vec![Truth::new(); w.people.len()];
        for s in w.stories.values().filter(|s| s.state != "accepted") {
            all[s.owner].insert(s.id.to_string(), (s.name.clone(), s.state.to_owned()));
        }
        all
    }

    /// A story as the tool has it: project, owner, state, version, and its place
    /// among its owner's open stories of its project (what the walk pages over).
    pub fn describe(&self, id: &str) -> String {
        let w = self.shared.world();
        let Some(s) = id.parse::<u64>().ok().and_then(|id| w.stories.get(&id)) else {
            return "no such story".into();
        };
        let place = w
            .stories
            .values()
            .filter(|o| o.project == s.project && o.owner == s.owner && o.state != "accepted")
            .position(|o| o.id == s.id);
        format!(
            "project {}, owner {} ({}), state {}, version {}, place {place:?} of {} open, history {:?}",
            s.project,
            s.owner,
            w.people[s.owner].username,
            s.state,
            s.version,
            w.stories
                .values()
                .filter(|o| o.project == s.project && o.owner == s.owner && o.state != "accepted")
                .count(),
            s.history
        )
    }

    /// One random change to the data: a story added, closed (accepted), given to
    /// another person of its company, renamed, or moved to another open state.
    pub fn change(&self, rng: &mut impl Rng) {
        let mut guard = self.shared.world();
        let w = &mut *guard;
        let open: Vec<u64> = w
            .stories
            .values()
            .filter(|s| s.state != "accepted")
            .map(|s| s.id)
            .collect();
        let roll = rng.gen_range(0..100);
        let pick = open.get(rng.gen_range(0..open.len().max(1))).copied();
        match (roll, pick) {
            (0..=29, _) | (_, None) => {
                let owner = rng.gen_range(0..w.people.len());
                let company = w.people[owner].company;
                let projects: Vec<u64> = w
                    .projects
                    .iter()
                    .filter(|p| p.company == company)
                    .map(|p| p.id)
                    .collect();
                let project = projects[rng.gen_range(0..projects.len())];
                let id = w.next_id;
                w.next_id += 1;
                w.stories.insert(
                    id,
                    Story {
                        id,
                        project,
                        name: format!("Soak story {id}: added while syncing"),
                        state: "unstarted",
                        owner,
                        deadline: None,
                        version: 1,
                        history: vec![format!(
                            "{:.1}s added for {owner}",
                            w.started.elapsed().as_secs_f64()
                        )],
                    },
                );
                w.changes.added += 1;
            }
            (30..=49, Some(id)) => {
                let at = w.started.elapsed().as_secs_f64();
                if let Some(s) = w.stories.get_mut(&id) {
                    s.state = "accepted";
                    s.version += 1;
                    s.history.push(format!("{at:.1}s closed"));
                }
                w.changes.closed += 1;
            }
            (50..=69, Some(id)) => {
                let Some(owner) = w.stories.get(&id).map(|s| s.owner) else {
                    return;
                };
                let company = w.people[owner].company;
                let others: Vec<usize> = (0..w.people.len())
                    .filter(|p| *p != owner && w.people[*p].company == company)
                    .collect();
                let at = w.started.elapsed().as_secs_f64();
                if let (Some(s), false) = (w.stories.get_mut(&id), others.is_empty()) {
                    s.owner = others[rng.gen_range(0..others.len())];
                    s.version += 1;
                    s.history.push(format!("{at:.1}s to {}", s.owner));
                    w.changes.reassigned += 1;
                }
            }
            (70..=84, Some(id)) => {
                let at = w.started.elapsed().as_secs_f64();
                if let Some(s) = w.stories.get_mut(&id) {
                    s.version += 1;
                    s.name = format!("Soak story {id}: renamed, version {}", s.version);
                    s.history.push(format!("{at:.1}s renamed"));
                }
                w.changes.renamed += 1;
            }
            (_, Some(id)) => {
                let at = w.started.elapsed().as_secs_f64();
                if let Some(s) = w.stories.get_mut(&id) {
                    s.history.push(format!("{at:.1}s state changed"));
                    let now = OPEN_STATES
                        .iter()
                        .position(|st| *st == s.state)
                        .unwrap_or(0);
                    s.state = OPEN_STATES
                        [(now + 1 + rng.gen_range(0..OPEN_STATES.len() - 1)) % OPEN_STATES.len()];
                    s.version += 1;
                }
                w.changes.restated += 1;
            }
        }
    }
}

fn person_of(req: &HttpRequest, w: &World) -> Option<usize> {
    let token = req.headers().get("X-TrackerToken")?.as_bytes();
    w.people.iter().position(|p| p.token.as_bytes() == token)
}

fn refused() -> HttpResponse {
    HttpResponse::Forbidden().content_type("application/json").body(
        r#"{"code":"invalid_authentication","kind":"error","error":"Invalid authentication credentials were presented."}"#,
    )
}

fn etag_of(body: &str) -> String {
    format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(body.as_bytes())[..16])
    )
}

/// An answer with its `ETag`, or a bodiless 304 when the client already has it.
fn tagged(
    req: &HttpRequest,
    shared: &Shared,
    body: String,
    headers: &[(&str, String)],
) -> HttpResponse {
    let etag = etag_of(&body);
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut answer = if not_modified {
        shared.counters.not_modified.fetch_add(1, Ordering::Relaxed);
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .content_type("application/json; charset=utf-8")
        .insert_header((header::ETAG, etag));
    for (k, v) in headers {
        answer.insert_header((*k, v.clone()));
    }
    if not_modified {
        answer.finish()
    } else {
        answer.body(body)
    }
}

/// What a request gets while faults are on: `Some` answer instead of the real one, or
/// `None` to answer normally (perhaps after a pause).
async fn fault(shared: &Shared) -> Option<HttpResponse> {
    if !shared.faults.load(Ordering::SeqCst) {
        return None;
    }
    let (roll, retry_after, status, slow_ms) = {
        let mut rng = rand::thread_rng();
        (
            rng.gen::<f64>(),
            rng.gen_range(1..=5u32),
            [500u16, 502, 503][rng.gen_range(0..3)],
            rng.gen_range(500..3000u64),
        )
    };
    let c = &shared.counters;
    let mut at = P_RATE_LIMITED;
    if roll < at {
        c.rate_limited.fetch_add(1, Ordering::Relaxed);
        return Some(
            HttpResponse::TooManyRequests()
                .insert_header((header::RETRY_AFTER, retry_after.to_string()))
                .content_type("application/json")
                .body(r#"{"code":"rate_limit_exceeded","kind":"error","error":"Slow down."}"#),
        );
    }
    at += P_SERVER_ERROR;
    if roll < at {
        c.server_errors.fetch_add(1, Ordering::Relaxed);
        let status = actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        return Some(
            HttpResponse::build(status)
                .content_type("text/html")
                .body("<html><body>Tracker is having a moment</body></html>"),
        );
    }
    at += P_TIMEOUT;
    if roll < at {
        c.timeouts.fetch_add(1, Ordering::Relaxed);
        actix_web::rt::time::sleep(HANG).await;
        return None;
    }
    at += P_SLOW;
    if roll < at {
        c.slow.fetch_add(1, Ordering::Relaxed);
        actix_web::rt::time::sleep(Duration::from_millis(slow_ms)).await;
    }
    None
}

async fn identity(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared.counters.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(answer) = fault(&shared).await {
        return answer;
    }
    let body = {
        let w = shared.world();
        let Some(me) = person_of(&req, &w) else {
            return refused();
        };
        let p = &w.people[me];
        serde_json::json!({
            "kind": "me", "id": p.tracker_id, "name": p.name, "initials": "SP",
            "username": p.username, "email": p.email,
            "time_zone": {"kind": "time_zone", "olson_name": "Europe/London", "offset": "+00:00"},
            "api_token": p.token, "has_google_identity": false,
            "projects": w.projects.iter().filter(|pr| pr.company == p.company).map(|pr| serde_json::json!({
                "kind": "membership_summary", "id": pr.id + 1, "project_id": pr.id,
                "project_name": pr.name, "project_color": "8100ea", "favorite": false,
                "role": "member", "last_viewed_at": "2026-02-01T10:30:00Z"})).collect::<Vec<_>>(),
            "receives_in_app_notifications": true,
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2026-02-01T10:30:00Z",
        })
        .to_string()
    };
    tagged(&req, &shared, body, &[])
}

#[derive(Deserialize)]
struct Query {
    filter: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

fn story_json(w: &World, s: &Story) -> serde_json::Value {
    let owner = &w.people[s.owner];
    serde_json::json!({
        "kind": "story",
        "id": s.id,
        "project_id": s.project,
        "name": s.name,
        "description": "Made by the soak's stand-in.",
        "story_type": "feature",
        "current_state": s.state,
        "estimate": 1,
        "requested_by_id": owner.tracker_id,
        "owner_ids": [owner.tracker_id],
        "owners": [{"kind": "person", "id": owner.tracker_id, "name": owner.name,
                    "email": owner.email, "initials": "SP", "username": owner.username}],
        "labels": [],
        "created_at": "2026-01-05T09:00:00Z",
        "updated_at": format!("2026-02-01T10:{:02}:{:02}Z", (s.version / 60) % 60, s.version % 60),
        "deadline": s.deadline,
        "url": format!("https://www.pivotaltracker.com/story/show/{}", s.id),
    })
}

async fn project_stories(
    req: HttpRequest,
    shared: web::Data<Shared>,
    path: web::Path<u64>,
    query: web::Query<Query>,
) -> HttpResponse {
    shared.counters.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(answer) = fault(&shared).await {
        return answer;
    }
    let project_id = path.into_inner();
    let (body, headers) = {
        let w = shared.world();
        let Some(me) = person_of(&req, &w) else {
            return refused();
        };
        let member = w
            .projects
            .iter()
            .any(|p| p.id == project_id && p.company == w.people[me].company);
        if !member {
            return HttpResponse::Forbidden().content_type("application/json").body(
                r#"{"code":"unauthorized_operation","kind":"error","error":"Not a member of this project."}"#,
            );
        }
        // Tracker's search: `owner:<username>` and `-state:accepted` are what the
        // connector sends; anything else is ignored here.
        let filter = query.filter.clone().unwrap_or_default();
        let owner = filter
            .split_whitespace()
            .find_map(|w| w.strip_prefix("owner:"))
            .map(|u| u.trim_matches('"').to_owned());
        let open_only = filter.split_whitespace().any(|w| w == "-state:accepted");
        let matching: Vec<&Story> = w
            .stories
            .values()
            .filter(|s| s.project == project_id)
            .filter(|s| {
                owner
                    .as_ref()
                    .is_none_or(|u| w.people[s.owner].username == *u)
            })
            .filter(|s| !open_only || s.state != "accepted")
            .collect();
        let limit = query.limit.unwrap_or(100).clamp(1, PAGE_LIMIT);
        let offset = query.offset.unwrap_or(0);
        let total = matching.len();
        let page: Vec<serde_json::Value> = matching[offset.min(total)..(offset + limit).min(total)]
            .iter()
            .map(|s| story_json(&w, s))
            .collect();
        let headers = vec![
            ("X-Tracker-Pagination-Total", total.to_string()),
            ("X-Tracker-Pagination-Limit", limit.to_string()),
            ("X-Tracker-Pagination-Offset", offset.to_string()),
            ("X-Tracker-Pagination-Returned", page.len().to_string()),
        ];
        (serde_json::Value::Array(page).to_string(), headers)
    };
    tagged(&req, &shared, body, &headers)
}

/// Starts the stand-in with `shape`: per company `projects` projects and `people`
/// people who are members of all of them, each owning `stories_per_person` stories
/// spread over the projects. Faults start off.
pub fn start(shape: Shape) -> anyhow::Result<SoakTool> {
    let mut people = Vec::new();
    let mut projects = Vec::new();
    let mut stories = BTreeMap::new();
    let mut next_id = 300_000_000u64;
    for c in 0..shape.companies {
        for j in 0..shape.projects {
            projects.push(Project {
                id: 3_100_000 + (c * 100 + j) as u64,
                name: format!("Soak project {} of company {}", j + 1, c + 1),
                company: c,
            });
        }
        for n in 0..shape.people {
            let i = people.len();
            people.push(Person {
                tracker_id: 8_800_000 + i as u64,
                username: format!("soak_c{}_p{}", c + 1, n + 1),
                token: format!("soak-tracker-token-{i}"),
                name: format!("Soak person {} of company {}", n + 1, c + 1),
                email: format!("soak-p{}-c{}@bench.test", n + 1, c + 1),
                company: c,
            });
        }
    }
    let by_company: HashMap<usize, Vec<u64>> = projects.iter().fold(HashMap::new(), |mut m, p| {
        m.entry(p.company).or_insert_with(Vec::new).push(p.id);
        m
    });
    for (i, p) in people.iter().enumerate() {
        let ids = &by_company[&p.company];
        for k in 0..shape.stories_per_person {
            let id = next_id;
            next_id += 1;
            stories.insert(
                id,
                Story {
                    id,
                    project: ids[k % ids.len()],
                    name: format!("Soak story {id}: for {}", p.username),
                    state: OPEN_STATES[k % OPEN_STATES.len()],
                    owner: i,
                    deadline: (k % 3 != 0)
                        .then(|| format!("2027-{:02}-{:02}T12:00:00Z", k % 12 + 1, k % 28 + 1)),
                    version: 1,
                    history: Vec::new(),
                },
            );
        }
    }
    let shared = Arc::new(Shared {
        world: Mutex::new(World {
            people,
            projects,
            stories,
            next_id,
            changes: Changes::default(),
            started: std::time::Instant::now(),
        }),
        faults: AtomicBool::new(false),
        counters: Counters::default(),
    });
    let data = web::Data::from(shared.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let failed_tx = ready_tx.clone();
    thread::spawn(move || {
        let result = actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(data.clone())
                    .route("/services/v5/me", web::get().to(identity))
                    .route(
                        "/services/v5/projects/{id}/stories",
                        web::get().to(project_stories),
                    )
            })
            .workers(2)
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
        .map_err(|e| anyhow::anyhow!("the soak's Tracker: {e}"))?;
    Ok(SoakTool {
        api_url: format!("http://127.0.0.1:{port}/services/v5"),
        shared,
    })
}
