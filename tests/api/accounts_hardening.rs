//! Issue 13, points 4, 5 and 7: strong passwords wherever one is set, names without
//! hidden characters, changing one's password, "Log out everywhere else", and what a
//! disabled person keeps.

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{api_tokens, audit_log, companies, connections, sessions, tasks};
use taskbridge::schema::{logins, time_entries, users};

use crate::helpers::*;

const STRONG: &str = "saffron-lantern-meadow-7";

async fn log_in(app: &TestApp, email: &str, password: &str) -> Client {
    let client = app.client();
    let r = client.log_in_as(email, password).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{email} signs in");
    client
}

/// The error a form shows, as text.
fn alert_in(body: &str) -> String {
    let marker = "role=\"alert\">";
    let start = body.find(marker).expect("the page shows an error") + marker.len();
    let end = body[start..].find("</p>").unwrap();
    body[start..start + end].to_owned()
}

fn actions(app: &TestApp) -> Vec<String> {
    app.query(|conn| {
        audit_log::table
            .select(audit_log::action)
            .load(conn)
            .unwrap()
    })
}

fn people(app: &TestApp) -> i64 {
    app.query(|conn| users::table.count().get_result(conn).unwrap())
}

fn password_hash(app: &TestApp, email: &str) -> String {
    let email = email.to_owned();
    app.query(move |conn| {
        logins::table
            .filter(logins::email.eq(email))
            .select(logins::password_hash)
            .first(conn)
            .unwrap()
    })
}

/// The invite link's path for `email`, invited by `owner` as a user.
async fn invite_path(app: &TestApp, owner: &Client, email: &str) -> String {
    let page = owner
        .post_form(
            "/company/users",
            "/company/users/invite",
            &[("email", email), ("role", "user")],
        )
        .await;
    let link = extract_invite_link(&page.text().await.unwrap()).unwrap();
    link.strip_prefix(&app.address).unwrap().to_owned()
}

#[tokio::test]
async fn weak_passwords_are_refused_with_advice_wherever_a_password_is_set() {
    let app = TestApp::spawn().await;
    let visitor = app.client();
    // Eight spaces, the company's name, the company's name and a year: all passed the
    // length and common-password rules before.
    for weak in ["        ", "Quillfeather Lanterns", "quillfeather2026"] {
        let r = visitor
            .post_form(
                "/signup",
                "/signup",
                &[
                    ("company_name", "Quillfeather Lanterns"),
                    ("name", "Olivia Brightwater"),
                    ("email", "olivia@quillfeather.test"),
                    ("password", weak),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak:?}");
        let error = alert_in(&r.text().await.unwrap());
        assert!(
            error.starts_with("That password is too easy to guess."),
            "{weak:?}: {error}"
        );
        assert!(error.len() > 60, "with the estimator's advice: {error}");
    }
    assert_eq!(people(&app), 0, "nothing saved");

    let owner = app
        .sign_up(
            "Quillfeather Lanterns",
            "Olivia Brightwater",
            "olivia@quillfeather.test",
        )
        .await;

    // Accepting an invite: the invited person's name counts too.
    let path = invite_path(&app, &owner, "uma@quillfeather.test").await;
    let r = owner_free(&app)
        .post_form(
            &path,
            &path,
            &[("name", "Uma Stonebridge"), ("password", "Uma Stonebridge")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_in(&r.text().await.unwrap()).starts_with("That password is too easy"));
    assert_eq!(people(&app), 1, "no account for the invite");

    // A reset link.
    let before = password_hash(&app, "olivia@quillfeather.test");
    let olivia = user_id(&app, "olivia@quillfeather.test");
    app.query(move |conn| {
        taskbridge::models::password_reset::create(conn, olivia, "reset-token-for-the-test")
            .unwrap()
    });
    let reset = "/password/reset?token=reset-token-for-the-test";
    let r = app
        .client()
        .post_form(
            reset,
            "/password/reset",
            &[
                ("token", "reset-token-for-the-test"),
                ("password", "olivia brightwater"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_in(&r.text().await.unwrap()).starts_with("That password is too easy"));

    // Changing one's password.
    let r = owner
        .post_form(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "quillfeather lanterns"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_in(&r.text().await.unwrap()).starts_with("That password is too easy"));
    assert_eq!(
        password_hash(&app, "olivia@quillfeather.test"),
        before,
        "unchanged"
    );
}

/// A browser with no session: the invite is accepted by someone not signed in.
fn owner_free(app: &TestApp) -> Client {
    app.client()
}

#[tokio::test]
async fn names_are_normalised_and_refused_with_control_or_direction_characters() {
    let app = TestApp::spawn().await;
    let visitor = app.client();
    let sign_up = |company: &'static str, name: &'static str| {
        let visitor = &visitor;
        async move {
            visitor
                .post_form(
                    "/signup",
                    "/signup",
                    &[
                        ("company_name", company),
                        ("name", name),
                        ("email", "jose@cafe.test"),
                        ("password", PASSWORD),
                    ],
                )
                .await
        }
    };
    for (company, name, code) in [
        ("Invoices\u{202e}gnp.exe", "Jose", "U+202E"),
        ("Acme", "Jose\u{7}", "U+0007"),
        ("Acme", "Jo\0se", "U+0000"),
        ("Acme\u{1b}[2J", "Jose", "U+001B"),
        ("Acme", "\u{2067}Jose", "U+2067"),
    ] {
        let r = sign_up(company, name).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{company:?} {name:?}"
        );
        let error = alert_in(&r.text().await.unwrap());
        assert!(
            error.contains("holds an invisible control or text-direction character")
                && error.contains(code),
            "{error}"
        );
    }
    assert_eq!(people(&app), 0, "nothing saved");

    // An accent typed as a letter and a combining mark is stored as one character.
    let r = sign_up("Cafe\u{301} Lumie\u{300}re", "Jose\u{301}").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (name, company): (String, String) = app.query(|conn| {
        users::table
            .inner_join(companies::table)
            .select((users::name, companies::name))
            .first(conn)
            .unwrap()
    });
    assert_eq!(name, "Jos\u{e9}");
    assert_eq!(company, "Caf\u{e9} Lumi\u{e8}re");
    let owner = visitor;

    // Renaming the company, naming an API token, accepting an invite: the same rule.
    let r = owner
        .post_form(
            "/company/settings",
            "/company/settings",
            &[("name", "Acme\u{202d}")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_in(&r.text().await.unwrap()).contains("U+202D"));
    let r = owner
        .post_form(
            "/account/api-tokens",
            "/account/api-tokens",
            &[("name", "laptop\u{2066}")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(alert_in(&r.text().await.unwrap()).contains("U+2066"));
    let path = invite_path(&app, &owner, "uma@cafe.test").await;
    let r = app
        .client()
        .post_form(
            &path,
            &path,
            &[("name", "Uma\u{200f}"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_in(&r.text().await.unwrap()).contains("U+200F"));
    assert_eq!(people(&app), 1);
    let company: String = app.query(|conn| {
        companies::table
            .select(companies::name)
            .first(conn)
            .unwrap()
    });
    assert_eq!(company, "Caf\u{e9} Lumi\u{e8}re", "not renamed");
}

#[tokio::test]
async fn changing_the_password_asks_for_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let laptop = log_in(&app, "olivia@acme.test", PASSWORD).await;
    let (_, tasks_page) = owner.get_text("/tasks").await;
    assert!(
        tasks_page.contains("href=\"/account\""),
        "in the person's own menu"
    );
    let (status, page) = owner.get_text("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your account") && page.contains("Change password"));
    assert!(page.contains("Log out everywhere else"));

    let r = owner
        .post_form(
            "/account",
            "/account/password",
            &[
                ("current_password", "not-my-password-1"),
                ("new_password", STRONG),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_in(&r.text().await.unwrap()).contains("current password"));
    assert_eq!(laptop.get("/tasks").await.status(), StatusCode::OK);

    let r = owner
        .post_form(
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", STRONG)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account");
    let (status, page) = owner.get_text("/account").await;
    assert_eq!(status, StatusCode::OK, "this browser stays signed in");
    assert!(page.contains("Your password is changed"));
    let gone = laptop.get("/tasks").await;
    assert_eq!(
        gone.status(),
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert!(location(&gone).starts_with("/login"));

    let refused = app.client().log_in_as("olivia@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    log_in(&app, "olivia@acme.test", STRONG).await;
    assert!(actions(&app).contains(&"password_changed".to_owned()));
}

#[tokio::test]
async fn log_out_everywhere_else_asks_first_and_keeps_this_session() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let laptop = log_in(&app, "olivia@acme.test", PASSWORD).await;
    let phone = log_in(&app, "olivia@acme.test", PASSWORD).await;

    let asked = owner
        .post_form("/account", "/account/sessions/end-others", &[])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked
        .text()
        .await
        .unwrap()
        .contains("Log out everywhere else?"));
    assert_eq!(
        laptop.get("/tasks").await.status(),
        StatusCode::OK,
        "not yet"
    );

    let done = owner
        .post_form(
            "/account",
            "/account/sessions/end-others",
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/account");
    let (status, page) = owner.get_text("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You are signed out of 2 other sessions."));
    for other in [&laptop, &phone] {
        assert_eq!(other.get("/tasks").await.status(), StatusCode::SEE_OTHER);
    }
    // This browser still posts forms.
    let r = owner
        .post_form("/account/preferences", "/account/preferences/email", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let olivia = user_id(&app, "olivia@acme.test");
    let left: i64 = app.query(move |conn| {
        sessions::table
            .filter(sessions::user_id.eq(olivia))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(left, 1);
    assert!(actions(&app).contains(&"other_sessions_ended".to_owned()));
}

#[tokio::test]
async fn a_disabled_person_keeps_their_tasks_and_time_and_loses_their_tokens() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let task = seed_tasks(&app, "uma@acme.test", &["Write the launch post"])[0];
    let now = now_secs();
    let entry = seed_entry(
        &app,
        "uma@acme.test",
        now - 3600,
        Some(now - 1800),
        "drafting",
    );
    app.query(move |conn| {
        diesel::update(time_entries::table.find(entry))
            .set(time_entries::task_id.eq(task))
            .execute(conn)
            .unwrap();
        diesel::update(connections::table)
            .set(connections::credentials.eq(Some(vec![1u8, 2, 3])))
            .execute(conn)
            .unwrap();
    });
    let made = uma
        .post_form(
            "/account/api-tokens",
            "/account/api-tokens",
            &[("name", "laptop")],
        )
        .await;
    assert_eq!(made.status(), StatusCode::OK);

    let id = user_id(&app, "uma@acme.test");
    let r = owner.disable_person(id).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        uma.get("/tasks").await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );
    let (kept_tasks, entry_task, credentials, live_tokens, uma_sessions) = app.query(move |conn| {
        let kept: i64 = tasks::table
            .filter(tasks::user_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap();
        let entry_task: Option<i64> = time_entries::table
            .find(entry)
            .select(time_entries::task_id)
            .first(conn)
            .unwrap();
        let credentials: Vec<Option<Vec<u8>>> = connections::table
            .filter(connections::user_id.eq(id))
            .select(connections::credentials)
            .load(conn)
            .unwrap();
        let live: i64 = api_tokens::table
            .filter(api_tokens::user_id.eq(id))
            .filter(api_tokens::revoked_at.is_null())
            .count()
            .get_result(conn)
            .unwrap();
        let signed_in: i64 = sessions::table
            .filter(sessions::user_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap();
        (kept, entry_task, credentials, live, signed_in)
    });
    assert_eq!(kept_tasks, 1, "the synced task stays");
    assert_eq!(entry_task, Some(task), "the time stays on its task");
    assert_eq!(credentials, vec![None], "the tool's tokens are gone");
    assert_eq!(live_tokens, 0, "API tokens are revoked");
    assert_eq!(uma_sessions, 0);

    let r = owner
        .post_form(
            "/company/users",
            &format!("/company/users/{id}/enable"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = log_in(&app, "uma@acme.test", PASSWORD).await;
    let (_, tasks_page) = back.get_text("/tasks").await;
    assert!(tasks_page.contains("Write the launch post"), "shown again");
    let audit = actions(&app);
    assert!(
        audit.contains(&"user_disabled".to_owned()) && audit.contains(&"user_enabled".to_owned())
    );
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_signing_in() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let change = |current: &'static str| {
        let owner = &owner;
        async move {
            owner
                .post_form(
                    "/account",
                    "/account/password",
                    &[("current_password", current), ("new_password", STRONG)],
                )
                .await
        }
    };
    for _ in 0..5 {
        assert_eq!(
            change("not-my-password-1").await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let held = change(PASSWORD).await;
    assert_eq!(
        held.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right one waits"
    );
    assert!(held.headers().contains_key("retry-after"));
    let stored = password_hash(&app, "olivia@acme.test");
    assert!(
        taskbridge::auth::password::verify(PASSWORD, &stored),
        "unchanged"
    );
}
