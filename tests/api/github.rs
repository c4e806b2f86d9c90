//! GitHub through its sandbox: the OAuth App sign-in, assigned issues and pull requests
//! on My Tasks with the repository as project, 304s on a re-sync, and the misbehaving
//! sample accounts.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{connections, sync_runs};

use crate::helpers::*;
use crate::oauth_walk;

async fn sandbox(app: &TestApp, path: &str) -> serde_json::Value {
    reqwest::get(format!("{}/sandbox/{path}", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The sandbox's open GitHub issues and pull requests assigned to `email`.
async fn assigned(app: &TestApp, email: &str) -> Vec<serde_json::Value> {
    let state = sandbox(app, "_control/state").await;
    state["github"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["assignee_email"] == email && t["closed"] == false)
        .cloned()
        .collect()
}

/// Olivia's company with GitHub turned on as `person`'s sandbox account.
async fn github_on_as(app: &TestApp, person: &str) -> Client {
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let clean = oauth_walk::company_on(&owner, "github", person).await;
    assert_eq!(clean, "/company/integrations/github/connected");
    owner
}

#[tokio::test]
async fn an_owner_turns_on_github_and_sees_issues_and_pull_requests_by_repository() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let (_, list) = owner.get_text("/company/integrations").await;
    let at = |n: &str| list.find(&format!(">{n}<")).unwrap();
    assert!(at("Basecamp") < at("GitHub") && at("GitHub") < at("Intellinote"));
    let (status, details) = owner.get_text("/company/integrations/github").await;
    assert_eq!(status, StatusCode::OK);
    assert!(details.contains("repo scope"), "{details}");

    let clean = oauth_walk::company_on(&owner, "github", "Jane Doe").await;
    let (_, success) = owner.get_text(&clean).await;
    assert!(success.contains("GitHub is now ON"), "{success}");
    assert!(
        success.contains(
            "Connected as <strong>Jane Doe</strong>, jane@acme.test, account <strong>janedoe</strong>"
        ),
        "{success}"
    );

    let jane = assigned(&app, "jane@acme.test").await;
    assert!(jane.len() > 10, "more than two of the sandbox's pages");
    let pulls = jane.iter().filter(|t| t["pull_request"] == true).count();
    assert!(pulls >= 2 && pulls < jane.len());
    let page = wait_for_text(
        &owner,
        "/tasks",
        &format!("Synced just now · {} new", jane.len()),
    )
    .await;
    for t in &jane {
        assert!(page.contains(t["title"].as_str().unwrap()), "{t}");
        let repo = t["project"].as_str().unwrap();
        assert!(page.contains(repo), "the repository is the project: {repo}");
    }
    assert!(page.contains("class=\"tool-tag\">GitHub<"));
    assert_eq!(
        page.matches(">pull request</span>").count(),
        pulls,
        "pull requests are shown as such: {page}"
    );
    assert!(page.contains("/sandbox/github/acme/"), "links open GitHub");
    assert!(page.contains("/pull/") && page.contains("/issues/"));
    let first = &jane[0];
    let link = page
        .split('"')
        .find(|s| s.contains("/sandbox/github/acme/") && s.contains("/pull/"))
        .unwrap();
    let (status, opened) = owner.get_text(&link.replace(&app.address, "")).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert!(opened.contains("</strong> · GitHub (emulated"), "{opened}");
    assert!(
        jane.iter()
            .filter(|t| t["pull_request"] == true)
            .any(|t| opened.contains(t["title"].as_str().unwrap())),
        "the link opens one of Jane's pull requests: {opened}"
    );
    assert!(
        first["pull_request"] == true,
        "Jane's first is a pull request"
    );

    // Nothing changed: a re-sync is answered with a 304 for each of the three pages
    // and writes no task.
    wait_for_the_pass_to_end(&app).await;
    let id: i64 = app.query(|conn| {
        connections::table
            .select(connections::id)
            .first(conn)
            .unwrap()
    });
    let before = sandbox(&app, "_control/stats").await["not_modified"]
        .as_i64()
        .unwrap();
    let tools = Arc::new(taskbridge::tools(&app.settings).unwrap());
    let engine =
        taskbridge::sync::SyncEngine::new(app.pool.clone(), tools, Duration::from_secs(300));
    let outcome = engine
        .sync_connection(id, taskbridge::sync::Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        taskbridge::sync::RunOutcome::Completed {
            fetched: jane.len() as i64,
            counts: Default::default()
        }
    );
    let after = sandbox(&app, "_control/stats").await["not_modified"]
        .as_i64()
        .unwrap();
    assert_eq!(after - before, 3, "three pages, three 304s");
}

#[tokio::test]
async fn a_user_connects_their_own_github_and_not_someone_elses() {
    let app = TestApp::spawn().await;
    let owner = github_on_as(&app, "Jane Doe").await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    // Jane's GitHub account is Olivia's: Uma cannot link it too.
    let clean = oauth_walk::personal_on(&uma, "github", "Jane Doe").await;
    assert_eq!(clean, "/integrations/github/problem");
    let (status, page) = uma.get_text(&clean).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("already linked to Olivia Owner"), "{page}");

    let clean = oauth_walk::personal_on(&uma, "github", "John Roe").await;
    assert_eq!(clean, "/integrations/github/connected");
    let (_, page) = uma.get_text(&clean).await;
    assert!(page.contains("Your GitHub integration is on"), "{page}");
    assert!(page.contains("Connected as <strong>John Roe</strong>, john@acme.test"));
    let john = assigned(&app, "john@acme.test").await;
    wait_for_text(&uma, "/tasks", &format!("{} new", john.len())).await;
}

#[tokio::test]
async fn revoked_github_access_asks_for_a_reconnect() {
    let app = TestApp::spawn().await;
    let owner = github_on_as(&app, "Revoked Rita").await;
    let page = wait_for_text(&owner, "/tasks", "Reconnect").await;
    assert!(page.contains("TB-AUTH-REVOKED"), "{page}");
    let status: String = app.query(|conn| {
        connections::table
            .select(connections::status)
            .first(conn)
            .unwrap()
    });
    assert_eq!(status, "needs_reconnect");
}

#[tokio::test]
async fn a_github_rate_limit_waits_until_its_reset_then_carries_on() {
    let app = TestApp::spawn().await;
    let owner = github_on_as(&app, "Rate-limited Rob").await;
    let rob = assigned(&app, "rob.ratelimited@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} task", rob.len())).await;
    let runs = outcomes_once_the_last_is_ok(&app).await;
    assert!(
        runs.contains(&("waiting".to_owned(), Some("TB-RATE-LIMITED".to_owned()))),
        "{runs:?}"
    );
}

#[tokio::test]
async fn the_sandbox_token_endpoint_answers_errors_in_a_200_and_form_encoded_by_default() {
    let app = TestApp::spawn().await;
    let url = format!("{}/sandbox/github/login/oauth/access_token", app.address);
    let form = [
        ("client_id", "taskbridge-sandbox"),
        ("client_secret", "taskbridge-sandbox-secret"),
        ("code", "never-issued"),
    ];
    let r = reqwest::Client::new()
        .post(&url)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "bad_verification_code");
    let r = reqwest::Client::new()
        .post(&url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.starts_with("error=bad_verification_code&"), "{text}");
}

#[tokio::test]
async fn a_company_can_leave_pull_requests_out_and_take_them_back() {
    let app = TestApp::spawn().await;
    let owner = github_on_as(&app, "Jane Doe").await;
    let jane = assigned(&app, "jane@acme.test").await;
    let pulls = jane.iter().filter(|t| t["pull_request"] == true).count();
    let issues = jane.len() - pulls;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    wait_for_the_pass_to_end(&app).await;
    let details = "/company/integrations/github";
    let (_, page) = owner.get_text(details).await;
    assert!(page.contains("Include pull requests"), "{page}");
    assert!(
        page.contains("role=\"switch\" checked"),
        "on by default: {page}"
    );

    // Unticked: at once, the next sync leaves them out (and archives those synced).
    let r = owner
        .post_form(details, "/company/integrations/github/pull-requests", &[])
        .await;
    assert_eq!(location(&r), details);
    let page = wait_for_text(&owner, "/tasks", &format!("{issues} tasks")).await;
    assert!(!page.contains(">pull request</span>"), "{page}");
    let (_, page) = owner.get_text(details).await;
    assert!(!page.contains("role=\"switch\" checked"), "{page}");
    let audit: Vec<String> = app.query(|conn| {
        use taskbridge::schema::audit_log;
        audit_log::table
            .select(audit_log::action)
            .load(conn)
            .unwrap()
    });
    assert!(audit.contains(&"company_settings_changed".to_owned()));

    // Ticked again: they come back.
    wait_for_the_pass_to_end(&app).await;
    owner
        .post_form(
            details,
            "/company/integrations/github/pull-requests",
            &[("include", "on")],
        )
        .await;
    let page = wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    assert_eq!(page.matches(">pull request</span>").count(), pulls);
}

#[tokio::test]
async fn github_down_is_told_and_tried_again_later() {
    let app = TestApp::spawn().await;
    let owner = github_on_as(&app, "Server-error Sid").await;
    wait_for_text(&owner, "/tasks", "TB-TOOL-DOWN").await;
    let status: String = app.query(|conn| {
        connections::table
            .select(connections::status)
            .first(conn)
            .unwrap()
    });
    assert_eq!(status, "active", "a tool that is down is tried again later");
}

#[tokio::test]
async fn a_secondary_rate_limit_waits_as_retry_after_says() {
    let app = TestApp::spawn().await;
    // Jane's first page works; the next call meets a secondary limit.
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/github/_control/rate-limit",
            app.address
        ))
        .json(&serde_json::json!({"person": "jane@acme.test", "after_calls": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    oauth_walk::company_on(&owner, "github", "Jane Doe").await;
    let jane = assigned(&app, "jane@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    outcomes_once_the_last_is_ok(&app).await;
    let waited: i64 = app.query(|conn| {
        sync_runs::table
            .filter(sync_runs::error_code.eq("TB-RATE-LIMITED"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert!(waited >= 1, "the run waited for the limit");
}
