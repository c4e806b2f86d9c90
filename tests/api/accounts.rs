use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn sign_up_creates_the_company_and_its_owner() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme Widgets", "Olivia Owner", "olivia@acme.test")
        .await;
    let (status, body) = owner.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("My Tasks"));
    assert!(
        body.contains("Acme Widgets"),
        "the company is in the left menu"
    );
    assert!(
        body.contains(">AW<"),
        "the company's initials stand in for a logo"
    );
    assert!(body.contains("Olivia Owner"));
    assert!(body.contains("Owner"));
    let (_, users) = owner.get_text("/company/users").await;
    assert!(users.contains("olivia@acme.test"));
}

#[tokio::test]
async fn sign_up_with_bad_input_says_why_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let cases = [
        ("", "Jane", "jane@acme.test", PASSWORD, "Enter your company"),
        ("Acme", "", "jane@acme.test", PASSWORD, "Enter your name"),
        (
            "Acme",
            "Jane",
            "not-an-email",
            PASSWORD,
            "Enter an email address",
        ),
        (
            "Acme",
            "Jane",
            "jane@acme.test",
            "short",
            "at least 8 characters",
        ),
        (
            "Acme",
            "Jane",
            "jane@acme.test",
            "password123",
            "most common",
        ),
    ];
    for (company, name, email, password, message) in cases {
        let response = client
            .post_form(
                "/signup",
                "/signup",
                &[
                    ("company_name", company),
                    ("name", name),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "expected {message:?}");
        if !company.is_empty() {
            assert!(
                body.contains(&format!("value=\"{company}\"")),
                "the company name is kept"
            );
        }
        assert!(
            !body.contains(&format!("value=\"{password}\"")),
            "the password is never echoed"
        );
    }
    let companies: i64 = app.query(|conn| {
        use diesel::prelude::*;
        taskbridge::schema::companies::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(companies, 0, "nothing was created");
}

#[tokio::test]
async fn an_email_can_sign_up_once() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let response = app
        .client()
        .post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", "Other"),
                ("name", "O"),
                ("email", "OLIVIA@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("already exists"));
}

#[tokio::test]
async fn log_in_and_log_out() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let client = app.client();
    let wrong = client.log_in_as("olivia@acme.test", "wrong-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("do not match an account"));
    let unknown = client.log_in_as("nobody@acme.test", PASSWORD).await;
    assert_eq!(
        unknown.status(),
        StatusCode::UNAUTHORIZED,
        "the same answer for unknown emails"
    );

    let before = client.session_cookie();
    let ok = client.log_in_as("Olivia@Acme.test", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/tasks");
    assert_ne!(
        client.session_cookie(),
        before,
        "the session is renewed at sign-in"
    );
    assert_eq!(client.get("/tasks").await.status(), StatusCode::OK);
    assert_eq!(
        location(&client.get("/login").await),
        "/tasks",
        "signed-in people skip the form"
    );

    let out = client.post_form("/tasks", "/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/login");
    let after = client.get("/tasks").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&after), "/login");
}

#[tokio::test]
async fn a_copied_cookie_is_refused_after_logout() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let thief = app.client();
    owner.clone_cookie_into(&thief);
    assert_eq!(
        thief.get("/tasks").await.status(),
        StatusCode::OK,
        "the copy works while the session lives"
    );
    owner.post_form("/tasks", "/logout", &[]).await;
    let response = thief.get("/tasks").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn an_old_cookie_is_refused_after_logout_though_it_carries_its_state() {
    // The signed-in state rides in the (encrypted) cookie, so an old cookie still
    // holds it: the session's row, checked by the page's own statement, is what
    // refuses it. (A refusal drops the cookie it came with, so each try is a copy.)
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let token = owner.csrf_from("/tasks").await;
    let copies: Vec<Client> = (0..4).map(|_| app.client()).collect();
    for copy in &copies {
        owner.clone_cookie_into(copy);
    }
    owner.post_form("/tasks", "/logout", &[]).await;
    for (copy, path) in copies.iter().zip(["/tasks", "/timesheet", "/account"]) {
        let response = copy.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }
    // Nor can it post, though the CSRF token it carries is the one it was given.
    let response = copies[3]
        .http
        .post(copies[3].url("/timer/start"))
        .header("Origin", &copies[3].address)
        .form(&[("note", "Planning"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    let running: i64 = app.query(|conn| {
        use diesel::prelude::*;
        taskbridge::schema::time_entries::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(running, 0, "no timer started");
}

#[tokio::test]
async fn a_cookie_naming_another_person_than_its_session_row_is_refused() {
    use diesel::prelude::*;
    use taskbridge::schema::sessions;
    let app = TestApp::spawn().await;
    let alice = app.sign_up("Acme", "Alice", "alice@acme.test").await;
    // A copy of the cookie from while the session was Alice's place in Acme.
    let old = app.client();
    alice.clone_cookie_into(&old);
    // The session goes on in a company of her own: its row names that place now.
    let r = alice
        .post_form(
            "/account/companies/new",
            "/account/companies/new",
            &[("company_name", "Side Project")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let response = old.get("/tasks").await;
    assert_eq!(location(&response), "/login", "the old cookie is refused");
    // Its refusal leaves the session that went on alone.
    let (status, page) = alice.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Side Project"), "{page}");
    let rows: i64 = app.query(|conn| {
        sessions::table
            .filter(sessions::user_id.is_not_null())
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(rows, 1, "one signed-in session, Alice's");
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_with_a_time_to_wait() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let client = app.client();
    for _ in 0..5 {
        let r = client.log_in_as("olivia@acme.test", "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = client.log_in_as("olivia@acme.test", PASSWORD).await;
    assert_eq!(
        blocked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let wait: i64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "says when, to machines too");
    let body = blocked.text().await.unwrap();
    assert!(body.contains("Too many failed sign-ins"));
    assert!(
        body.contains("try again in a minute"),
        "says when to try again"
    );
    let failures: i64 = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::audit_log;
        audit_log::table
            .filter(audit_log::action.eq("sign_in_failed"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(failures, 5, "each failed sign-in is in the audit log");
}

#[tokio::test]
async fn sign_in_is_throttled_per_address() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for i in 0..20 {
        let email = format!("guess{i}@acme.test");
        let r = client.log_in_as(&email, "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = client.log_in_as("someone-else@acme.test", "x").await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old() {
    use diesel::prelude::*;
    use taskbridge::schema::sessions;
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    assert_eq!(owner.get("/tasks").await.status(), StatusCode::OK);
    // Idle: the row's expiry has passed.
    app.query(|conn| {
        diesel::update(sessions::table.filter(sessions::user_id.is_not_null()))
            .set(sessions::expires_at.eq(taskbridge::db::now() - 1))
            .execute(conn)
            .unwrap()
    });
    assert_eq!(location(&owner.get("/tasks").await), "/login");

    // Absolute: signed in more than 12 hours ago, however active.
    let owner = app.client();
    owner.log_in_as("olivia@acme.test", PASSWORD).await;
    assert_eq!(owner.get("/tasks").await.status(), StatusCode::OK);
    app.query(|conn| {
        let states: Vec<(String, String)> = sessions::table
            .filter(sessions::user_id.is_not_null())
            .select((sessions::id, sessions::state))
            .load(conn)
            .unwrap();
        for (id, state) in states {
            let mut map: std::collections::HashMap<String, String> =
                serde_json::from_str(&state).unwrap();
            let long_ago = taskbridge::db::now() - 13 * 3600;
            map.insert("signed_in_at".into(), long_ago.to_string());
            diesel::update(sessions::table.find(id))
                .set(sessions::state.eq(serde_json::to_string(&map).unwrap()))
                .execute(conn)
                .unwrap();
        }
    });
    assert_eq!(location(&owner.get("/tasks").await), "/login");
}

#[tokio::test]
async fn activity_moves_the_idle_expiry_once_a_minute_not_on_every_request() {
    use diesel::prelude::*;
    use taskbridge::schema::sessions;
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    assert_eq!(owner.get("/tasks").await.status(), StatusCode::OK);
    let row = |app: &TestApp| {
        app.query(|conn| {
            sessions::table
                .filter(sessions::user_id.is_not_null())
                .select((sessions::id, sessions::state, sessions::expires_at))
                .first::<(String, String, i64)>(conn)
                .unwrap()
        })
    };
    // Pretend the session is an hour old and was last active 90 seconds ago.
    let (id, state, _) = row(&app);
    let mut map: std::collections::HashMap<String, String> = serde_json::from_str(&state).unwrap();
    let now = taskbridge::db::now();
    map.insert("seen".into(), (now - 90).to_string());
    let (key, early) = (id.clone(), now + 3600);
    app.query(move |conn| {
        diesel::update(sessions::table.find(key))
            .set((
                sessions::state.eq(serde_json::to_string(&map).unwrap()),
                sessions::expires_at.eq(early),
            ))
            .execute(conn)
            .unwrap()
    });

    // The next request notes the activity: the row's expiry moves to two hours out
    // and the cookie is sent again.
    let response = owner.get("/tasks").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("set-cookie").is_some());
    let (same_id, _, moved) = row(&app);
    assert_eq!(same_id, id, "the same session goes on");
    assert!(
        moved >= now + 2 * 3600 - 5,
        "expiry moved: {moved} vs {now}"
    );

    // Requests within the minute write nothing: the expiry stays where it is.
    let key = id.clone();
    app.query(move |conn| {
        diesel::update(sessions::table.find(key))
            .set(sessions::expires_at.eq(early))
            .execute(conn)
            .unwrap()
    });
    for path in ["/tasks", "/integrations", "/tasks"] {
        let response = owner.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers().get("set-cookie").is_none(), "{path}");
    }
    assert_eq!(row(&app).2, early, "no write while the session is fresh");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_log_in() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in [
        "/",
        "/tasks",
        "/integrations",
        "/company/users",
        "/company/settings",
        "/company/integrations",
    ] {
        let response = client.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }
}

#[tokio::test]
async fn the_command_line_creates_a_company_and_its_owner() {
    let db = std::sync::Arc::new(TestDb::new());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_taskbridge"))
        .args([
            "create-company",
            "--company",
            "Headless Inc",
            "--name",
            "Hana Admin",
            "--email",
            "hana@headless.test",
        ])
        .env("DATABASE_URL", &db.url)
        .env(
            "TASKBRIDGE_SECRET_KEY",
            "test-secret-key-0123456789abcdef0123456789abcdef",
        )
        .env("TASKBRIDGE_OWNER_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let app = TestApp::start(db.clone(), settings_for(&db, &[])).await;
    let app_client = app.client();
    let response = app_client.log_in_as("hana@headless.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(app_client
        .get_text("/tasks")
        .await
        .1
        .contains("Headless Inc"));

    // The same email again: the new company is added to Hana's account, whose password
    // stays; the password given is not used.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_taskbridge"))
        .args([
            "create-company",
            "--company",
            "Second Co",
            "--name",
            "Hana Admin",
            "--email",
            "hana@headless.test",
        ])
        .env("DATABASE_URL", &db.url)
        .env(
            "TASKBRIDGE_SECRET_KEY",
            "test-secret-key-0123456789abcdef0123456789abcdef",
        )
        .env("TASKBRIDGE_OWNER_PASSWORD", "not-used-at-all-9")
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("existing account"));
    let hana = app.client();
    let response = hana.log_in_as("hana@headless.test", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "her password stays"
    );
    let (_, page) = hana.get_text("/tasks").await;
    assert!(
        page.contains("Second Co"),
        "she lands in the company made last"
    );
    assert!(page.contains("Headless Inc"), "and can switch to the first");
    let refused = app
        .client()
        .log_in_as("hana@headless.test", "not-used-at-all-9")
        .await;
    assert_ne!(
        refused.status(),
        StatusCode::SEE_OTHER,
        "the given password is not hers"
    );

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_taskbridge"))
        .args([
            "create-company",
            "--company",
            "X",
            "--name",
            "Y",
            "--email",
            "y@x.test",
        ])
        .env("DATABASE_URL", &db.url)
        .env(
            "TASKBRIDGE_SECRET_KEY",
            "test-secret-key-0123456789abcdef0123456789abcdef",
        )
        .env("TASKBRIDGE_OWNER_PASSWORD", "password")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("most common"));
}

#[tokio::test]
async fn a_bad_setting_stops_the_server_with_one_line_naming_it() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_taskbridge"))
        .arg("serve")
        .env("TASKBRIDGE_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TASKBRIDGE_BIND"));
}
