//! Jira Cloud through its sandbox: the company flow, the site choice, issues on My Tasks
//! with their key and project over several pages, refresh and revoked access.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{connections, sync_runs};

use crate::helpers::*;
use crate::oauth_walk;

const DETAILS: &str = "/company/integrations/jira";
const ON: &str = "/company/integrations/jira/on";

/// Polls `path` until it says `text`.
/// The sandbox's open Jira issues of `email` on the site `cloud`.
async fn open_issues(app: &TestApp, email: &str, cloud: &str) -> Vec<serde_json::Value> {
    let state: serde_json::Value = reqwest::get(format!("{}/sandbox/_control/state", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["jira"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["assignee_email"] == email && t["closed"] == false && t["account"] == cloud)
        .cloned()
        .collect()
}

async fn expire_tokens(app: &TestApp, person: &str) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/jira/_control/expire-tokens",
            app.address
        ))
        .json(&serde_json::json!({ "person": person }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

fn run_count(app: &TestApp) -> i64 {
    app.query(|conn| sync_runs::table.count().get_result(conn).unwrap())
}

/// Presses "Sync now" and waits for the run it starts to end; its status.
async fn sync_now(app: &TestApp, client: &Client) -> String {
    let before = run_count(app);
    client.post_form("/tasks", "/tasks/sync", &[]).await;
    for _ in 0..80 {
        let last: Option<(i64, String)> = app.query(|conn| {
            sync_runs::table
                .select((sync_runs::id, sync_runs::status))
                .order(sync_runs::id.desc())
                .first(conn)
                .optional()
                .unwrap()
        });
        if run_count(app) > before && last.as_ref().is_some_and(|(_, s)| s != "running") {
            return last.unwrap().1;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the sync never ended");
}

const ACME: &str = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0001";

#[tokio::test]
async fn an_owner_turns_on_jira_and_their_issues_show_with_key_and_project_over_several_pages() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let (_, list) = owner.get_text("/company/integrations").await;
    assert!(list.contains(">Jira<"), "{list}");
    let (_, details) = owner.get_text(DETAILS).await;
    assert!(
        details.contains("read:jira-work"),
        "what it needs: {details}"
    );

    let clean = oauth_walk::connect(&owner, DETAILS, ON, "Jane Doe", "Allow").await;
    assert_eq!(clean, "/company/integrations/jira/connected");
    let (status, success) = owner.get_text(&clean).await;
    assert_eq!(status, StatusCode::OK);
    assert!(success.contains("Jira is now ON"), "{success}");
    assert!(
        success.contains(
            "Connected as <strong>Jane Doe</strong>, jane@acme.test, account <strong>Acme</strong>"
        ),
        "{success}"
    );

    let expected = open_issues(&app, "jane@acme.test", ACME).await;
    assert!(expected.len() > 5, "more than one sandbox page (5 a page)");
    let page = wait_for_text(&owner, "/tasks", "Synced just now · ").await;
    assert!(
        page.contains(&format!("Synced just now · {} new", expected.len())),
        "every page was followed: {page}"
    );
    assert!(page.contains("class=\"tool-tag\">Jira<"), "{page}");
    for project in ["Website Redesign", "Mobile App"] {
        assert!(page.contains(project), "{project} on My Tasks");
    }
    let run: (String, i64) = app.query(|conn| {
        sync_runs::table
            .select((sync_runs::status, sync_runs::fetched))
            .order(sync_runs::id.desc())
            .first(conn)
            .unwrap()
    });
    assert_eq!(run, ("ok".to_owned(), expected.len() as i64));

    // Each issue shows its key before its title and opens at <site>/browse/<KEY>.
    let html = scraper::Html::parse_document(&page);
    let links = scraper::Selector::parse("a[href*='/sandbox/jira/site/acme/browse/']").unwrap();
    let found: Vec<(String, String)> = html
        .select(&links)
        .map(|a| {
            (
                a.value().attr("href").unwrap().to_owned(),
                a.text().collect::<String>(),
            )
        })
        .collect();
    assert!(!found.is_empty(), "links to the issues' pages: {page}");
    for task in &expected {
        let title = task["title"].as_str().unwrap();
        assert!(
            page.contains(&format!(
                "-{} {title}",
                task["id"].as_str().unwrap().parse::<u64>().unwrap() - 10_000
            )),
            "{title} shows with its key: {page}"
        );
    }
    let (href, _) = &found[0];
    let opened = reqwest::get(href).await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK, "{href}");
}

#[tokio::test]
async fn a_sign_in_reaching_two_jira_sites_lets_the_person_choose_and_leaves_confluence_out() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let clean = oauth_walk::connect(&owner, DETAILS, ON, "Several Sam", "Allow").await;
    assert_eq!(clean, "/oauth/jira/choose");
    let (_, page) = owner.get_text(&clean).await;
    assert!(page.contains("Acme") && page.contains("Globex"), "{page}");
    assert!(
        !page.contains("Acme Wiki"),
        "a Confluence site is not offered"
    );
    let globex = "0d2c5a3e-1b11-4c2a-9a61-5e0f7c0a0002";
    let response = owner
        .post_form(&clean, "/oauth/jira/choose", &[("account", globex)])
        .await;
    assert_eq!(location(&response), "/company/integrations/jira/connected");
    let (_, success) = owner.get_text("/company/integrations/jira/connected").await;
    assert!(
        success.contains("account <strong>Globex</strong>"),
        "{success}"
    );
    let page = wait_for_text(&owner, "/tasks", "Synced just now · 3 new").await;
    assert!(page.contains("Globex Launch"), "{page}");
    assert!(page.contains("GLX-"), "{page}");
}

#[tokio::test]
async fn a_sign_in_without_any_jira_site_is_told_so() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let clean = oauth_walk::connect(&owner, DETAILS, ON, "Wiki-only Wendy", "Allow").await;
    assert!(clean.ends_with("/integrations/jira/problem"), "{clean}");
    let (_, page) = owner.get_text(&clean).await;
    assert!(page.contains("does not reach any Jira site"), "{page}");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_with_the_rotated_token_kept_and_revoked_access_asks_to_reconnect(
) {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    // Eddie's first access token is already expired: connecting refreshes it, which
    // spends the first refresh token; the sync then runs on what was stored.
    let clean = oauth_walk::connect(&owner, DETAILS, ON, "Expired Eddie", "Allow").await;
    assert_eq!(clean, "/company/integrations/jira/connected");
    let page = wait_for_text(&owner, "/tasks", "Synced just now · 3 new").await;
    assert!(page.contains("class=\"tool-tag\">Jira<"), "{page}");

    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let clean = oauth_walk::personal_on(&uma, "jira", "Revoked Rita").await;
    assert_eq!(clean, "/integrations/jira/connected");
    let page = wait_for_text(&uma, "/tasks", "Reconnect").await;
    assert!(page.contains("TB-AUTH-REVOKED"), "{page}");
    let statuses: Vec<String> = app.query(|conn| {
        connections::table
            .select(connections::status)
            .order(connections::id)
            .load(conn)
            .unwrap()
    });
    assert_eq!(statuses, ["active", "needs_reconnect"]);
}

#[tokio::test]
async fn each_rotated_refresh_token_is_stored_before_the_next_refresh_needs_it() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_SYNC_NOW_COOLDOWN_SECS", "0")]).await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    oauth_walk::connect(&owner, DETAILS, ON, "John Roe", "Allow").await;
    wait_for_text(&owner, "/tasks", "Synced just now · ").await;
    // Twice over: the access token runs out, the sync refreshes it, and Atlassian
    // disables the refresh token it was sent. The second refresh only works with the
    // refresh token the first one returned, stored before anything else used it.
    for round in 1..=2 {
        expire_tokens(&app, "john@acme.test").await;
        assert_eq!(sync_now(&app, &owner).await, "ok", "round {round}");
    }
    let status: String = app.query(|conn| {
        connections::table
            .select(connections::status)
            .first(conn)
            .unwrap()
    });
    assert_eq!(status, "active");
}

#[tokio::test]
async fn a_rate_limit_between_pages_is_waited_out_and_the_next_page_token_followed() {
    let app = TestApp::spawn().await;
    // Jane's first page of issues comes back; the second answers 429 with Retry-After.
    let r = reqwest::Client::new()
        .post(format!("{}/sandbox/jira/_control/rate-limit", app.address))
        .json(&serde_json::json!({"person": "jane@acme.test", "after_calls": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    oauth_walk::connect(&owner, DETAILS, ON, "Jane Doe", "Allow").await;
    let expected = open_issues(&app, "jane@acme.test", ACME).await;
    let statuses = outcomes_once_the_last_is_ok(&app).await;
    assert!(
        statuses.contains(&("waiting".to_owned(), Some("TB-RATE-LIMITED".to_owned()))),
        "{statuses:?}"
    );
    assert_eq!(statuses.last().unwrap().0, "ok", "{statuses:?}");
    let page = wait_for_text(&owner, "/tasks", &format!("{} task", expected.len())).await;
    for task in &expected {
        let title = task["title"].as_str().unwrap();
        assert!(page.contains(title), "{title}: {page}");
    }
}

#[tokio::test]
async fn the_sandbox_speaks_atlassians_shapes_at_its_edges() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let api = format!("{}/sandbox/jira/api/ex/jira/{ACME}/rest/api/3", app.address);
    // The old search is gone, with the body Atlassian sends.
    let old = http.get(format!("{api}/search")).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::GONE);
    let body: serde_json::Value = old.json().await.unwrap();
    assert!(body["errorMessages"][0]
        .as_str()
        .unwrap()
        .contains("/rest/api/3/search/jql"));
    // No token: the gateway's 401.
    let r = http.get(format!("{api}/search/jql")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 401);
    // The token endpoint: a wrong secret is 401 access_denied, a spent refresh token 403.
    let token = format!("{}/sandbox/jira/auth/oauth/token", app.address);
    let r = http
        .post(&token)
        .json(&serde_json::json!({
            "grant_type": "refresh_token", "client_id": "taskbridge-sandbox",
            "client_secret": "wrong", "refresh_token": "x"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .post(&token)
        .json(&serde_json::json!({
            "grant_type": "refresh_token", "client_id": "taskbridge-sandbox",
            "client_secret": "taskbridge-sandbox-secret", "refresh_token": "spent"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}
