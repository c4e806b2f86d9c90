//! Company Integrations, Integration Settings and the tools' sign-in pages, clicked
//! through the way a person does it, against the app's own sandbox.

use fantoccini::Locator;

use crate::driver::{self, Browser};
use crate::helpers::{TestApp, PASSWORD};

/// Signs up a company from the sign-up page; lands on My Tasks.
pub(crate) async fn sign_up(browser: &Browser, base: &str, company: &str, name: &str, email: &str) {
    browser.goto(&format!("{base}/signup")).await;
    browser.fill("company_name", company).await;
    browser.fill("name", name).await;
    browser.fill("email", email).await;
    browser.fill("password", PASSWORD).await;
    browser.click_text("Create account").await;
    browser.expect_path("/tasks").await;
}

/// Opens the company menu from the logo (unless it is open already) and follows `item`.
/// A fresh app whose owner, Olivia, signed up `company` as `email` and opened the
/// details page of `tool` (its name, then its slug) from Company Integrations.
pub(crate) async fn owner_on_details(
    browser: &Browser,
    (company, email): (&str, &str),
    (tool, slug): (&str, &str),
) -> TestApp {
    let app = TestApp::spawn().await;
    sign_up(browser, &app.address, company, "Olivia Owner", email).await;
    company_menu(browser, "Company Integrations", "/company/integrations").await;
    browser.click_text(tool).await;
    browser
        .expect_path(&format!("/company/integrations/{slug}"))
        .await;
    app
}

pub(crate) async fn company_menu(browser: &Browser, item: &str, path: &str) {
    if !browser.is_visible_text(item).await {
        browser.click_css("summary.company-logo").await;
    }
    assert!(
        browser.is_visible_text(item).await,
        "{item:?} is in the company menu"
    );
    browser.click_text(item).await;
    browser.expect_path(path).await;
}

/// The ON/OFF state Company Integrations shows for `tool`.
async fn state_on_list(browser: &Browser, tool: &str) -> String {
    let xpath = format!("//li[.//a[normalize-space()='{tool}']]/span[contains(@class,'state')]");
    browser
        .client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no state for {tool}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Invites `email` as a user from the Users page, then, as that person (cookies
/// forgotten), accepts the invite. `shot` prefixes the two screenshots.
async fn invite_and_join(
    browser: &Browser,
    base: &str,
    company: &str,
    email: &str,
    name: &str,
    shot: &str,
) {
    company_menu(browser, "Users", "/company/users").await;
    browser.fill("invite-email", email).await;
    browser.click_text("Create invite link").await;
    browser.expect_path("/company/users/invite").await;
    let link = browser
        .client
        .find(Locator::Id("invite-link"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(browser
        .text()
        .await
        .contains(&format!("Invite ready for {email}")));

    browser.forget_cookies().await;
    browser.goto(&link).await;
    browser
        .expect_path(link.strip_prefix(base).expect("a link to this server"))
        .await;
    browser.fill("name", name).await;
    browser.fill("password", PASSWORD).await;
    browser.screenshot(&format!("{shot}-accept-invite")).await;
    browser.click_text(&format!("Join {company}")).await;
    browser.expect_path("/tasks").await;
}

/// Logs out whoever is in and logs in as `email`; lands on My Tasks.
async fn switch_person(browser: &Browser, email: &str) {
    browser.click_text("Log out").await;
    browser.expect_path("/login").await;
    browser.fill("email", email).await;
    browser.fill("password", PASSWORD).await;
    browser.click_text("Log in").await;
    browser.expect_path("/tasks").await;
}

/// On a tool's sandbox pages: signs in as `person` (switching person if the browser is
/// still signed in to the tool as someone else) and answers the consent page with
/// `decision`. `shot` prefixes the screenshots of the two pages.
pub(crate) async fn at_sandbox(
    browser: &Browser,
    tool: &str,
    person: &str,
    decision: &str,
    shot: &str,
) {
    browser.wait_for_text("Sandbox").await;
    let page = browser.text().await;
    assert!(
        page.contains(&format!("Sandbox · {tool}")),
        "the sandbox says which tool it stands in for:\n{page}"
    );
    let sign_in = format!("Sign in as {person}");
    if !page.contains(&sign_in) && page.contains("Sign in as someone else") {
        browser
            .client
            .find(Locator::XPath(
                "//a[contains(normalize-space(), 'Sign in as someone else')]",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.wait_for_text(&sign_in).await;
    }
    assert!(browser.text().await.contains("Choose the sample person"));
    browser.screenshot(&format!("{shot}-sandbox-sign-in")).await;
    browser.click_text(&sign_in).await;
    browser
        .wait_for_text("would like to read the tasks assigned to you")
        .await;
    let consent = browser.text().await;
    assert!(consent.contains("Allow access?") && consent.contains("Sandbox"));
    assert!(consent.contains(&format!("Not {person}? Sign in as someone else")));
    browser.screenshot(&format!("{shot}-sandbox-consent")).await;
    browser.click_text(decision).await;
}

#[tokio::test]
async fn owner_turns_on_basecamp_choosing_one_of_several_accounts_and_a_user_follows() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    sign_up(
        &browser,
        &base,
        "Acme Widgets",
        "Olivia Owner",
        "olivia@acme.test",
    )
    .await;
    // Uma joins first: the people in the company when Basecamp goes on are told of it.
    invite_and_join(
        &browser,
        &base,
        "Acme Widgets",
        "uma@acme.test",
        "Uma User",
        "bc-01",
    )
    .await;
    switch_person(&browser, "olivia@acme.test").await;

    company_menu(&browser, "Company Integrations", "/company/integrations").await;
    assert_eq!(state_on_list(&browser, "Basecamp").await, "OFF");
    browser.screenshot("bc-02-company-integrations-off").await;
    browser.click_text("Basecamp").await;
    browser.expect_path("/company/integrations/basecamp").await;
    let details = browser.text().await;
    assert!(details.contains("What it does") && details.contains("What it needs"));
    assert!(details.contains("chooses which one to sync"));
    browser.screenshot("bc-03-details").await;

    browser.click_text("Turn it on").await;
    at_sandbox(&browser, "Basecamp", "Several Sam", "Allow", "bc-04").await;

    browser.expect_path("/oauth/basecamp/choose").await;
    let chooser = browser.text().await;
    assert!(chooser.contains("Choose the Basecamp account to sync"));
    for account in ["Acme", "Globex", "Initech"] {
        assert!(
            browser.is_visible_text(account).await,
            "{account} is offered:\n{chooser}"
        );
    }
    browser.click_label("Globex").await;
    browser.screenshot("bc-05-choose-account").await;
    browser.click_text("Sync this account").await;

    browser
        .expect_path("/company/integrations/basecamp/connected")
        .await;
    let success = browser.text().await;
    assert!(success.contains("Basecamp is now ON"), "{success}");
    assert!(success.contains("Connected as Several Sam"), "{success}");
    assert!(success.contains("account Globex"), "{success}");
    assert!(success.contains("Not you?") && success.contains("Disconnect"));
    browser.screenshot("bc-06-now-on").await;

    company_menu(&browser, "Company Integrations", "/company/integrations").await;
    assert_eq!(state_on_list(&browser, "Basecamp").await, "ON");
    for other in ["GitHub", "Intellinote", "Pivotal Tracker", "Salesforce"] {
        assert_eq!(state_on_list(&browser, other).await, "OFF", "{other}");
    }
    browser.screenshot("bc-07-company-integrations-on").await;

    // Uma hears of it in the app.
    switch_person(&browser, "uma@acme.test").await;
    browser.click_css("a[href='/notifications']").await;
    browser.expect_path("/notifications").await;
    assert!(browser
        .text()
        .await
        .contains("Basecamp is now active for your company"));
    browser.screenshot("bc-08-user-notified").await;

    company_menu(&browser, "Integration Settings", "/integrations").await;
    let switch = "button[role=switch][aria-label^='Basecamp']";
    assert_eq!(
        browser.attr(switch, "aria-checked").await.as_deref(),
        Some("false")
    );
    assert!(browser.is_visible_text("OFF").await);
    browser.screenshot("bc-09-user-settings-off").await;
    browser.click_css(switch).await;
    // The browser is still signed in to the Basecamp sandbox as Several Sam.
    at_sandbox(&browser, "Basecamp", "John Roe", "Allow", "bc-10").await;

    browser
        .expect_path("/integrations/basecamp/connected")
        .await;
    let success = browser.text().await;
    assert!(success.contains("Basecamp is now ON"), "{success}");
    assert!(success.contains("Your Basecamp integration is on"));
    assert!(success.contains("Connected as John Roe"), "{success}");
    browser.screenshot("bc-11-user-now-on").await;

    browser.click_text("Back to Integration Settings").await;
    browser.expect_path("/integrations").await;
    assert_eq!(
        browser.attr(switch, "aria-checked").await.as_deref(),
        Some("true")
    );
    assert!(browser.text().await.contains("Connected as John Roe"));
    browser.screenshot("bc-12-user-settings-on").await;
    browser.close().await;
}

#[tokio::test]
async fn pivotal_tracker_is_turned_on_with_api_tokens() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = owner_on_details(
        &browser,
        ("Acme Widgets", "olivia@acme.test"),
        ("Pivotal Tracker", "pivotal"),
    )
    .await;
    let base = app.address.clone();
    assert!(browser.text().await.contains("API token"));
    browser.fill("api_token", "not-a-real-token").await;
    browser.screenshot("pt-01-details-token").await;
    browser.click_text("Turn it on").await;

    browser.expect_path("/integrations/pivotal/problem").await;
    let problem = browser.text().await;
    assert!(
        problem.contains("Pivotal Tracker did not accept that API token"),
        "{problem}"
    );
    assert!(problem.contains("What to do"));
    assert!(!problem.contains("not-a-real-token"), "never echoed");
    browser.screenshot("pt-02-token-refused").await;

    browser.click_text("Back").await;
    browser.expect_path("/company/integrations/pivotal").await;
    browser.fill("api_token", "sandbox-jane-doe").await;
    browser.click_text("Turn it on").await;
    browser
        .expect_path("/company/integrations/pivotal/connected")
        .await;
    let success = browser.text().await;
    assert!(success.contains("Pivotal Tracker is now ON"), "{success}");
    assert!(success.contains("Connected as Jane Doe"), "{success}");
    assert!(!success.contains("sandbox-jane-doe"), "never shown");
    browser.screenshot("pt-03-now-on").await;

    invite_and_join(
        &browser,
        &base,
        "Acme Widgets",
        "uma@acme.test",
        "Uma User",
        "pt-04",
    )
    .await;
    company_menu(&browser, "Integration Settings", "/integrations").await;
    assert!(browser.text().await.contains("Pivotal Tracker"));

    // Jane's account is Olivia's already: refused, with a clear message.
    browser.fill("api_token-pivotal", "sandbox-jane-doe").await;
    browser.screenshot("pt-05-user-settings-token").await;
    browser.click_text("Turn on").await;
    browser.expect_path("/integrations/pivotal/problem").await;
    let problem = browser.text().await;
    assert!(
        problem.contains("already linked to Olivia Owner"),
        "{problem}"
    );
    browser.screenshot("pt-06-user-account-taken").await;

    browser.click_text("Back").await;
    browser.expect_path("/integrations").await;
    browser.fill("api_token-pivotal", "sandbox-john-roe").await;
    browser.click_text("Turn on").await;
    browser.expect_path("/integrations/pivotal/connected").await;
    let success = browser.text().await;
    assert!(success.contains("Pivotal Tracker is now ON"), "{success}");
    assert!(success.contains("Connected as John Roe"), "{success}");
    browser.screenshot("pt-07-user-now-on").await;
    browser.close().await;
}

#[tokio::test]
async fn salesforce_consent_denied_then_an_edition_without_api_access() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let _app = owner_on_details(
        &browser,
        ("Tiny Team", "olivia@tinyteam.test"),
        ("Salesforce", "salesforce"),
    )
    .await;
    assert!(browser.text().await.contains("edition with API access"));
    browser.screenshot("sf-01-details").await;
    browser.click_text("Turn it on").await;
    at_sandbox(&browser, "Salesforce", "Jane Doe", "Deny", "sf-02").await;

    browser
        .expect_path("/integrations/salesforce/problem")
        .await;
    let denied = browser.text().await;
    assert!(
        denied.contains("You did not allow access to Salesforce"),
        "{denied}"
    );
    assert!(denied.contains("Nothing was saved"));
    browser.screenshot("sf-04-denied").await;

    browser.click_text("Back").await;
    browser
        .expect_path("/company/integrations/salesforce")
        .await;
    browser.click_text("Turn it on").await;
    // Salesforce is asked to show its sign-in again, though Jane is still signed in.
    at_sandbox(
        &browser,
        "Salesforce",
        "Group-edition Grace",
        "Allow",
        "sf-05",
    )
    .await;

    browser
        .expect_path("/integrations/salesforce/problem")
        .await;
    let refused = browser.text().await;
    assert!(
        refused.contains("Your Salesforce edition has no API access"),
        "{refused}"
    );
    for edition in [
        "Enterprise",
        "Unlimited",
        "Performance",
        "Developer",
        "Professional",
    ] {
        assert!(refused.contains(edition), "{edition}:\n{refused}");
    }
    assert!(refused.contains("add-on"));
    browser.screenshot("sf-07-no-api-access").await;

    company_menu(&browser, "Company Integrations", "/company/integrations").await;
    assert_eq!(state_on_list(&browser, "Salesforce").await, "OFF");
    browser.close().await;
}
