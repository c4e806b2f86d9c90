//! A phone (390 × 844): the menu folds into a top bar with the company logo and a
//! Menu button, so a page's own content starts near the top; the first-run checklist
//! is there for a new owner.

use crate::driver;
use crate::helpers::TestApp;
use crate::integrations::{company_menu, sign_up};

/// How far from the top of the window the page's heading starts, in CSS pixels.
async fn heading_top(b: &driver::Browser) -> f64 {
    let top = b
        .client
        .execute(
            "return document.querySelector('main h1').getBoundingClientRect().top;",
            vec![],
        )
        .await
        .unwrap();
    top.as_f64().unwrap()
}

#[tokio::test]
async fn on_a_phone_the_menu_folds_into_a_top_bar() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let b = &browser;
    b.client.set_window_size(390, 844).await.unwrap();
    sign_up(
        b,
        &app.address,
        "Acme Widgets",
        "Olivia Owner",
        "olivia@acme.test",
    )
    .await;
    b.wait_for_text("Get your company started").await;
    b.screenshot("phone-01-my-tasks-checklist").await;

    let top = heading_top(b).await;
    assert!(
        top < 220.0,
        "My Tasks' heading starts {top}px down, under the top bar"
    );
    assert!(!b.is_visible_text("Timesheet").await, "the menu is folded");

    b.click_css("button.menu-button").await;
    assert_eq!(
        b.attr("button.menu-button", "aria-expanded")
            .await
            .as_deref(),
        Some("true")
    );
    b.screenshot("phone-02-menu-open").await;
    b.click_text("Timesheet").await;
    b.expect_path("/timesheet").await;
    assert!(heading_top(b).await < 220.0);
    b.screenshot("phone-03-timesheet").await;

    // The company menu still opens from the logo.
    b.click_css("button.menu-button").await;
    company_menu(b, "Users", "/company/users").await;
    assert!(
        heading_top(b).await < 220.0,
        "the company menu starts folded here too"
    );
    b.screenshot("phone-04-users").await;
    let card = b
        .client
        .execute(
            "const td = document.querySelector('table.stack tbody td[data-label]'); \
             return [getComputedStyle(td.parentElement).display, \
                     getComputedStyle(td, '::before').content];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        card,
        serde_json::json!(["block", "\"Name\""]),
        "on a phone each person is a card, each value under its column's name"
    );
    let (scroll, client) = (
        b.client
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .unwrap(),
        b.client
            .execute("return document.documentElement.clientWidth;", vec![])
            .await
            .unwrap(),
    );
    assert!(
        scroll.as_f64().unwrap() <= client.as_f64().unwrap(),
        "the Users page fits the phone's width ({scroll} > {client}); its table scrolls in its own box"
    );
    browser.close().await;
}
