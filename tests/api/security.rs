use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let no_token = owner
        .http
        .post(owner.url("/company/settings"))
        .form(&[("name", "Hijacked")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let wrong = owner
        .http
        .post(owner.url("/company/settings"))
        .form(&[("name", "Hijacked"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let logout = owner.http.post(owner.url("/logout")).send().await.unwrap();
    assert_eq!(
        logout.status(),
        StatusCode::FORBIDDEN,
        "even log out needs the token"
    );
    assert!(
        owner
            .get_text("/company/settings")
            .await
            .1
            .contains("value=\"Acme\""),
        "nothing changed"
    );
}

#[tokio::test]
async fn requests_from_another_origin_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let token = owner.csrf_from("/company/settings").await;
    let response = owner
        .http
        .post(owner.url("/company/settings"))
        .header("Origin", "https://evil.example")
        .form(&[("name", "Hijacked"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("another site"));
    let same = owner
        .post_form(
            "/company/settings",
            "/company/settings",
            &[("name", "Acme Renamed")],
        )
        .await;
    assert_eq!(same.status(), StatusCode::SEE_OTHER);
    assert!(owner
        .get_text("/company/settings")
        .await
        .1
        .contains("Acme Renamed"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in [
        "/login",
        "/signup",
        "/nowhere",
        "/static/app.css",
        "/healthz",
    ] {
        let response = client.get(path).await;
        let h = response.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(csp.contains("default-src 'self'"), "{path}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert_eq!(h.get("referrer-policy").unwrap(), "same-origin", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    // A first visit starts the session: its cookie's attributes.
    let cookie = app.client().get("/login").await;
    let set_cookie = cookie
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn hsts_and_secure_cookies_over_tls() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_BASE_URL", "https://taskbridge.example")]).await;
    let response = app.client().get("/login").await;
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_some());
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(set_cookie.contains("Secure"));
}

#[tokio::test]
async fn error_pages_use_the_layout_and_show_no_internals() {
    let app = TestApp::spawn().await;
    let (status, body) = app.client().get_text("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"));
    assert!(body.contains("taskbridge"));
    assert!(body.contains("/static/app.css"));
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, body) = owner.get_text("/company/users/not-a-number/role").await;
    assert!(status.is_client_error());
    assert!(!body.to_lowercase().contains("diesel") && !body.contains("panicked"));
}

#[tokio::test]
async fn health_answers_200_when_the_database_answers_and_503_when_not() {
    let app = TestApp::spawn().await;
    let response = app.client().get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);

    // The same application on a database that does not answer.
    let dead = diesel::r2d2::Pool::builder()
        .connection_timeout(std::time::Duration::from_secs(1))
        .build_unchecked(taskbridge::db::Manager::new(
            "postgres://127.0.0.1:9/nothing",
        ));
    let db = TestDb::new();
    let application =
        taskbridge::Application::build_with_pool(settings_for(&db, &[]), dead).unwrap();
    let address = format!("http://127.0.0.1:{}/healthz", application.port());
    tokio::spawn(application.run_until_stopped());
    let response = reqwest::get(address).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
