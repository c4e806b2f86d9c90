//! The sync engine and My Tasks, against the sandbox.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{connections, sync_runs, tasks};

use crate::helpers::*;
use crate::oauth_walk;

/// Polls My Tasks until it says `text`.
fn open_tasks(app: &TestApp) -> Vec<(String, String)> {
    app.query(|conn| {
        tasks::table
            .filter(tasks::archived.eq(false))
            .select((tasks::external_id, tasks::title))
            .order(tasks::external_id)
            .load(conn)
            .unwrap()
    })
}

fn all_task_rows(app: &TestApp) -> i64 {
    app.query(|conn| tasks::table.count().get_result(conn).unwrap())
}

/// The sandbox's tasks of one tool assigned to `email`, open ones only.
async fn reassign(app: &TestApp, tool: &str, task_id: &str, body: serde_json::Value) {
    let mut body = body;
    body["task_id"] = serde_json::Value::from(task_id);
    let r = reqwest::Client::new()
        .post(format!("{}/sandbox/{tool}/_control/reassign", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
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
async fn tasks_arrive_within_seconds_grouped_by_tool_and_project() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Jane Doe").await;
    let expected = sandbox_tasks(&app, "basecamp", "jane@acme.test").await;
    assert!(expected.len() >= 5);
    let page = wait_for_text(&owner, "/tasks", "Synced just now · ").await;
    assert!(
        page.contains(&format!("Synced just now · {} new", expected.len())),
        "the card says what the sync brought: {page}"
    );
    assert!(page.contains(">On</span>"), "{page}");
    for task in &expected {
        let title = task["title"].as_str().unwrap();
        assert!(
            page.contains(&title.replace('&', "&amp;")),
            "{title} is on My Tasks"
        );
    }
    assert!(page.contains(&format!("{} task", expected.len())));
    assert!(page.contains("class=\"tool-tag\">Basecamp<"));
    assert!(page.contains("Overdue · due"), "overdue tasks stand out");
    assert!(
        page.contains("target=\"_blank\""),
        "each task opens in its tool"
    );
    let run: (String, i64, i64) = app.query(|conn| {
        sync_runs::table
            .select((sync_runs::status, sync_runs::fetched, sync_runs::added))
            .order(sync_runs::id.desc())
            .first(conn)
            .unwrap()
    });
    assert_eq!(run.0, "ok");
    assert_eq!(run.2, expected.len() as i64);
}

#[tokio::test]
async fn a_change_of_assignment_shows_after_sync_now() {
    let app = TestApp::spawn().await;
    let owner = pivotal_company(&app, "sandbox-jane-doe").await;
    let jane = sandbox_tasks(&app, "pivotal", "jane@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    let moved = &jane[0];
    let renamed = &jane[1];
    reassign(
        &app,
        "pivotal",
        moved["id"].as_str().unwrap(),
        serde_json::json!({"assignee": "john@acme.test"}),
    )
    .await;
    reassign(
        &app,
        "pivotal",
        renamed["id"].as_str().unwrap(),
        serde_json::json!({"closed": true}),
    )
    .await;

    let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
    assert_eq!(location(&r), "/tasks");
    let page = wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len() - 2)).await;
    assert!(!page.contains(moved["title"].as_str().unwrap()));
    // Archived, not deleted: the rows are kept.
    assert_eq!(all_task_rows(&app), jane.len() as i64);
    let archived: i64 = app.query(|conn| {
        tasks::table
            .filter(tasks::archived.eq(true))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(archived, 2);
    let (status, json) = owner.get_text("/tasks/sync/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(json.contains("\"running\":false"));
}

#[tokio::test]
async fn filters_search_and_paging() {
    let app = TestApp::spawn().await;
    let owner = pivotal_company(&app, "sandbox-jane-doe").await;
    let jane = sandbox_tasks(&app, "pivotal", "jane@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    let title = jane[0]["title"].as_str().unwrap();
    let word: String = title.split_whitespace().next().unwrap().to_uppercase();
    let (_, found) = owner
        .get_text(&format!("/tasks?q={}", urlencode(&word)))
        .await;
    assert!(found.contains(title), "search is case-insensitive");
    let (_, none) = owner.get_text("/tasks?q=zzzz-no-such-task").await;
    assert!(none.contains("No tasks match these filters"));
    let (_, percent) = owner.get_text("/tasks?q=%25").await;
    assert!(
        percent.contains("No tasks match these filters"),
        "a % is searched literally"
    );
    let project = jane[0]["project"].as_str().unwrap();
    let (_, by_project) = owner
        .get_text(&format!("/tasks?project={}", urlencode(project)))
        .await;
    let in_project = jane.iter().filter(|t| t["project"] == project).count();
    assert!(by_project.contains(&format!("{in_project} task")));
    let overdue = jane
        .iter()
        .filter(|t| {
            t["due_on"]
                .as_str()
                .is_some_and(|d| d < time::OffsetDateTime::now_utc().date().to_string().as_str())
        })
        .count();
    let (_, due) = owner.get_text("/tasks?due=overdue").await;
    if overdue > 0 {
        assert!(due.contains(&format!("{overdue} task")));
    }
    let (_, by_tool) = owner.get_text("/tasks?tool=basecamp").await;
    assert!(by_tool.contains("No tasks match these filters"));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_person_never_sees_another_persons_tasks() {
    let app = TestApp::spawn().await;
    let owner = pivotal_company(&app, "sandbox-jane-doe").await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let r = oauth_walk::start(
        &uma,
        "/integrations",
        "/integrations/pivotal/on",
        &[("api_token", "sandbox-john-roe")],
    )
    .await;
    assert_eq!(r, "/integrations/pivotal/connected");
    let jane = sandbox_tasks(&app, "pivotal", "jane@acme.test").await;
    let john = sandbox_tasks(&app, "pivotal", "john@acme.test").await;
    let owner_page = wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    let uma_page = wait_for_text(&uma, "/tasks", &format!("{} tasks", john.len())).await;
    for t in &john {
        assert!(!owner_page.contains(t["title"].as_str().unwrap()));
    }
    for t in &jane {
        assert!(!uma_page.contains(t["title"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn empty_states_say_why() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    assert!(uma
        .get_text("/tasks")
        .await
        .1
        .contains("No integration is turned on"));
    oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "sandbox-rate-limited")],
    )
    .await;
    assert!(uma
        .get_text("/tasks")
        .await
        .1
        .contains("Turn on your integrations"));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_sync_goes_on() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let clean = oauth_walk::company_on(&owner, "basecamp", "Expired Eddie").await;
    assert_eq!(clean, "/company/integrations/basecamp/connected");
    let eddie = sandbox_tasks(&app, "basecamp", "eddie.expired@acme.test").await;
    let page = wait_for_text(&owner, "/tasks", "Synced just now").await;
    assert!(page.contains(&format!("{} task", eddie.len())), "{page}");
    assert!(!page.contains("Reconnect"));
}

#[tokio::test]
async fn revoked_access_asks_for_a_reconnect_and_stops_syncing() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Revoked Rita").await;
    let page = wait_for_text(&owner, "/tasks", "Reconnect").await;
    assert!(page.contains("TB-AUTH-REVOKED"), "{page}");
    let status: String = app.query(|conn| {
        connections::table
            .select(connections::status)
            .first(conn)
            .unwrap()
    });
    assert_eq!(status, "needs_reconnect");
    let runs_before: i64 = app.query(|conn| sync_runs::table.count().get_result(conn).unwrap());
    owner.post_form("/tasks", "/tasks/sync", &[]).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let runs_after: i64 = app.query(|conn| sync_runs::table.count().get_result(conn).unwrap());
    assert_eq!(
        runs_before, runs_after,
        "a broken connection is not synced again"
    );
    let (_, notices) = owner.get_text("/notifications").await;
    assert!(notices.contains("Basecamp stopped syncing"));
    // One state everywhere: the card, the switch, the menu's badge and Health.
    let (_, tasks) = owner.get_text("/tasks").await;
    assert!(tasks.contains(">Needs attention</span>"), "{tasks}");
    assert!(
        tasks.contains("aria-label=\"1 need attention\""),
        "the menu's badge: {tasks}"
    );
    let (_, settings) = owner.get_text("/integrations").await;
    assert!(settings.contains(">Needs attention</span>"), "{settings}");
    assert!(
        settings.contains("class=\"switch attention\""),
        "{settings}"
    );
    assert!(
        !settings.contains("class=\"switch\" role"),
        "no green ON: {settings}"
    );
    let (_, health) = owner.get_text("/company/health").await;
    assert!(health.contains(">Needs attention</span>"), "{health}");
    let (_, catalogue) = owner.get_text("/help/errors").await;
    assert!(catalogue.contains("id=\"TB-AUTH-REVOKED\""));
    // Reconnecting brings it back.
    oauth_walk::personal_on(&owner, "basecamp", "Jane Doe").await;
    wait_until(&app, "the connection syncs again", |conn| {
        connections::table
            .select(connections::status)
            .first::<String>(conn)
            .unwrap()
            == "active"
    })
    .await;
}

#[tokio::test]
async fn rate_limits_wait_as_told_then_carry_on() {
    let app = TestApp::spawn().await;
    let owner = pivotal_company(&app, "sandbox-rate-limited").await;
    let rob = sandbox_tasks(&app, "pivotal", "rob.ratelimited@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} task", rob.len())).await;
    // The tasks show as soon as their page is written; the run is recorded as
    // finished, and the lease let go, a moment later.
    wait_for_the_pass_to_end(&app).await;
    let statuses = outcomes_once_the_last_is_ok(&app).await;
    assert!(
        statuses.contains(&("waiting".to_owned(), Some("TB-RATE-LIMITED".to_owned()))),
        "{statuses:?}"
    );
    assert_eq!(statuses.last().unwrap().0, "ok");
    let leases: Option<String> = app.query(|conn| {
        connections::table
            .select(connections::lease_owner)
            .first(conn)
            .unwrap()
    });
    assert!(leases.is_none(), "no lease held while waiting or after");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_with_their_fix() {
    let app = TestApp::spawn().await;
    let owner = pivotal_company(&app, "sandbox-server-error").await;
    let page = wait_for_text(&owner, "/tasks", "TB-TOOL-DOWN").await;
    assert!(
        page.contains("taskbridge tries again later by itself"),
        "the fix is shown: {page}"
    );
    assert!(page.contains("Next try in "), "and when: {page}");
    assert!(
        page.contains(">On</span>"),
        "a tool that is down leaves it On"
    );
    let status: String = app.query(|conn| {
        connections::table
            .select(connections::status)
            .first(conn)
            .unwrap()
    });
    assert_eq!(status, "active", "a tool that is down is tried again later");
}

#[tokio::test]
async fn two_engines_never_hold_one_connection_and_a_stale_lease_is_taken_over() {
    let app = TestApp::spawn().await;
    jane_synced(&app).await;
    let id = connection_id(&app);

    // Many instances race for the lease: exactly one gets it.
    let mut racers = Vec::new();
    for n in 0..8 {
        let pool = app.pool.clone();
        racers.push(tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            taskbridge::models::connection::try_lease(&mut conn, id, &format!("instance-{n}"), 60)
                .unwrap()
        }));
    }
    let mut winners = 0;
    for r in racers {
        if r.await.unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);

    // Another instance's engine finds it leased and leaves it alone.
    let tools = Arc::new(taskbridge::tools(&app.settings).unwrap());
    let other =
        taskbridge::sync::SyncEngine::new(app.pool.clone(), tools, Duration::from_secs(300));
    let outcome = other
        .sync_connection(id, taskbridge::sync::Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(outcome, taskbridge::sync::RunOutcome::NotLeased);

    // The holder died: once its lease expires, the other instance takes it over.
    app.query(move |conn| {
        diesel::update(connections::table.find(id))
            .set(connections::lease_until.eq(taskbridge::db::now() - 1))
            .execute(conn)
            .unwrap()
    });
    let outcome = other
        .sync_connection(id, taskbridge::sync::Trigger::Manual)
        .await
        .unwrap();
    assert!(
        matches!(outcome, taskbridge::sync::RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn sync_now_during_a_running_sync_is_not_lost() {
    use taskbridge::models::connection::{self, Next};
    let app = TestApp::spawn().await;
    let (owner, _) = jane_synced(&app).await;
    let id = connection_id(&app);
    // Another instance is running this connection's sync...
    let lease = app.query(move |conn| {
        connection::try_lease(conn, id, "other-instance", 600)
            .unwrap()
            .unwrap()
    });
    // ...when the person asks for a sync.
    let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
    assert_eq!(location(&r), "/tasks");
    // The run ends and schedules the next one an interval away: the request still
    // stands, so the connection stays due now.
    // (In one transaction, so the live engine does not take the due connection between
    // the two halves.)
    let far = taskbridge::db::now() + 3600;
    let (requested, unrequested) = app.query(move |conn| {
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            connection::release(conn, &lease, Next::At(far))?;
            let requested = connection::find(conn, id)?.next_sync_at;
            // Without a request in between, the next run is an interval away.
            let again = connection::try_lease(conn, id, "other-instance", 600)?.unwrap();
            connection::release(conn, &again, Next::At(far))?;
            Ok((requested, connection::find(conn, id)?.next_sync_at))
        })
        .unwrap()
    });
    assert_eq!(requested, 0, "the Sync now request survived the run");
    let next = unrequested;
    assert_eq!(next, far);
}

#[tokio::test]
async fn a_crash_between_pages_resumes_without_loss_or_duplicates() {
    let app = TestApp::spawn().await;
    let (_, jane) = jane_synced(&app).await;
    let gone = jane.last().unwrap()["id"].as_str().unwrap().to_owned();
    reassign(
        &app,
        "pivotal",
        &gone,
        serde_json::json!({"assignee": "john@acme.test"}),
    )
    .await;

    // A dead instance wrote the first pages of a new pass, then crashed holding the lease.
    let id = connection_id(&app);
    let connection = app.query(move |conn| taskbridge::models::connection::find(conn, id).unwrap());
    let tools = taskbridge::tools(&app.settings).unwrap();
    let kind = taskbridge::connectors::ProviderKind::PivotalTracker;
    let binding = taskbridge::services::credentials::credentials_binding(
        connection.company_id,
        connection.user_id,
        kind,
    );
    let creds = taskbridge::services::credentials::open_credentials(
        &tools.cipher,
        connection.credentials.as_ref().unwrap(),
        &binding,
    )
    .unwrap();
    let account = taskbridge::connectors::RemoteAccount {
        id: connection.external_account_id.clone(),
        name: connection.account_name.clone(),
        api_base: connection.api_base.clone(),
    };
    // Who Jane is and her projects, then her first project's stories.
    let mut pages: Vec<taskbridge::connectors::TaskPage> = Vec::new();
    let mut cursor: Option<String> = None;
    while pages.iter().all(|p| p.tasks.is_empty()) {
        let ask = taskbridge::connectors::PageAsk {
            creds: &creds,
            account: &account,
            me: &connection.external_user_id,
            cursor: cursor.as_deref(),
            etag: None,
        };
        let page = kind
            .connector()
            .fetch_tasks_page(tools.tool(kind).unwrap(), &ask)
            .await
            .unwrap()
            .into_page()
            .unwrap();
        cursor = page.next.clone();
        pages.push(page);
    }
    assert!(cursor.is_some(), "the sandbox pages Jane's stories");
    let dead_pass = 900_000;
    let c2 = connection.clone();
    app.query(move |conn| {
        let mut lease =
            taskbridge::models::connection::try_lease(conn, c2.id, "dead-instance", 600)
                .unwrap()
                .unwrap();
        for page in &pages {
            let written = taskbridge::models::sync_pass::apply_page(
                conn,
                &c2,
                dead_pass,
                &page.tasks,
                page.next.as_deref(),
                &mut lease,
                600,
            )
            .unwrap();
            assert!(written.is_some());
        }
        diesel::update(connections::table.find(c2.id))
            .set(connections::next_sync_at.eq(0))
            .execute(conn)
            .unwrap();
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let cursor_kept: Option<String> = app.query(|conn| {
        connections::table
            .select(connections::sync_cursor)
            .first(conn)
            .unwrap()
    });
    assert!(
        cursor_kept.is_some(),
        "the live engine left the leased connection alone"
    );

    // The lease runs out; the live engine takes over and finishes the pass from the cursor.
    app.query(move |conn| {
        diesel::update(connections::table.find(id))
            .set(connections::lease_until.eq(taskbridge::db::now() - 1))
            .execute(conn)
            .unwrap()
    });
    // The last page clears the cursor; finishing the pass (archiving what it did not
    // see) clears the pass id, in a later transaction. Wait for that one.
    wait_for_the_pass_to_end(&app).await;
    let open = open_tasks(&app);
    assert_eq!(open.len(), jane.len() - 1, "nothing lost");
    assert!(
        !open.iter().any(|(ext, _)| ext == &gone),
        "the reassigned story is archived"
    );
    assert_eq!(all_task_rows(&app), jane.len() as i64, "nothing duplicated");
}

#[tokio::test]
async fn a_salesforce_org_over_its_api_limit_waits_and_tries_later() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Busy Bees", "Olivia Owner", "olivia@busybees.test")
        .await;
    let clean = oauth_walk::company_on(&owner, "salesforce", "Over-limit Olive").await;
    assert_eq!(clean, "/company/integrations/salesforce/connected");
    let page = wait_for_text(&owner, "/tasks", "TB-SF-REQUEST-LIMIT").await;
    assert!(
        !page.contains("Reconnect"),
        "nothing for the person to reconnect"
    );
    let (next, lease): (i64, Option<String>) = app.query(|conn| {
        connections::table
            .select((connections::next_sync_at, connections::lease_owner))
            .first(conn)
            .unwrap()
    });
    assert!(
        next > taskbridge::db::now() + 3000,
        "tried again later, not now"
    );
    assert!(lease.is_none());
}

#[tokio::test]
async fn my_tasks_pages_through_fifty_at_a_time() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let user_id = user_id(&app, "olivia@acme.test");
    // 120 tasks written the way the engine writes them, for a tool that is ON.
    app.query(move |conn| {
        use taskbridge::models::{company_integration, connection, sync_pass};
        let company_id: i64 = taskbridge::schema::users::table
            .find(user_id)
            .select(taskbridge::schema::users::company_id)
            .first(conn)
            .unwrap();
        company_integration::set_enabled(
            conn,
            company_id,
            taskbridge::connectors::ProviderKind::PivotalTracker,
            true,
            user_id,
        )
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
            .set(connections::next_sync_at.eq(i64::MAX))
            .execute(conn)
            .unwrap();
        let connection = connection::find(conn, id).unwrap();
        let mut lease = connection::try_lease(conn, id, "seed", 60)
            .unwrap()
            .unwrap();
        let tasks: Vec<taskbridge::connectors::RemoteTask> = (0..120)
            .map(|i| taskbridge::connectors::RemoteTask {
                external_id: format!("s{i:03}"),
                title: format!("Story number {i:03}"),
                status: "started".into(),
                project: Some("Big Project".into()),
                due_on: Some(format!("2027-01-{:02}", 1 + i % 28)),
                url: None,
                closed: false,
                updated_at: None,
            })
            .collect();
        sync_pass::apply_page(conn, &connection, 1, &tasks, None, &mut lease, 60)
            .unwrap()
            .unwrap();
        sync_pass::finish_pass(conn, &mut lease, 1, &Default::default(), None).unwrap();
        connection::release(conn, &lease, connection::Next::NotBefore(i64::MAX)).unwrap();
    });
    let (_, first) = owner.get_text("/tasks").await;
    assert!(first.contains("120 tasks · page 1 of 3"), "{first}");
    assert_eq!(first.matches("class=\"task\"").count(), 50);
    assert!(first.contains("page=2") && first.contains(">Next<"));
    let (_, last) = owner.get_text("/tasks?page=3").await;
    assert_eq!(last.matches("class=\"task\"").count(), 20);
    assert!(last.contains(">Previous<") && !last.contains(">Next<"));
    assert!(last.contains("120 tasks · page 3 of 3"), "{last}");
    let (_, beyond) = owner.get_text("/tasks?page=9").await;
    assert!(beyond.contains("120 tasks"), "{beyond}");
    assert_eq!(beyond.matches("class=\"task\"").count(), 0);
    let (_, filtered) = owner.get_text("/tasks?q=number%2010&page=1").await;
    assert!(filtered.contains("10 tasks"), "number 100 to number 109");
    let (_, filtered) = owner.get_text("/tasks?q=number%2010&page=2").await;
    assert!(filtered.contains("10 tasks"), "{filtered}");
}

/// The sandbox's count of API calls and of 304s answered.
async fn sandbox_not_modified(app: &TestApp) -> i64 {
    let stats: serde_json::Value = reqwest::get(format!("{}/sandbox/_control/stats", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["not_modified"].as_i64().unwrap()
}

async fn rate_limit_after(app: &TestApp, tool: &str, person: &str, calls: u32) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/sandbox/{tool}/_control/rate-limit",
            app.address
        ))
        .json(&serde_json::json!({"person": person, "after_calls": calls}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

fn connection_id(app: &TestApp) -> i64 {
    app.query(|conn| {
        connections::table
            .select(connections::id)
            .first(conn)
            .unwrap()
    })
}

/// Olivia's company with Pivotal Tracker ON as Jane's sandbox account, once its first
/// sync is over: Jane's tasks shown, the pass ended and the lease let go (tasks show
/// before the pass is finished). Olivia's client and Jane's sandbox stories.
async fn jane_synced(app: &TestApp) -> (Client, Vec<serde_json::Value>) {
    let owner = pivotal_company(app, "sandbox-jane-doe").await;
    let jane = sandbox_tasks(app, "pivotal", "jane@acme.test").await;
    wait_for_text(&owner, "/tasks", &format!("{} tasks", jane.len())).await;
    wait_for_the_pass_to_end(app).await;
    (owner, jane)
}

type TaskRow = (String, String, bool, i64, i64);

/// Every task row as (tool's id, title, archived, seen_pass, updated_at).
fn task_rows(app: &TestApp) -> Vec<TaskRow> {
    app.query(|conn| {
        tasks::table
            .select((
                tasks::external_id,
                tasks::title,
                tasks::archived,
                tasks::seen_pass,
                tasks::updated_at,
            ))
            .order(tasks::external_id)
            .load(conn)
            .unwrap()
    })
}

fn engine_for(app: &TestApp) -> taskbridge::sync::SyncEngine {
    let tools = Arc::new(taskbridge::tools(&app.settings).unwrap());
    taskbridge::sync::SyncEngine::new(app.pool.clone(), tools, Duration::from_secs(300))
}

#[tokio::test]
async fn an_unchanged_re_sync_gets_304s_and_writes_nothing_while_changes_still_arrive() {
    use taskbridge::models::task::PageCounts;
    use taskbridge::sync::{RunOutcome, Trigger};
    let app = TestApp::spawn().await;
    let (_, jane) = jane_synced(&app).await;
    let id = connection_id(&app);
    let kept: i64 = app.query(|conn| {
        taskbridge::schema::sync_pages::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(kept, 4, "who Jane is, then her three projects' stories");
    let engine = engine_for(&app);

    // Nothing changed: every page is a 304 and no task row is written.
    let rows = task_rows(&app);
    let before = sandbox_not_modified(&app).await;
    let outcome = engine.sync_connection(id, Trigger::Manual).await.unwrap();
    assert_eq!(
        outcome,
        RunOutcome::Completed {
            fetched: jane.len() as i64,
            counts: PageCounts::default()
        }
    );
    assert_eq!(sandbox_not_modified(&app).await - before, 4);
    assert_eq!(task_rows(&app), rows, "not one task row written");
    let run: (String, i64, i64, i64, i64) = app.query(|conn| {
        sync_runs::table
            .select((
                sync_runs::status,
                sync_runs::fetched,
                sync_runs::added,
                sync_runs::updated,
                sync_runs::archived,
            ))
            .order(sync_runs::id.desc())
            .first(conn)
            .unwrap()
    });
    assert_eq!(run, ("ok".to_owned(), jane.len() as i64, 0, 0, 0));

    // Checkpointing at every page marks what the pass saw before its last page (that
    // one's tasks are spared by the archive from memory), and still changes no task.
    let last_page: Vec<&str> = jane
        .iter()
        .filter(|t| t["project"] == jane.last().unwrap()["project"])
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let outcome = engine_for(&app)
        .with_checkpoint_every(Duration::ZERO)
        .sync_connection(id, Trigger::Manual)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { counts, .. } if counts == PageCounts::default()),
        "{outcome:?}"
    );
    let marked = task_rows(&app);
    let pass = marked.iter().map(|r| r.3).max().unwrap();
    assert!(pass > rows.iter().map(|r| r.3).max().unwrap());
    for (was, is) in rows.iter().zip(&marked) {
        assert_eq!((&was.0, &was.1, was.2, was.4), (&is.0, &is.1, is.2, is.4));
        if !is.2 && !last_page.contains(&is.0.as_str()) {
            assert_eq!(is.3, pass, "{is:?} was marked as seen");
        }
    }

    // Between syncs one of Jane's stories goes to John and one of John's comes to her:
    // the page they are on is read in full, the other two are still 304s.
    let john = sandbox_tasks(&app, "pivotal", "john@acme.test").await;
    let (out, arrived) = (&jane[0], &john[0]);
    assert_eq!(out["project"], arrived["project"]);
    reassign(
        &app,
        "pivotal",
        out["id"].as_str().unwrap(),
        serde_json::json!({"assignee": "john@acme.test"}),
    )
    .await;
    reassign(
        &app,
        "pivotal",
        arrived["id"].as_str().unwrap(),
        serde_json::json!({"assignee": "jane@acme.test"}),
    )
    .await;
    let before = sandbox_not_modified(&app).await;
    let outcome = engine.sync_connection(id, Trigger::Manual).await.unwrap();
    assert_eq!(
        outcome,
        RunOutcome::Completed {
            fetched: jane.len() as i64,
            counts: PageCounts {
                added: 1,
                updated: 0,
                archived: 1
            }
        }
    );
    assert_eq!(sandbox_not_modified(&app).await - before, 3);
    let open: Vec<String> = open_tasks(&app).into_iter().map(|(ext, _)| ext).collect();
    let mut expected: Vec<String> = jane
        .iter()
        .chain([arrived])
        .filter(|t| t["id"] != out["id"])
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(
        open, expected,
        "the story that left is archived, the new one is in"
    );
    assert_eq!(
        all_task_rows(&app),
        jane.len() as i64 + 1,
        "nothing duplicated"
    );
    let after = task_rows(&app);
    let untouched = jane
        .iter()
        .filter(|t| t["project"] != out["project"])
        .map(|t| t["id"].as_str().unwrap())
        .collect::<Vec<_>>();
    for row in after.iter().filter(|r| untouched.contains(&r.0.as_str())) {
        assert!(
            marked.contains(row),
            "{row:?} on an unchanged page is untouched"
        );
    }
}

#[tokio::test]
async fn a_pause_mid_pass_keeps_what_the_pass_saw_and_it_still_archives_right() {
    let app = TestApp::spawn().await;
    let (owner, jane) = jane_synced(&app).await;

    // The story that leaves is on Jane's last page; the two pages before it do not
    // change (304s, nothing written for them) and then the tool asks to wait.
    let gone = jane.last().unwrap();
    let before_last = jane
        .iter()
        .filter(|t| t["project"] != gone["project"])
        .count() as i64;
    reassign(
        &app,
        "pivotal",
        gone["id"].as_str().unwrap(),
        serde_json::json!({"assignee": "john@acme.test"}),
    )
    .await;
    rate_limit_after(&app, "pivotal", "jane@acme.test", 2).await;
    let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
    assert_eq!(location(&r), "/tasks");
    // (A run resumed within the 2 seconds waits again: "waiting" may come more than once.)
    wait_until(&app, "the paused pass is resumed and finished", |conn| {
        let runs: Vec<String> = sync_runs::table
            .select(sync_runs::status)
            .order(sync_runs::id)
            .load(conn)
            .unwrap();
        runs.len() >= 3
            && runs[1] == "waiting"
            && runs.last().is_some_and(|s| s == "ok")
            && runs[1..runs.len() - 1].iter().all(|s| s == "waiting")
    })
    .await;
    wait_for_the_pass_to_end(&app).await;
    let waited: (Option<String>, i64) = app.query(|conn| {
        sync_runs::table
            .filter(sync_runs::status.eq("waiting"))
            .order(sync_runs::id)
            .select((sync_runs::error_code, sync_runs::fetched))
            .first(conn)
            .unwrap()
    });
    assert_eq!(
        waited,
        (Some("TB-RATE-LIMITED".to_owned()), before_last),
        "the paused run recorded what it had read before letting go"
    );
    let open = open_tasks(&app);
    assert_eq!(
        open.len(),
        jane.len() - 1,
        "nothing seen before the pause is lost"
    );
    assert!(!open
        .iter()
        .any(|(ext, _)| ext == gone["id"].as_str().unwrap()));
    assert_eq!(all_task_rows(&app), jane.len() as i64, "nothing duplicated");
}

#[tokio::test]
async fn a_reconnect_during_a_sync_ends_its_pass_and_the_old_accounts_tasks_go() {
    use taskbridge::models::{connection, sync_pass};
    let app = TestApp::spawn().await;
    let (owner, jane) = jane_synced(&app).await;
    let id = connection_id(&app);
    // A run over Jane's account is under way: it holds the lease and has written the
    // first page of a new pass.
    let (old, lease) = app.query(move |conn| {
        let lease = connection::try_lease(conn, id, "old-run", 600)
            .unwrap()
            .unwrap();
        (connection::find(conn, id).unwrap(), lease)
    });
    let story = |t: &serde_json::Value, title: &str| taskbridge::connectors::RemoteTask {
        external_id: t["id"].as_str().unwrap().to_owned(),
        title: title.to_owned(),
        status: "started".into(),
        project: Some("Old".into()),
        due_on: None,
        url: None,
        closed: false,
        updated_at: None,
    };
    let (first, second) = (
        vec![story(&jane[0], "As the old run read it")],
        vec![story(&jane[1], "Read after the reconnect")],
    );
    let c = old.clone();
    let (written, mut lease) = app.query(move |conn| {
        let mut lease = lease;
        let written =
            sync_pass::apply_page(conn, &c, 900_000, &first, Some("page-2"), &mut lease, 600);
        (written.unwrap(), lease)
    });
    assert!(written.is_some());

    // Olivia reconnects Pivotal Tracker, as John.
    let r = oauth_walk::start(
        &owner,
        "/integrations",
        "/integrations/pivotal/on",
        &[("api_token", "sandbox-john-roe")],
    )
    .await;
    assert_eq!(r, "/integrations/pivotal/connected");

    // The old run's next checkpoint is fenced out: no page, no cursor.
    let late = app.query(move |conn| {
        sync_pass::apply_page(conn, &old, 900_000, &second, None, &mut lease, 600).unwrap()
    });
    assert!(late.is_none(), "the old run's write did not land");
    // The new account syncs at once, in a new pass whose archive takes Jane's tasks.
    let john = sandbox_tasks(&app, "pivotal", "john@acme.test").await;
    let mut expected: Vec<String> = john
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    wait_until(&app, "only John's tasks are open", |conn| {
        let open: Vec<String> = tasks::table
            .filter(tasks::archived.eq(false))
            .select(tasks::external_id)
            .order(tasks::external_id)
            .load(conn)
            .unwrap();
        open == expected
    })
    .await;
    wait_for_the_pass_to_end(&app).await;
    assert!(
        !open_tasks(&app)
            .iter()
            .any(|(_, title)| title == "Read after the reconnect"),
        "nothing of the old run after the reconnect"
    );
    let runs: Vec<String> = app.query(|conn| {
        sync_runs::table
            .select(sync_runs::status)
            .order(sync_runs::id)
            .load(conn)
            .unwrap()
    });
    assert_eq!(runs.last().map(String::as_str), Some("ok"), "{runs:?}");
}

/// Leaves the connection the way a killed process leaves it: its run marked running,
/// and its lease held by an engine that no longer beats, until `lease_until`; next due
/// at `next`.
fn a_process_killed_mid_run(app: &TestApp, id: i64, lease_until: i64, next: i64) {
    use taskbridge::models::{connection, sync_run};
    app.query(move |conn| {
        connection::try_lease(conn, id, "killed-process", 600)
            .unwrap()
            .unwrap();
        sync_run::start_run(conn, id, "manual").unwrap();
        diesel::delete(taskbridge::schema::sync_workers::table.find("killed-process"))
            .execute(conn)
            .unwrap();
        diesel::insert_into(taskbridge::schema::sync_workers::table)
            .values((
                taskbridge::schema::sync_workers::owner.eq("killed-process"),
                taskbridge::schema::sync_workers::seen_at.eq(taskbridge::db::now() - 60),
            ))
            .execute(conn)
            .unwrap();
        diesel::update(connections::table.find(id))
            .set((
                connections::lease_until.eq(lease_until),
                connections::next_sync_at.eq(next),
            ))
            .execute(conn)
            .unwrap();
    });
}

fn run_statuses(app: &TestApp) -> Vec<String> {
    app.query(|conn| {
        sync_runs::table
            .select(sync_runs::status)
            .order(sync_runs::id)
            .load(conn)
            .unwrap()
    })
}

#[tokio::test]
async fn a_killed_run_is_finished_as_interrupted_and_sync_now_runs_at_once() {
    let app = TestApp::spawn().await;
    let (owner, _) = jane_synced(&app).await;
    let id = connection_id(&app);
    let now = taskbridge::db::now();

    // The lease ran out and nobody takes it (the connection is not due): the engine's
    // sweep finishes the run anyway.
    a_process_killed_mid_run(&app, id, now - 1, now + 3600);
    assert!(owner
        .get_text("/tasks/sync/status")
        .await
        .1
        .contains("\"running\":true"));
    wait_until(&app, "the killed run is finished", |conn| {
        sync_runs::table
            .filter(sync_runs::status.eq("running"))
            .count()
            .get_result::<i64>(conn)
            .unwrap()
            == 0
    })
    .await;
    let (_, status) = owner.get_text("/tasks/sync/status").await;
    assert!(status.contains("\"running\":false"), "{status}");
    let (_, history) = owner
        .get_text(&taskbridge::urls::connection_history(id))
        .await;
    assert!(history.contains("Interrupted"), "{history}");
    assert!(history.contains("TB-SYNC-INTERRUPTED"));

    // Killed again, with most of its lease still to run: "Sync now" does not wait for
    // it, since the engine that held it no longer beats.
    let until = taskbridge::db::now() + 500;
    a_process_killed_mid_run(&app, id, until, until);
    let before = run_statuses(&app).len();
    let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
    assert_eq!(location(&r), "/tasks");
    wait_until(&app, "Sync now ran at once", |conn| {
        let runs: Vec<String> = sync_runs::table
            .select(sync_runs::status)
            .order(sync_runs::id)
            .load(conn)
            .unwrap();
        runs.len() == before + 1 && runs.last().is_some_and(|s| s == "ok")
    })
    .await;
    let runs = run_statuses(&app);
    assert_eq!(runs[before - 1], "interrupted", "{runs:?}");
    let (_, status) = owner.get_text("/tasks/sync/status").await;
    assert!(status.contains("\"running\":false"), "{status}");
}

#[tokio::test]
async fn credentials_that_cannot_be_decrypted_ask_for_a_reconnect_once() {
    let app = TestApp::spawn().await;
    let (owner, _) = jane_synced(&app).await;
    let id = connection_id(&app);
    let tools = taskbridge::tools(&app.settings).unwrap();
    // Credentials sealed for another row, copied into this one.
    let elsewhere = tools.cipher.seal(
        br#"{"access_token":"sandbox-jane-doe","refresh_token":null,"expires_at":null,"extra":{}}"#,
        "connection/999/999/pivotal",
    );
    app.query(move |conn| {
        diesel::update(connections::table.find(id))
            .set((
                connections::credentials.eq(Some(elsewhere)),
                connections::next_sync_at.eq(0),
            ))
            .execute(conn)
            .unwrap()
    });
    wait_until(&app, "the connection needs a reconnect", |conn| {
        connections::table
            .select(connections::status)
            .first::<String>(conn)
            .unwrap()
            == "needs_reconnect"
    })
    .await;
    let code: Option<String> = app.query(|conn| {
        connections::table
            .select(connections::last_error_code)
            .first(conn)
            .unwrap()
    });
    assert_eq!(code.as_deref(), Some("TB-CREDENTIALS-UNREADABLE"));
    let page = wait_for_text(&owner, "/tasks", "Reconnect").await;
    assert!(page.contains("cannot read the stored sign-in"), "{page}");
    let runs = run_statuses(&app).len();
    owner.post_form("/tasks", "/tasks/sync", &[]).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(run_statuses(&app).len(), runs, "not tried again");
    let (_, notices) = owner.get_text("/notifications").await;
    assert_eq!(
        notices.matches("Pivotal Tracker stopped syncing").count(),
        1
    );
    let (_, catalogue) = owner.get_text("/help/errors").await;
    assert!(catalogue.contains("id=\"TB-CREDENTIALS-UNREADABLE\""));
}

#[tokio::test]
async fn a_burst_of_sync_now_makes_one_manual_run_and_says_when_to_try_again() {
    let app = TestApp::spawn().await;
    let (owner, _) = jane_synced(&app).await;
    let before = run_statuses(&app).len();
    for _ in 0..20 {
        let r = owner.post_form("/tasks", "/tasks/sync", &[]).await;
        assert_eq!(location(&r), "/tasks");
    }
    let (_, page) = owner.get_text("/tasks").await;
    assert!(page.contains("Try again in "), "the cooldown is said");
    wait_until(&app, "the run asked for is over", |conn| {
        sync_runs::table
            .select(sync_runs::status)
            .order(sync_runs::id.desc())
            .first::<String>(conn)
            .unwrap()
            == "ok"
    })
    .await;
    wait_for_the_pass_to_end(&app).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let runs: Vec<String> = app.query(|conn| {
        sync_runs::table
            .select(sync_runs::trigger)
            .order(sync_runs::id)
            .load(conn)
            .unwrap()
    });
    assert_eq!(runs.len(), before + 1, "twenty presses, one run: {runs:?}");
    assert_eq!(runs.last().unwrap(), "manual");
    let id = connection_id(&app);
    let (_, history) = owner
        .get_text(&taskbridge::urls::connection_history(id))
        .await;
    assert!(history.contains("Sync now"), "the history says so");
}
