//! Walks a tool's sign-in and consent pages the way a person would, with the
//! person's own client (cookies and all).

use reqwest::StatusCode;
use scraper::{Html, Selector};

use crate::helpers::{location, Client, TestApp};

/// The fields and action of the form on `html` whose button reads `button`.
fn form_with_button(html: &str, button: &str) -> Option<(String, Vec<(String, String)>)> {
    let doc = Html::parse_document(html);
    let forms = Selector::parse("form").ok()?;
    let inputs = Selector::parse("input").ok()?;
    let buttons = Selector::parse("button").ok()?;
    for form in doc.select(&forms) {
        let Some(matching) = form
            .select(&buttons)
            .find(|b| b.text().collect::<String>().trim() == button)
        else {
            continue;
        };
        let action = form.value().attr("action")?.to_owned();
        let mut fields: Vec<(String, String)> = form
            .select(&inputs)
            .filter_map(|i| {
                Some((
                    i.value().attr("name")?.to_owned(),
                    i.value().attr("value").unwrap_or("").to_owned(),
                ))
            })
            .collect();
        if let (Some(name), Some(value)) = (
            matching.value().attr("name"),
            matching.value().attr("value"),
        ) {
            fields.push((name.to_owned(), value.to_owned()));
        }
        return Some((action, fields));
    }
    None
}

fn absolute(client: &Client, url: &str) -> String {
    if url.starts_with("http") {
        url.to_owned()
    } else {
        client.url(url)
    }
}

/// From "Turn it on" to the app's answer to the callback. `decision` is "Allow" or "Deny".
/// Returns the app's response to the callback (a redirect to a clean URL).
pub async fn sign_in_at_tool(
    client: &Client,
    authorize_url: &str,
    person: &str,
    decision: &str,
) -> reqwest::Response {
    let page = client
        .http
        .get(absolute(client, authorize_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the tool's sign-in page");
    let mut html = page.text().await.unwrap();
    assert!(html.contains("Sandbox"), "sandbox pages say so");
    // Still signed in to the tool as someone else: use its "sign in as someone else" link.
    if !html.contains(&format!("Sign in as {person}<")) {
        let doc = Html::parse_document(&html);
        let links = Selector::parse("a").unwrap();
        let switch = doc
            .select(&links)
            .find(|a| {
                a.text()
                    .collect::<String>()
                    .contains("Sign in as someone else")
            })
            .and_then(|a| a.value().attr("href"))
            .map(str::to_owned);
        if let Some(switch) = switch {
            html = client
                .http
                .get(absolute(client, &switch))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
        }
    }
    let (action, fields) = form_with_button(&html, &format!("Sign in as {person}"))
        .unwrap_or_else(|| panic!("no sign-in for {person} on:\n{html}"));
    let consent = client
        .http
        .post(absolute(client, &action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let html = consent.text().await.unwrap();
    let (action, fields) = form_with_button(&html, decision)
        .unwrap_or_else(|| panic!("no {decision} button on:\n{html}"));
    let back = client
        .http
        .post(absolute(client, &action))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(
        back.status().is_redirection(),
        "the tool sends the browser back"
    );
    let callback = location(&back);
    assert!(callback.contains("/oauth/"), "{callback}");
    client
        .http
        .get(absolute(client, &callback))
        .send()
        .await
        .unwrap()
}

/// Presses "Turn it on" (company or personal) and returns where the app sends the browser.
pub async fn start(client: &Client, page: &str, action: &str, fields: &[(&str, &str)]) -> String {
    let response = client.post_form(page, action, fields).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "turning on redirects"
    );
    location(&response)
}

/// The whole OAuth round trip; returns the clean URL the app lands on.
/// A fresh app where Olivia Owner signed up Acme and turned `tool` on, signing in at the
/// tool as its `person`; answers the app and her signed-in client.
pub async fn acme_with(tool: &str, person: &str) -> (TestApp, Client) {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    company_on(&owner, tool, person).await;
    (app, owner)
}

/// Turns `tool` on for the company from its details page, signing in at the tool as
/// `person` and allowing; answers where the browser lands.
pub async fn company_on(owner: &Client, tool: &str, person: &str) -> String {
    let page = format!("/company/integrations/{tool}");
    connect(owner, &page, &format!("{page}/on"), person, "Allow").await
}

/// Turns `tool` on for oneself from Integration Settings, signing in as `person` and
/// allowing; answers where the browser lands.
pub async fn personal_on(client: &Client, tool: &str, person: &str) -> String {
    let on = format!("/integrations/{tool}/on");
    connect(client, "/integrations", &on, person, "Allow").await
}

pub async fn connect(
    client: &Client,
    page: &str,
    action: &str,
    person: &str,
    decision: &str,
) -> String {
    let authorize = start(client, page, action, &[]).await;
    let answer = sign_in_at_tool(client, &authorize, person, decision).await;
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the callback redirects to a clean URL"
    );
    let clean = location(&answer);
    assert!(
        !clean.contains("code=") && !clean.contains("state="),
        "{clean}"
    );
    clean
}
