//! One person in several companies: joining a second company through an invite with
//! the account one has, the company switcher, and what stays per company (role,
//! disabled, tasks, time) or per person (password, sessions).

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{companies, logins, tasks, time_entries, users};

use crate::helpers::*;

const ALICE: &str = "alice@acme.test";

fn company_id(app: &TestApp, name: &str) -> i64 {
    let name = name.to_owned();
    app.query(move |conn| {
        companies::table
            .filter(companies::name.eq(name))
            .select(companies::id)
            .first(conn)
            .unwrap()
    })
}

/// A person's `users` row in one company, by email.
fn member_id(app: &TestApp, email: &str, company: &str) -> i64 {
    let company = company_id(app, company);
    let email = email.to_owned();
    app.query(move |conn| {
        users::table
            .inner_join(logins::table)
            .filter(logins::email.eq(email))
            .filter(users::company_id.eq(company))
            .select(users::id)
            .first(conn)
            .unwrap()
    })
}

/// The person signed in at `person` accepts the invite at `path` with their account.
async fn join(person: &Client, path: &str) -> reqwest::Response {
    person
        .post_form("/tasks", path, &[("confirmed", "yes")])
        .await
}

async fn switch(person: &Client, company: i64) -> reqwest::Response {
    person
        .post_form(
            "/tasks",
            "/account/company",
            &[("company", &company.to_string())],
        )
        .await
}

/// The company the signed-in browser is in: the name the left menu shows.
async fn current_company(person: &Client) -> String {
    let (status, page) = person.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK, "signed in");
    let marker = "<span class=\"company-name\">";
    let start = page.find(marker).expect("the company menu") + marker.len();
    let end = page[start..].find('<').unwrap();
    page[start..start + end].to_owned()
}

fn count_mine(app: &TestApp, user_id: i64) -> (i64, i64) {
    app.query(move |conn| {
        let tasks: i64 = tasks::table
            .filter(tasks::user_id.eq(user_id))
            .count()
            .get_result(conn)
            .unwrap();
        let entries: i64 = time_entries::table
            .filter(time_entries::user_id.eq(user_id))
            .count()
            .get_result(conn)
            .unwrap();
        (tasks, entries)
    })
}

#[tokio::test]
async fn an_account_invited_to_a_second_company_joins_signed_in_and_switches_between_them() {
    let app = TestApp::spawn().await;
    let alice = app.sign_up("Acme", "Alice", ALICE).await;
    seed_tasks(&app, ALICE, &["Fix the Acme roof"]);
    let now = now_secs();
    seed_entry(&app, ALICE, now - 7200, Some(now - 3600), "Acme hour");
    let acme_member = member_id(&app, ALICE, "Acme");
    let before = count_mine(&app, acme_member);
    assert_eq!(before, (1, 1));

    let bob = app.sign_up("Beta", "Bob", "bob@beta.test").await;
    let path = app.invite(&bob, ALICE, "user").await;

    // Alice opens the link signed in: she is asked to join with her account, not to
    // sign out or to set a password.
    let (status, asked) = alice.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(asked.contains("Join Beta?"), "{asked}");
    assert!(!asked.contains("Sign out and continue"));
    assert!(!asked.contains("name=\"password\""));
    assert_eq!(current_company(&alice).await, "Acme", "nothing joined yet");
    // The new-account form posted anyway asks the same, and makes nothing.
    let r = alice
        .post_form(
            "/tasks",
            &path,
            &[("name", "Alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Join Beta?"));
    assert_eq!(current_company(&alice).await, "Acme");

    let r = join(&alice, &path).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/tasks");
    let (_, tasks) = alice.get_text("/tasks").await;
    assert!(tasks.contains("Welcome to Beta!"), "{tasks}");
    assert_eq!(current_company(&alice).await, "Beta");
    assert!(
        !tasks.contains("Fix the Acme roof"),
        "Acme's tasks stay in Acme"
    );
    // In Beta she is a user: the company's pages are not hers.
    assert_eq!(
        alice.get("/company/users").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice.get("/company/integrations").await.status(),
        StatusCode::FORBIDDEN
    );
    // The company menu offers Acme.
    assert!(tasks.contains("Switch company"), "{tasks}");
    assert!(tasks.contains("name=\"company\" value=\""));

    // Back to Acme, where she is the owner and her tasks and time are as they were.
    let acme = company_id(&app, "Acme");
    let r = switch(&alice, acme).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/tasks");
    assert_eq!(current_company(&alice).await, "Acme");
    let (_, tasks) = alice.get_text("/tasks").await;
    assert!(tasks.contains("Fix the Acme roof"));
    let (status, users_page) = alice.get_text("/company/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!users_page.contains("Bob"), "Acme's people only");
    assert_eq!(
        alice.get("/company/integrations").await.status(),
        StatusCode::OK
    );
    assert_eq!(count_mine(&app, acme_member), before);

    // And to Beta again, whose Users page Bob sees with her in it.
    switch(&alice, company_id(&app, "Beta")).await;
    assert_eq!(current_company(&alice).await, "Beta");
    let (_, bobs) = bob.get_text("/company/users").await;
    assert!(bobs.contains(ALICE));

    // Signing in again lands in the company used last.
    alice.post_form("/tasks", "/logout", &[]).await;
    let again = app.client();
    let r = again.log_in_as(ALICE, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(current_company(&again).await, "Beta");
}

#[tokio::test]
async fn an_account_signed_out_logs_in_to_join() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Alice", ALICE).await;
    let bob = app.sign_up("Beta", "Bob", "bob@beta.test").await;
    let path = app.invite(&bob, ALICE, "admin").await;

    let alice = app.client();
    let (status, page) = alice.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Log in to join"), "{page}");
    let r = alice.get(&format!("{path}/login")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    let r = alice.log_in_as(ALICE, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), path, "log-in goes back to the invite");
    let r = join(&alice, &path).await;
    assert_eq!(location(&r), "/tasks");
    assert_eq!(current_company(&alice).await, "Beta");
    assert_eq!(
        alice.get("/company/users").await.status(),
        StatusCode::OK,
        "admin in Beta"
    );

    // Setting a password through the link instead is refused, and leaves the account
    // as it was.
    let path = app.invite(&bob, "carol@acme.test", "user").await;
    let carol = app.client();
    let r = carol
        .post_form(&path, &path, &[("name", "Carol"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "a new email joins as before"
    );
    let path = app.invite(&bob, ALICE, "user").await;
    let r = app
        .client()
        .post_form(
            &path,
            &path,
            &[("name", "Mallory"), ("password", "another-long-pass-99")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.client().log_in_as(ALICE, PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "her password is unchanged"
    );
}

#[tokio::test]
async fn switching_to_a_company_one_is_not_active_in_is_404_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.sign_up("Acme", "Alice", ALICE).await;
    let bob = app.sign_up("Beta", "Bob", "bob@beta.test").await;
    app.sign_up("Gamma", "Gina", "gina@gamma.test").await;
    let path = app.invite(&bob, ALICE, "user").await;
    join(&alice, &path).await;
    let (acme, beta, gamma) = (
        company_id(&app, "Acme"),
        company_id(&app, "Beta"),
        company_id(&app, "Gamma"),
    );
    switch(&alice, acme).await;
    assert_eq!(current_company(&alice).await, "Acme");

    // Not hers.
    let r = switch(&alice, gamma).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = switch(&alice, 999_999).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(current_company(&alice).await, "Acme");
    let logo = alice.get(&format!("/account/companies/{gamma}/logo")).await;
    assert_eq!(logo.status(), StatusCode::NOT_FOUND);

    // A switch without the form's token is refused.
    let r = alice
        .http
        .post(alice.url("/account/company"))
        .header("Origin", &alice.address)
        .form(&[("company", beta.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(current_company(&alice).await, "Acme");

    // Disabled in Beta: Beta is no longer offered, and switching there is 404.
    let alice_in_beta = member_id(&app, ALICE, "Beta");
    let r = bob.disable_person(alice_in_beta).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, page) = alice.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK, "still signed in to Acme");
    assert!(!page.contains("Switch company"), "{page}");
    let r = switch(&alice, beta).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(current_company(&alice).await, "Acme");
}

#[tokio::test]
async fn disabling_in_one_company_leaves_the_other_and_the_password_is_one_for_all() {
    let app = TestApp::spawn().await;
    let in_acme = app.sign_up("Acme", "Alice", ALICE).await;
    let bob = app.sign_up("Beta", "Bob", "bob@beta.test").await;
    let path = app.invite(&bob, ALICE, "user").await;
    join(&in_acme, &path).await;
    let (acme, beta) = (company_id(&app, "Acme"), company_id(&app, "Beta"));
    switch(&in_acme, acme).await;
    let in_beta = app.client();
    in_beta.log_in_as(ALICE, PASSWORD).await;
    switch(&in_beta, beta).await;
    assert_eq!(current_company(&in_beta).await, "Beta");

    // Bob disables her in Beta: her Beta session ends, her Acme one goes on.
    let alice_in_beta = member_id(&app, ALICE, "Beta");
    bob.disable_person(alice_in_beta).await;
    assert_eq!(location(&in_beta.get("/tasks").await), "/login");
    assert_eq!(current_company(&in_acme).await, "Acme");
    let acme_member = member_id(&app, ALICE, "Acme");
    let disabled: Vec<(i64, bool)> = app.query(|conn| {
        users::table
            .inner_join(logins::table)
            .filter(logins::email.eq(ALICE))
            .order(users::id)
            .select((users::id, users::disabled))
            .load(conn)
            .unwrap()
    });
    assert_eq!(disabled, vec![(acme_member, false), (alice_in_beta, true)]);
    // Signing in lands in Acme, the company she is still active in.
    let r = in_beta.log_in_as(ALICE, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(current_company(&in_beta).await, "Acme");

    // Enabled again, she changes her password in Acme: it is the one for Beta too, and
    // her sessions everywhere else (the one in Beta too) end.
    bob.post_form(
        "/company/users",
        &format!("/company/users/{alice_in_beta}/enable"),
        &[],
    )
    .await;
    switch(&in_beta, beta).await;
    assert_eq!(current_company(&in_beta).await, "Beta");
    let new_password = "quartz-lantern-meadow-17";
    let r = in_acme
        .post_form(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&in_beta.get("/tasks").await), "/login");
    assert_eq!(current_company(&in_acme).await, "Acme");
    let r = app.client().log_in_as(ALICE, PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let r = in_beta.log_in_as(ALICE, new_password).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        current_company(&in_beta).await,
        "Beta",
        "the company used last"
    );

    // "Log out everywhere else" in Beta ends the Acme session too.
    let r = in_beta
        .post_form(
            "/account",
            "/account/sessions/end-others",
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&in_acme.get("/tasks").await), "/login");
    assert_eq!(current_company(&in_beta).await, "Beta");
}

#[tokio::test]
async fn the_inviters_answer_is_the_same_for_a_new_email_and_an_existing_account() {
    let app = TestApp::spawn().await;
    app.sign_up("Acme", "Alice", ALICE).await;
    let bob = app.sign_up("Beta", "Bob", "bob@beta.test").await;
    let answer = |email: &'static str| {
        let bob = &bob;
        async move {
            let r = bob
                .post_form(
                    "/company/users",
                    "/company/users/invite",
                    &[("email", email), ("role", "user")],
                )
                .await;
            let status = r.status();
            let page = r.text().await.unwrap();
            let link = extract_invite_link(&page).unwrap();
            // The page with the address and the one-off link taken out.
            let page = page
                .replace(email, "EMAIL")
                .replace(&link, "LINK")
                .replace(&link.replace('/', "&#x2f;"), "LINK");
            (status, page)
        }
    };
    let (new_status, new_page) = answer("nobody@new.test").await;
    let (old_status, old_page) = answer(ALICE).await;
    assert_eq!(new_status, StatusCode::OK);
    assert_eq!(old_status, new_status);
    // Each page lists the invites made so far; the answer itself reads the same.
    let shown = |page: &str| {
        let start = page.find("Invite ready").expect("the answer");
        page[start..start + 400].to_owned()
    };
    assert_eq!(shown(&new_page), shown(&old_page));

    // The mails in the Outbox read the same too.
    let bodies: Vec<(String, String)> = app.query(|conn| {
        use taskbridge::schema::mail_outbox;
        mail_outbox::table
            .filter(mail_outbox::subject.eq("Join Beta on taskbridge"))
            .order(mail_outbox::id)
            .select((mail_outbox::to_address, mail_outbox::body))
            .load(conn)
            .unwrap()
    });
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0].1, bodies[1].1);
}

#[tokio::test]
async fn a_person_adds_a_company_of_their_own_and_switches_back() {
    let app = TestApp::spawn().await;
    let alice = app.sign_up("Acme", "Alice", ALICE).await;
    let r = alice
        .post_form(
            "/account/companies/new",
            "/account/companies/new",
            &[("company_name", "Side Project")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/tasks");
    assert_eq!(current_company(&alice).await, "Side Project");
    assert_eq!(
        alice.get("/company/users").await.status(),
        StatusCode::OK,
        "its owner"
    );
    let r = alice
        .post_form(
            "/account/companies/new",
            "/account/companies/new",
            &[("company_name", "\u{202e}evil")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = switch(&alice, company_id(&app, "Acme")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(current_company(&alice).await, "Acme");
}

#[tokio::test]
async fn a_password_reset_works_for_every_company_even_from_one_where_the_person_is_disabled() {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let app = TestApp::spawn_with(&[("TASKBRIDGE_SMTP_URL", &sink.url())]).await;
    let alice = app.sign_up("Acme", "Alice", ALICE).await;
    // Acme has a second owner, who disables Alice there once she is in Beta too.
    let olga = app
        .invite_and_accept(&alice, "olga@acme.test", "Olga", "owner")
        .await;
    let bob = app.sign_up("Beta", "Bob", "bob@beta.test").await;
    let path = app.invite(&bob, ALICE, "user").await;
    join(&alice, &path).await;
    let alice_in_acme = member_id(&app, ALICE, "Acme");
    let r = olga.disable_person(alice_in_acme).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        current_company(&alice).await,
        "Beta",
        "her Beta session goes on"
    );

    let visitor = app.client();
    visitor
        .post_form("/password/forgot", "/password/forgot", &[("email", ALICE)])
        .await;
    let mail = sink
        .wait_for_subject(ALICE, "Reset your taskbridge password", 1)
        .await
        .remove(0);
    let link = mail.link(&app.address).unwrap();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let new_password = "quartz-lantern-meadow-17";
    let r = visitor
        .post_form(
            &path,
            "/password/reset",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(current_company(&visitor).await, "Beta");
    assert_eq!(
        location(&alice.get("/tasks").await),
        "/login",
        "every session ended"
    );
    let r = app.client().log_in_as(ALICE, new_password).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
