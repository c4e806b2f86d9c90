use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn an_invited_user_joins_and_sees_the_menu_a_user_should_see() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let (status, body) = uma.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Welcome to Acme!"));
    assert!(body.contains("Uma User"));
    assert!(body.contains("Integration Settings"));
    assert!(body.contains("Company Settings"));
    assert!(
        !body.contains("href=\"/company/integrations\""),
        "users do not see Company Integrations"
    );
    assert!(!body.contains("href=\"/company/users\""), "nor Users");
    for path in ["/company/integrations", "/company/users"] {
        let (status, body) = uma.get_text(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(body.contains("Not allowed"));
        assert!(
            body.contains("class=\"sidebar\""),
            "in the app's layout, with the left menu bar"
        );
    }
    let invite = uma
        .post_form(
            "/tasks",
            "/company/users/invite",
            &[("email", "x@acme.test"), ("role", "user")],
        )
        .await;
    assert_eq!(invite.status(), StatusCode::FORBIDDEN);

    let (_, owner_view) = owner.get_text("/tasks").await;
    assert!(owner_view.contains("Company Integrations"));
    assert!(owner
        .get_text("/company/users")
        .await
        .1
        .contains("uma@acme.test"));
}

#[tokio::test]
async fn an_invite_link_works_once() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let page = owner
        .post_form(
            "/company/users",
            "/company/users/invite",
            &[("email", "ann@acme.test"), ("role", "admin")],
        )
        .await;
    let link = extract_invite_link(&page.text().await.unwrap()).unwrap();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();
    let (status, body) = app.client().get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("ann@acme.test") && body.contains("Admin"));
    let weak = app
        .client()
        .post_form(&path, &path, &[("name", "Ann"), ("password", "123")])
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ann = app.client();
    let ok = ann
        .post_form(
            &path,
            &path,
            &[("name", "Ann Admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert!(
        ann.get_text("/tasks")
            .await
            .1
            .contains("Company Integrations"),
        "admins see it"
    );
    let (status, body) = app.client().get_text(&path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("no longer valid"));
    let (status, _) = app.client().get_text("/invite/made-up-token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn roles_change_but_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let admin = app
        .invite_and_accept(&owner, "ann@acme.test", "Ann", "admin")
        .await;
    let olivia = user_id(&app, "olivia@acme.test");
    let ann = user_id(&app, "ann@acme.test");

    // An admin cannot demote or disable an owner, nor make one.
    assert!(change_role(&admin, olivia, "user")
        .await
        .contains("Only an owner can change an owner"));
    assert!(change_role(&admin, ann, "owner")
        .await
        .contains("Only an owner"));

    // The last owner cannot be demoted (owners cannot change themselves in the UI; the rule holds anyway).
    assert!(change_role(&owner, olivia, "admin")
        .await
        .contains("last owner"));

    // Owner promotes Ann to owner; now Olivia can step down.
    change_role(&owner, ann, "owner").await;
    change_role(&owner, olivia, "manager").await;
    let roles: Vec<(String, String)> = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::{logins, users};
        users::table
            .inner_join(logins::table)
            .select((logins::email, users::role))
            .order(logins::email)
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        roles,
        vec![
            ("ann@acme.test".into(), "owner".into()),
            ("olivia@acme.test".into(), "manager".into())
        ]
    );
    let actions: Vec<String> = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::audit_log;
        audit_log::table
            .filter(audit_log::action.eq("role_changed"))
            .select(audit_log::detail)
            .load(conn)
            .unwrap()
    });
    assert_eq!(actions.len(), 2, "{actions:?}");
    // Managers do not manage people.
    assert_eq!(
        owner.get("/company/users").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn disabling_a_person_ends_their_sessions_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    assert_eq!(uma.get("/tasks").await.status(), StatusCode::OK);
    let id = user_id(&app, "uma@acme.test");
    let r = owner.disable_person(id).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&uma.get("/tasks").await),
        "/login",
        "the open session ended"
    );
    let again = app.client().log_in_as("uma@acme.test", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(again.text().await.unwrap().contains("disabled"));
    // The last owner cannot be disabled, and nobody disables themselves.
    let olivia = user_id(&app, "olivia@acme.test");
    owner.disable_person(olivia).await;
    assert!(owner
        .get_text("/company/users")
        .await
        .1
        .contains("cannot disable yourself"));
    // Enabled again, Uma can sign in.
    owner
        .post_form(
            "/company/users",
            &format!("/company/users/{id}/enable"),
            &[],
        )
        .await;
    let back = app.client().log_in_as("uma@acme.test", PASSWORD).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn another_companys_ids_answer_404() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    app.invite_and_accept(&acme, "uma@acme.test", "Uma", "user")
        .await;
    let globex = app.sign_up("Globex", "Gina", "gina@globex.test").await;
    let uma = user_id(&app, "uma@acme.test");
    for action in [
        format!("/company/users/{uma}/role"),
        format!("/company/users/{uma}/disable"),
        format!("/company/users/{uma}/enable"),
    ] {
        let r = globex
            .post_form("/company/users", &action, &[("role", "admin")])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // An Acme invite cannot be revoked from Globex either.
    acme.post_form(
        "/company/users",
        "/company/users/invite",
        &[("email", "new@acme.test"), ("role", "user")],
    )
    .await;
    let invite_id: i64 = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::invites;
        invites::table
            .filter(invites::email.eq("new@acme.test"))
            .select(invites::id)
            .first(conn)
            .unwrap()
    });
    let r = globex
        .post_form(
            "/company/users",
            &format!("/company/invites/{invite_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, acme_users) = acme.get_text("/company/users").await;
    assert!(
        acme_users.contains("new@acme.test"),
        "the invite is untouched"
    );
    let roles: String = app.query(move |conn| {
        use diesel::prelude::*;
        use taskbridge::schema::users;
        users::table
            .find(uma)
            .select(users::role)
            .first(conn)
            .unwrap()
    });
    assert_eq!(roles, "user");
}

/// A role change posted from the Users page; answers the Users page it lands on.
async fn change_role(client: &Client, person: i64, role: &str) -> String {
    let r = client
        .post_form(
            "/company/users",
            &format!("/company/users/{person}/role"),
            &[("role", role)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    client.get_text("/company/users").await.1
}
