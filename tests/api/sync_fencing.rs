//! Fencing per lease and token renewal, against a stand-in Intellinote (wiremock) that
//! rotates refresh tokens and can answer late: runs of one connection that overlap
//! in one process, a stale run whose refresh token was rotated by the newer run, a
//! refresh token rotated by someone else, two rejected access tokens in one run; and
//! a run whose save the database lost (a crash of PostgreSQL after a commit that did
//! not wait for the disk), fenced out by the count of saves.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use taskbridge::connectors::{Credentials, ProviderKind};
use taskbridge::models::{company_integration, connection};
use taskbridge::schema::{connections, notifications, tasks, users};
use taskbridge::sync::{RunOutcome, SyncEngine, Trigger};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::*;

const ORG: &str = "org-7";
const ME: &str = "user-2";

/// What the stand-in tool knows and does.
#[derive(Default)]
struct ToolState {
    access: HashSet<String>,
    refresh: HashSet<String>,
    issued: u32,
    refreshes: u32,
    notes_calls: u32,
    /// Notes requests answered 401 whatever the token, from the first.
    reject: u32,
    /// Notes requests answered late, by number (the first is 1); the first one, when
    /// late, is the tool's old version.
    late: Vec<(u32, Duration)>,
    /// Called (once) when a refresh arrives, before it is answered.
    on_refresh: Option<Box<dyn FnOnce() + Send>>,
}

#[derive(Clone, Default)]
struct Tool(Arc<Mutex<ToolState>>);

impl Tool {
    fn with(&self, f: impl FnOnce(&mut ToolState)) {
        f(&mut self.0.lock().unwrap());
    }

    fn get<T>(&self, f: impl FnOnce(&ToolState) -> T) -> T {
        f(&self.0.lock().unwrap())
    }
}

struct TokenEndpoint(Tool);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let presented = body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let hook = self.0 .0.lock().unwrap().on_refresh.take();
        if let Some(hook) = hook {
            hook();
        }
        let mut state = self.0 .0.lock().unwrap();
        state.refreshes += 1;
        // Refresh tokens rotate: the one presented stops working.
        if !state.refresh.remove(&presented) {
            return ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": "invalid_grant", "error_description": "expired access/refresh token"
            }));
        }
        state.issued += 1;
        let (access, refresh) = (
            format!("at-{}", state.issued),
            format!("rt-{}", state.issued),
        );
        state.access.insert(access.clone());
        state.refresh.insert(refresh.clone());
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": access, "refresh_token": refresh,
            "token_type": "Bearer", "expires_in": 3600
        }))
    }
}

/// Three task notes titled `{prefix} {n}`; the late first answer is the old version.
struct Notes(Tool);

impl Respond for Notes {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        let offset = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "offset")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let mut state = self.0 .0.lock().unwrap();
        state.notes_calls += 1;
        let call = state.notes_calls;
        let first = call == 1;
        let late = state
            .late
            .iter()
            .find(|(n, _)| *n == call)
            .map(|(_, delay)| *delay);
        let rejected = state.notes_calls <= state.reject || !state.access.contains(&token);
        let answer = if rejected {
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": "unauthorized"}))
        } else if offset != "0" {
            ResponseTemplate::new(200).set_body_json(serde_json::json!([]))
        } else {
            let prefix = if first && late.is_some() {
                "Old"
            } else {
                "New"
            };
            let notes: Vec<serde_json::Value> = (1..=3)
                .map(|n| {
                    serde_json::json!({
                        "note_id": n, "note_type": "TASK", "title": format!("{prefix} {n}"),
                        "state": "ACTIVE", "workspace": {"name": "Sales"},
                        "assignee": {"user_id": ME}, "complete": false
                    })
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(notes)
        };
        match late {
            Some(delay) => answer.set_delay(delay),
            None => answer,
        }
    }
}

struct Setup {
    app: TestApp,
    tool: Tool,
    engine: Arc<SyncEngine>,
    id: i64,
    _server: MockServer,
}

/// An app whose Intellinote is the stand-in, and Olivia's connection to it with
/// `at-0` / `rt-0` (the access token valid or not), left alone by the app's own engine.
async fn setup(access_valid: bool) -> Setup {
    let server = MockServer::start().await;
    let tool = Tool::default();
    tool.with(|s| {
        s.refresh.insert("rt-0".into());
        if access_valid {
            s.access.insert("at-0".into());
        }
    });
    Mock::given(method("POST"))
        .and(path("/rest/auth/oauth2/access"))
        .respond_with(TokenEndpoint(tool.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/v2/org/[^/]+/notes$"))
        .respond_with(Notes(tool.clone()))
        .mount(&server)
        .await;
    let app = TestApp::spawn_with(&[
        ("TASKBRIDGE_SANDBOX", "off"),
        ("TASKBRIDGE_INTELLINOTE_CLIENT_ID", "client-id"),
        ("TASKBRIDGE_INTELLINOTE_CLIENT_SECRET", "client-secret"),
        (
            "TASKBRIDGE_INTELLINOTE_URL",
            &format!("{}/rest", server.uri()),
        ),
    ])
    .await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let tools = Arc::new(taskbridge::tools(&app.settings).unwrap());
    let sealed = seal(&tools, &app, "at-0", "rt-0");
    let id = app.query(move |conn| {
        let (user_id, company_id): (i64, i64) = users::table
            .select((users::id, users::company_id))
            .first(conn)
            .unwrap();
        company_integration::set_enabled(
            conn,
            company_id,
            ProviderKind::Intellinote,
            true,
            user_id,
        )
        .unwrap();
        let id = connection::upsert(
            conn,
            connection::NewConnection {
                company_id,
                user_id,
                provider: ProviderKind::Intellinote,
                external_user_id: ME,
                external_account_id: ORG,
                account_name: "Acme org",
                display_name: "Olivia",
                email: None,
                api_base: None,
                credentials: sealed,
            },
        )
        .unwrap();
        diesel::update(connections::table.find(id))
            .set(connections::next_sync_at.eq(i64::MAX))
            .execute(conn)
            .unwrap();
        id
    });
    let engine = Arc::new(SyncEngine::new(
        app.pool.clone(),
        tools,
        Duration::from_secs(3600),
    ));
    Setup {
        app,
        tool,
        engine,
        id,
        _server: server,
    }
}

/// Credentials sealed for Olivia's Intellinote connection.
fn seal(tools: &taskbridge::services::tools::Tools, app: &TestApp, at: &str, rt: &str) -> Vec<u8> {
    let (user_id, company_id): (i64, i64) = app.query(|conn| {
        users::table
            .select((users::id, users::company_id))
            .first(conn)
            .unwrap()
    });
    let binding = taskbridge::services::credentials::credentials_binding(
        company_id,
        user_id,
        ProviderKind::Intellinote,
    );
    let creds = Credentials {
        access_token: SecretString::from(at.to_owned()),
        refresh_token: Some(SecretString::from(rt.to_owned())),
        expires_at: None,
        extra: serde_json::json!({}),
    };
    taskbridge::services::credentials::seal_credentials(&tools.cipher, &creds, &binding).unwrap()
}

/// The refresh token stored for the connection now.
fn stored_refresh_token(s: &Setup) -> String {
    let tools = taskbridge::tools(&s.app.settings).unwrap();
    let id = s.id;
    let c = s.app.query(move |conn| connection::find(conn, id).unwrap());
    let binding = taskbridge::services::credentials::credentials_binding(
        c.company_id,
        c.user_id,
        ProviderKind::Intellinote,
    );
    let creds = taskbridge::services::credentials::open_credentials(
        &tools.cipher,
        c.credentials.as_ref().unwrap(),
        &binding,
    )
    .unwrap();
    creds.refresh_token.unwrap().expose_secret().to_owned()
}

fn titles(app: &TestApp) -> Vec<String> {
    app.query(|conn| {
        tasks::table
            .filter(tasks::archived.eq(false))
            .select(tasks::title)
            .order(tasks::title)
            .load(conn)
            .unwrap()
    })
}

/// (status, lease owner, notices to the person)
fn connection_state(s: &Setup) -> (String, Option<String>, i64) {
    let id = s.id;
    s.app.query(move |conn| {
        let (status, owner) = connections::table
            .find(id)
            .select((connections::status, connections::lease_owner))
            .first(conn)
            .unwrap();
        let notices = notifications::table.count().get_result(conn).unwrap();
        (status, owner, notices)
    })
}

/// Run A starts, and stalls on the tool's late first answer past its lease: the test
/// lets the lease run out. The tool's answers to A (after 3 s) and to the next run,
/// B (after 5 s), overlap: A's comes while B holds the lease. Returns A's task.
async fn a_run_that_stalls(s: &Setup) -> tokio::task::JoinHandle<RunOutcome> {
    s.tool
        .with(|t| t.late = vec![(1, Duration::from_secs(3)), (2, Duration::from_secs(5))]);
    let engine = s.engine.clone();
    let id = s.id;
    let a =
        tokio::spawn(async move { engine.sync_connection(id, Trigger::Schedule).await.unwrap() });
    for _ in 0..100 {
        if s.tool.get(|t| t.notes_calls) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        s.tool.get(|t| t.notes_calls),
        1,
        "run A is waiting on the tool"
    );
    s.app.query(move |conn| {
        diesel::update(connections::table.find(id))
            .set(connections::lease_until.eq(taskbridge::db::now() - 1))
            .execute(conn)
            .unwrap()
    });
    a
}

#[tokio::test]
async fn a_stalled_run_re_leased_in_the_same_process_writes_nothing_more() {
    let s = setup(true).await;
    let a = a_run_that_stalls(&s).await;
    // Run B, by the same engine, takes the lapsed lease and syncs the tool as it is
    // now; while it waits for its answer, A gets its (old) one: A's write is fenced out.
    let b = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert!(matches!(b, RunOutcome::Completed { .. }), "{b:?}");
    let a = a.await.unwrap();
    assert_eq!(a, RunOutcome::LeaseLost);
    assert_eq!(
        titles(&s.app),
        ["New 1", "New 2", "New 3"],
        "only the newer run's writes landed"
    );
    let runs = run_outcomes(&s.app);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].0, "interrupted", "A is finished as interrupted");
    assert_eq!(runs[1], ("ok".to_owned(), None));
    assert_eq!(
        connection_state(&s),
        ("active".to_owned(), None, 0),
        "A touched neither the connection nor the lease, and told nobody"
    );
}

#[tokio::test]
async fn a_stale_run_whose_refresh_token_was_rotated_does_not_ask_for_a_reconnect() {
    // The access token has expired: every run refreshes.
    let s = setup(false).await;
    let a = a_run_that_stalls(&s).await;
    // B takes over. A's late answer, while B waits for its own, is a 401: A no longer
    // holds the connection, so it stops quietly instead of refreshing (and rotating the
    // refresh token from under B). Then B gets its 401, refreshes (rt-0 becomes rt-1)
    // and syncs.
    let b = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert!(matches!(b, RunOutcome::Completed { .. }), "{b:?}");
    assert_eq!(a.await.unwrap(), RunOutcome::LeaseLost);
    assert_eq!(s.tool.get(|t| t.refreshes), 1, "only B refreshed");
    assert_eq!(connection_state(&s), ("active".to_owned(), None, 0));
    assert_eq!(stored_refresh_token(&s), "rt-1", "B's credentials are kept");
    assert_eq!(titles(&s.app), ["New 1", "New 2", "New 3"]);
}

#[tokio::test]
async fn a_refresh_refused_because_another_run_rotated_the_token_uses_the_stored_one() {
    let s = setup(false).await;
    // While this run refreshes with rt-0, another one (in another instance) refreshed
    // first and stored rt-9: the tool refuses rt-0.
    let tools = taskbridge::tools(&s.app.settings).unwrap();
    let newer = seal(&tools, &s.app, "at-9", "rt-9");
    let (pool, id, tool) = (s.app.pool.clone(), s.id, s.tool.clone());
    s.tool.with(|t| {
        t.on_refresh = Some(Box::new(move || {
            tool.with(|t| {
                t.refresh.remove("rt-0");
                t.refresh.insert("rt-9".into());
                t.access.insert("at-9".into());
            });
            let mut conn = pool.get().unwrap();
            diesel::update(connections::table.find(id))
                .set(connections::credentials.eq(Some(newer)))
                .execute(&mut conn)
                .unwrap();
        }))
    });
    let outcome = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(connection_state(&s), ("active".to_owned(), None, 0));
    assert_eq!(stored_refresh_token(&s), "rt-9");
    assert_eq!(titles(&s.app), ["New 1", "New 2", "New 3"]);
}

#[tokio::test]
async fn an_access_token_rejected_twice_in_one_run_is_renewed_twice() {
    let s = setup(true).await;
    s.tool.with(|t| t.reject = 2);
    let outcome = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(s.tool.get(|t| t.refreshes), 2);
    assert_eq!(stored_refresh_token(&s), "rt-2");
    assert_eq!(connection_state(&s), ("active".to_owned(), None, 0));
    assert_eq!(titles(&s.app), ["New 1", "New 2", "New 3"]);
    // A tool refusing every fresh token is not renewed for ever.
    s.tool.with(|t| t.reject = u32::MAX);
    let outcome = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::NeedsReconnect { .. }),
        "{outcome:?}"
    );
    assert_eq!(s.tool.get(|t| t.refreshes), 5, "three renewals in that run");
}

/// Settings for another start of `app`'s server, on its database, with `key` (none:
/// the key file beside the SQLite database).
fn restart_settings(app: &TestApp, key: Option<&str>) -> taskbridge::config::Settings {
    let url = app.settings.database_url.clone();
    let key = key.map(str::to_owned);
    taskbridge::config::Settings::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "TASKBRIDGE_BIND" => Some("127.0.0.1:0".into()),
        "TASKBRIDGE_BASE_URL" => Some("http://127.0.0.1:0".into()),
        "TASKBRIDGE_SECRET_KEY" => key.clone(),
        _ => None,
    })
    .unwrap()
}

async fn refused(settings: taskbridge::config::Settings) -> String {
    match taskbridge::Application::build(settings).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_server_started_with_another_key_is_refused_with_one_clear_line() {
    let s = setup(true).await;
    let other = "another-secret-key-that-is-long-enough-0123456789";
    let said = refused(restart_settings(&s.app, Some(other))).await;
    assert!(
        said.starts_with("TASKBRIDGE_SECRET_KEY does not match this database"),
        "{said}"
    );
    assert!(!said.contains('\n') && !said.contains(other));
    // The right key starts.
    taskbridge::Application::build(restart_settings(&s.app, Some(TEST_KEY)))
        .await
        .unwrap();

    // A database from before key checks: its stored tokens tell.
    s.app.query(|conn| {
        diesel::delete(taskbridge::schema::key_check::table)
            .execute(conn)
            .unwrap()
    });
    let said = refused(restart_settings(&s.app, Some(other))).await;
    assert!(
        said.starts_with("TASKBRIDGE_SECRET_KEY does not match"),
        "{said}"
    );
    taskbridge::Application::build(restart_settings(&s.app, Some(TEST_KEY)))
        .await
        .unwrap();
    let kept: i64 = s.app.query(|conn| {
        taskbridge::schema::key_check::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(kept, 1, "the check is kept now");

    // A lost key file: a key is generated for this start, refused, and removed again.
    if let Some(db) = s.app.sqlite_path() {
        let key_file = format!("{db}.key");
        assert!(!std::path::Path::new(&key_file).exists());
        let said = refused(restart_settings(&s.app, None)).await;
        assert!(said.contains("was missing"), "{said}");
        assert!(
            !std::path::Path::new(&key_file).exists(),
            "no key generated for a database sealed with another"
        );
    }
}

/// Five task notes, three a page (a server that pages by three); before it answers
/// the second page, `on_page_2` runs (once).
struct PagedNotes {
    on_page_2: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Respond for PagedNotes {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let offset: u32 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "offset")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_default();
        if offset > 0 {
            let hook = self.on_page_2.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
        }
        let notes: Vec<serde_json::Value> = (offset + 1..=(offset + 3).min(5))
            .map(|n| listed_note(n, &format!("New {n}")))
            .collect();
        ResponseTemplate::new(200).set_body_json(notes)
    }
}

/// An open task note assigned to Olivia, as the stand-in lists it.
fn listed_note(n: u32, title: &str) -> serde_json::Value {
    serde_json::json!({
        "note_id": n.to_string(), "note_type": "TASK", "title": title,
        "state": "ACTIVE", "workspace": {"name": "Sales"},
        "assignee": {"user_id": ME}, "complete": false
    })
}

impl Setup {
    /// Answers the notes requests with `notes` rather than the stand-in's own.
    async fn list_notes_with(&self, notes: impl Respond + 'static) {
        Mock::given(method("GET"))
            .and(path_regex(r"^/rest/v2/org/[^/]+/notes$"))
            .respond_with(notes)
            .with_priority(1)
            .mount(&self._server)
            .await;
    }
}

/// A task of the stand-in's, as a connector reads it.
fn note(n: u32, title: &str) -> taskbridge::connectors::RemoteTask {
    taskbridge::connectors::RemoteTask {
        external_id: n.to_string(),
        title: title.to_owned(),
        status: "ACTIVE".into(),
        project: Some("Sales".into()),
        due_on: None,
        url: None,
        closed: false,
        updated_at: None,
    }
}

/// Olivia's tasks synced before: note 1 (still listed by the tool) and note 9 (no
/// longer), both open, seen in pass 77, which ended.
fn synced_before(s: &Setup) {
    use taskbridge::models::sync_pass;
    let id = s.id;
    s.app.query(move |conn| {
        let mut lease = connection::try_lease(conn, id, "earlier-run", 600)
            .unwrap()
            .unwrap();
        let c = connection::find(conn, id).unwrap();
        let page = [note(1, "Old 1"), note(9, "Gone 9")];
        sync_pass::apply_page(conn, &c, 77, &page, None, &mut lease, 600)
            .unwrap()
            .unwrap();
        let archived = sync_pass::finish_pass(conn, &mut lease, 77, &HashSet::new(), None);
        assert_eq!(archived.unwrap(), Some(0));
        connection::release(conn, &lease, connection::Next::NotBefore(i64::MAX)).unwrap();
    });
}

/// (external id, title, archived) of every task, by id.
fn all_tasks(app: &TestApp) -> Vec<(String, String, bool)> {
    app.query(|conn| {
        tasks::table
            .select((tasks::external_id, tasks::title, tasks::archived))
            .order(tasks::external_id)
            .load(conn)
            .unwrap()
    })
}

/// What a crash of PostgreSQL does to the last save of a run when that save's commit
/// did not wait for the disk: the save is gone, the count of saves on the connection's
/// row with it, while the run still counts it. Here the first page's save of the run
/// under way (pass `pass_id`) is undone: its new tasks, its seen mark on note 1, the
/// cursor and pass it saved, and its count.
fn undo_the_first_page(conn: &mut taskbridge::db::DbConn, id: i64) {
    let saves: i64 = connections::table
        .find(id)
        .select(connections::lease_saves)
        .first(conn)
        .unwrap();
    assert_eq!(saves, 1, "the first page's save landed, and only it");
    diesel::delete(
        tasks::table
            .filter(tasks::connection_id.eq(id))
            .filter(tasks::external_id.eq_any(["2", "3"])),
    )
    .execute(conn)
    .unwrap();
    diesel::update(tasks::table.filter(tasks::connection_id.eq(id)))
        .set(tasks::seen_pass.eq(77))
        .execute(conn)
        .unwrap();
    diesel::update(connections::table.find(id))
        .set((
            connections::lease_saves.eq(0),
            connections::sync_cursor.eq(None::<String>),
            connections::pass_id.eq(None::<i64>),
        ))
        .execute(conn)
        .unwrap();
}

#[tokio::test]
async fn a_run_whose_save_was_lost_is_fenced_out_and_the_next_run_replays_it() {
    let s = setup(true).await;
    synced_before(&s);
    let app_pool = s.app.pool.clone();
    let id = s.id;
    let crash: Box<dyn FnOnce() + Send> = Box::new(move || {
        undo_the_first_page(&mut app_pool.get().unwrap(), id);
    });
    s.list_notes_with(PagedNotes {
        on_page_2: Mutex::new(Some(crash)),
    })
    .await;

    // The run saves the first page (notes 1 to 3), whose save is then lost; its save
    // of the second page (notes 4 and 5) is refused, as if its lease were lost.
    let outcome = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(outcome, RunOutcome::LeaseLost);
    let after = all_tasks(&s.app);
    assert_eq!(
        after,
        [
            ("1".to_owned(), "New 1".to_owned(), false),
            ("9".to_owned(), "Gone 9".to_owned(), false),
        ],
        "nothing of the second page, and nothing archived"
    );
    let runs = run_outcomes(&s.app);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        runs[0],
        (
            "interrupted".to_owned(),
            Some(
                taskbridge::catalogue::ErrorCode::LeaseLost
                    .as_str()
                    .to_owned()
            )
        ),
        "the run ends as one whose lease was lost"
    );
    let (cursor, pass) = s.app.query(move |conn| {
        connections::table
            .find(id)
            .select((connections::sync_cursor, connections::pass_id))
            .first::<(Option<String>, Option<i64>)>(conn)
            .unwrap()
    });
    assert_eq!((cursor, pass), (None, None), "the durable cursor stays");

    // Once its lease runs out, the next run reads the lost page again: every note the
    // tool lists is open, and note 9 is archived by a pass that saw all of them.
    s.app.query(move |conn| {
        diesel::update(connections::table.find(id))
            .set(connections::lease_until.eq(taskbridge::db::now() - 1))
            .execute(conn)
            .unwrap()
    });
    let outcome = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let open: Vec<(String, String, bool)> = (1..=5)
        .map(|n| (n.to_string(), format!("New {n}"), false))
        .chain([("9".to_owned(), "Gone 9".to_owned(), true)])
        .collect();
    assert_eq!(all_tasks(&s.app), open);
}

#[tokio::test]
async fn a_pass_whose_save_was_lost_archives_nothing_at_its_end() {
    use taskbridge::models::sync_pass;
    let s = setup(true).await;
    synced_before(&s);
    let id = s.id;
    let (after_loss, archived) = s.app.query(move |conn| {
        let mut lease = connection::try_lease(conn, id, "this-run", 600)
            .unwrap()
            .unwrap();
        let c = connection::find(conn, id).unwrap();
        let page = [note(1, "New 1"), note(2, "New 2"), note(3, "New 3")];
        let run = sync_pass::Progress::start(sync_run_id(conn, id));
        let first = sync_pass::apply_page(conn, &c, 78, &page, Some("2::0"), &mut lease, 600);
        assert!(first.unwrap().is_some());
        // The database loses that save.
        let pass: Option<i64> = connections::table
            .find(id)
            .select(connections::pass_id)
            .first(conn)
            .unwrap();
        assert_eq!(pass, Some(78));
        undo_the_first_page(conn, id);
        // The run goes on: the tool's next page, then the pass's end.
        let after_loss =
            sync_pass::apply_page(conn, &c, 78, &[note(4, "New 4")], None, &mut lease, 600);
        let seen = HashSet::from(["5".to_owned()]);
        let archived = sync_pass::finish_pass(conn, &mut lease, 78, &seen, Some(run));
        (after_loss.unwrap(), archived.unwrap())
    });
    assert_eq!(after_loss, None, "the page after the lost save is refused");
    assert_eq!(archived, None, "the pass's end is refused");
    assert_eq!(
        all_tasks(&s.app),
        [
            ("1".to_owned(), "New 1".to_owned(), false),
            ("9".to_owned(), "Gone 9".to_owned(), false),
        ],
        "note 1, whose seen mark was lost, is not archived, nor anything else"
    );
}

/// A run of the connection, for the figures a pass's end records.
fn sync_run_id(conn: &mut taskbridge::db::DbConn, id: i64) -> i64 {
    taskbridge::models::sync_run::start_run(conn, id, "manual").unwrap()
}

/// Notes that shift under a first sync: the walk's second read finds the list changed
/// (its anchor, note 3, gone from where it was), so the connector reads it again from
/// the start, where note 3 now has another title.
struct ShiftingNotes(Mutex<u32>);

impl Respond for ShiftingNotes {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut calls = self.0.lock().unwrap();
        *calls += 1;
        let notes: &[(u32, &str)] = match *calls {
            1 => &[(1, "New 1"), (2, "New 2"), (3, "New 3")],
            2 => &[(4, "New 4"), (5, "New 5")],
            3 => &[
                (1, "New 1"),
                (2, "New 2"),
                (3, "Moved 3"),
                (4, "New 4"),
                (5, "New 5"),
            ],
            _ => &[(5, "New 5")],
        };
        let notes: Vec<serde_json::Value> = notes
            .iter()
            .map(|(n, title)| listed_note(*n, title))
            .collect();
        ResponseTemplate::new(200).set_body_json(notes)
    }
}

/// A first sync judges its pages new without reading the stored tasks, until a page
/// lists one it already wrote: that page is compared with the table, so the run counts
/// each task once and the retitled one as updated.
#[tokio::test]
async fn a_first_sync_whose_list_shifts_counts_each_task_once() {
    let s = setup(true).await;
    s.list_notes_with(ShiftingNotes(Mutex::new(0))).await;
    let outcome = s
        .engine
        .sync_connection(s.id, Trigger::Manual)
        .await
        .unwrap();
    let RunOutcome::Completed { counts, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (counts.added, counts.updated, counts.archived),
        (5, 1, 0),
        "five notes added once, the retitled one updated"
    );
    let expected: Vec<(String, String, bool)> = (1..=5)
        .map(|n| {
            let title = if n == 3 {
                "Moved 3".to_owned()
            } else {
                format!("New {n}")
            };
            (n.to_string(), title, false)
        })
        .collect();
    assert_eq!(all_tasks(&s.app), expected);
}
