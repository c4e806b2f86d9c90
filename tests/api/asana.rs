//! Asana through its sandbox: the company's sign-in walk, the tasks of every workspace
//! over several pages, and the sample people who misbehave.

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{connections, sync_runs, tasks};

use crate::helpers::*;
use crate::oauth_walk;

/// Polls `path` until it says `text`.
/// The sandbox's open Asana tasks assigned to `email`.
async fn open_in_sandbox(app: &TestApp, email: &str) -> Vec<serde_json::Value> {
    let state: serde_json::Value = reqwest::get(format!("{}/sandbox/_control/state", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["asana"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["assignee_email"] == email && t["closed"] == false)
        .cloned()
        .collect()
}

/// Olivia signs up and turns Asana on for the company as sandbox person `person`.
async fn owner_turns_on_asana(app: &TestApp, person: &str) -> Client {
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let (status, details) = owner.get_text("/company/integrations/asana").await;
    assert_eq!(status, StatusCode::OK);
    assert!(details.contains("Turn it on") && details.contains("workspace"));
    let clean = oauth_walk::company_on(&owner, "asana", person).await;
    assert_eq!(clean, "/company/integrations/asana/connected");
    owner
}

#[tokio::test]
async fn an_owner_turns_on_asana_and_sees_the_tasks_of_both_workspaces_over_several_pages() {
    let app = TestApp::spawn().await;
    let owner = owner_turns_on_asana(&app, "Jane Doe").await;
    let (status, success) = owner
        .get_text("/company/integrations/asana/connected")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(success.contains("Asana is now ON"), "{success}");
    assert!(
        success.contains(
            "Connected as <strong>Jane Doe</strong>, jane@acme.test, account <strong>Acme, Acme Labs</strong>"
        ),
        "{success}"
    );

    let jane = open_in_sandbox(&app, "jane@acme.test").await;
    assert!(
        jane.len() > 10,
        "more than two of the sandbox's pages of 5 in Acme"
    );
    let page = wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    for project in ["Website Redesign", "Mobile App", "Office Move", "Research"] {
        assert!(
            page.contains(&format!(
                "<span class=\"tool-tag\">Asana</span> {project}</h2>"
            )),
            "grouped under {project}: {page}"
        );
    }
    let first = &jane[0];
    let link = format!(
        "{}/sandbox/asana/1/{}/task/{}",
        app.address,
        first["account"].as_str().unwrap(),
        first["id"].as_str().unwrap()
    );
    assert!(page.contains(&link), "links to the task's permalink_url");
    let opened = owner.http.get(&link).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let opened = opened.text().await.unwrap();
    assert!(opened.contains(first["title"].as_str().unwrap()));

    let mut want: Vec<String> = jane
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    let stored: Vec<(String, String)> = app.query(|conn| {
        tasks::table
            .filter(tasks::archived.eq(false))
            .select((tasks::external_id, tasks::project))
            .order(tasks::external_id)
            .load(conn)
            .unwrap()
    });
    let ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, want, "every open task of both workspaces, none closed");
    assert!(stored.iter().any(|(_, p)| p == "Research"), "Acme Labs");
    let run: (String, i64) = app.query(|conn| {
        sync_runs::table
            .filter(sync_runs::finished_at.is_not_null())
            .select((sync_runs::status, sync_runs::fetched))
            .order(sync_runs::id)
            .first(conn)
            .unwrap()
    });
    assert_eq!(run, ("ok".to_owned(), jane.len() as i64));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_revoked_access_asks_for_a_reconnect() {
    let app = TestApp::spawn().await;
    let owner = owner_turns_on_asana(&app, "Expired Eddie").await;
    let eddie = open_in_sandbox(&app, "eddie.expired@acme.test").await;
    let page = wait_for_text(&owner, "/tasks", "Synced just now").await;
    assert!(page.contains(&format!("{} task", eddie.len())), "{page}");
    assert!(!page.contains("Reconnect"));

    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let clean = oauth_walk::personal_on(&uma, "asana", "Revoked Rita").await;
    assert_eq!(clean, "/integrations/asana/connected");
    let page = wait_for_text(&uma, "/tasks", "Reconnect").await;
    assert!(page.contains("TB-AUTH-REVOKED"), "{page}");
    let statuses: Vec<String> = app.query(|conn| {
        connections::table
            .select(connections::status)
            .order(connections::id)
            .load(conn)
            .unwrap()
    });
    assert_eq!(statuses[1], "needs_reconnect");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_sync_carries_on() {
    let app = TestApp::spawn().await;
    let owner = owner_turns_on_asana(&app, "Rate-limited Rob").await;
    let rob = open_in_sandbox(&app, "rob.ratelimited@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", rob.len())).await;
    let statuses = outcomes_once_the_last_is_ok(&app).await;
    assert!(
        statuses.contains(&("waiting".to_owned(), Some("TB-RATE-LIMITED".to_owned()))),
        "{statuses:?}"
    );
    assert_eq!(statuses.last().unwrap().0, "ok", "{statuses:?}");
}

#[tokio::test]
async fn the_sandbox_answers_in_asanas_shapes() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{}/sandbox/asana/api/1.0/users/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["errors"][0]["message"], "Not Authorized");
    let token = http
        .post(format!("{}/sandbox/asana/-/oauth_token", app.address))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "taskbridge-sandbox"),
            ("client_secret", "not-the-secret"),
            ("code", "made-up"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}
