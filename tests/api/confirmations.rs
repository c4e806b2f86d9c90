//! Nothing is lost on one click: a post that deletes something asks first. Without
//! the page's script, the post answers a page that asks; only a post carrying
//! `confirmed=yes` does it.

use reqwest::StatusCode;

use crate::helpers::*;

fn connections_of(app: &TestApp, email: &str) -> i64 {
    use diesel::prelude::*;
    use taskbridge::schema::connections;
    let email = email.to_owned();
    app.query(move |conn| {
        let (user_id, _) = person_ids(conn, &email);
        connections::table
            .filter(connections::user_id.eq(user_id))
            .count()
            .get_result(conn)
            .unwrap()
    })
}

#[tokio::test]
async fn turning_an_integration_off_asks_first_and_keeps_everything_until_confirmed() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    seed_tasks(&app, "olivia@acme.test", &["Write the brief"]);
    assert_eq!(connections_of(&app, "olivia@acme.test"), 1);

    let asked = owner
        .post_form("/tasks", "/integrations/basecamp/off", &[])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let page = asked.text().await.unwrap();
    assert!(
        page.contains("Turn off your Basecamp integration?"),
        "{page}"
    );
    assert!(page.contains(r#"name="confirmed" value="yes""#), "{page}");
    assert_eq!(
        connections_of(&app, "olivia@acme.test"),
        1,
        "nothing lost yet"
    );

    let done = owner
        .post_form(
            "/tasks",
            "/integrations/basecamp/off",
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(connections_of(&app, "olivia@acme.test"), 0);
}

#[tokio::test]
async fn disabling_a_person_and_deleting_time_ask_first() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let id = user_id(&app, "uma@acme.test");
    let asked = owner
        .post_form(
            "/company/users",
            &format!("/company/users/{id}/disable"),
            &[],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let page = asked.text().await.unwrap();
    assert!(
        page.contains("Disable Uma User?"),
        "names the person:\n{page}"
    );
    assert_eq!(
        uma.get("/tasks").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    let start = now_secs() - 7200;
    let entry = seed_entry(
        &app,
        "olivia@acme.test",
        start,
        Some(start + 1800),
        "review",
    );
    let delete = format!("/timesheet/entries/{entry}/delete");
    let asked = owner.post_form("/timesheet", &delete, &[]).await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked
        .text()
        .await
        .unwrap()
        .contains("Delete \u{201c}review\u{201d}?"));
    let (_, sheet) = owner.get_text("/timesheet").await;
    assert!(sheet.contains("review"), "the entry is still there");

    // Another company's ids are not found, asked or not.
    let globex = app.sign_up("Globex", "Gina", "gina@globex.test").await;
    let r = globex
        .post_form(
            "/company/users",
            &format!("/company/users/{id}/disable"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        globex.post_form("/timesheet", &delete, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_pivotal_token_is_kept_when_turned_off_until_replaced_or_deleted() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let on = crate::oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "sandbox-jane-doe")],
    )
    .await;
    assert_eq!(on, "/company/integrations/pivotal/connected");
    let synced = wait_for_text(&owner, "/tasks", "Synced just now").await;
    assert!(
        synced.contains("class=\"tool-tag\">Pivotal Tracker<"),
        "{synced}"
    );
    let stored = || -> (String, bool) {
        app.query(|conn| {
            use diesel::prelude::*;
            use taskbridge::schema::connections;
            let (status, sealed): (String, Option<Vec<u8>>) = connections::table
                .select((connections::status, connections::credentials))
                .first(conn)
                .unwrap();
            (status, sealed.is_some())
        })
    };

    // Off: the tasks go, the token stays, and the page says so.
    let (_, settings) = owner.get_text("/integrations").await;
    assert!(settings.contains("Your API token is kept, so you can turn Pivotal Tracker on again"));
    let r = owner
        .post_form(
            "/integrations",
            "/integrations/pivotal/off",
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(location(&r), "/integrations");
    assert_eq!(stored(), ("off".to_owned(), true));
    let (_, settings) = owner.get_text("/integrations").await;
    assert!(settings.contains("your API token is kept"), "{settings}");
    assert!(
        settings.contains("Your API token is kept: turn it on"),
        "{settings}"
    );
    assert!(settings.contains(">Off</span>"), "{settings}");
    let (_, tasks) = owner.get_text("/tasks").await;
    assert!(
        !tasks.contains("class=\"tool-tag\">Pivotal Tracker<"),
        "{tasks}"
    );

    // On again without pasting: it syncs with the kept token.
    let r = owner
        .post_form("/integrations", "/integrations/pivotal/on", &[])
        .await;
    assert_eq!(location(&r), "/integrations/pivotal/connected");
    assert_eq!(stored(), ("active".to_owned(), true));
    wait_for_text(&owner, "/tasks", "class=\"tool-tag\">Pivotal Tracker<").await;
    // The tasks show as each page lands; the pass is done a moment later.
    wait_for_text(&owner, "/tasks", "Synced just now").await;

    // Off again, then the token deleted (asked first): nothing is kept.
    owner
        .post_form(
            "/integrations",
            "/integrations/pivotal/off",
            &[("confirmed", "yes")],
        )
        .await;
    let asked = owner
        .post_form("/integrations", "/integrations/pivotal/token/delete", &[])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert_eq!(stored(), ("off".to_owned(), true), "nothing lost yet");
    let r = owner
        .post_form(
            "/integrations",
            "/integrations/pivotal/token/delete",
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(location(&r), "/integrations");
    let left: i64 = app.query(|conn| {
        use diesel::prelude::*;
        taskbridge::schema::connections::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(left, 0);
    let r = owner
        .post_form("/integrations", "/integrations/pivotal/on", &[])
        .await;
    assert_eq!(
        location(&r),
        "/integrations/pivotal/problem",
        "a token must be pasted again"
    );
}
