//! Issue 13, points 2, 3 and 8: the sign-in throttle nobody can hold, CSRF on every
//! body, the OAuth state checked first, and the smaller ones.

use diesel::prelude::*;
use reqwest::{Response, StatusCode};
use taskbridge::schema::{audit_log, known_devices, sign_in_failures};

use crate::helpers::*;

/// A sign-in from `client`, through a proxy that says the client is `forwarded_for`.
async fn log_in(
    client: &Client,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    let token = client.csrf_from("/login").await;
    let mut request = client
        .http
        .post(client.url("/login"))
        .header("Origin", &client.address)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ]);
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    request.send().await.unwrap()
}

fn retry_after(response: &Response) -> i64 {
    response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("a {} without Retry-After", response.status()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn failure_rows(app: &TestApp) -> i64 {
    app.query(|conn| sign_in_failures::table.count().get_result(conn).unwrap())
}

const OLIVIA: &str = "olivia@acme.test";

#[tokio::test]
async fn a_stranger_elsewhere_cannot_keep_an_account_locked() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    let stranger = app.client();
    for _ in 0..5 {
        let r = log_in(&stranger, OLIVIA, "guess", Some("203.0.113.66")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let held = log_in(&stranger, OLIVIA, "guess", Some("203.0.113.66")).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=30).contains(&retry_after(&held)));

    // Olivia, at another address and in a browser she never used: straight in.
    let olivia = app.client();
    let r = log_in(&olivia, OLIVIA, PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the right password from elsewhere"
    );
    assert_eq!(location(&r), "/tasks");

    // The address the client put left of the proxy's own entry proves nothing.
    let r = log_in(
        &stranger,
        OLIVIA,
        "guess",
        Some("198.51.100.7, 203.0.113.66"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    let stranger = app.client();
    for i in 0..5 {
        let r = log_in(&stranger, OLIVIA, "guess", Some(&format!("203.0.113.{i}"))).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = log_in(&stranger, OLIVIA, "guess", Some("203.0.113.99")).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a new header is no new address"
    );
    let ips: Vec<String> = app.query(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("sign_in_failed"))
            .select(audit_log::ip.assume_not_null())
            .load(conn)
            .unwrap()
    });
    assert!(ips.iter().all(|ip| ip == "127.0.0.1"), "{ips:?}");
}

#[tokio::test]
async fn waits_double_with_each_failure_instead_of_a_lock() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    let client = app.client();
    for _ in 0..5 {
        let r = log_in(&client, OLIVIA, "guess", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let first = log_in(&client, OLIVIA, PASSWORD, None).await;
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=30).contains(&retry_after(&first)));
    assert!(first
        .text()
        .await
        .unwrap()
        .contains("try again in a minute"));

    // Half a minute later the next try is tried; failing, it waits twice as long.
    let back = |secs: i64| {
        app.query(move |conn| {
            diesel::update(sign_in_failures::table)
                .set(sign_in_failures::created_at.eq(sign_in_failures::created_at - secs))
                .execute(conn)
                .unwrap()
        })
    };
    back(31);
    let r = log_in(&client, OLIVIA, "guess", None).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "tried, not refused unseen"
    );
    let second = log_in(&client, OLIVIA, PASSWORD, None).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((31..=60).contains(&retry_after(&second)));

    back(61);
    let r = log_in(&client, OLIVIA, PASSWORD, None).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the right password, once the wait is over"
    );
    assert_eq!(
        failure_rows(&app),
        0,
        "a success forgives the failures of its source"
    );
}

#[tokio::test]
async fn a_known_browser_gets_in_while_its_address_is_throttled() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    let laptop = app.client();
    let r = log_in(&laptop, OLIVIA, PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("taskbridge_device="))
        .expect("a device cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let token = cookie["taskbridge_device=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let hashes: Vec<String> = app.query(|conn| {
        known_devices::table
            .select(known_devices::token_hash)
            .load(conn)
            .unwrap()
    });
    assert_eq!(hashes.len(), 2, "the browser that signed up, and this one");
    assert!(
        hashes.iter().all(|h| !h.contains(&token)),
        "only hashes are stored"
    );
    laptop.post_form("/tasks", "/logout", &[]).await;

    // Someone at the same address (no proxy settings: everyone is 127.0.0.1).
    let stranger = app.client();
    for _ in 0..6 {
        log_in(&stranger, OLIVIA, "guess", None).await;
    }
    let r = log_in(&app.client(), OLIVIA, PASSWORD, None).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown browser waits"
    );
    let r = log_in(&laptop, OLIVIA, PASSWORD, None).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "Olivia's own browser does not"
    );
    assert_eq!(location(&r), "/tasks");

    // The known browser's own failures count on their own.
    laptop.post_form("/tasks", "/logout", &[]).await;
    for _ in 0..5 {
        let r = log_in(&laptop, OLIVIA, "typo", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = log_in(&laptop, OLIVIA, PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_counted_before_they_are_tried() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    let client = app.client();
    let token = client.csrf_from("/login").await;
    let mut all = tokio::task::JoinSet::new();
    for i in 0..40 {
        let request = client
            .http
            .post(client.url("/login"))
            .header("Origin", &client.address)
            .form(&[
                ("email", OLIVIA),
                ("password", &format!("guess-{i}")),
                ("csrf_token", &token),
            ]);
        all.spawn(async move { request.send().await.unwrap().status() });
    }
    let mut tried = 0;
    let mut held = 0;
    while let Some(status) = all.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => tried += 1,
            StatusCode::TOO_MANY_REQUESTS => held += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((tried, held), (5, 35));
    assert_eq!(failure_rows(&app), 5);
    let audited: i64 = app.query(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("sign_in_failed"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(audited, 5, "only the tried ones were hashed and audited");
}

async fn multipart_post(client: &Client, path: &str, form: reqwest::multipart::Form) -> Response {
    client
        .http
        .post(client.url(path))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn multipart_posts_need_the_csrf_token_too() {
    use reqwest::multipart::Form;
    use taskbridge::schema::{companies, connections};
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", OLIVIA).await;
    let on = owner
        .post_form(
            "/company/integrations/pivotal",
            "/company/integrations/pivotal/on",
            &[("api_token", "sandbox-jane-doe")],
        )
        .await;
    assert_eq!(location(&on), "/company/integrations/pivotal/connected");
    app.query(|conn| {
        diesel::update(companies::table)
            .set((
                companies::logo.eq(Some(vec![0x89_u8, b'P', b'N', b'G'])),
                companies::logo_mime.eq(Some("image/png")),
            ))
            .execute(conn)
            .unwrap()
    });
    let state = || {
        app.query(|conn| {
            let links: Vec<Option<i64>> = connections::table
                .select(connections::sync_now_at)
                .load(conn)
                .unwrap();
            let logo: Option<String> = companies::table
                .select(companies::logo_mime)
                .first(conn)
                .unwrap();
            (links, logo)
        })
    };
    let before = state();
    assert_eq!(before.0.len(), 1, "Olivia's own Pivotal Tracker connection");

    // No Origin, no Referer, no token: the token is what is missing.
    for path in [
        "/integrations/pivotal/off",
        "/company/logo/remove",
        "/tasks/sync",
    ] {
        let r = multipart_post(&owner, path, Form::new().text("confirm", "yes")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        let forged = Form::new().text("csrf_token", "forged");
        let r = multipart_post(&owner, path, forged).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{path} with a forged token"
        );
    }
    assert_eq!(state(), before, "nothing changed");

    // The real token, first in the form or in the header, still works.
    let token = owner.csrf_from("/tasks").await;
    let form = Form::new().text("csrf_token", token.clone()).text("x", "y");
    let r = multipart_post(&owner, "/tasks/sync", form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = owner
        .http
        .post(owner.url("/company/logo/remove"))
        .header("X-CSRF-Token", &token)
        .multipart(Form::new().text("x", "y"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = state();
    assert!(after.0[0].is_some(), "Sync now was asked for");
    assert_eq!(after.1, None, "the logo was removed");
}

#[tokio::test]
async fn too_large_bodies_and_bad_queries_get_the_apps_own_pages() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", OLIVIA).await;
    for size in [100 * 1024, 1024 * 1024] {
        let long = "x".repeat(size);
        let r = owner
            .post_form("/company/settings", "/company/settings", &[("name", &long)])
            .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size} bytes");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let page = r.text().await.unwrap();
        assert!(page.contains("Too much to send"), "{size}: {page}");
        assert!(page.contains("My Tasks"), "{size}: inside the app's layout");
    }
    let (status, page) = owner.get_text("/timesheet?person=not-a-number").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("This link is incomplete"), "{page}");
    assert!(page.contains("My Tasks"), "inside the app's layout");
    assert!(!page.contains("invalid digit"), "no parser internals");
    // Not signed in: the public layout, the same words.
    let r = app
        .client()
        .post_form(
            "/login",
            "/login",
            &[("email", &"x".repeat(100 * 1024)), ("password", "p")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("Too much to send"));
}

#[tokio::test]
async fn a_link_with_error_and_a_wrong_state_does_not_cancel_a_pending_sign_in() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", OLIVIA).await;
    let authorize = crate::oauth_walk::start(
        &owner,
        "/company/integrations/salesforce",
        "/company/integrations/salesforce/on",
        &[],
    )
    .await;
    for forged in [
        "/oauth/salesforce/callback?error=access_denied&state=forged",
        "/oauth/salesforce/callback?error=access_denied",
        "/oauth/salesforce/callback?code=stolen&state=forged",
    ] {
        let r = owner.get(forged).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{forged}");
        let (_, page) = owner.get_text(&location(&r)).await;
        assert!(!page.contains("is now ON"), "{forged}");
    }
    let answer = crate::oauth_walk::sign_in_at_tool(&owner, &authorize, "Jane Doe", "Allow").await;
    assert_eq!(
        location(&answer),
        "/company/integrations/salesforce/connected",
        "the person's own flow still finishes"
    );
}

fn session_rows(app: &TestApp) -> i64 {
    use taskbridge::schema::sessions;
    app.query(|conn| sessions::table.count().get_result(conn).unwrap())
}

#[tokio::test]
async fn cookieless_visits_to_login_and_signup_write_no_session_row() {
    let app = TestApp::spawn().await;
    for _ in 0..10 {
        for page in ["/login", "/signup"] {
            let r = reqwest::get(format!("{}{page}", app.address))
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert!(
                r.headers().get("set-cookie").is_some(),
                "the form's token still rides along"
            );
        }
    }
    assert_eq!(session_rows(&app), 0);

    // The visitor's token works, and signing in is what makes a row.
    let visitor = app.client();
    let r = visitor
        .post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", "Acme"),
                ("name", "Olivia"),
                ("email", OLIVIA),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&r), "/tasks");
    assert_eq!(session_rows(&app), 1);
    assert_eq!(visitor.get("/tasks").await.status(), StatusCode::OK);
    visitor.post_form("/tasks", "/logout", &[]).await;
    assert_eq!(session_rows(&app), 0, "logging out ends the row");
    let r = log_in(&visitor, OLIVIA, PASSWORD, None).await;
    assert_eq!(location(&r), "/tasks");
    assert_eq!(session_rows(&app), 1);
}

#[tokio::test]
async fn cookies_take_the_host_prefix_under_https() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_BASE_URL", "https://taskbridge.example")]).await;
    let response = app.client().get("/login").await;
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.starts_with("__Host-taskbridge_session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("Secure") && set_cookie.contains("Path=/"));
    assert!(!set_cookie.contains("Domain"));
    let plain = TestApp::spawn().await;
    let response = plain.client().get("/login").await;
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.starts_with("taskbridge_session="),
        "{set_cookie}"
    );
}

#[tokio::test]
async fn sqlite_files_are_created_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let Some(path) = app.sqlite_path() else {
        return; // PostgreSQL: no files of ours.
    };
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

fn csp_of(response: &Response) -> String {
    response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn form_action(csp: &str) -> Vec<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("form-action "))
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn forms_may_only_lead_here_and_to_the_configured_tools() {
    let app = TestApp::spawn().await;
    let csp = csp_of(&app.client().get("/login").await);
    assert_eq!(
        form_action(&csp),
        ["'self'".to_owned(), app.address.clone()],
        "{csp}"
    );

    let app = TestApp::spawn_with(&[
        ("TASKBRIDGE_SALESFORCE_CLIENT_ID", "client"),
        ("TASKBRIDGE_SALESFORCE_CLIENT_SECRET", "secret"),
        (
            "TASKBRIDGE_SALESFORCE_LOGIN_URL",
            "https://login.salesforce.example",
        ),
        ("TASKBRIDGE_SANDBOX", "off"),
    ])
    .await;
    let csp = csp_of(&app.client().get("/login").await);
    assert_eq!(
        form_action(&csp),
        ["'self'", "https://login.salesforce.example"],
        "only the tools people can turn on: {csp}"
    );
}

#[tokio::test]
async fn the_sandbox_controls_take_json_from_this_site_only() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let reset = format!("{}/sandbox/_control/reset", app.address);
    let reassign = format!("{}/sandbox/pivotal/_control/reassign", app.address);
    // What a page on another site can send: a form, or text without a preflight.
    let r = http.post(&reset).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http
        .post(&reset)
        .header("Origin", "https://evil.example")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http
        .post(&reassign)
        .header("Content-Type", "text/plain")
        .body(r#"{"task_id":"1","assignee":null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http
        .post(&reset)
        .header("Origin", "https://evil.example")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "JSON, but from another site"
    );
    // A script or a test on this machine.
    let r = http
        .post(&reset)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn accepting_an_invite_while_signed_in_as_someone_else_asks_first() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme", "Olivia", OLIVIA).await;
    let page = acme
        .post_form(
            "/company/users",
            "/company/users/invite",
            &[("email", "sam@acme.test"), ("role", "user")],
        )
        .await;
    let link = extract_invite_link(&page.text().await.unwrap()).unwrap();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();

    // Gus of Globex opens the link in his signed-in browser.
    let gus = app.sign_up("Globex", "Gus", "gus@globex.test").await;
    let (status, asked) = gus.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        asked.contains("You are signed in as Gus (gus@globex.test)"),
        "{asked}"
    );
    assert!(asked.contains("Sign out and continue"));
    assert!(!asked.contains("name=\"password\""), "no invite form yet");

    // Posting the invite's form anyway accepts nothing.
    let r = gus
        .post_form("/tasks", &path, &[("name", "Sam"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Sign out and continue"));
    let sams: i64 = app.query(|conn| {
        use taskbridge::schema::logins;
        logins::table
            .filter(logins::email.eq("sam@acme.test"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(sams, 0);
    assert_eq!(
        gus.get("/tasks").await.status(),
        StatusCode::OK,
        "Gus still signed in"
    );

    // He agrees: signed out, and the invite's form is his.
    let r = gus.post_form(&path, &path, &[("confirmed", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), path);
    assert_eq!(location(&gus.get("/tasks").await), "/login");
    let r = gus
        .post_form(&path, &path, &[("name", "Sam"), ("password", PASSWORD)])
        .await;
    assert_eq!(location(&r), "/tasks");
    let (_, tasks) = gus.get_text("/tasks").await;
    assert!(tasks.contains("Welcome to Acme!"));
}

#[tokio::test]
async fn the_browser_that_signed_up_is_known_too() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", OLIVIA).await;
    owner.post_form("/tasks", "/logout", &[]).await;
    let stranger = app.client();
    for _ in 0..6 {
        log_in(&stranger, OLIVIA, "guess", None).await;
    }
    let r = log_in(&owner, OLIVIA, PASSWORD, None).await;
    assert_eq!(location(&r), "/tasks");
}

#[tokio::test]
async fn a_person_keeps_at_most_twenty_known_browsers() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Olivia", OLIVIA).await;
    for _ in 0..22 {
        let r = log_in(&app.client(), OLIVIA, PASSWORD, None).await;
        assert_eq!(location(&r), "/tasks");
    }
    let known: i64 = app.query(|conn| known_devices::table.count().get_result(conn).unwrap());
    assert_eq!(known, 20);
}
