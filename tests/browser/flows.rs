use crate::driver;
use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn owner_signs_up_walks_the_company_menu_and_a_user_joins() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();

    browser.goto(&format!("{base}/signup")).await;
    browser.screenshot("01-sign-up").await;
    browser.fill("company_name", "Acme Widgets").await;
    browser.fill("name", "Olivia Owner").await;
    browser.fill("email", "olivia@acme.test").await;
    browser.fill("password", PASSWORD).await;
    browser.click_text("Create account").await;
    browser.expect_path("/tasks").await;
    assert!(browser.text().await.contains("No integration is turned on"));
    browser.screenshot("02-my-tasks-empty").await;

    browser.click_text("Log out").await;
    browser.expect_path("/login").await;
    browser.fill("email", "olivia@acme.test").await;
    browser.fill("password", PASSWORD).await;
    browser.screenshot("03-log-in").await;
    browser.click_text("Log in").await;
    browser.expect_path("/tasks").await;

    // The company menu opens from the logo.
    assert!(
        !browser.is_visible_text("Company Integrations").await,
        "closed until the logo is clicked"
    );
    browser.click_css("summary.company-logo").await;
    assert!(browser.is_visible_text("Company Integrations").await);
    browser.screenshot("04-company-menu-open").await;

    for (item, path, shot) in [
        (
            "Company Integrations",
            "/company/integrations",
            "05-company-integrations",
        ),
        (
            "Integration Settings",
            "/integrations",
            "06-integration-settings",
        ),
        ("Users", "/company/users", "07-users"),
        (
            "Company Settings",
            "/company/settings",
            "08-company-settings",
        ),
    ] {
        if !browser.is_visible_text(item).await {
            browser.click_css("summary.company-logo").await;
        }
        browser.click_text(item).await;
        browser.expect_path(path).await;
        assert!(browser.text().await.contains(item));
        browser.screenshot(shot).await;
    }

    // Invite a person as a user.
    browser.goto(&format!("{base}/company/users")).await;
    browser.fill("invite-email", "uma@acme.test").await;
    browser.click_text("Create invite link").await;
    browser.expect_path("/company/users/invite").await;
    let link = browser
        .client
        .find(fantoccini::Locator::Id("invite-link"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    browser.screenshot("09-invite-created").await;

    // The invited person opens the link in their own browser session.
    browser.forget_cookies().await;
    browser.goto(&link).await;
    browser.expect_path(link.strip_prefix(&base).unwrap()).await;
    assert!(browser.text().await.contains("Join Acme Widgets"));
    browser.screenshot("10-accept-invite").await;
    browser.fill("name", "Uma User").await;
    browser.fill("password", PASSWORD).await;
    browser.click_text("Join Acme Widgets").await;
    browser.expect_path("/tasks").await;
    browser.click_css("summary.company-logo").await;
    assert!(browser.is_visible_text("Integration Settings").await);
    assert!(
        !browser.is_visible_text("Company Integrations").await,
        "a user's menu has no Company Integrations"
    );
    assert!(!browser.is_visible_text("Users").await);
    browser.screenshot("11-user-menu").await;

    browser.goto(&format!("{base}/company/integrations")).await;
    assert!(browser.text().await.contains("Not allowed"));
    browser.screenshot("12-forbidden").await;
    browser.goto(&format!("{base}/no-such-page")).await;
    assert!(browser.text().await.contains("Page not found"));
    browser.screenshot("13-not-found").await;
    browser.close().await;
}
