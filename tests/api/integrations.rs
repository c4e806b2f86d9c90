use reqwest::StatusCode;

use crate::helpers::*;
use crate::oauth_walk;

#[tokio::test]
async fn an_owner_turns_on_basecamp_and_everyone_hears_of_it() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let (_, list) = owner.get_text("/company/integrations").await;
    let names: Vec<usize> = [
        "Asana",
        "Basecamp",
        "GitHub",
        "Intellinote",
        "Jira",
        "Pivotal Tracker",
        "Salesforce",
    ]
    .iter()
    .map(|n| list.find(&format!(">{n}<")).unwrap())
    .collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "alphabetical");
    assert_eq!(
        list.matches(">OFF<").count(),
        taskbridge::connectors::ProviderKind::ALL.len()
    );

    let (status, details) = owner.get_text("/company/integrations/basecamp").await;
    assert_eq!(status, StatusCode::OK);
    assert!(details.contains("Turn it on"));
    let clean = oauth_walk::company_on(&owner, "basecamp", "Jane Doe").await;
    assert_eq!(clean, "/company/integrations/basecamp/connected");
    let (status, success) = owner.get_text(&clean).await;
    assert_eq!(status, StatusCode::OK);
    assert!(success.contains("Basecamp is now ON"));
    assert!(success
        .contains("Connected as <strong>Jane Doe</strong>, jane@acme.test, account <strong>"));
    assert!(success.contains("Not you?") && success.contains("Disconnect"));

    let (_, list) = owner.get_text("/company/integrations").await;
    assert_eq!(list.matches(">ON<").count(), 1);
    let (_, mine) = owner.get_text("/integrations").await;
    assert!(
        mine.contains("Connected as <strong>Jane Doe</strong>"),
        "the owner's own integration is on"
    );

    let (_, notices) = uma.get_text("/notifications").await;
    assert!(notices.contains("Basecamp is now active for your company"));
    let (_, uma_settings) = uma.get_text("/integrations").await;
    assert!(uma_settings.contains("Basecamp") && uma_settings.contains("aria-checked=\"false\""));

    let audit: Vec<String> = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::audit_log;
        audit_log::table
            .select(audit_log::action)
            .load(conn)
            .unwrap()
    });
    assert!(audit.contains(&"integration_on".to_owned()));
    assert!(audit.contains(&"connection_on".to_owned()));
}

#[tokio::test]
async fn a_user_turns_on_their_own_and_cannot_take_someone_elses_account() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Jane Doe").await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let clean = oauth_walk::personal_on(&uma, "basecamp", "Jane Doe").await;
    assert_eq!(clean, "/integrations/basecamp/problem");
    let (status, page) = uma.get_text(&clean).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page.contains("already linked to Olivia Owner"),
        "names the problem"
    );

    let clean = oauth_walk::personal_on(&uma, "basecamp", "John Roe").await;
    assert_eq!(clean, "/integrations/basecamp/connected");
    let (_, page) = uma.get_text(&clean).await;
    assert!(page.contains("Your Basecamp integration is on"));
    assert!(page.contains("Connected as <strong>John Roe</strong>"));
    let count: i64 = app.query(|conn| {
        use diesel::prelude::*;
        taskbridge::schema::connections::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(count, 2);
}

#[tokio::test]
async fn one_sign_in_with_several_basecamp_accounts_lets_the_person_choose() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let clean = oauth_walk::company_on(&owner, "basecamp", "Several Sam").await;
    assert_eq!(clean, "/oauth/basecamp/choose");
    let (_, page) = owner.get_text(&clean).await;
    for account in ["Acme", "Globex", "Initech"] {
        assert!(page.contains(account), "{account} is offered");
    }
    let html = scraper::Html::parse_document(&page);
    let radios = scraper::Selector::parse("input[type=radio]").unwrap();
    let options: Vec<(String, String)> = html
        .select(&radios)
        .map(|r| {
            let id = r.value().attr("value").unwrap().to_owned();
            let label = r
                .parent()
                .map(|p| {
                    scraper::ElementRef::wrap(p)
                        .unwrap()
                        .text()
                        .collect::<String>()
                })
                .unwrap_or_default();
            (id, label)
        })
        .collect();
    assert_eq!(options.len(), 3, "only Basecamp 3/4 accounts: {options:?}");
    let globex = options
        .iter()
        .find(|(_, l)| l.contains("Globex"))
        .unwrap()
        .0
        .clone();
    let response = owner
        .post_form(&clean, "/oauth/basecamp/choose", &[("account", &globex)])
        .await;
    assert_eq!(
        location(&response),
        "/company/integrations/basecamp/connected"
    );
    let (_, success) = owner
        .get_text("/company/integrations/basecamp/connected")
        .await;
    assert!(success.contains("Globex"));
}

#[tokio::test]
async fn consent_denied_saves_nothing_and_says_so() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let clean = oauth_walk::connect(
        &owner,
        "/company/integrations/basecamp",
        "/company/integrations/basecamp/on",
        "Jane Doe",
        "Deny",
    )
    .await;
    let (status, page) = owner.get_text(&clean).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("You did not allow access to Basecamp"));
    assert!(page.contains("Nothing was saved"));
    assert!(
        owner
            .get_text("/company/integrations")
            .await
            .1
            .matches(">OFF<")
            .count()
            == taskbridge::connectors::ProviderKind::ALL.len()
    );
}

#[tokio::test]
async fn a_missing_wrong_reused_or_misdirected_state_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    // No sign-in was started.
    let r = owner
        .get("/oauth/basecamp/callback?code=abc&state=xyz")
        .await;
    assert_eq!(location(&r), "/integrations/basecamp/problem");
    assert!(owner
        .get_text("/integrations/basecamp/problem")
        .await
        .1
        .contains("could not be finished"));

    // A wrong state.
    oauth_walk::start(
        &owner,
        "/company/integrations/basecamp",
        "/company/integrations/basecamp/on",
        &[],
    )
    .await;
    let r = owner
        .get("/oauth/basecamp/callback?code=abc&state=forged")
        .await;
    assert_eq!(location(&r), "/integrations/basecamp/problem");

    // An answer for Basecamp delivered to Salesforce's callback.
    let authorize = oauth_walk::start(
        &owner,
        "/company/integrations/basecamp",
        "/company/integrations/basecamp/on",
        &[],
    )
    .await;
    let state = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let r = owner
        .get(&format!(
            "/oauth/salesforce/callback?code=abc&state={state}"
        ))
        .await;
    assert_eq!(location(&r), "/integrations/salesforce/problem");
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let authorize = oauth_walk::start(
        &owner,
        "/company/integrations/salesforce",
        "/company/integrations/salesforce/on",
        &[],
    )
    .await;
    assert!(
        authorize.contains("prompt=login"),
        "Salesforce is asked to show its sign-in again"
    );
    assert!(authorize.contains("code_challenge="));
    // Walk the pages by hand to keep the callback URL.
    let html = owner
        .http
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sign in as Jane Doe"));
    let answer = oauth_walk::sign_in_at_tool(&owner, &authorize, "Jane Doe", "Allow").await;
    assert_eq!(
        location(&answer),
        "/company/integrations/salesforce/connected"
    );
    let (_, connected) = owner
        .get_text("/company/integrations/salesforce/connected")
        .await;
    assert!(
        connected.contains("account <strong>Acme Corp</strong>"),
        "the org's name, not its id: {connected}"
    );
    let callback = answer.url().to_string();
    let again = owner.http.get(&callback).send().await.unwrap();
    assert_eq!(
        location(&again),
        "/integrations/salesforce/problem",
        "a state works once"
    );
}

#[tokio::test]
async fn pivotal_tracker_takes_an_api_token_checked_against_the_tool() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let (_, details) = owner.get_text("/company/integrations/pivotal").await;
    assert!(details.contains("API token"));
    let bad = oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "not-a-token")],
    )
    .await;
    assert_eq!(bad, "/integrations/pivotal/problem");
    let (status, page) = owner.get_text(&bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("did not accept that API token"));
    assert!(!page.contains("not-a-token"), "the token is never echoed");
    assert_eq!(
        owner
            .get_text("/company/integrations")
            .await
            .1
            .matches(">OFF<")
            .count(),
        taskbridge::connectors::ProviderKind::ALL.len()
    );

    let ok = oauth_walk::start(
        &owner,
        "/company/integrations/pivotal",
        "/company/integrations/pivotal/on",
        &[("api_token", "sandbox-jane-doe")],
    )
    .await;
    assert_eq!(ok, "/company/integrations/pivotal/connected");
    let (_, page) = owner.get_text(&ok).await;
    assert!(page.contains("Pivotal Tracker is now ON"));
    assert!(page.contains("Jane Doe"));
    assert!(
        !page.contains("sandbox-jane-doe"),
        "the token is never shown"
    );

    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    let (_, settings) = uma.get_text("/integrations").await;
    assert!(settings.contains("API token"));
    let mine = oauth_walk::start(
        &uma,
        "/integrations",
        "/integrations/pivotal/on",
        &[("api_token", "sandbox-john-roe")],
    )
    .await;
    assert_eq!(mine, "/integrations/pivotal/connected");
}

#[tokio::test]
async fn a_salesforce_org_without_api_access_is_told_which_editions_have_it() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Tiny Team", "Olivia Owner", "olivia@tinyteam.test")
        .await;
    let clean = oauth_walk::company_on(&owner, "salesforce", "Group-edition Grace").await;
    let (status, page) = owner.get_text(&clean).await;
    assert!(status.is_server_error() || status.is_client_error());
    assert!(page.contains("no API access"));
    for edition in [
        "Enterprise",
        "Unlimited",
        "Performance",
        "Developer",
        "Professional",
    ] {
        assert!(page.contains(edition), "{edition}");
    }
    assert!(page.contains("add-on"));
    assert_eq!(
        owner
            .get_text("/company/integrations")
            .await
            .1
            .matches(">OFF<")
            .count(),
        taskbridge::connectors::ProviderKind::ALL.len()
    );
}

#[tokio::test]
async fn users_cannot_run_company_integrations() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Jane Doe").await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    for path in [
        "/company/integrations",
        "/company/integrations/basecamp",
        "/company/integrations/basecamp/off",
    ] {
        assert_eq!(
            uma.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let r = uma
        .post_form("/integrations", "/company/integrations/basecamp/off", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = uma
        .post_form("/integrations", "/company/integrations/salesforce/on", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Uma's "off" touches only Uma's own connection, never Olivia's.
    uma.post_form(
        "/integrations",
        "/integrations/basecamp/off",
        &[("confirmed", "yes")],
    )
    .await;
    assert!(owner
        .get_text("/integrations")
        .await
        .1
        .contains("Connected as <strong>Jane Doe</strong>"));
    assert_eq!(
        owner.get("/company/integrations/nosuchtool").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tokens_are_encrypted_at_rest_and_deleted_on_disconnect() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Jane Doe").await;
    let sealed: Vec<u8> = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::connections;
        connections::table
            .select(connections::credentials)
            .first::<Option<Vec<u8>>>(conn)
            .unwrap()
            .unwrap()
    });
    let (company_id, user_id): (i64, i64) = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::connections;
        connections::table
            .select((connections::company_id, connections::user_id))
            .first(conn)
            .unwrap()
    });
    let settings = settings_for_key();
    let cipher = taskbridge::crypto::Cipher::new(&settings);
    let binding = taskbridge::services::credentials::credentials_binding(
        company_id,
        user_id,
        taskbridge::connectors::ProviderKind::Basecamp,
    );
    let creds =
        taskbridge::services::credentials::open_credentials(&cipher, &sealed, &binding).unwrap();
    use secrecy::ExposeSecret;
    let token = creds.access_token.expose_secret().to_owned();
    assert!(token.len() >= 16);
    assert!(!String::from_utf8_lossy(&sealed).contains(&token));
    if let Some(path) = app.sqlite_path() {
        for file in [path.clone(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(&token),
                    "{file} holds the token in clear"
                );
            }
        }
    }
    let other = taskbridge::services::credentials::credentials_binding(
        company_id,
        user_id + 1,
        taskbridge::connectors::ProviderKind::Basecamp,
    );
    assert!(taskbridge::services::credentials::open_credentials(&cipher, &sealed, &other).is_err());

    let r = owner
        .post_form(
            "/integrations",
            "/integrations/basecamp/off",
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
    assert_eq!(left, 0, "the tokens went with the connection");
}

#[tokio::test]
async fn turning_the_company_integration_off_asks_first_and_keeps_connections() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Jane Doe").await;
    let (status, confirm) = owner.get_text("/company/integrations/basecamp/off").await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Turn off Basecamp for your company?"));
    assert!(confirm.contains("Keep it on"));
    let r = owner
        .post_form(
            "/company/integrations/basecamp/off",
            "/company/integrations/basecamp/off",
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        owner
            .get_text("/company/integrations")
            .await
            .1
            .matches(">OFF<")
            .count(),
        taskbridge::connectors::ProviderKind::ALL.len()
    );
    assert!(owner
        .get_text("/integrations")
        .await
        .1
        .contains("No integrations yet"));
    let audit: Vec<String> = app.query(|conn| {
        use diesel::prelude::*;
        use taskbridge::schema::audit_log;
        audit_log::table
            .select(audit_log::action)
            .load(conn)
            .unwrap()
    });
    assert!(audit.contains(&"integration_off".to_owned()));
}

#[tokio::test]
async fn disabling_a_person_deletes_their_tokens_and_keeps_the_connection() {
    let (app, owner) = oauth_walk::acme_with("basecamp", "Jane Doe").await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    oauth_walk::personal_on(&uma, "basecamp", "John Roe").await;
    let id = user_id(&app, "uma@acme.test");
    owner.disable_person(id).await;
    let left: Vec<Option<Vec<u8>>> = app.query(move |conn| {
        use diesel::prelude::*;
        use taskbridge::schema::connections;
        connections::table
            .filter(connections::user_id.eq(id))
            .select(connections::credentials)
            .load(conn)
            .unwrap()
    });
    // The tokens are gone; the connection (and what it synced) stays for their return.
    assert_eq!(left, vec![None]);
}

#[tokio::test]
async fn every_tool_has_a_company_flow_and_a_personal_flow() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma", "user")
        .await;
    for (slug, name) in [
        ("basecamp", "Basecamp"),
        ("github", "GitHub"),
        ("intellinote", "Intellinote"),
        ("salesforce", "Salesforce"),
    ] {
        let details = format!("/company/integrations/{slug}");
        let clean = oauth_walk::connect(
            &owner,
            &details,
            &format!("{details}/on"),
            "Jane Doe",
            "Allow",
        )
        .await;
        assert_eq!(
            clean,
            format!("/company/integrations/{slug}/connected"),
            "{name}"
        );
        let (_, page) = owner.get_text(&clean).await;
        assert!(page.contains(&format!("{name} is now ON")), "{name}");
        assert!(
            page.contains(
                "Connected as <strong>Jane Doe</strong>, jane@acme.test, account <strong>"
            ),
            "{name}"
        );

        let clean = oauth_walk::connect(
            &uma,
            "/integrations",
            &format!("/integrations/{slug}/on"),
            "John Roe",
            "Allow",
        )
        .await;
        assert_eq!(clean, format!("/integrations/{slug}/connected"), "{name}");
        let (_, page) = uma.get_text(&clean).await;
        assert!(
            page.contains(&format!("Your {name} integration is on")),
            "{name}"
        );
        assert!(
            page.contains("Connected as <strong>John Roe</strong>, john@acme.test"),
            "{name}"
        );
    }
    let (_, list) = owner.get_text("/company/integrations").await;
    assert_eq!(list.matches(">ON<").count(), 4);
    let (_, settings) = uma.get_text("/integrations").await;
    assert_eq!(settings.matches("Connected as").count(), 4);
    let (_, notices) = uma.get_text("/notifications").await;
    for name in ["Basecamp", "GitHub", "Intellinote", "Salesforce"] {
        assert!(notices.contains(&format!("{name} is now active")), "{name}");
    }
}

#[tokio::test]
async fn a_personal_integration_needs_the_company_one_on() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let r = owner
        .post_form("/integrations", "/integrations/intellinote/on", &[])
        .await;
    assert_eq!(location(&r), "/integrations/intellinote/problem");
    let (status, page) = owner.get_text("/integrations/intellinote/problem").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("not turned on for your company"));
}
