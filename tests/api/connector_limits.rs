//! A tool that misbehaves in size or in time, through the real sync engine: what the
//! run records and what the person's card says. The tool is a test server standing in
//! for Pivotal Tracker (a token, no OAuth round trip).

use std::time::Duration;

use diesel::prelude::*;
use taskbridge::schema::{connections, sync_runs};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::oauth_walk;

/// A Tracker where person 7 belongs to projects 1 and 2.
async fn tracker() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/v5/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "kind": "me", "id": 7, "name": "Jane Doe", "username": "jane",
            "email": "jane@acme.test",
            "projects": [
                {"project_id": 1, "project_name": "One"},
                {"project_id": 2, "project_name": "Two"}
            ]
        })))
        .mount(&server)
        .await;
    server
}

fn stories(ids: &[u64]) -> ResponseTemplate {
    let list: Vec<_> = ids
        .iter()
        .map(|id| {
            serde_json::json!({"kind": "story", "id": id, "name": format!("Story {id}"),
                "current_state": "started", "owner_ids": [7]})
        })
        .collect();
    ResponseTemplate::new(200)
        .insert_header("X-Tracker-Pagination-Total", ids.len().to_string().as_str())
        .insert_header("X-Tracker-Pagination-Limit", "100")
        .insert_header("X-Tracker-Pagination-Offset", "0")
        .insert_header(
            "X-Tracker-Pagination-Returned",
            ids.len().to_string().as_str(),
        )
        .set_body_json(list)
}

async fn project_answers(server: &MockServer, project: u32, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/services/v5/projects/{project}/stories")))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// The app with Pivotal Tracker at `server`, turned on by Olivia; her client.
async fn connected(server: &MockServer, extra: &[(&str, &str)]) -> (TestApp, Client) {
    let api = format!("{}/services/v5", server.uri());
    let mut vars = vec![
        ("TASKBRIDGE_SANDBOX", "off"),
        ("TASKBRIDGE_PIVOTAL_API_URL", api.as_str()),
    ];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(&vars).await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let r = oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "tok")],
    )
    .await;
    assert_eq!(r, "/company/integrations/pivotal/connected");
    (app, owner)
}

/// The first finished run: (status, error code, error message).
async fn first_run(app: &TestApp) -> (String, Option<String>, Option<String>) {
    for _ in 0..120 {
        let run: Option<(String, Option<String>, Option<String>)> = app.query(|conn| {
            sync_runs::table
                .filter(sync_runs::finished_at.is_not_null())
                .select((
                    sync_runs::status,
                    sync_runs::error_code,
                    sync_runs::error_message,
                ))
                .order(sync_runs::id)
                .first(conn)
                .optional()
                .unwrap()
        });
        if let Some(run) = run {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no run finished");
}

#[tokio::test]
async fn an_answer_over_the_size_limit_fails_the_run_with_its_own_code() {
    let server = tracker().await;
    project_answers(&server, 1, stories(&[1, 2])).await;
    // 3 MiB of one story's name, against a limit of 1 MiB. (The connector reads the
    // body chunk by chunk and stops at the limit, so memory stays flat however large
    // the answer; `connectors::http` tests an endless one.)
    let huge = "x".repeat(3 * 1024 * 1024);
    project_answers(
        &server,
        2,
        ResponseTemplate::new(200).set_body_json(serde_json::json!([
            {"kind": "story", "id": 3, "name": huge, "owner_ids": [7]}
        ])),
    )
    .await;
    let (app, owner) = connected(&server, &[("TASKBRIDGE_TOOL_MAX_RESPONSE_MB", "1")]).await;
    let (status, code, _) = first_run(&app).await;
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("failed", Some("TB-TOOL-TOO-LARGE"))
    );
    let page = wait_for_text(&owner, "/tasks", "TB-TOOL-TOO-LARGE").await;
    assert!(
        page.contains("TASKBRIDGE_TOOL_MAX_RESPONSE_MB"),
        "the fix names the setting"
    );
}

#[tokio::test]
async fn a_failure_after_saved_pages_says_partly_synced_what_was_kept_and_where() {
    let server = tracker().await;
    project_answers(&server, 1, stories(&[1, 2, 3])).await;
    project_answers(&server, 2, ResponseTemplate::new(503)).await;
    let (app, owner) = connected(&server, &[]).await;
    let (status, code, message) = first_run(&app).await;
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("failed", Some("TB-TOOL-DOWN"))
    );
    // Who Jane is, project One's stories, then project Two's page failed.
    let said = "Partly synced: 3 tasks kept, then page 3 of the tool&#39;s list could not be read";
    assert_eq!(
        message.as_deref(),
        Some("Partly synced: 3 tasks kept, then page 3 of the tool's list could not be read: The tool is having problems.")
    );
    let page = wait_for_text(&owner, "/tasks", "3 tasks").await;
    assert!(page.contains(said), "{page}");
}

#[tokio::test]
async fn a_huge_retry_after_waits_a_day_and_says_when_the_next_try_is() {
    let server = tracker().await;
    project_answers(
        &server,
        1,
        ResponseTemplate::new(429).insert_header("Retry-After", "18446744073709551615"),
    )
    .await;
    let (app, owner) = connected(&server, &[]).await;
    let (status, code, message) = first_run(&app).await;
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("waiting", Some("TB-RATE-LIMITED"))
    );
    let next: i64 = app.query(|conn| {
        connections::table
            .select(connections::next_sync_at)
            .first(conn)
            .unwrap()
    });
    let day = now_secs() + 24 * 3600;
    assert!(
        (day - 120..=day + 5).contains(&next),
        "tried again in a day, not at once: {next} vs {day}"
    );
    let message = message.unwrap();
    assert!(message.contains("Next try "), "{message}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let runs: i64 = app.query(|conn| sync_runs::table.count().get_result(conn).unwrap());
    assert_eq!(
        runs, 1,
        "no run after run against a tool asking to slow down"
    );
    wait_for_text(&owner, "/tasks", "Next try ").await;
}
