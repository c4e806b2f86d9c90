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

/// The company shown in the left menu bar.
async fn current_company(b: &driver::Browser) -> String {
    b.client
        .find(fantoccini::Locator::Css("summary .company-name"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_joins_a_second_company_and_switches_with_the_company_menu() {
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
    // Globex invites Olivia's email, which has an account.
    let gus = app.sign_up("Globex", "Gus", "gus@globex.test").await;
    let page = gus
        .post_form(
            "/company/users",
            "/company/users/invite",
            &[("email", "olivia@acme.test"), ("role", "user")],
        )
        .await;
    let link = crate::helpers::extract_invite_link(&page.text().await.unwrap()).unwrap();

    b.goto(&link).await;
    b.wait_for_text("Join Globex?").await;
    b.screenshot("companies-01-join").await;
    b.click_text("Join").await;
    b.expect_path("/tasks").await;
    b.wait_for_text("Welcome to Globex!").await;
    assert_eq!(current_company(b).await, "Globex");

    // The company menu, opened from the logo, offers Acme Widgets.
    b.click_css("summary.company-logo").await;
    assert!(b.is_visible_text("Switch company").await);
    b.audit().await;
    b.screenshot("companies-02-switcher").await;
    b.click_css("button.switch-to").await;
    b.expect_path("/tasks").await;
    assert_eq!(current_company(b).await, "Acme Widgets");
    b.click_css("summary.company-logo").await;
    assert!(b.is_visible_text("Globex").await);
    browser.close().await;
}
