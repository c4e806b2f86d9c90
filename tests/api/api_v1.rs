//! The JSON API for desktop clients, over HTTP: tokens made on the page, bearer
//! checks on every route, problem bodies, tenant checks, idempotent entries and
//! starts, ETags, and a desktop client's walk.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use taskbridge::schema::{api_tokens, time_entries, users};

use crate::helpers::*;

/// A desktop client: no cookie jar, a bearer token.
#[derive(Clone)]
struct Api {
    address: String,
    http: reqwest::Client,
    token: String,
}

impl Api {
    fn new(app: &TestApp, token: &str) -> Self {
        Self {
            address: app.address.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            token: token.to_owned(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, path, Some(body)).await
    }
}

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Asserts a problem response with its status and code; answers the body.
async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status for {code}");
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    assert!(response.headers().get("set-cookie").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["detail"].is_string());
    assert!(body["type"].as_str().unwrap().ends_with(code));
    body
}

/// Fixture: a token inserted directly, as the page would store it.
fn insert_token(app: &TestApp, email: &str) -> String {
    let token = format!("tb_fixture{}", now_secs() ^ rand_u32());
    let hash = taskbridge::crypto::sha256_hex(&token);
    let email = email.to_owned();
    app.query(move |conn| {
        let (user_id, company_id) = person_ids(conn, &email);
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::company_id.eq(company_id),
                api_tokens::user_id.eq(user_id),
                api_tokens::name.eq("fixture"),
                api_tokens::token_hash.eq(hash),
                api_tokens::created_at.eq(0i64),
            ))
            .execute(conn)
            .unwrap();
    });
    token
}

fn rand_u32() -> i64 {
    use rand::Rng;
    rand::thread_rng().gen::<u32>() as i64
}

fn new_token_in(page: &str) -> String {
    let marker = "id=\"new-token\" value=\"";
    let start = page.find(marker).expect("the new token is shown") + marker.len();
    let end = page[start..].find('"').unwrap();
    page[start..start + end].to_owned()
}

fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).unwrap().to_string()
}

fn entries_with_client_id(app: &TestApp, id: &str) -> i64 {
    let id = id.to_owned();
    app.query(move |conn| {
        time_entries::table
            .filter(time_entries::client_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap()
    })
}

fn running_count(app: &TestApp) -> i64 {
    app.query(|conn| {
        time_entries::table
            .filter(time_entries::ended_at.is_null())
            .count()
            .get_result(conn)
            .unwrap()
    })
}

#[tokio::test]
async fn api_v1_tokens_are_made_on_the_page_shown_once_and_revoked_at_once() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let (_, tasks) = owner.get_text("/tasks").await;
    assert!(tasks.contains("href=\"/account/api-tokens\""));
    assert!(tasks.contains("API tokens"));

    let unnamed = owner
        .post_form(
            "/account/api-tokens",
            "/account/api-tokens",
            &[("name", " ")],
        )
        .await;
    assert_eq!(unnamed.status(), StatusCode::BAD_REQUEST);
    assert!(unnamed
        .text()
        .await
        .unwrap()
        .contains("Enter a name for the token."));
    let created = owner
        .post_form(
            "/account/api-tokens",
            "/account/api-tokens",
            &[("name", "laptop")],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let page = created.text().await.unwrap();
    let token = new_token_in(&page);
    assert!(token.starts_with("tb_") && token.len() == 46, "{token}");
    assert!(page.contains("readonly data-copy-source"));
    assert!(page.contains("Copy token"));
    let (_, again) = owner.get_text("/account/api-tokens").await;
    assert!(!again.contains(&token), "shown once");
    assert!(again.contains("laptop") && again.contains("Never"));
    let stored: String = app.query(|conn| {
        api_tokens::table
            .select(api_tokens::token_hash)
            .first(conn)
            .unwrap()
    });
    assert_eq!(
        stored,
        taskbridge::crypto::sha256_hex(&token),
        "a hash only"
    );

    let api = Api::new(&app, &token);
    let me = api.get("/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(
        me.headers().get("set-cookie").is_none(),
        "no session for the API"
    );
    assert!(me.headers().get("access-control-allow-origin").is_none());
    let me = body(me).await;
    assert_eq!(me["email"], "olivia@acme.test");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["company"]["name"], "Acme");
    assert_eq!(me["time_zone"], "UTC");
    let (_, used) = owner.get_text("/account/api-tokens").await;
    assert!(!used.contains("Never"), "last use is shown");

    // A cross-site POST with the bearer token needs no CSRF token, and a session
    // cookie alone opens nothing.
    let start = api.post("/timer/start", json!({"note": "Planning"})).await;
    assert_eq!(start.status(), StatusCode::OK);
    let cookie_only = owner
        .http
        .get(owner.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    problem(cookie_only, StatusCode::UNAUTHORIZED, "TB-API-UNAUTHORIZED").await;

    let id: i64 = app.query(|conn| {
        api_tokens::table
            .select(api_tokens::id)
            .first(conn)
            .unwrap()
    });
    let revoke_path = format!("/account/api-tokens/{id}/revoke");
    let revoked = owner
        .post_form("/account/api-tokens", &revoke_path, &[("confirmed", "yes")])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    problem(
        api.get("/me").await,
        StatusCode::UNAUTHORIZED,
        "TB-API-UNAUTHORIZED",
    )
    .await;
    let (_, listed) = owner.get_text("/account/api-tokens").await;
    assert!(listed.contains("Revoked"));
    let audited: Vec<String> = app.query(|conn| {
        use taskbridge::schema::audit_log;
        audit_log::table
            .filter(audit_log::action.like("api_token%"))
            .order(audit_log::id)
            .select(audit_log::action)
            .load(conn)
            .unwrap()
    });
    assert_eq!(audited, ["api_token_created", "api_token_revoked"]);

    // Someone else's token id is not found.
    let other = app.sign_up("Other", "Oscar", "oscar@other.test").await;
    let theirs = other
        .post_form("/account/api-tokens", &revoke_path, &[("confirmed", "yes")])
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_v1_every_route_refuses_a_missing_unknown_revoked_or_disabled_token() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    app.invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let revoked = insert_token(&app, "olivia@acme.test");
    app.query(|conn| {
        diesel::update(api_tokens::table)
            .set(api_tokens::revoked_at.eq(1i64))
            .execute(conn)
            .unwrap()
    });
    let disabled = insert_token(&app, "uma@acme.test");
    let uma = user_id(&app, "uma@acme.test");
    assert_eq!(
        Api::new(&app, &disabled).get("/me").await.status(),
        StatusCode::OK
    );
    app.query(move |conn| {
        diesel::update(users::table.filter(users::id.eq(uma)))
            .set(users::disabled.eq(true))
            .execute(conn)
            .unwrap()
    });

    let http = reqwest::Client::new();
    let endpoints = taskbridge::api::endpoints();
    assert_eq!(endpoints.len(), 11);
    for (method, path) in endpoints {
        let url = format!("{}{}", app.address, path.replace("{id}", "1"));
        let method = Method::from_bytes(method.as_str().as_bytes()).unwrap();
        let tokens = [
            None,
            Some("tb_unknown"),
            Some(revoked.as_str()),
            Some(disabled.as_str()),
        ];
        for token in tokens {
            let mut request = http.request(method.clone(), &url).json(&json!({}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.headers()["www-authenticate"].to_str().unwrap(),
                "Bearer realm=\"taskbridge\"",
                "{method} {path}"
            );
            problem(response, StatusCode::UNAUTHORIZED, "TB-API-UNAUTHORIZED").await;
        }
    }
}

#[tokio::test]
async fn api_v1_another_companys_ids_are_not_found_and_problems_name_what_is_wrong() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    app.sign_up("Rival", "Rita", "rita@rival.test").await;
    let their_tasks = seed_tasks(&app, "rita@rival.test", &["Secret"]);
    let now = now_secs();
    let their_entry = seed_entry(&app, "rita@rival.test", now - 7200, Some(now - 3600), "x");
    let api = Api::new(&app, &insert_token(&app, "olivia@acme.test"));

    problem(
        api.post("/timer/start", json!({"task_id": their_tasks[0]}))
            .await,
        StatusCode::NOT_FOUND,
        "TB-API-NOT-FOUND",
    )
    .await;
    let path = format!("/time-entries/{their_entry}");
    problem(
        api.send(Method::PATCH, &path, Some(json!({"note": "mine now"})))
            .await,
        StatusCode::NOT_FOUND,
        "TB-API-NOT-FOUND",
    )
    .await;
    problem(
        api.send(Method::DELETE, &path, None).await,
        StatusCode::NOT_FOUND,
        "TB-API-NOT-FOUND",
    )
    .await;
    let bad = api.post(
        "/time-entries",
        json!({"started_at": rfc3339(now - 600), "ended_at": rfc3339(now - 60), "task_id": their_tasks[0]}),
    )
    .await;
    let bad = problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "TB-API-INVALID").await;
    assert_eq!(bad["field"], "task_id");
    problem(
        api.get("/nowhere").await,
        StatusCode::NOT_FOUND,
        "TB-API-NOT-FOUND",
    )
    .await;
    problem(
        api.send(Method::DELETE, "/time-entries/abc", None).await,
        StatusCode::NOT_FOUND,
        "TB-API-NOT-FOUND",
    )
    .await;

    // Problems for each refusal, naming the field.
    problem(
        api.post("/timer/stop", json!({})).await,
        StatusCode::CONFLICT,
        "TB-API-NOTHING-RUNNING",
    )
    .await;
    let cases = [
        (
            json!({"started_at": "9:30", "ended_at": rfc3339(now)}),
            "started_at",
        ),
        (
            json!({"started_at": rfc3339(now - 60), "ended_at": rfc3339(now + 3600)}),
            "ended_at",
        ),
        (
            json!({"started_at": rfc3339(now - 60), "ended_at": rfc3339(now - 120), "note": "x"}),
            "ended_at",
        ),
        (
            json!({"started_at": rfc3339(now - 90_000), "ended_at": rfc3339(now - 60), "note": "x"}),
            "ended_at",
        ),
        (
            json!({"started_at": rfc3339(now - 120), "ended_at": rfc3339(now - 60)}),
            "note",
        ),
        (json!({"ended_at": rfc3339(now - 60)}), "started_at"),
        (
            json!({"id": "not-a-uuid", "started_at": rfc3339(now - 120), "ended_at": rfc3339(now - 60), "note": "x"}),
            "id",
        ),
    ];
    for (input, field) in cases {
        let response = api.post("/time-entries", input.clone()).await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "TB-API-INVALID").await;
        assert_eq!(body["field"], field, "{input}: {body}");
    }
    let first = api
        .post("/time-entries", json!({"started_at": rfc3339(now - 3000), "ended_at": rfc3339(now - 2000), "note": "Call"}))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = body(first).await;
    let clash = api
        .post("/time-entries", json!({"started_at": rfc3339(now - 2500), "ended_at": rfc3339(now - 1500), "note": "Other"}))
        .await;
    let clash = problem(clash, StatusCode::CONFLICT, "TB-API-OVERLAP").await;
    assert_eq!(clash["entry_id"], first["id"]);
    problem(
        api.get("/time-entries?from=2026-13-01").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "TB-API-INVALID",
    )
    .await;
    problem(
        api.get("/tasks?tool=trello").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "TB-API-INVALID",
    )
    .await;
    problem(
        api.get("/tasks?cursor=zzz").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "TB-API-INVALID",
    )
    .await;
    problem(
        api.post("/sync", json!({})).await,
        StatusCode::CONFLICT,
        "TB-API-NOTHING-TO-SYNC",
    )
    .await;
    let sync = body(api.get("/sync").await).await;
    assert_eq!(sync["running"], false);
}

#[tokio::test]
async fn api_v1_the_same_client_id_makes_one_entry_even_posted_at_once() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let api = Api::new(&app, &insert_token(&app, "olivia@acme.test"));
    let now = now_secs();
    let entry = |id: &str| json!({"id": id, "started_at": rfc3339(now - 7200), "ended_at": rfc3339(now - 3600), "note": "Offline work"});
    let id = "7B0C6A5E-2F7D-4C1E-9A53-0C1F3B8E2D41";
    let first = api.post("/time-entries", entry(id)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first = body(first).await;
    assert_eq!(location, format!("/api/v1/time-entries/{}", first["id"]));
    assert_eq!(first["client_id"], id.to_lowercase());
    let second = api.post("/time-entries", entry(id)).await;
    assert_eq!(second.status(), StatusCode::OK, "the entry already made");
    assert_eq!(body(second).await["id"], first["id"]);
    assert_eq!(entries_with_client_id(&app, &id.to_lowercase()), 1);

    // Many at once, under another id (and for different times: the same id wins).
    let other = "0f8e1c9a-1111-4222-8333-944455556666";
    let mut posts = Vec::new();
    for i in 0..8 {
        let api = api.clone();
        let mut input = json!({"id": other, "started_at": rfc3339(now - 20_000 - i), "ended_at": rfc3339(now - 10_000), "note": "Retry"});
        input["note"] = json!(format!("Retry {i}"));
        posts.push(tokio::spawn(async move {
            api.post("/time-entries", input).await.status()
        }));
    }
    let mut created = 0;
    for post in posts {
        match post.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(entries_with_client_id(&app, other), 1);
}

#[tokio::test]
async fn api_v1_concurrent_starts_leave_one_running_timer() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(&app, "olivia@acme.test", &["A", "B", "C", "D", "E", "F"]);
    let api = Api::new(&app, &insert_token(&app, "olivia@acme.test"));
    let mut starts = Vec::new();
    for id in ids.iter().chain(ids.iter()) {
        let api = api.clone();
        let id = *id;
        starts.push(tokio::spawn(async move {
            api.post("/timer/start", json!({"task_id": id}))
                .await
                .status()
        }));
    }
    for start in starts {
        assert_eq!(start.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(running_count(&app), 1, "one running timer per person");
}

#[tokio::test]
async fn api_v1_tasks_page_by_cursor_and_answer_304_when_unchanged() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    seed_tasks(
        &app,
        "olivia@acme.test",
        &["Fix login", "Write docs", "Ship it"],
    );
    let api = Api::new(&app, &insert_token(&app, "olivia@acme.test"));

    let first = body(api.get("/tasks?limit=2").await).await;
    assert_eq!(first["tasks"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = body(api.get(&format!("/tasks?limit=2&cursor={cursor}")).await).await;
    assert_eq!(rest["tasks"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    // A page that ends exactly at the last task has no next page either.
    let exact = body(api.get("/tasks?limit=3").await).await;
    assert_eq!(exact["tasks"].as_array().unwrap().len(), 3);
    assert!(exact["next_cursor"].is_null(), "{exact}");
    let task = &first["tasks"][0];
    for key in [
        "id",
        "title",
        "tool",
        "project",
        "status",
        "due",
        "url",
        "seconds_today",
        "seconds_total",
    ] {
        assert!(task.get(key).is_some(), "task has {key}");
    }
    assert_eq!(task["tool"], "basecamp");
    let search = body(api.get("/tasks?q=DOCS").await).await;
    assert_eq!(search["tasks"][0]["title"], "Write docs");
    assert_eq!(search["tasks"].as_array().unwrap().len(), 1);

    let response = api.get("/tasks").await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let again = api
        .http
        .get(format!("{}/api/v1/tasks", app.address))
        .bearer_auth(&api.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.text().await.unwrap().is_empty());

    // The task changes in its tool; the next sync writes it.
    app.query(|conn| {
        use taskbridge::schema::tasks;
        diesel::update(tasks::table.filter(tasks::title.eq("Ship it")))
            .set(tasks::status.eq("in progress"))
            .execute(conn)
            .unwrap()
    });
    let changed = api
        .http
        .get(format!("{}/api/v1/tasks", app.address))
        .bearer_auth(&api.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);

    // What the server keeps between requests follows changes made anywhere: a title
    // changed, and time tracked on a task, each at the next request.
    let titles = |list: &Value| -> Vec<String> {
        list["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = body(api.get("/tasks").await).await;
    assert!(titles(&before).contains(&"Ship it".to_owned()));
    app.query(|conn| {
        use taskbridge::schema::tasks;
        diesel::update(tasks::table.filter(tasks::title.eq("Ship it")))
            .set(tasks::title.eq("Ship it today"))
            .execute(conn)
            .unwrap()
    });
    let after = body(api.get("/tasks").await).await;
    assert!(
        titles(&after).contains(&"Ship it today".to_owned()),
        "{after}"
    );
    let task_id = after["tasks"][0]["id"].as_i64().unwrap();
    assert_eq!(after["tasks"][0]["seconds_total"], 0);
    let track = |ago: i64, secs: i64| {
        app.query(move |conn| {
            use taskbridge::schema::time_entries;
            let (user_id, company_id) = person_ids(conn, "olivia@acme.test");
            let start = now_secs() - ago;
            diesel::insert_into(time_entries::table)
                .values((
                    time_entries::company_id.eq(company_id),
                    time_entries::user_id.eq(user_id),
                    time_entries::task_id.eq(task_id),
                    time_entries::note.eq(""),
                    time_entries::started_at.eq(start),
                    time_entries::ended_at.eq(start + secs),
                    time_entries::created_at.eq(start),
                    time_entries::updated_at.eq(start),
                ))
                .execute(conn)
                .unwrap()
        })
    };
    for (ago, secs, total) in [(3600, 600, 600), (7200, 300, 900)] {
        track(ago, secs);
        let tracked = body(api.get("/tasks").await).await;
        assert_eq!(tracked["tasks"][0]["id"], task_id);
        assert_eq!(tracked["tasks"][0]["seconds_total"], total, "{tracked}");
        let again = body(api.get("/tasks").await).await;
        assert_eq!(again["tasks"][0]["seconds_total"], total);
    }
}

#[tokio::test]
async fn api_v1_a_desktop_client_polls_starts_posts_offline_entries_twice_and_stops() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(&app, "olivia@acme.test", &["Fix login", "Write docs"]);
    let created = owner
        .post_form(
            "/account/api-tokens",
            "/account/api-tokens",
            &[("name", "desktop")],
        )
        .await;
    let api = Api::new(&app, &new_token_in(&created.text().await.unwrap()));

    // Poll the tasks as a client does every minute.
    let tasks = api.get("/tasks").await;
    let etag = tasks.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(body(tasks).await["tasks"].as_array().unwrap().len(), 2);
    let poll = api
        .http
        .get(format!("{}/api/v1/tasks", app.address))
        .bearer_auth(&api.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), StatusCode::NOT_MODIFIED);

    // Start; starting the same task again answers it unchanged.
    assert!(body(api.get("/timer").await).await["running"].is_null());
    let started = body(api.post("/timer/start", json!({"task_id": ids[0]})).await).await;
    assert_eq!(started["task_title"], "Fix login");
    assert_eq!(started["running"], true);
    assert!(started["ended_at"].is_null());
    assert!(started["started_at"].as_str().unwrap().ends_with('Z'));
    let same = api.post("/timer/start", json!({"task_id": ids[0]})).await;
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(body(same).await["id"], started["id"]);
    assert_eq!(
        body(api.get("/timer").await).await["running"]["id"],
        started["id"]
    );

    // Offline earlier today: two entries made on the laptop, each posted twice once
    // the network is back.
    let now = now_secs();
    let offline = [
        (
            "11111111-2222-4333-8444-555555555555",
            now - 4 * 3600,
            now - 3 * 3600,
            ids[1],
        ),
        (
            "66666666-7777-4888-9999-aaaaaaaaaaaa",
            now - 3 * 3600,
            now - 2 * 3600,
            ids[0],
        ),
    ];
    for _ in 0..2 {
        for (id, start, end, task) in offline {
            let response = api
                .post(
                    "/time-entries",
                    json!({"id": id, "started_at": rfc3339(start), "ended_at": rfc3339(end), "task_id": task}),
                )
                .await;
            assert!(response.status().is_success(), "{}", response.status());
        }
    }
    for (id, ..) in offline {
        assert_eq!(entries_with_client_id(&app, id), 1);
    }

    let stopped = api.post("/timer/stop", json!({})).await;
    assert_eq!(stopped.status(), StatusCode::OK);
    let stopped = body(stopped).await;
    assert_eq!(stopped["id"], started["id"]);
    assert_eq!(stopped["running"], false);
    problem(
        api.post("/timer/stop", json!({})).await,
        StatusCode::CONFLICT,
        "TB-API-NOTHING-RUNNING",
    )
    .await;

    let from = jiff::Timestamp::from_second(now - 5 * 3600)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let to = jiff::Timestamp::from_second(now)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let listed = body(api.get(&format!("/time-entries?from={from}&to={to}")).await).await;
    assert_eq!(listed["entries"].as_array().unwrap().len(), 3);

    // An edit and a delete.
    let entry_id = listed["entries"][0]["id"].as_i64().unwrap();
    let edited = api
        .send(
            Method::PATCH,
            &format!("/time-entries/{entry_id}"),
            Some(json!({"note": "Pairing"})),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(body(edited).await["note"], "Pairing");
    let deleted = api
        .send(Method::DELETE, &format!("/time-entries/{entry_id}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // The time tracked shows on the tasks.
    let tasks = body(api.get("/tasks").await).await;
    assert!(tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["seconds_total"].as_i64().unwrap() > 0));
}

#[tokio::test]
async fn api_v1_the_document_lists_every_route_and_the_docs_page_shows_them() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let response = client.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (method, path) in taskbridge::api::endpoints() {
        let operation = &doc["paths"][&path][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is in the document");
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} {path} says 401"
        );
    }
    let (status, page) = client.get_text("/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    for (_, path) in taskbridge::api::endpoints() {
        assert!(page.contains(&path), "{path} on the docs page");
    }
    assert!(page.contains("TB-API-NOTHING-RUNNING"));
    assert!(!page.contains("<script src=\"http"), "nothing from a CDN");
}

#[tokio::test]
async fn api_v1_a_token_over_its_rate_waits_and_others_do_not() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_API_RATE_PER_MINUTE", "3")]).await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let api = Api::new(&app, &insert_token(&app, "olivia@acme.test"));
    for _ in 0..3 {
        assert_eq!(api.get("/me").await.status(), StatusCode::OK);
    }
    let limited = api.get("/me").await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    problem(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        "TB-API-RATE-LIMITED",
    )
    .await;
    let other = Api::new(&app, &insert_token(&app, "olivia@acme.test"));
    assert_eq!(other.get("/me").await.status(), StatusCode::OK, "per token");
}
