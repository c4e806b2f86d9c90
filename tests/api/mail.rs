//! Email through a real SMTP server started by the test (`smtp_sink`), and the outbox
//! without one: invites, "Forgot password?", notices and who gets them.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{mail_outbox, notifications, password_resets};

use crate::helpers::*;
use crate::oauth_walk;
use crate::smtp_sink::SmtpSink;

const RESET: &str = "Reset your taskbridge password";

async fn app_with_smtp() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&[
        ("TASKBRIDGE_SMTP_URL", &sink.url()),
        (
            "TASKBRIDGE_MAIL_FROM",
            "Acme via taskbridge <robot@acme.test>",
        ),
    ])
    .await;
    (app, sink)
}

async fn invite(owner: &Client, email: &str, role: &str) -> String {
    let page = owner
        .post_form(
            "/company/users",
            "/company/users/invite",
            &[("email", email), ("role", role)],
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.unwrap()
}

/// The path of a link on this app.
fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("{link} is not on {}", app.address))
        .to_owned()
}

async fn accept(app: &TestApp, path: &str, name: &str) -> (Client, StatusCode) {
    let person = app.client();
    let response = person
        .post_form(path, path, &[("name", name), ("password", PASSWORD)])
        .await;
    let status = response.status();
    (person, status)
}

/// Mail rows of the app's outbox: (to, subject, status).
fn outbox_rows(app: &TestApp) -> Vec<(String, String, String)> {
    app.query(|conn| {
        mail_outbox::table
            .order(mail_outbox::id.asc())
            .select((
                mail_outbox::to_address,
                mail_outbox::subject,
                mail_outbox::status,
            ))
            .load(conn)
            .unwrap()
    })
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..150 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test]
async fn an_invite_is_mailed_with_a_link_that_works() {
    let (app, sink) = app_with_smtp().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let page = invite(&owner, "uma@acme.test", "manager").await;
    assert!(page.contains("We emailed this link to them"));
    let shown = extract_invite_link(&page).unwrap();

    let mail = sink.wait_for("uma@acme.test", 1).await.remove(0);
    assert_eq!(mail.from, "robot@acme.test");
    assert_eq!(mail.subject(), "Join Acme on taskbridge");
    let body = mail.body();
    assert!(
        body.contains("Olivia Owner invited you to join Acme"),
        "{body}"
    );
    assert!(body.contains("as manager"));
    let link = mail.link(&app.address).expect("a link to the app");
    assert_eq!(link, shown, "the mailed link is the one shown");

    let path = path_of(&app, &link);
    let (uma, status) = accept(&app, &path, "Uma Manager").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(uma.get_text("/tasks").await.1.contains("Uma Manager"));

    // Sent mail keeps its address and subject, not the link.
    wait_until("the mail is marked sent", || {
        outbox_rows(&app).iter().any(|r| r.2 == "sent")
    })
    .await;
    let bodies: Vec<String> = app.query(|conn| {
        mail_outbox::table
            .select(mail_outbox::body)
            .load(conn)
            .unwrap()
    });
    assert!(bodies.iter().all(String::is_empty));
    let (status, outbox) = owner.get_text("/company/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(outbox.contains("uma@acme.test") && outbox.contains("Join Acme on taskbridge"));
    assert!(outbox.contains("Sent"));
}

#[tokio::test]
async fn resending_an_invite_mails_a_new_link_and_the_old_one_stops_working() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    invite(&owner, "uma@acme.test", "user").await;
    let first = sink.wait_for("uma@acme.test", 1).await[0]
        .link(&app.address)
        .unwrap();

    let (_, users) = owner.get_text("/company/users").await;
    assert!(users.contains("Expires "), "the expiry is shown");
    let resend = users
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/resend"))
        .expect("a Resend button")
        .to_owned();
    let page = owner.post_form("/company/users", &resend, &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let shown = extract_invite_link(&page).expect("the new link, to copy");
    assert!(page.contains("Copy link"));

    let mails = sink.wait_for("uma@acme.test", 2).await;
    let second = mails[1].link(&app.address).unwrap();
    assert_ne!(first, second);
    assert_eq!(second, shown);

    let (status, _) = app.client().get_text(&path_of(&app, &first)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the old link stopped working"
    );
    let (_, status) = accept(&app, &path_of(&app, &second), "Uma").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Another company's invite cannot be resent from here.
    let other = app.sign_up("Other", "Oscar", "oscar@other.test").await;
    let r = other.post_form("/company/users", &resend, &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn ask_for_reset(client: &Client, email: &str) -> (StatusCode, String) {
    let r = client
        .post_form("/password/forgot", "/password/forgot", &[("email", email)])
        .await;
    let status = r.status();
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn forgot_password_mails_a_single_use_link_that_ends_every_session() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    // Olivia is also signed in on another device.
    let elsewhere = app.client();
    let r = elsewhere.log_in_as("olivia@acme.test", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let visitor = app.client();
    let (_, login) = visitor.get_text("/login").await;
    assert!(login.contains("href=\"/password/forgot\"") && login.contains("Forgot password?"));
    let started = std::time::Instant::now();
    let (known_status, known) = ask_for_reset(&visitor, "olivia@acme.test").await;
    let known_took = started.elapsed();
    let started = std::time::Instant::now();
    let (unknown_status, unknown) = ask_for_reset(&visitor, "nobody@acme.test").await;
    let unknown_took = started.elapsed();
    assert_eq!(known_status, StatusCode::OK);
    assert_eq!(known_status, unknown_status);
    assert_eq!(
        known, unknown,
        "the answer never says whether an account exists"
    );
    assert!(known.contains("If an account exists for that address, we sent a link"));
    // Both answer before any lookup is made, so neither waits on the other's work.
    assert!(known_took < Duration::from_secs(2) && unknown_took < Duration::from_secs(2));

    let mail = sink
        .wait_for_subject("olivia@acme.test", RESET, 1)
        .await
        .remove(0);
    assert_eq!(mail.subject(), "Reset your taskbridge password");
    let link = mail.link(&app.address).unwrap();
    let path = path_of(&app, &link);
    assert!(path.starts_with("/password/reset?token="), "{path}");
    let token = path.split("token=").nth(1).unwrap().to_owned();

    // Only a digest is kept, and the sent mail's body is gone.
    let hashes: Vec<String> = app.query(|conn| {
        password_resets::table
            .select(password_resets::token_hash)
            .load(conn)
            .unwrap()
    });
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], token);
    assert_eq!(hashes[0].len(), 64);

    let browser = app.client();
    let (status, form) = browser.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Choose a new password") && form.contains("olivia@acme.test"));
    let weak = browser
        .post_form(
            &path,
            "/password/reset",
            &[("token", &token), ("password", "123")],
        )
        .await;
    assert_eq!(
        weak.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "sign-up's rules"
    );
    let new_password = "saffron-lantern-meadow-7";
    let done = browser
        .post_form(
            &path,
            "/password/reset",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/tasks");
    let (status, tasks) = browser.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK, "signed in fresh");
    assert!(tasks.contains("Your password is changed"));

    for old in [&owner, &elsewhere] {
        let r = old.get("/tasks").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "the old sessions ended");
        assert!(location(&r).starts_with("/login"));
    }
    let (status, gone) = app.client().get_text(&path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the link works once");
    assert!(gone.contains("This link no longer works"));
    let again = app
        .client()
        .post_form(
            "/login",
            "/password/reset",
            &[("token", &token), ("password", "another-fine-password-9")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);

    let log_in = |password: &'static str| {
        let client = app.client();
        async move {
            client
                .log_in_as("olivia@acme.test", password)
                .await
                .status()
        }
    };
    assert_eq!(log_in(PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        log_in("saffron-lantern-meadow-7").await,
        StatusCode::SEE_OTHER
    );

    // A link past its 30 minutes no longer works.
    ask_for_reset(&visitor, "olivia@acme.test").await;
    let mail = sink
        .wait_for_subject("olivia@acme.test", RESET, 2)
        .await
        .remove(1);
    let late = path_of(&app, &mail.link(&app.address).unwrap());
    app.query(|conn| {
        diesel::update(password_resets::table.filter(password_resets::used_at.is_null()))
            .set(password_resets::expires_at.eq(now_secs() - 1))
            .execute(conn)
            .unwrap()
    });
    let (status, _) = app.client().get_text(&late).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "expired");

    // Nobody was mailed for the unknown address; requested and used are audited.
    assert!(sink.to("nobody@acme.test").is_empty());
    let actions: Vec<String> = app.query(|conn| {
        use taskbridge::schema::audit_log;
        audit_log::table
            .select(audit_log::action)
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "password_reset_requested")
            .count(),
        2
    );
    assert_eq!(actions.iter().filter(|a| *a == "password_reset").count(), 1);
}

#[tokio::test]
async fn reset_requests_are_throttled_per_address_with_the_same_answer() {
    let (app, sink) = app_with_smtp().await;
    app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let visitor = app.client();
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(ask_for_reset(&visitor, "olivia@acme.test").await);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "one answer");
    sink.wait_for_subject("olivia@acme.test", RESET, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resets = sink.wait_for_subject("olivia@acme.test", RESET, 3).await;
    assert_eq!(resets.len(), 3, "three an hour");
}

#[tokio::test]
async fn without_smtp_mail_waits_in_the_outbox_for_owners_and_admins() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let page = invite(&owner, "ann@acme.test", "admin").await;
    assert!(page.contains("waits in the"));
    let (status, outbox) = owner.get_text("/company/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(outbox.contains("No mail server is set up"));
    assert!(outbox.contains("ann@acme.test"));
    assert!(outbox.contains("Join Acme on taskbridge"));
    let link = extract_invite_link(&page).unwrap();
    assert!(outbox.contains(&link), "the body, with its link");
    assert!(outbox.contains("In the outbox") || outbox.contains("Waiting to be sent"));
    wait_until("the mail is held", || {
        outbox_rows(&app).iter().all(|r| r.2 == "held")
    })
    .await;
    let (_, status) = accept(&app, &path_of(&app, &link), "Ann Admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ann = app.client();
    ann.log_in_as("ann@acme.test", PASSWORD).await;

    // The owner's reset link is for owners' eyes only; a user's is for admins too.
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    drop(uma);
    ask_for_reset(&app.client(), "olivia@acme.test").await;
    ask_for_reset(&app.client(), "uma@acme.test").await;
    wait_until("both reset mails are written", || {
        outbox_rows(&app)
            .iter()
            .filter(|r| r.1 == "Reset your taskbridge password")
            .count()
            == 2
    })
    .await;
    let (_, seen_by_owner) = owner.get_text("/company/outbox").await;
    assert_eq!(seen_by_owner.matches("/password/reset?token=").count(), 2);
    let (status, seen_by_admin) = ann.get_text("/company/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen_by_admin.matches("/password/reset?token=").count(), 1);
    assert!(seen_by_admin.contains("Only an owner can read this mail."));

    let (status, _) = uma_client(&app).await.get_text("/company/outbox").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "users do not read the outbox"
    );
}

async fn uma_client(app: &TestApp) -> Client {
    let uma = app.client();
    uma.log_in_as("uma@acme.test", PASSWORD).await;
    uma
}

/// The in-app notices of a person.
fn notices_of(app: &TestApp, email: &str) -> Vec<String> {
    let id = user_id(app, email);
    app.query(move |conn| {
        notifications::table
            .filter(notifications::user_id.eq(id))
            .order(notifications::id.asc())
            .select(notifications::message)
            .load(conn)
            .unwrap()
    })
}

async fn turn_on_pivotal(owner: &Client) {
    let on = oauth_walk::start(
        owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "sandbox-jane-doe")],
    )
    .await;
    assert_eq!(on, "/company/integrations/pivotal/connected");
}

#[tokio::test]
async fn notices_reach_late_joiners_and_the_people_a_tool_off_affects() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let early = app
        .invite_and_accept(&owner, "early@acme.test", "Early Eve", "user")
        .await;
    turn_on_pivotal(&owner).await;
    let on = sink.wait_for("early@acme.test", 2).await.remove(1);
    assert_eq!(on.subject(), "Pivotal Tracker is on for your company");
    assert!(on
        .body()
        .contains("Turn on your own Pivotal Tracker integration"));
    assert!(on.link(&app.address).unwrap().ends_with("/integrations"));

    // Joining after the tool was turned on: the same notice, in the app.
    let late = app
        .invite_and_accept(&owner, "late@acme.test", "Late Lou", "user")
        .await;
    let (_, page) = late.get_text("/notifications").await;
    assert!(
        page.contains("Pivotal Tracker is now active for your company"),
        "{page}"
    );
    assert_eq!(notices_of(&app, "late@acme.test").len(), 1);

    // Lou connects; Eve does not. Turning the tool off tells Lou, not Eve.
    let mine = oauth_walk::start(
        &late,
        "/integrations",
        "/integrations/pivotal/on",
        &[("api_token", "sandbox-john-roe")],
    )
    .await;
    assert_eq!(mine, "/integrations/pivotal/connected");
    let off = owner
        .post_form(
            "/company/integrations/pivotal/off",
            "/company/integrations/pivotal/off",
            &[],
        )
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let lou = notices_of(&app, "late@acme.test");
    assert_eq!(lou.len(), 2, "{lou:?}");
    assert!(lou[1].contains("Olivia turned Pivotal Tracker off for your company"));
    let eve = notices_of(&app, "early@acme.test");
    assert!(eve
        .iter()
        .all(|n| !n.contains("turned Pivotal Tracker off")));
    let mails = sink.wait_for("late@acme.test", 2).await;
    assert_eq!(
        mails[1].subject(),
        "Pivotal Tracker was turned off for your company"
    );
    drop(early);
}

#[tokio::test]
async fn a_person_who_turned_notice_emails_off_gets_none() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let quiet = app
        .invite_and_accept(&owner, "quiet@acme.test", "Quiet Quinn", "user")
        .await;
    app.invite_and_accept(&owner, "loud@acme.test", "Loud Lee", "user")
        .await;
    let (_, settings) = quiet.get_text("/account/preferences").await;
    assert!(settings.contains("Email me notices") && settings.contains("checked"));
    let r = quiet
        .post_form("/account/preferences", "/account/preferences/email", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, settings) = quiet.get_text("/account/preferences").await;
    assert!(settings.contains("no longer get notices by email"));
    assert!(!settings.contains("type=\"checkbox\" value=\"on\" checked"));

    turn_on_pivotal(&owner).await;
    let loud = sink.wait_for("loud@acme.test", 2).await;
    assert_eq!(loud[1].subject(), "Pivotal Tracker is on for your company");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let quiet_mail = sink.to("quiet@acme.test");
    assert_eq!(quiet_mail.len(), 1, "the invite only: {quiet_mail:?}");
    assert_eq!(
        notices_of(&app, "quiet@acme.test").len(),
        1,
        "the notice is still in the app"
    );

    // On again: mail comes back.
    quiet
        .post_form(
            "/account/preferences",
            "/account/preferences/email",
            &[("email_notices", "on")],
        )
        .await;
    let user = user_id(&app, "quiet@acme.test");
    let on: bool = app.query(move |conn| {
        use taskbridge::schema::users;
        users::table
            .find(user)
            .select(users::email_notices)
            .first(conn)
            .unwrap()
    });
    assert!(on);
}

#[tokio::test]
async fn a_failing_mail_server_never_fails_the_request() {
    let (app, sink) = app_with_smtp().await;
    sink.refuse(true);
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let page = invite(&owner, "uma@acme.test", "user").await;
    assert!(
        extract_invite_link(&page).is_some(),
        "the link is still shown"
    );
    let (status, _) = ask_for_reset(&app.client(), "olivia@acme.test").await;
    assert_eq!(status, StatusCode::OK);
    // Every mail (the sign-up's confirmation, the invite, the reset) is tried, fails
    // and is recorded; none is left mid-send.
    wait_until("each try fails and is recorded", || {
        let tried: Vec<(Option<String>, String)> = app.query(|conn| {
            mail_outbox::table
                .select((mail_outbox::last_error, mail_outbox::status))
                .load(conn)
                .unwrap()
        });
        !tried.is_empty()
            && tried.iter().all(|(e, status)| {
                e.as_deref().is_some_and(|e| e.contains("451")) && status != "sending"
            })
    })
    .await;
    let rows = outbox_rows(&app);
    assert!(
        rows.iter().all(|r| r.2 == "queued"),
        "tried again later: {rows:?}"
    );
    assert!(sink.all().is_empty());
}

#[tokio::test]
async fn a_connection_that_needs_its_person_is_told_by_email_too() {
    let (app, sink) = app_with_smtp().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    oauth_walk::company_on(&owner, "basecamp", "Revoked Rita").await;
    let subject = "Basecamp needs your attention in taskbridge";
    let mail = sink
        .wait_for_subject("olivia@acme.test", subject, 1)
        .await
        .remove(0);
    assert_eq!(mail.subject(), subject);
    let body = mail.body();
    assert!(body.contains("Basecamp stopped syncing"), "{body}");
    assert!(body.contains("Turn them off under Your settings"));
    assert!(mail.link(&app.address).unwrap().ends_with("/integrations"));
}
