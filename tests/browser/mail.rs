//! "Forgot password?" in a browser, through a real SMTP server started by the test.

use crate::driver;
use crate::helpers::TestApp;
use crate::smtp_sink::SmtpSink;

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&[("TASKBRIDGE_SMTP_URL", &sink.url())]).await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let base = app.address.clone();

    browser.goto(&format!("{base}/login")).await;
    browser.click_text("Forgot password?").await;
    browser.expect_path("/password/forgot").await;
    browser.fill("email", "olivia@acme.test").await;
    browser.click_text("Send me a link").await;
    browser
        .wait_for_text("If an account exists for that address, we sent a link")
        .await;
    browser.screenshot("mail-01-forgot-password-sent").await;

    let mail = sink
        .wait_for_subject("olivia@acme.test", "Reset your taskbridge password", 1)
        .await
        .remove(0);
    let link = mail.link(&base).expect("the mail links to the app");
    browser.goto(&link).await;
    browser.wait_for_text("Choose a new password").await;
    browser.fill("password", "saffron-lantern-meadow-7").await;
    browser.click_text("Save the new password").await;
    browser.expect_path("/tasks").await;
    browser.wait_for_text("Your password is changed").await;
    browser.screenshot("mail-02-signed-in-after-reset").await;

    // An invite is mailed, resent, and both show in the Outbox.
    browser.goto(&format!("{base}/company/users")).await;
    browser.fill("invite-email", "uma@acme.test").await;
    browser.click_text("Create invite link").await;
    browser.wait_for_text("We emailed this link to them").await;
    browser.wait_for_text("Expires ").await;
    browser.click_text("Resend").await;
    browser
        .wait_for_text("Invite ready for uma@acme.test")
        .await;
    sink.wait_for("uma@acme.test", 2).await;
    browser.goto(&format!("{base}/company/outbox")).await;
    browser.wait_for_text("Join Acme on taskbridge").await;
    browser.screenshot("mail-03-outbox").await;

    // The reset link worked once.
    browser.goto(&link).await;
    browser.wait_for_text("This link no longer works").await;
    browser.close().await;
}
