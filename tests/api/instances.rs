//! Two instances of the app on one database, as behind a load balancer: what one
//! instance changes about who may come in holds on the other at the very next request
//! (nothing about a session or a person is kept in an instance's memory).

use reqwest::StatusCode;

use crate::helpers::{location, user_id, TestApp, PASSWORD};

async fn log_in(app: &TestApp, email: &str) -> crate::helpers::Client {
    let client = app.client();
    let r = client.log_in_as(email, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{email} signs in");
    client
}

#[tokio::test]
async fn a_person_disabled_on_one_instance_is_refused_on_the_other_at_once() {
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    let owner = a.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let uma = a
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await
        .at(&b);
    assert_eq!(uma.get("/tasks").await.status(), StatusCode::OK, "on B");

    let id = user_id(&a, "uma@acme.test");
    let r = owner.disable_person(id).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "disabled on A");
    assert_eq!(location(&uma.get("/tasks").await), "/login", "refused on B");
}

#[tokio::test]
async fn sessions_ended_on_one_instance_are_refused_on_the_other_at_once() {
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    let owner = a.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let laptop = log_in(&b, "olivia@acme.test").await;
    assert_eq!(laptop.get("/tasks").await.status(), StatusCode::OK, "on B");

    let done = owner
        .post_form(
            "/account",
            "/account/sessions/end-others",
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "ended on A");
    assert_eq!(
        location(&laptop.get("/tasks").await),
        "/login",
        "refused on B"
    );

    // Logging out on B ends the session on A too.
    let phone = log_in(&a, "olivia@acme.test").await;
    let on_b = phone.at(&b);
    let out = on_b.post_form("/tasks", "/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER, "logged out on B");
    let again = phone.get("/tasks").await;
    assert_eq!(location(&again), "/login", "refused on A");
}
