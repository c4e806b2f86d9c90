//! A post that loses something asks first, in the browser's own dialog: "Cancel"
//! keeps everything, "OK" does it.

use crate::driver;
use crate::helpers::{now_secs, seed_entry, TestApp};
use crate::integrations::sign_up;

#[tokio::test]
async fn deleting_time_asks_first_and_cancel_keeps_it() {
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
    let start = now_secs() - 120;
    seed_entry(&app, "olivia@acme.test", start, Some(start + 60), "triage");

    b.goto(&format!("{}/timesheet", app.address)).await;
    b.wait_for_text("triage").await;
    b.click_css("form[data-confirm] button").await;
    let asked = b.client.get_alert_text().await.unwrap();
    assert!(asked.starts_with("Delete this entry?"), "{asked}");
    b.client.dismiss_alert().await.unwrap();
    b.goto(&format!("{}/timesheet", app.address)).await;
    assert!(b.text().await.contains("triage"), "Cancel keeps the entry");

    b.click_css("form[data-confirm] button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_for_text("Deleted the entry on triage.").await;
    b.screenshot("confirm-01-deleted").await;
    browser.close().await;
}
