//! The first-run checklist on My Tasks: owners and admins see it, each step is ticked
//! when done, and "Dismiss" puts it away for good.

use crate::helpers::*;

const TITLE: &str = "Get your company started";

#[tokio::test]
async fn owners_get_a_checklist_that_ticks_steps_and_can_be_dismissed() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;

    let (_, page) = owner.get_text("/tasks").await;
    assert!(page.contains(TITLE), "{page}");
    assert!(page.contains("0 of 4 done"), "{page}");
    // The empty state tells an owner what to do, not to ask herself.
    assert!(page.contains("Open Company Integrations"), "{page}");
    assert!(
        !page.contains("Ask your company's owner or admin"),
        "{page}"
    );

    let user = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let (_, page) = owner.get_text("/tasks").await;
    assert!(
        page.contains("1 of 4 done"),
        "inviting ticks a step:\n{page}"
    );

    let start = now_secs() - 3600;
    seed_entry(
        &app,
        "olivia@acme.test",
        start,
        Some(start + 900),
        "planning",
    );
    let (_, page) = owner.get_text("/tasks").await;
    assert!(
        page.contains("2 of 4 done"),
        "tracking time ticks a step:\n{page}"
    );

    // A plain user has nothing to set up for the company.
    let (_, page) = user.get_text("/tasks").await;
    assert!(!page.contains(TITLE), "{page}");
    assert!(page.contains("Ask your company's owner or admin"), "{page}");

    let response = owner
        .post_form("/tasks", "/tasks/checklist/dismiss", &[])
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/tasks");
    let (_, page) = owner.get_text("/tasks").await;
    assert!(!page.contains(TITLE), "dismissed:\n{page}");
    assert!(page.contains("The checklist is put away"), "{page}");
    let (_, page) = owner.get_text("/tasks").await;
    assert!(!page.contains(TITLE), "and it stays away:\n{page}");
}

#[tokio::test]
async fn dismissing_needs_the_csrf_token_and_a_session() {
    let app = TestApp::spawn().await;
    let stranger = app.client();
    let response = stranger
        .post_form("/login", "/tasks/checklist/dismiss", &[])
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn company_integrations_say_what_each_tool_brings_and_who_is_connected() {
    use diesel::prelude::*;
    use taskbridge::schema::company_integrations;
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    app.invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    seed_tasks(&app, "olivia@acme.test", &["Write the brief"]);
    app.query(|conn| {
        let (_, company_id) = person_ids(conn, "olivia@acme.test");
        diesel::insert_into(company_integrations::table)
            .values((
                company_integrations::company_id.eq(company_id),
                company_integrations::provider.eq("basecamp"),
                company_integrations::enabled.eq(true),
                company_integrations::changed_at.eq(0i64),
            ))
            .execute(conn)
            .unwrap()
    });
    let (_, page) = owner.get_text("/company/integrations").await;
    assert!(
        page.contains("To-dos assigned to you in Basecamp projects."),
        "{page}"
    );
    assert!(page.contains("1 of 2 people connected"), "{page}");
    assert!(
        page.contains("Stories you own in Pivotal Tracker projects."),
        "{page}"
    );
    assert_eq!(
        page.matches("people connected").count(),
        1,
        "only tools that are on count"
    );
}
