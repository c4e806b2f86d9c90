//! Every tool's paging, through the sandbox and the real sync engine: each sample
//! account here has more tasks than one page holds. And what a pass does when the
//! list changes or breaks under it.

use std::time::Duration;

use diesel::prelude::*;
use taskbridge::schema::{connections, sync_runs, tasks};

use crate::helpers::*;
use crate::oauth_walk;

/// Polls `path` until it says `text`.
/// The tool's ids of the open tasks stored, sorted.
fn open_ids(app: &TestApp) -> Vec<String> {
    app.query(|conn| {
        tasks::table
            .filter(tasks::archived.eq(false))
            .select(tasks::external_id)
            .order(tasks::external_id)
            .load(conn)
            .unwrap()
    })
}

fn ids_of(tasks: &[serde_json::Value]) -> Vec<String> {
    let mut ids: Vec<String> = tasks
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Waits for the first run to end, and answers it as (status, fetched, error code).
async fn first_run(app: &TestApp) -> (String, i64, Option<String>) {
    for _ in 0..80 {
        let run: Option<(String, i64, Option<String>)> = app.query(|conn| {
            sync_runs::table
                .filter(sync_runs::finished_at.is_not_null())
                .select((sync_runs::status, sync_runs::fetched, sync_runs::error_code))
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

/// An OAuth tool turned on by Olivia as sandbox person `person`; her client.
async fn oauth_company(app: &TestApp, tool: &str, person: &str) -> Client {
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let done = oauth_walk::connect(
        &owner,
        &format!("/company/integrations/{tool}"),
        &format!("/company/integrations/{tool}/on"),
        person,
        "Allow",
    )
    .await;
    assert_eq!(done, format!("/company/integrations/{tool}/connected"));
    owner
}

async fn pivotal_company(app: &TestApp, token: &str) -> Client {
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let r = oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", token)],
    )
    .await;
    assert_eq!(r, "/company/integrations/pivotal/connected");
    owner
}

#[tokio::test]
async fn basecamp_legacy_lou_gets_all_forty_todos_over_the_reports_pages() {
    let app = TestApp::spawn().await;
    let owner = oauth_company(&app, "basecamp", "Legacy Lou").await;
    let lou = sandbox_tasks(&app, "basecamp", "lou.legacy@acme.test").await;
    assert_eq!(lou.len(), 40, "15, then 25 on the report's second page");
    let page = wait_for_text(&owner, "/tasks", "40 tasks").await;
    assert!(!page.contains("TB-NOT-FOUND"), "{page}");
    assert_eq!(first_run(&app).await, ("ok".to_owned(), 40, None));
    assert_eq!(open_ids(&app), ids_of(&lou));
}

#[tokio::test]
async fn salesforce_follows_next_records_url_to_the_last_batch() {
    let app = TestApp::spawn().await;
    let owner = oauth_company(&app, "salesforce", "Jane Doe").await;
    let jane = sandbox_tasks(&app, "salesforce", "jane@acme.test").await;
    assert!(
        jane.len() > 6,
        "more than two of the sandbox's batches of 3"
    );
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    let run = first_run(&app).await;
    assert_eq!((run.0.as_str(), run.1), ("ok", jane.len() as i64));
    assert_eq!(open_ids(&app), ids_of(&jane));
}

#[tokio::test]
async fn pivotal_pages_a_project_by_offset() {
    let app = TestApp::spawn().await;
    let owner = pivotal_company(&app, "sandbox-many-stories").await;
    let max = sandbox_tasks(&app, "pivotal", "max.many@acme.test").await;
    assert_eq!(max.len(), 13, "three pages of at most 5");
    wait_for_text(&owner, "/tasks", "13 tasks").await;
    assert_eq!(first_run(&app).await, ("ok".to_owned(), 13, None));
    assert_eq!(open_ids(&app), ids_of(&max));
}

#[tokio::test]
async fn intellinote_pages_by_offset_whatever_the_page_size() {
    let app = TestApp::spawn().await;
    let owner = oauth_company(&app, "intellinote", "Jane Doe").await;
    let jane = sandbox_tasks(&app, "intellinote", "jane@acme.test").await;
    assert!(jane.len() > 5, "more than the sandbox's page of 5");
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    let run = first_run(&app).await;
    assert_eq!((run.0.as_str(), run.1), ("ok", jane.len() as i64));
    assert_eq!(open_ids(&app), ids_of(&jane));
}

#[tokio::test]
async fn a_dead_salesforce_query_locator_starts_the_pass_again() {
    use taskbridge::sync::{RunOutcome, SyncEngine, Trigger};
    let app = TestApp::spawn().await;
    let owner = oauth_company(&app, "salesforce", "Jane Doe").await;
    let jane = sandbox_tasks(&app, "salesforce", "jane@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    wait_for_the_pass_to_end(&app).await;
    // A pass paused on a query locator that has expired since (Salesforce answers
    // 400 INVALID_QUERY_LOCATOR to it).
    let id: i64 = app.query(|conn| {
        let id = connections::table
            .select(connections::id)
            .first(conn)
            .unwrap();
        diesel::update(connections::table.find(id))
            .set((
                connections::sync_cursor.eq("/services/data/v59.0/query/01gSBXexpired-3"),
                connections::pass_id.eq(777_i64),
                connections::next_sync_at.eq(i64::MAX / 2),
            ))
            .execute(conn)
            .unwrap();
        id
    });
    let tools = std::sync::Arc::new(taskbridge::tools(&app.settings).unwrap());
    let engine = SyncEngine::new(app.pool.clone(), tools, Duration::from_secs(300));
    for _ in 0..3 {
        let outcome = engine.sync_connection(id, Trigger::Manual).await.unwrap();
        match outcome {
            RunOutcome::Completed { fetched, .. } => {
                assert_eq!(fetched, jane.len() as i64, "read again from the start");
                assert_eq!(open_ids(&app), ids_of(&jane), "nothing lost");
                let cursor: Option<String> = app.query(|conn| {
                    connections::table
                        .select(connections::sync_cursor)
                        .first(conn)
                        .unwrap()
                });
                assert_eq!(cursor, None, "the dead cursor is gone");
                return;
            }
            // The live engine may hold the lease for a moment.
            RunOutcome::NotLeased => tokio::time::sleep(Duration::from_millis(500)).await,
            other => panic!("the pass did not start again: {other:?}"),
        }
    }
    panic!("never leased");
}

#[tokio::test]
async fn a_task_leaving_a_page_mid_pass_does_not_archive_the_next_one() {
    // Two "Sync now" a few seconds apart: no cooldown between them.
    let app = TestApp::spawn_with(&[("TASKBRIDGE_SYNC_NOW_COOLDOWN_SECS", "0")]).await;
    let owner = pivotal_company(&app, "sandbox-many-stories").await;
    wait_for_text(&owner, "/tasks", "13 tasks").await;
    wait_for_the_pass_to_end(&app).await;
    let max = sandbox_tasks(&app, "pivotal", "max.many@acme.test").await;
    // The next run reads who Max is and the first page of stories, then the tool asks
    // to wait; meanwhile the first story is accepted, and every later one moves up.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/pivotal/_control/rate-limit",
            app.address
        ))
        .json(&serde_json::json!({"person": "max.many@acme.test", "after_calls": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
    assert_eq!(location(&r), "/tasks");
    for _ in 0..80 {
        let waiting: i64 = app.query(|conn| {
            sync_runs::table
                .filter(sync_runs::status.eq("waiting"))
                .count()
                .get_result(conn)
                .unwrap()
        });
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gone = max[0]["id"].as_str().unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/sandbox/pivotal/_control/reassign", app.address))
        .json(&serde_json::json!({"task_id": gone, "closed": true}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // The paused pass resumes after the tool's 2 seconds and ends. The story that
    // left was seen on the page read before, so this pass keeps it; the story that
    // moved up onto that page is not lost on the way.
    for _ in 0..80 {
        let ok: i64 = app.query(|conn| {
            sync_runs::table
                .filter(sync_runs::status.eq("ok"))
                .count()
                .get_result(conn)
                .unwrap()
        });
        if ok >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_for_the_pass_to_end(&app).await;
    assert_eq!(
        open_ids(&app),
        ids_of(&max),
        "no story archived by the shift"
    );
    // The next pass archives the one that left, and only it.
    let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
    assert_eq!(location(&r), "/tasks");
    wait_for_text(&owner, "/tasks", "12 tasks").await;
    let mut want = ids_of(&max);
    want.retain(|id| id != gone);
    assert_eq!(open_ids(&app), want);
}

#[tokio::test]
async fn a_task_written_since_the_page_was_read_is_updated_not_a_failed_insert() {
    use taskbridge::models::{connection, sync_pass, task};
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let user_id = user_id(&app, "olivia@acme.test");
    app.query(move |conn| {
        let company_id: i64 = taskbridge::schema::users::table
            .find(user_id)
            .select(taskbridge::schema::users::company_id)
            .first(conn)
            .unwrap();
        let id = connection::upsert(
            conn,
            connection::NewConnection {
                company_id,
                user_id,
                provider: taskbridge::connectors::ProviderKind::PivotalTracker,
                external_user_id: "1",
                external_account_id: "1",
                account_name: "Tracker",
                display_name: "Olivia",
                email: None,
                api_base: None,
                credentials: vec![0; 32],
            },
        )
        .unwrap();
        diesel::update(connections::table.find(id))
            .set(connections::next_sync_at.eq(i64::MAX / 2))
            .execute(conn)
            .unwrap();
        let c = connection::find(conn, id).unwrap();
        let mut lease = connection::try_lease(conn, id, "me", 60).unwrap().unwrap();
        let story = |title: &str| taskbridge::connectors::RemoteTask {
            external_id: "s1".into(),
            title: title.into(),
            status: "started".into(),
            project: Some("P".into()),
            due_on: None,
            url: None,
            closed: false,
            updated_at: None,
        };
        // The page is compared with what is stored (nothing: "s1" is new)...
        let changes = task::page_changes(conn, id, &[story("Newer title")]).unwrap();
        // ...and before its write, another run writes "s1".
        sync_pass::apply_page(conn, &c, 1, &[story("Older title")], None, &mut lease, 60)
            .unwrap()
            .unwrap();
        let page = sync_pass::PageWrite {
            changes,
            memo: taskbridge::models::sync_page::PageMemo::Keep,
        };
        let checkpoint = sync_pass::Checkpoint {
            pass_id: 1,
            cursor: None,
            seen: Vec::new(),
            progress: None,
        };
        let saved = sync_pass::save(conn, &c, &mut lease, 60, Some(&page), &checkpoint);
        assert!(
            saved.unwrap(),
            "the page is written, upserted on the tool's id"
        );
        let rows: Vec<String> = tasks::table
            .filter(tasks::connection_id.eq(id))
            .select(tasks::title)
            .load(conn)
            .unwrap();
        assert_eq!(rows, ["Newer title"], "one row, as the page said");
    });
}
