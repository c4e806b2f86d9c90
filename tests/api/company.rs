use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::helpers::*;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn upload(
    client: &Client,
    bytes: Vec<u8>,
    file_name: &str,
    with_token: bool,
) -> reqwest::Response {
    let token = client.csrf_from("/company/settings").await;
    let mut form = Form::new().part("logo", Part::bytes(bytes).file_name(file_name.to_owned()));
    if with_token {
        form = form.text("csrf_token", token);
    }
    client
        .http
        .post(client.url("/company/logo"))
        .header("Origin", &client.address)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_png_logo_replaces_the_initials() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme Widgets", "Olivia", "olivia@acme.test")
        .await;
    let r = upload(&owner, PNG.to_vec(), "logo.png", true).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = owner.get_text("/company/settings").await;
    assert!(page.contains("Logo updated."));
    assert!(page.contains("src=\"/company/logo\""));
    let logo = owner.get("/company/logo").await;
    assert_eq!(logo.status(), StatusCode::OK);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn logos_are_checked_by_content_and_size() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let r = upload(
        &owner,
        b"<svg onload=alert(1)></svg>".to_vec(),
        "logo.png",
        true,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(owner
        .get_text("/company/settings")
        .await
        .1
        .contains("not a PNG or JPEG"));
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 10, 0);
    upload(&owner, big, "big.png", true).await;
    assert!(owner
        .get_text("/company/settings")
        .await
        .1
        .contains("larger than 1 MB"));
    assert_eq!(
        owner.get("/company/logo").await.status(),
        StatusCode::NOT_FOUND,
        "still no logo"
    );
    let r = upload(&owner, PNG.to_vec(), "logo.png", false).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no upload (refused by the guard, as every other form)"
    );
    assert_eq!(
        owner.get("/company/logo").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_owners_and_admins_change_company_settings() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let manager = app
        .invite_and_accept(&owner, "max@acme.test", "Max", "manager")
        .await;
    let (status, body) = manager.get_text("/company/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Only your company's owner or admin"));
    let r = manager
        .post_form(
            "/company/settings",
            "/company/settings",
            &[("name", "Max Corp")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = upload(&manager, PNG.to_vec(), "logo.png", true).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let bad = owner
        .post_form("/company/settings", "/company/settings", &[("name", "  ")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(owner.get_text("/tasks").await.1.contains("Acme"));
}

#[tokio::test]
async fn notifications_page_has_an_empty_state() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, body) = owner.get_text("/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Nothing new"));
    let (_, body) = owner.get_text("/integrations").await;
    assert!(body.contains("Ask your company's owner or admin"));
}
