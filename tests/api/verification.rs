//! Sign-up confirms the email by a mailed link (with SMTP), answers the same whether
//! or not the email has an account, and invites tell the inviter nothing either.

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{companies, email_verifications, logins, users};

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

const CONFIRM: &str = "Confirm your email for taskbridge";

async fn app_with_smtp() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&[("TASKBRIDGE_SMTP_URL", &sink.url())]).await;
    (app, sink)
}

/// Posts the sign-up form from a fresh browser; answers the browser, status and page.
async fn sign_up_form(app: &TestApp, company: &str, email: &str) -> (Client, StatusCode, String) {
    let client = app.client();
    let response = client
        .post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", company),
                ("name", "Vera Visitor"),
                ("email", email),
                ("password", "another-long-phrase-42"),
            ],
        )
        .await;
    let status = response.status();
    (client, status, response.text().await.unwrap())
}

async fn log_in(client: &Client, email: &str, password: &str) -> (StatusCode, String) {
    let response = client.log_in_as(email, password).await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("{link} is not on {}", app.address))
        .to_owned()
}

fn count_companies(app: &TestApp) -> i64 {
    app.query(|conn| companies::table.count().get_result(conn).unwrap())
}

#[tokio::test]
async fn a_sign_up_waits_for_its_mailed_link_which_signs_in_once() {
    let (app, sink) = app_with_smtp().await;
    let (_, status, page) = sign_up_form(&app, "Vera Co", "vera@vera.test").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Check your email"), "{page}");

    // Before the link: the right password is refused, with a way to get the link again.
    let browser = app.client();
    let (status, page) = log_in(&browser, "vera@vera.test", "another-long-phrase-42").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Confirm your email first"), "{page}");
    assert!(page.contains("Send the link again"));
    let (status, _) = browser.get_text("/tasks").await;
    assert_ne!(status, StatusCode::OK, "not signed in");
    // A wrong password says nothing about the email.
    let (status, page) = log_in(&app.client(), "vera@vera.test", "wrong-password-1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!page.contains("Send the link again"));

    let mail = sink
        .wait_for_subject("vera@vera.test", CONFIRM, 1)
        .await
        .remove(0);
    let path = path_of(&app, &mail.link(&app.address).expect("a link"));
    assert!(path.starts_with("/signup/verify?token="), "{path}");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let hashes: Vec<String> = app.query(|conn| {
        email_verifications::table
            .select(email_verifications::token_hash)
            .load(conn)
            .unwrap()
    });
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], token, "only a digest is kept");

    let opener = app.client();
    let response = opener.get(&path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/tasks");
    let (status, tasks) = opener.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(tasks.contains("Vera Visitor") && tasks.contains("Your email is confirmed"));

    // The link works once.
    let (status, page) = app.client().get_text(&path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("This link no longer works"));

    let (status, _) = log_in(&app.client(), "vera@vera.test", "another-long-phrase-42").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the account works now");
}

#[tokio::test]
async fn an_existing_email_gets_the_same_answer_nothing_is_made_and_its_owner_is_mailed() {
    let (app, sink) = app_with_smtp().await;
    app.sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let before = count_companies(&app);

    let (_, new_status, new_page) = sign_up_form(&app, "Fresh Co", "fresh@fresh.test").await;
    let (_, old_status, old_page) = sign_up_form(&app, "Squat Co", "olivia@acme.test").await;
    assert_eq!(new_status, StatusCode::OK);
    assert_eq!(old_status, new_status, "same status");
    assert_eq!(old_page, new_page, "same page");
    assert!(!old_page.contains("already"));

    // Only the new email made a company; Olivia's account is as it was.
    assert_eq!(count_companies(&app), before + 1);
    let olivia: Vec<(String, String)> = app.query(|conn| {
        users::table
            .inner_join(logins::table)
            .filter(logins::email.eq("olivia@acme.test"))
            .select((users::name, logins::password_hash))
            .load(conn)
            .unwrap()
    });
    assert_eq!(olivia.len(), 1);
    assert_eq!(olivia[0].0, "Olivia Owner");
    let (status, _) = log_in(&app.client(), "olivia@acme.test", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "her password is unchanged");

    let subject = "Someone tried to sign up with your email";
    let mail = sink
        .wait_for_subject("olivia@acme.test", subject, 1)
        .await
        .remove(0);
    let body = mail.body();
    assert!(
        body.contains("log in instead") && body.contains("Forgot password?"),
        "{body}"
    );
    // The new email got its link; the existing one no link but the one of her own
    // sign-up (which the test helper made).
    sink.wait_for_subject("fresh@fresh.test", CONFIRM, 1).await;
    let links = sink
        .to("olivia@acme.test")
        .iter()
        .filter(|m| m.body().contains("/signup/verify"))
        .count();
    assert_eq!(links, 1);
}

#[tokio::test]
async fn send_the_link_again_answers_alike_and_only_the_newest_link_works() {
    let (app, sink) = app_with_smtp().await;
    sign_up_form(&app, "Vera Co", "vera@vera.test").await;
    let first = sink.wait_for_subject("vera@vera.test", CONFIRM, 1).await[0]
        .link(&app.address)
        .unwrap();

    let browser = app.client();
    let (status, _) = log_in(&browser, "vera@vera.test", "another-long-phrase-42").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let resend = |email: &'static str| {
        let browser = app.client();
        async move {
            let r = browser
                .post_form("/login", "/signup/resend", &[("email", email)])
                .await;
            (r.status(), r.text().await.unwrap().replace(email, ""))
        }
    };
    let known = resend("vera@vera.test").await;
    let unknown = resend("nobody@vera.test").await;
    assert_eq!(known.0, StatusCode::OK);
    assert_eq!(
        known.1.replace(&csrf_in(&known.1).unwrap(), ""),
        unknown.1.replace(&csrf_in(&unknown.1).unwrap(), ""),
        "the answer never says whether the address has an account"
    );
    assert!(known.1.contains("we sent a new link"));

    let second = sink.wait_for_subject("vera@vera.test", CONFIRM, 2).await[1]
        .link(&app.address)
        .unwrap();
    assert_ne!(first, second);
    let (status, _) = app.client().get_text(&path_of(&app, &first)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the older link stopped");
    let response = app.client().get(&path_of(&app, &second)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(sink.to("nobody@vera.test").is_empty());
}

async fn invite(owner: &Client, email: &str) -> (StatusCode, String) {
    let page = owner
        .post_form(
            "/company/users",
            "/company/users/invite",
            &[("email", email), ("role", "user")],
        )
        .await;
    let status = page.status();
    (status, page.text().await.unwrap())
}

#[tokio::test]
async fn an_invite_to_an_existing_email_answers_as_for_a_new_one() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    app.sign_up("Other", "Oscar Other", "oscar@other.test")
        .await;

    let (new_status, new_page) = invite(&owner, "uma@acme.test").await;
    let (old_status, old_page) = invite(&owner, "oscar@other.test").await;
    assert_eq!(new_status, StatusCode::OK);
    assert_eq!(old_status, new_status);
    for page in [&new_page, &old_page] {
        assert!(page.contains("We emailed this link to them"), "{page}");
        assert!(extract_invite_link(page).is_some());
        assert!(!page.contains("already"));
    }
    assert!(old_page.contains("Invite ready for oscar@other.test"));

    // Oscar gets the mail Uma gets: a link he opens signed in to join with his
    // account (tests/api/companies.rs walks that).
    let oscars = sink
        .wait_for_subject("oscar@other.test", "Join Acme on taskbridge", 1)
        .await
        .remove(0);
    let umas = sink
        .wait_for_subject("uma@acme.test", "Join Acme on taskbridge", 1)
        .await
        .remove(0);
    let without_link = |body: String| {
        let start = body.find("/invite/").expect("the invite's link");
        body[..start].to_owned()
    };
    assert_eq!(without_link(oscars.body()), without_link(umas.body()));
    assert!(oscars.link(&app.address).is_some());
}

#[tokio::test]
async fn a_sign_up_never_confirmed_does_not_keep_the_real_company_from_inviting() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Corp", "Olivia", "olivia@corp.test").await;
    // Someone else signs up first with Victor's work email, and cannot confirm it.
    sign_up_form(&app, "Squat Co", "victor@corp.test").await;
    let squat = count_companies(&app);

    let (status, _) = invite(&owner, "victor@corp.test").await;
    assert_eq!(status, StatusCode::OK);
    let mail = sink
        .wait_for_subject("victor@corp.test", "Join Corp on taskbridge", 1)
        .await
        .remove(0);
    let path = path_of(&app, &mail.link(&app.address).expect("the invite's link"));
    let victor = app.client();
    let response = victor
        .post_form(&path, &path, &[("name", "Victor"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "invite accepted");
    let (status, tasks) = victor.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(tasks.contains("Corp"));
    assert_eq!(
        count_companies(&app),
        squat - 1,
        "the squatter's company is gone"
    );
}

#[tokio::test]
async fn without_smtp_a_sign_up_is_confirmed_at_once() {
    let app = TestApp::spawn().await;
    let (client, status, _) = sign_up_form(&app, "Solo", "solo@solo.test").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = client.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    let verified: Option<i64> = app.query(|conn| {
        logins::table
            .filter(logins::email.eq("solo@solo.test"))
            .select(logins::email_verified_at)
            .first(conn)
            .unwrap()
    });
    assert!(verified.is_some());
}

#[tokio::test]
async fn confirmation_mails_are_throttled_per_address() {
    let (app, sink) = app_with_smtp().await;
    sign_up_form(&app, "Vera Co", "vera@vera.test").await;
    let browser = app.client();
    for _ in 0..4 {
        let r = browser
            .post_form("/login", "/signup/resend", &[("email", "vera@vera.test")])
            .await;
        assert_eq!(r.status(), StatusCode::OK, "the same answer over the limit");
    }
    sink.wait_for_subject("vera@vera.test", CONFIRM, 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let sent = sink.wait_for_subject("vera@vera.test", CONFIRM, 3).await;
    assert_eq!(sent.len(), 3, "three an hour, the sign-up's included");
}
