//! Time tracking clicked through in Chromium: connect Basecamp in the sandbox, start a
//! timer from My Tasks, see it on another page, stop it, find it on the Timesheet,
//! and add a manual entry on the "Add time" page the week links to.

use std::time::Duration;

use crate::driver::{self, Browser};
use crate::helpers::TestApp;
use crate::integrations::{at_sandbox, company_menu, sign_up};

async fn set_value(browser: &Browser, id: &str, value: &str) {
    browser
        .client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![id.into(), value.into()],
        )
        .await
        .unwrap();
}

/// Waits until the page (reloaded each time) shows `text`.
async fn reload_until(browser: &Browser, url: &str, text: &str) {
    for _ in 0..60 {
        browser.goto(url).await;
        if browser.text().await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{url} never showed {text:?}:\n{}", browser.text().await);
}

#[tokio::test]
async fn a_person_tracks_time_on_a_synced_task_and_finds_it_on_the_timesheet() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    let b = &browser;
    sign_up(b, &base, "Acme Widgets", "Olivia Owner", "olivia@acme.test").await;

    company_menu(b, "Company Integrations", "/company/integrations").await;
    b.click_text("Basecamp").await;
    b.click_text("Turn it on").await;
    at_sandbox(b, "Basecamp", "Jane Doe", "Allow", "time-01").await;
    b.expect_path("/company/integrations/basecamp/connected")
        .await;

    // "Start" is also in the first-run checklist: wait for a task's own button.
    reload_until(b, &format!("{base}/tasks"), "Start").await;
    for _ in 0..60 {
        if b.client
            .find(fantoccini::Locator::Css(
                "button[aria-label^='Start a timer on']",
            ))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.goto(&format!("{base}/tasks")).await;
    }
    b.screenshot("time-02-my-tasks-with-start").await;
    let start = "button[aria-label^='Start a timer on']";
    let label = b.attr(start, "aria-label").await.unwrap();
    let title = label.trim_start_matches("Start a timer on ").to_owned();
    b.click_css(start).await;
    b.expect_path("/tasks").await;
    b.wait_for_text(&format!("Timer started: {title}.")).await;
    assert!(b.text().await.contains("Basecamp"));
    b.screenshot("time-03-timer-running").await;

    // The timer is on every page, ticking.
    b.click_text("Timesheet").await;
    b.expect_path("/timesheet").await;
    let elapsed = || async {
        b.client
            .find(fantoccini::Locator::Css("[data-timer-since]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = elapsed().await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let after = elapsed().await;
    assert_ne!(before.trim(), after.trim(), "the elapsed time ticks");
    assert!(b.text().await.contains(&title));
    b.screenshot("time-04-timer-on-timesheet").await;

    b.click_css(".timer-stop button").await;
    b.wait_for_text("Timer stopped").await;
    b.expect_path("/timesheet").await;
    let sheet = b.text().await;
    assert!(
        sheet.contains(&title),
        "the stopped entry is on the Timesheet"
    );
    assert!(sheet.contains("Day total"));

    // A manual entry for yesterday, on the "Add time" page the week links to.
    let yesterday = time::OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .unwrap()
        .to_string();
    b.click_text("Add time").await;
    b.expect_path("/timesheet/entries/new").await;
    assert!(b.text().await.contains("No task (describe it in the note)"));
    set_value(b, "entry-date", &yesterday).await;
    set_value(b, "entry-start", "09:00").await;
    b.fill("entry-duration", "1:30").await;
    b.fill("entry-note", "Planning the sprint").await;
    b.screenshot("time-05-add-time").await;
    b.click_text("Add time").await;
    b.wait_for_text("Added 1:30 on Planning the sprint.").await;
    b.expect_path("/timesheet").await;
    let week = b.text().await;
    assert!(week.contains("09:00–10:30"));
    b.screenshot("time-06-timesheet-week").await;
}
