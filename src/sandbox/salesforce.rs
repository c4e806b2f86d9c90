//! Emulated Salesforce: web server OAuth flow, the identity URL, and SOQL over Task.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::oauth::Issued;
use super::seed::{spec, Behaviour, Builder};
use super::seed::{Person, Task, Tool};
use super::{pass, retry_after, Call, Called, Gate, SandboxState};
use crate::connectors::ProviderKind;
use time::Date;

const KIND: ProviderKind = ProviderKind::Salesforce;
/// Small batches, so every sync walks `nextRecordsUrl`.
const BATCH: usize = 3;
const LOCATOR_PREFIX: &str = "01gSBX";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/sandbox/salesforce/login/id/{org}/{user}",
        web::get().to(identity),
    )
    .route(
        "/sandbox/salesforce/instance/services/data",
        web::get().to(versions),
    )
    .route(
        "/sandbox/salesforce/instance/services/data/",
        web::get().to(versions),
    )
    .route(
        "/sandbox/salesforce/instance/services/data/{version}/query",
        web::get().to(query),
    )
    .route(
        "/sandbox/salesforce/instance/services/data/{version}/query/{locator}",
        web::get().to(more),
    )
    .route(
        "/sandbox/salesforce/instance/{id}",
        super::pages::task_route(KIND),
    );
}

fn org_of(tool: &Tool, person: &Person) -> String {
    person
        .accounts
        .first()
        .and_then(|id| tool.account(id))
        .map(|a| a.id.clone())
        .unwrap_or_default()
}

pub(super) fn token_fields(state: &SandboxState, issued: &Issued) -> Value {
    let tool = state.tool(KIND);
    let id = state.url(&format!(
        "/sandbox/salesforce/login/id/{}/{}",
        org_of(&tool, &issued.person),
        issued.person.id
    ));
    let issued_at = (time::OffsetDateTime::now_utc().unix_timestamp() * 1000).to_string();
    let signature = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(format!("{id}{issued_at}").as_bytes()));
    json!({
        "access_token": issued.access_token,
        "signature": signature,
        "scope": "api refresh_token id",
        "instance_url": state.url("/sandbox/salesforce/instance"),
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    })
}

fn rest_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!([{"message": message, "errorCode": code}]))
}

fn invalid_session() -> HttpResponse {
    rest_error(
        StatusCode::UNAUTHORIZED,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    )
}

fn refusal(gate: Gate) -> HttpResponse {
    match gate {
        Gate::ApiDisabled => rest_error(
            StatusCode::FORBIDDEN,
            "API_DISABLED_FOR_ORG",
            "The REST API is not enabled for this Organization.",
        ),
        Gate::RequestLimit => rest_error(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ),
        // Salesforce itself throttles with REQUEST_LIMIT_EXCEEDED; the sandbox's rate-limited
        // person shows the generic HTTP 429 path instead.
        Gate::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(retry_after())
            .json(json!([{"message": "Too many requests, retry later.", "errorCode": "TOO_MANY_REQUESTS"}])),
        Gate::ServerError => rest_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
        ),
        _ => invalid_session(),
    }
}

async fn caller(state: &SandboxState, req: &HttpRequest, call: Call) -> Called {
    state
        .caller((KIND, call), req, invalid_session, |gate, _| refusal(gate))
        .await
}

fn limit_info(state: &SandboxState) -> (&'static str, String) {
    (
        "Sforce-Limit-Info",
        format!("api-usage={}/15000", state.api_calls()),
    )
}

async fn identity(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (org, user) = path.into_inner();
    let Some((person, grant)) = state.bearer(KIND, &req) else {
        return HttpResponse::Unauthorized()
            .content_type("text/plain")
            .body("Bad_OAuth_Token");
    };
    if pass(state.gate(KIND, &person, Some(&grant), Call::Identity))
        .await
        .is_err()
    {
        return HttpResponse::Unauthorized()
            .content_type("text/plain")
            .body("Bad_OAuth_Token");
    }
    let tool = state.tool(KIND);
    if person.id != user || org_of(&tool, &person) != org {
        return HttpResponse::Forbidden()
            .content_type("text/plain")
            .body("Bad_Id");
    }
    let instance = state.url("/sandbox/salesforce/instance");
    let rest = |p: &str| format!("{instance}/services/data/v{{version}}/{p}");
    HttpResponse::Ok().json(json!({
        "id": state.url(&format!("/sandbox/salesforce/login/id/{org}/{user}")),
        "asserted_user": true,
        "user_id": person.id,
        "organization_id": org,
        "username": format!("{}@sandbox.example", person.username),
        "nick_name": person.username,
        "display_name": person.name(),
        "email": person.email,
        "email_verified": true,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "timezone": "Etc/UTC",
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "urls": {
            "rest": rest(""),
            "sobjects": rest("sobjects/"),
            "search": rest("search/"),
            "query": rest("query/"),
            "profile": format!("{instance}/{}", person.id),
        },
        "is_app_installed": true,
    }))
}

async fn versions(state: web::Data<SandboxState>, req: HttpRequest) -> HttpResponse {
    if let Err(r) = caller(&state, &req, Call::Rest).await {
        return r;
    }
    HttpResponse::Ok()
        .insert_header(limit_info(&state))
        .json(json!([
            {"version": "58.0", "url": "/services/data/v58.0", "label": "Summer '23"},
            {"version": "59.0", "url": "/services/data/v59.0", "label": "Winter '24"},
            {"version": "60.0", "url": "/services/data/v60.0", "label": "Spring '24"},
        ]))
}

fn valid_version(v: &str) -> bool {
    v.strip_prefix('v')
        .and_then(|n| n.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        })
}

fn not_found() -> HttpResponse {
    rest_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

/// Which tasks a Task query asks for: the owner and the IsClosed filter.
#[derive(Debug, PartialEq, Eq)]
struct TaskQuery {
    owner: String,
    /// `o`pen only, `c`losed only, or `a`ll.
    closed: char,
}

enum Soql {
    Organization,
    Tasks(TaskQuery),
}

/// Understands the two query shapes taskbridge sends; anything else is malformed.
fn parse_soql(q: &str) -> Option<Soql> {
    let upper = q.to_ascii_uppercase();
    if upper.contains(" FROM ORGANIZATION") {
        return Some(Soql::Organization);
    }
    if !upper.contains(" FROM TASK") {
        return None;
    }
    let at = upper.find("OWNERID")?;
    let rest = &q[at..];
    let open = rest.find('\'')?;
    let after = &rest[open + 1..];
    let owner = &after[..after.find('\'')?];
    let squashed: String = upper.chars().filter(|c| !c.is_whitespace()).collect();
    let closed = if squashed.contains("ISCLOSED=FALSE") {
        'o'
    } else if squashed.contains("ISCLOSED=TRUE") {
        'c'
    } else {
        'a'
    };
    Some(Soql::Tasks(TaskQuery {
        owner: owner.to_string(),
        closed,
    }))
}

fn sf_datetime(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(s) => format!("{s}.000+0000"),
        None => rfc3339.to_string(),
    }
}

fn record(version: &str, tool: &Tool, t: &Task, n: usize) -> Value {
    let what = tool.project(&t.project);
    let what_type = if t.project.starts_with("006") {
        "Opportunity"
    } else {
        "Account"
    };
    let priority = ["High", "Normal", "Normal", "Low"][n % 4];
    json!({
        "attributes": {"type": "Task", "url": format!("/services/data/{version}/sobjects/Task/{}", t.id)},
        "Id": t.id,
        "Subject": t.title,
        "Status": t.status,
        "Priority": priority,
        "ActivityDate": t.due_on.map(|d| d.to_string()),
        "IsClosed": t.closed,
        "WhatId": t.project,
        "What": what.map(|w| json!({
            "attributes": {"type": "Name", "url": format!("/services/data/{version}/sobjects/{what_type}/{}", w.id)},
            "Name": w.name,
            "Type": what_type,
        })),
        "WhoId": Value::Null,
        "Description": Value::Null,
        "LastModifiedDate": sf_datetime(&t.updated_at),
    })
}

fn task_batch(
    state: &SandboxState,
    version: &str,
    tool: &Tool,
    org: &str,
    q: &TaskQuery,
    offset: usize,
) -> HttpResponse {
    let mut tasks: Vec<&Task> = tool
        .tasks
        .iter()
        .filter(|t| t.account == org && t.assignee == q.owner)
        .filter(|t| match q.closed {
            'o' => !t.closed,
            'c' => t.closed,
            _ => true,
        })
        .collect();
    tasks.sort_by_key(|t| (t.due_on.is_none(), t.due_on, t.id.clone()));
    let records: Vec<Value> = tasks
        .iter()
        .enumerate()
        .skip(offset)
        .take(BATCH)
        .map(|(n, t)| record(version, tool, t, n))
        .collect();
    let end = offset + records.len();
    let mut answer =
        json!({"totalSize": tasks.len(), "done": end >= tasks.len(), "records": records});
    if end < tasks.len() {
        answer["nextRecordsUrl"] = Value::from(format!(
            "/services/data/{version}/query/{LOCATOR_PREFIX}{}{}-{end}",
            q.owner, q.closed
        ));
    }
    HttpResponse::Ok()
        .insert_header(limit_info(state))
        .json(answer)
}

async fn query(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let version = path.into_inner();
    if !valid_version(&version) {
        return not_found();
    }
    let soql = params.get("q").map(String::as_str).unwrap_or("");
    let parsed = parse_soql(soql);
    let call = match parsed {
        Some(Soql::Tasks(_)) => Call::Tasks,
        _ => Call::Rest,
    };
    let (person, tool) = match caller(&state, &req, call).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let org = org_of(&tool, &person);
    match parsed {
        Some(Soql::Organization) => {
            let Some(account) = tool.account(&org) else {
                return not_found();
            };
            HttpResponse::Ok().insert_header(limit_info(&state)).json(json!({
                "totalSize": 1,
                "done": true,
                "records": [{
                    "attributes": {"type": "Organization", "url": format!("/services/data/{version}/sobjects/Organization/{}", account.id)},
                    "Id": account.id,
                    "Name": account.name,
                    "OrganizationType": account.product,
                    "IsSandbox": false,
                    "TrialExpirationDate": Value::Null,
                }],
            }))
        }
        Some(Soql::Tasks(q)) => task_batch(&state, &version, &tool, &org, &q, 0),
        None => rest_error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "The sandbox understands Task queries by OwnerId and the Organization query only.",
        ),
    }
}

/// Reads a locator the sandbox made: prefix, 18-character owner, filter, `-offset`.
fn parse_locator(locator: &str) -> Option<(TaskQuery, usize)> {
    let rest = locator.strip_prefix(LOCATOR_PREFIX)?;
    let (head, offset) = rest.rsplit_once('-')?;
    let owner = head.get(..18)?;
    let closed = head.get(18..)?.chars().next()?;
    Some((
        TaskQuery {
            owner: owner.to_string(),
            closed,
        },
        offset.parse().ok()?,
    ))
}

async fn more(
    state: web::Data<SandboxState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (version, locator) = path.into_inner();
    let Some((q, offset)) = parse_locator(&locator).filter(|_| valid_version(&version)) else {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        );
    };
    let (person, tool) = match caller(&state, &req, Call::Tasks).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let org = org_of(&tool, &person);
    task_batch(&state, &version, &tool, &org, &q, offset)
}

/// The sample data as of `today`.
pub(super) fn seed(today: Date) -> Tool {
    let acme = "00D5e0000000001AAA";
    let tiny = "00D5e0000000002AAA";
    let busy = "00D5e0000000003AAA";
    let mut b = Builder::new(ProviderKind::Salesforce, today);
    b.account(acme, "Acme Corp", "Enterprise Edition", false);
    b.account(tiny, "Tiny Team", "Team Edition", false);
    b.account(busy, "Busy Bees Inc", "Professional Edition", false);
    b.project("0065e0000000001AAA", "Acme Renewal 2026", acme);
    b.project("0015e0000000002AAA", "Globex Corporation", acme);
    b.project("0065e0000000003AAA", "Initech Upgrade", acme);
    b.project("0015e0000000004AAA", "Tiny Client", tiny);
    b.project("0015e0000000005AAA", "Busy Client", busy);
    b.usual_people(
        &[
            "0065e0000000001AAA",
            "0015e0000000002AAA",
            "0065e0000000003AAA",
        ],
        acme,
        true,
    );
    let grace = b.person(
        &spec(
            "Group-edition",
            "Grace",
            "grace.groupedition@tinyteam.test",
            "grace",
            Behaviour::ApiDisabled,
        ),
        &[tiny],
    );
    b.tasks(&grace, &["0015e0000000004AAA"], 3, 0);
    let olive = b.person(
        &spec(
            "Over-limit",
            "Olive",
            "olive.overlimit@busybees.test",
            "olive",
            Behaviour::RequestLimit,
        ),
        &[busy],
    );
    b.tasks(&olive, &["0015e0000000005AAA"], 3, 0);
    b.tool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn understands_the_connectors_queries() {
        let q = "SELECT Id, Subject FROM Task WHERE OwnerId = '0055e0000000001AAA' AND IsClosed = false ORDER BY ActivityDate ASC NULLS LAST";
        match parse_soql(q) {
            Some(Soql::Tasks(t)) => assert_eq!(
                t,
                TaskQuery {
                    owner: "0055e0000000001AAA".into(),
                    closed: 'o'
                }
            ),
            _ => panic!("not a task query"),
        }
        assert!(matches!(
            parse_soql("SELECT Id, Name, OrganizationType FROM Organization"),
            Some(Soql::Organization)
        ));
        assert!(parse_soql("SELECT Id FROM Contact").is_none());
    }

    #[test]
    fn locators_round_trip() {
        let (q, offset) = parse_locator("01gSBX0055e0000000001AAAo-6").unwrap();
        assert_eq!(
            (q.owner.as_str(), q.closed, offset),
            ("0055e0000000001AAA", 'o', 6)
        );
        assert!(parse_locator("01gD").is_none());
    }
}
