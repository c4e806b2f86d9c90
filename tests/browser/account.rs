//! "Your account" in a browser: a weak password gets advice, a strong one is saved,
//! and "Log out everywhere else" asks first.

use crate::driver;
use crate::helpers::{TestApp, PASSWORD};
use crate::integrations::sign_up;

#[tokio::test]
async fn a_person_changes_their_password_and_logs_out_everywhere_else() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let b = &browser;
    sign_up(
        b,
        &app.address,
        "Acme Widgets",
        "Olivia Owner",
        "olivia@acme.test",
    )
    .await;

    b.click_text("Your account").await;
    b.expect_path("/account").await;
    b.audit().await;
    b.screenshot("account-01-page").await;

    b.fill("current-password", PASSWORD).await;
    b.fill("new-password", "Acme Widgets").await;
    b.click_text("Change password").await;
    b.wait_for_text("That password is too easy to guess.").await;
    b.audit().await;
    b.screenshot("account-02-weak-password").await;

    b.fill("current-password", PASSWORD).await;
    b.fill("new-password", "saffron-lantern-meadow-7").await;
    b.click_text("Change password").await;
    b.wait_for_text("Your password is changed.").await;

    b.click_text("Log out everywhere else").await;
    let asked = b.client.get_alert_text().await.unwrap();
    assert!(asked.starts_with("Log out everywhere else?"), "{asked}");
    b.client.accept_alert().await.unwrap();
    b.wait_for_text("You were signed in nowhere else.").await;
    b.expect_path("/account").await;
    b.screenshot("account-03-signed-out-elsewhere").await;
    browser.close().await;
}
