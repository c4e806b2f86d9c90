//! Jira turned on through its sandbox in Chromium, choosing one of two Jira sites; the
//! issues then show on My Tasks with their key.

use crate::driver;
use crate::integrations::{at_sandbox, owner_on_details};

#[tokio::test]
async fn owner_turns_on_jira_choosing_one_of_two_sites_and_sees_the_issues() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = owner_on_details(
        &browser,
        ("Acme Widgets", "olivia@acme.test"),
        ("Jira", "jira"),
    )
    .await;
    let base = app.address.clone();
    let details = browser.text().await;
    assert!(details.contains("read:jira-work"), "{details}");
    assert!(details.contains("several Jira sites"), "{details}");
    browser.screenshot("jira-01-details").await;

    browser.click_text("Turn it on").await;
    at_sandbox(&browser, "Jira", "Several Sam", "Allow", "jira-02").await;

    browser.expect_path("/oauth/jira/choose").await;
    let chooser = browser.text().await;
    assert!(
        chooser.contains("Choose the Jira account to sync"),
        "{chooser}"
    );
    for site in ["Acme", "Globex"] {
        assert!(browser.is_visible_text(site).await, "{site}:\n{chooser}");
    }
    assert!(
        !chooser.contains("Acme Wiki"),
        "no Confluence site:\n{chooser}"
    );
    browser.click_label("Globex").await;
    browser.screenshot("jira-03-choose-site").await;
    browser.click_text("Sync this account").await;

    browser
        .expect_path("/company/integrations/jira/connected")
        .await;
    let success = browser.text().await;
    assert!(success.contains("Jira is now ON"), "{success}");
    assert!(success.contains("Connected as Several Sam"), "{success}");
    assert!(success.contains("account Globex"), "{success}");
    browser.screenshot("jira-04-now-on").await;

    let mut tasks = String::new();
    for _ in 0..40 {
        browser.goto(&format!("{base}/tasks")).await;
        tasks = browser.text().await;
        if tasks.contains("GLX-") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(tasks.contains("GLX-"), "issues with their key:\n{tasks}");
    assert!(tasks.contains("Globex Launch"), "{tasks}");
    browser.screenshot("jira-05-my-tasks").await;
    browser.close().await;
}
