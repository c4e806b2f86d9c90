//! Tools that fail while an integration is being turned on: every failure ends on a
//! page that says what happened and what to do, with nothing saved.

use reqwest::StatusCode;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::oauth_walk;

const SECRET: &str = "client-secret-never-shown";

async fn basecamp_app(launchpad: &str) -> TestApp {
    TestApp::spawn_with(&[
        ("TASKBRIDGE_SANDBOX", "off"),
        ("TASKBRIDGE_BASECAMP_CLIENT_ID", "client-id"),
        ("TASKBRIDGE_BASECAMP_CLIENT_SECRET", SECRET),
        ("TASKBRIDGE_BASECAMP_LAUNCHPAD_URL", launchpad),
    ])
    .await
}

/// Starts "Turn it on" and answers the callback as the tool would, with a code.
async fn come_back_with_a_code(owner: &Client) -> (StatusCode, String) {
    let authorize = oauth_walk::start(
        owner,
        "/company/integrations/basecamp",
        "/company/integrations/basecamp/on",
        &[],
    )
    .await;
    let url = url::Url::parse(&authorize).unwrap();
    assert_eq!(url.path(), "/authorization/new");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    assert!(
        !authorize.contains(SECRET),
        "the client secret never reaches a URL"
    );
    let r = owner
        .get(&format!(
            "/oauth/basecamp/callback?code=the-code&state={state}"
        ))
        .await;
    assert_eq!(location(&r), "/integrations/basecamp/problem");
    owner.get_text("/integrations/basecamp/problem").await
}

fn assert_nothing_saved(app: &TestApp) {
    let (connections, enabled): (i64, i64) = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::{company_integrations, connections};
        (
            connections::table.count().get_result(conn).unwrap(),
            company_integrations::table
                .filter(company_integrations::enabled.eq(true))
                .count()
                .get_result(conn)
                .unwrap(),
        )
    });
    assert_eq!((connections, enabled), (0, 0), "nothing half-saved");
}

#[tokio::test]
async fn a_tool_answering_500_at_the_token_endpoint() {
    let tool = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authorization/token"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream down"))
        .mount(&tool)
        .await;
    let app = basecamp_app(&tool.uri()).await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, page) = come_back_with_a_code(&owner).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("Basecamp:"), "names the tool");
    assert!(page.contains("Nothing was saved"));
    assert!(page.contains("What to do"));
    assert!(page.contains("TB-"), "an error code to quote");
    assert!(!page.contains(SECRET) && !page.contains("the-code"));
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn a_tool_answering_garbage() {
    let tool = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authorization/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("<html>definitely not json</html>"),
        )
        .mount(&tool)
        .await;
    let app = basecamp_app(&tool.uri()).await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, page) = come_back_with_a_code(&owner).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("TB-TOOL-GARBAGE"), "{page}");
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn a_tool_that_is_not_there() {
    let app = basecamp_app("http://127.0.0.1:9").await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, page) = come_back_with_a_code(&owner).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("TB-TOOL-UNREACHABLE"), "{page}");
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn a_refused_code_or_client() {
    let tool = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authorization/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "invalid_grant"})),
        )
        .mount(&tool)
        .await;
    let app = basecamp_app(&tool.uri()).await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, page) = come_back_with_a_code(&owner).await;
    assert!(status.is_client_error() || status.is_server_error());
    assert!(
        page.contains("TB-AUTH-REVOKED") || page.contains("TB-CLIENT-REJECTED"),
        "{page}"
    );
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn identity_failing_after_a_good_token() {
    let tool = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authorization/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "at-secret-123", "token_type": "Bearer", "expires_in": 1209600, "refresh_token": "rt-secret-456"
        })))
        .mount(&tool)
        .await;
    Mock::given(method("GET"))
        .and(path("/authorization.json"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&tool)
        .await;
    let app = basecamp_app(&tool.uri()).await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, page) = come_back_with_a_code(&owner).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        page.contains("TB-TOOL-DOWN") || page.contains("TB-TOOL"),
        "{page}"
    );
    assert!(!page.contains("at-secret-123") && !page.contains("rt-secret-456"));
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn a_slow_tool_is_given_up_on() {
    let tool = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authorization/token"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(30)))
        .mount(&tool)
        .await;
    let app = basecamp_app(&tool.uri()).await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, page) = come_back_with_a_code(&owner).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("TB-TOOL-SLOW"), "{page}");
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn pivotal_tracker_down_or_refusing_the_token() {
    let tool = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/v5/me"))
        .and(wiremock::matchers::header("X-TrackerToken", "good-token"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&tool)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/v5/me"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "code": "invalid_authentication", "kind": "error",
            "error": "Invalid authentication credentials were presented."
        })))
        .mount(&tool)
        .await;
    let app = TestApp::spawn_with(&[
        ("TASKBRIDGE_SANDBOX", "off"),
        (
            "TASKBRIDGE_PIVOTAL_API_URL",
            &format!("{}/services/v5", tool.uri()),
        ),
    ])
    .await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let bad = oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "wrong-token")],
    )
    .await;
    let (_, page) = owner.get_text(&bad).await;
    assert!(page.contains("did not accept that API token"));
    let down = oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "good-token")],
    )
    .await;
    let (status, page) = owner.get_text(&down).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("TB-TOOL-DOWN"), "{page}");
    assert!(!page.contains("good-token"));
    assert_nothing_saved(&app);
}

#[tokio::test]
async fn an_oauth_tool_without_a_registered_client_says_so() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_SANDBOX", "off")]).await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (_, page) = owner.get_text("/company/integrations/salesforce").await;
    assert!(page.contains("not set up on this server"));
    let r = owner
        .post_form(
            "/company/integrations/salesforce",
            "/company/integrations/salesforce/on",
            &[],
        )
        .await;
    assert_eq!(location(&r), "/integrations/salesforce/problem");
    let (status, page) = owner.get_text("/integrations/salesforce/problem").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.contains("TASKBRIDGE_SALESFORCE_CLIENT_ID"));
}
