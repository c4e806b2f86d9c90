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
