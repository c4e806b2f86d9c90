//! The company menu's route table, walked as a plain user: every route under
//! `/company` refuses them, except the two every member reads (the company's settings
//! and its logo). The paths come from `src/urls.rs`, so a route added there is walked
//! without this test changing.

use reqwest::StatusCode;

use crate::helpers::*;

/// Every path pattern under `/company` that `src/urls.rs` names.
fn company_patterns() -> Vec<String> {
    let source = include_str!("../../src/urls.rs");
    let mut patterns: Vec<String> = source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("/company/"))
        .map(|s| s.replace("{id}", "1").replace("{tool}", "basecamp"))
        .filter(|s| !s.contains('{'))
        .collect();
    patterns.sort();
    patterns.dedup();
    patterns
}

/// What every member of a company may read under `/company`.
const OPEN_TO_MEMBERS: [&str; 2] = ["/company/settings", "/company/logo"];

#[tokio::test]
async fn every_company_route_refuses_a_plain_user() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let patterns = company_patterns();
    assert!(
        patterns.len() >= 15,
        "the route table was read: {patterns:?}"
    );
    let token = uma.csrf_from("/tasks").await;
    for path in &patterns {
        let get = uma.get(path).await.status();
        let post = uma
            .http
            .post(uma.url(path))
            .header("Origin", &uma.address)
            .form(&[
                ("csrf_token", token.as_str()),
                ("name", "Taken over"),
                ("email", "mallory@acme.test"),
                ("role", "owner"),
            ])
            .send()
            .await
            .unwrap()
            .status();
        let open = OPEN_TO_MEMBERS.contains(&path.as_str());
        for (method, status) in [("GET", get), ("POST", post)] {
            let allowed_read = open && method == "GET" && status == StatusCode::OK;
            assert!(
                allowed_read
                    || matches!(
                        status,
                        StatusCode::FORBIDDEN
                            | StatusCode::BAD_REQUEST
                            | StatusCode::NOT_FOUND
                            | StatusCode::METHOD_NOT_ALLOWED
                    ),
                "{method} {path} answered {status} to a plain user"
            );
        }
        assert!(
            open || get == StatusCode::FORBIDDEN || post == StatusCode::FORBIDDEN,
            "{path}: neither GET ({get}) nor POST ({post}) was refused with 403"
        );
    }
    // Nothing was changed, and the owner is let through the same table.
    let (_, settings) = owner.get_text("/company/settings").await;
    assert!(!settings.contains("Taken over"));
    assert_eq!(owner.get("/company/users").await.status(), StatusCode::OK);
}
