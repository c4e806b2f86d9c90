//! Basecamp 3/4: Launchpad OAuth, `authorization.json`, `/my/assignments.json`.

use serde::Deserialize;
use url::Url;

use super::http::{self, id_string, Reply};
use super::oauth;
use super::{Answer, Connector, Grant, PageAsk, SignIn, Tool};
use super::{
    ConnectorError, Credentials, Identity, PageFetch, ProviderConfig, RemoteAccount, RemoteTask,
    TaskPage,
};

/// Launchpad's sign-in page and token endpoint, under its base URL.
const AUTHORIZE: &[&str] = &["authorization", "new"];
const TOKEN: &[&str] = &["authorization", "token"];

pub(super) struct Basecamp;

#[async_trait::async_trait]
impl Connector for Basecamp {
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url> {
        // The sign-in page is standard OAuth with PKCE (the `oauth2` crate makes it); the
        // token endpoint is not, and is spoken by hand below.
        let endpoints = oauth::Endpoints::under_base(cfg, AUTHORIZE, TOKEN, false)?;
        Ok(oauth::authorize_url(&endpoints, ask, &[], &[]))
    }

    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials> {
        let id = http::client_id(tool.cfg)?;
        let secret = http::client_secret(tool.cfg)?;
        let standard = [
            ("grant_type", "authorization_code"),
            ("client_id", id),
            ("client_secret", secret),
            ("redirect_uri", grant.redirect_uri.as_str()),
            ("code", grant.code),
            ("code_verifier", grant.verifier),
        ];
        let legacy = [
            ("type", "web_server"),
            ("client_id", id),
            ("client_secret", secret),
            ("redirect_uri", grant.redirect_uri.as_str()),
            ("code", grant.code),
        ];
        let reply = token_request(tool.http, tool.cfg, &standard, &legacy).await?;
        if !reply.is_success() {
            return Err(http::oauth_error(&reply));
        }
        let answer: http::TokenAnswer = reply.json()?;
        Ok(answer.into_credentials(None, serde_json::json!({})))
    }

    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials> {
        let id = http::client_id(tool.cfg)?;
        let secret = http::client_secret(tool.cfg)?;
        let token = http::refresh_token(creds)?;
        let standard = [
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", id),
            ("client_secret", secret),
        ];
        let legacy = [
            ("type", "refresh"),
            ("refresh_token", token),
            ("client_id", id),
            ("client_secret", secret),
        ];
        let reply = token_request(tool.http, tool.cfg, &standard, &legacy).await?;
        if !reply.is_success() {
            return Err(http::oauth_error(&reply));
        }
        let answer: http::TokenAnswer = reply.json()?;
        Ok(answer.into_credentials(Some(creds), creds.extra.clone()))
    }

    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let url = http::endpoint(&tool.cfg.base_url, &["authorization.json"])?;
        let reply = http::send(tool.cfg, http::bearer(tool.http.get(url), creds)).await?;
        if !reply.is_success() {
            return Err(api_error(&reply));
        }
        parse_identity(&reply, tool.cfg)
    }

    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        let base = account_base(tool.cfg, ask.account)?;
        if let Some(next) = ask.cursor {
            let next = http::tool_url(next)?;
            if !http::is_under(&next, &base) {
                return Err(ConnectorError::BadResponse(
                    "the saved page link points outside the account".into(),
                ));
            }
            return report_page(
                tool.http,
                tool.cfg,
                ask.creds,
                &base,
                next,
                ReportPage::Linked,
                ask.etag,
            )
            .await;
        }
        let url = http::endpoint(&base, &["my", "assignments.json"])?;
        let Some(reply) = http::send_if_none_match(
            tool.cfg,
            http::bearer(tool.http.get(url), ask.creds),
            ask.etag,
        )
        .await?
        else {
            return Ok(PageFetch::NotModified);
        };
        if reply.is_success() {
            return Ok(PageFetch::Page(TaskPage {
                tasks: parse_assignments(&reply)?,
                next: None,
                etag: reply.etag(),
            }));
        }
        // `/my/assignments.json` is recent (2026); older deployments answer 404 and still have
        // the assigned-to-do report. An inactive account also answers 404, but says so.
        if reply.status.as_u16() != 404 || reply.header("reason").is_some() {
            return Err(api_error(&reply));
        }
        let url = http::endpoint(&base, &["my", "profile.json"])?;
        let reply = http::send(tool.cfg, http::bearer(tool.http.get(url), ask.creds)).await?;
        if !reply.is_success() {
            return Err(api_error(&reply));
        }
        let profile: Profile = reply.json()?;
        let file = format!("{}.json", profile.id);
        let url = http::endpoint(&base, &["reports", "todos", "assigned", &file])?;
        // The first page has no cursor of its own: the ETag kept for "no cursor" is
        // `/my/assignments.json`'s, so this one is neither asked for conditionally nor kept.
        let page = report_page(
            tool.http,
            tool.cfg,
            ask.creds,
            &base,
            url,
            ReportPage::First,
            None,
        )
        .await?;
        Ok(match page {
            PageFetch::Page(page) => PageFetch::Page(TaskPage { etag: None, ..page }),
            other => other,
        })
    }
}

/// Whether a refused token request may be an old Launchpad that only knows `type=…`.
fn legacy_may_help(reply: &Reply) -> bool {
    let status = reply.status.as_u16();
    if status != 400 && status != 422 {
        return false;
    }
    !matches!(
        http::oauth_error_code(reply).as_deref(),
        Some("invalid_grant" | "invalid_client" | "unauthorized_client" | "access_denied")
    )
}

async fn token_request(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    standard: &[(&str, &str)],
    legacy: &[(&str, &str)],
) -> Result<Reply, ConnectorError> {
    let url = http::endpoint(&cfg.base_url, TOKEN)?;
    let reply = http::send(cfg, http_client.post(url.clone()).form(standard)).await?;
    if reply.is_success() || !legacy_may_help(&reply) {
        return Ok(reply);
    }
    http::send(cfg, http_client.post(url).form(legacy)).await
}

#[derive(Deserialize)]
struct Authorization {
    identity: LaunchpadIdentity,
    #[serde(default)]
    accounts: Vec<LaunchpadAccount>,
}

#[derive(Deserialize)]
struct LaunchpadIdentity {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    email_address: Option<String>,
}

#[derive(Deserialize)]
struct LaunchpadAccount {
    product: String,
    #[serde(deserialize_with = "id_string")]
    id: String,
    name: String,
    href: String,
}

fn parse_identity(reply: &Reply, cfg: &ProviderConfig) -> Result<Identity, ConnectorError> {
    let auth: Authorization = reply.json()?;
    let mut accounts = Vec::new();
    for a in auth.accounts.into_iter().filter(|a| a.product == "bc3") {
        // Every request for the account's tasks carries the person's token there.
        let href = http::trusted_url(&a.href, cfg)?;
        accounts.push(RemoteAccount {
            id: a.id,
            name: a.name,
            api_base: Some(href.as_str().trim_end_matches('/').to_string()),
        });
    }
    let name = http::full_name([auth.identity.first_name, auth.identity.last_name]);
    Ok(Identity {
        external_user_id: auth.identity.id,
        name,
        email: auth.identity.email_address,
        accounts,
    })
}

fn api_error(reply: &Reply) -> ConnectorError {
    http::generic_error(reply)
}

#[derive(Deserialize)]
struct Assignments {
    #[serde(default)]
    priorities: Vec<Assignment>,
    #[serde(default)]
    non_priorities: Vec<Assignment>,
}

#[derive(Deserialize)]
struct Assignment {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    app_url: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    bucket: Option<Bucket>,
    #[serde(default)]
    completed: bool,
    #[serde(default)]
    children: Vec<Assignment>,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct AssignedReport {
    #[serde(default)]
    todos: Vec<Todo>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

#[derive(Deserialize)]
struct Todo {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    completed: bool,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    app_url: Option<String>,
    #[serde(default)]
    bucket: Option<Bucket>,
    #[serde(default)]
    updated_at: Option<String>,
}

fn flatten_assignment(a: Assignment, project: Option<&str>, out: &mut Vec<RemoteTask>) {
    let project = a
        .bucket
        .as_ref()
        .map(|b| b.name.as_str())
        .or(project)
        .map(str::to_string);
    if !a.completed {
        out.push(RemoteTask {
            external_id: a.id,
            title: a.content.unwrap_or_default(),
            status: "active".into(),
            project: project.clone(),
            due_on: a.due_on.as_deref().and_then(http::date_prefix),
            url: a.app_url,
            closed: false,
            updated_at: None,
        });
    }
    // Card steps come folded into their card; each step is a task of its own.
    for child in a.children {
        flatten_assignment(child, project.as_deref(), out);
    }
}

fn parse_assignments(reply: &Reply) -> Result<Vec<RemoteTask>, ConnectorError> {
    let all: Assignments = reply.json()?;
    let mut tasks = Vec::new();
    for a in all.priorities.into_iter().chain(all.non_priorities) {
        flatten_assignment(a, None, &mut tasks);
    }
    Ok(tasks)
}

fn parse_report(reply: &Reply) -> Result<Vec<RemoteTask>, ConnectorError> {
    let report: AssignedReport = reply.json()?;
    Ok(report
        .todos
        .into_iter()
        .filter(|t| !t.completed)
        .map(|t| RemoteTask {
            external_id: t.id,
            title: t.title.or(t.content).unwrap_or_default(),
            status: t.status.unwrap_or_else(|| "active".into()),
            project: t.bucket.map(|b| b.name),
            due_on: t.due_on.as_deref().and_then(http::date_prefix),
            url: t.app_url,
            closed: false,
            updated_at: t.updated_at,
        })
        .collect())
}

/// The account's API base as a URL; the cursor and every request must stay under it.
fn account_base(cfg: &ProviderConfig, account: &RemoteAccount) -> Result<Url, ConnectorError> {
    let raw = account
        .api_base
        .as_deref()
        .ok_or(ConnectorError::NotConfigured(
            "the Basecamp account has no API address",
        ))?;
    http::trusted_url(raw, cfg)
}

/// Which page of the assigned to-dos report is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReportPage {
    /// The first, at the URL built from the person's id.
    First,
    /// One a `Link` header named: a 404 there is a broken link, not a missing account.
    Linked,
}

/// A page of the assigned to-dos report, conditional on `etag`.
async fn report_page(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    creds: &Credentials,
    base: &Url,
    url: Url,
    which: ReportPage,
    etag: Option<&str>,
) -> Result<PageFetch, ConnectorError> {
    let Some(reply) =
        http::send_if_none_match(cfg, http::bearer(http_client.get(url.clone()), creds), etag)
            .await?
    else {
        return Ok(PageFetch::NotModified);
    };
    if !reply.is_success() {
        // An inactive account answers 404 everywhere, and says so.
        if which == ReportPage::Linked
            && reply.status.as_u16() == 404
            && reply.header("reason").is_none()
        {
            return Err(ConnectorError::PageGone);
        }
        return Err(api_error(&reply));
    }
    let tasks = parse_report(&reply)?;
    let next = match http::next_link(&reply.headers) {
        Some(raw) => {
            let next = http::link_target(&url, &raw)?;
            if !http::is_under(&next, base) {
                return Err(ConnectorError::BadResponse(
                    "the next page link points outside the account".into(),
                ));
            }
            Some(next.to_string())
        }
        None => None,
    };
    Ok(PageFetch::Page(TaskPage {
        tasks,
        next,
        etag: reply.etag(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::{parse_assignments, parse_identity, parse_report};
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn parses_the_documented_authorization_json() {
        let cfg = config(ProviderKind::Basecamp, "https://launchpad.37signals.com");
        let id = parse_identity(&reply(&fixture("basecamp/authorization.json")), &cfg).unwrap();
        assert_eq!(id.external_user_id, "9999999");
        assert_eq!(id.name, "Jason Fried");
        assert_eq!(id.email.as_deref(), Some("jason@basecamp.com"));
        assert_eq!(
            id.accounts,
            vec![RemoteAccount {
                id: "99999999".into(),
                name: "Honcho Design".into(),
                api_base: Some("https://3.basecampapi.com/99999999".into()),
            }]
        );
    }

    #[test]
    fn ignores_accounts_of_other_products() {
        let body = r#"{"identity":{"id":1,"first_name":"A","last_name":"B","email_address":"a@b.test"},
          "accounts":[{"product":"bcx","id":1,"name":"Old","href":"https://basecamp.com/1/api/v1","app_href":"x"},
                      {"product":"bc3","id":2,"name":"New","href":"https://3.basecampapi.com/2","app_href":"y"}]}"#;
        let cfg = config(ProviderKind::Basecamp, "https://launchpad.37signals.com");
        let id = parse_identity(&reply(body), &cfg).unwrap();
        assert_eq!(id.accounts.len(), 1);
        assert_eq!(id.accounts[0].name, "New");
    }

    #[test]
    fn parses_the_documented_my_assignments() {
        let tasks = parse_assignments(&reply(&fixture("basecamp/my_assignments.json"))).unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].external_id, "9007199254741623");
        assert_eq!(tasks[0].title, "Program the flux capacitor");
        assert_eq!(tasks[0].due_on.as_deref(), Some("2026-03-15"));
        assert_eq!(tasks[0].project.as_deref(), Some("The Leto Laptop"));
        assert!(tasks[0]
            .url
            .as_deref()
            .unwrap()
            .starts_with("https://3.basecamp.com/"));
        assert_eq!(tasks[1].due_on, None);
    }

    #[test]
    fn flattens_card_steps_and_skips_completed_ones() {
        let body = r#"{"priorities":[],"non_priorities":[{"id":1,"content":"Card","completed":false,
           "bucket":{"id":9,"name":"Proj"},"type":"Kanban::Card","children":[
             {"id":2,"content":"Step one","completed":false,"due_on":"2026-01-02"},
             {"id":3,"content":"Step two","completed":true}]}]}"#;
        let tasks = parse_assignments(&reply(body)).unwrap();
        let ids: Vec<_> = tasks.iter().map(|t| t.external_id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(tasks[1].project.as_deref(), Some("Proj"));
    }

    #[test]
    fn parses_the_documented_assigned_report() {
        let tasks = parse_report(&reply(&fixture(
            "basecamp/reports_todos_assigned_person.json",
        )))
        .unwrap();
        assert!(!tasks.is_empty());
        assert_eq!(tasks[0].external_id, "1069479164");
        assert_eq!(tasks[0].title, "Amy vs. Sharon");
        assert!(tasks[0].updated_at.is_some());
    }

    /// Person 1 in account 7 of the Basecamp at `server`.
    fn person_1(server: &MockServer) -> Connection {
        let account = RemoteAccount {
            id: "7".into(),
            name: "Acme".into(),
            api_base: Some(format!("{}/7", server.uri())),
        };
        let cfg = config(ProviderKind::Basecamp, &server.uri());
        Connection::new(cfg, bearer("at"), account, "1")
    }

    /// The first page of person 1's tasks in account 7, `etag` sent if given.
    async fn page_of(server: &MockServer, etag: Option<&str>) -> Result<PageFetch, ConnectorError> {
        person_1(server).page(None, etag).await
    }

    /// An account without "My assignments" (404), whose profile is `profile`: pages come
    /// from the report.
    async fn without_assignments(server: &MockServer, profile: &str) {
        let assignments = ResponseTemplate::new(404);
        serve(server, "GET", "/7/my/assignments.json", assignments).await;
        let profile = ResponseTemplate::new(200).set_body_string(profile);
        serve(server, "GET", "/7/my/profile.json", profile).await;
    }

    #[tokio::test]
    async fn falls_back_to_the_report_and_follows_link_headers_exactly() {
        let server = MockServer::start().await;
        without_assignments(&server, &fixture("basecamp/person.json")).await;
        let page2 = format!(
            "{}/7/reports/todos/assigned/1049715928.json?cursor=opaque-xyz",
            server.uri()
        );
        Mock::given(method("GET"))
            .and(path("/7/reports/todos/assigned/1049715928.json"))
            .and(wiremock::matchers::query_param("cursor", "opaque-xyz"))
            .respond_with(ResponseTemplate::new(200).set_body_string(
                r#"{"todos":[{"id":2,"title":"Second","completed":false,"app_url":"https://x/2"}]}"#,
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/7/reports/todos/assigned/1049715928.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("link", format!("<{page2}>; rel=\"next\"").as_str())
                    .set_body_string(r#"{"todos":[{"id":1,"title":"First","completed":false}]}"#),
            )
            .mount(&server)
            .await;
        let (tasks, pages) = person_1(&server).all_tasks().await.unwrap();
        assert_eq!(pages, 2);
        let titles: Vec<_> = tasks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["First", "Second"]);
    }

    /// The report served in geared pages of 2, with `Link` targets made by `link`
    /// from the next page's number.
    async fn paged_report(server: &MockServer, link: impl Fn(usize) -> String) {
        without_assignments(server, r#"{"id":5}"#).await;
        for page in 1..=3usize {
            let todos: Vec<_> = (0..2)
                .map(|i| {
                    let id = (page - 1) * 2 + i + 1;
                    serde_json::json!({"id": id, "title": format!("T{id}"), "completed": false})
                })
                .collect();
            let mut answer =
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"todos": todos}));
            if page < 3 {
                answer = answer.insert_header(
                    "link",
                    format!("<{}>; rel=\"next\"", link(page + 1)).as_str(),
                );
            }
            let mut mock = Mock::given(method("GET")).and(path("/7/reports/todos/assigned/5.json"));
            mock = if page == 1 {
                mock.and(wiremock::matchers::query_param_is_missing("page"))
            } else {
                mock.and(wiremock::matchers::query_param("page", page.to_string()))
            };
            mock.respond_with(answer).mount(server).await;
        }
    }

    async fn titles(server: &MockServer) -> (Vec<String>, usize) {
        let (tasks, pages) = person_1(server).all_tasks().await.unwrap();
        (tasks.into_iter().map(|t| t.title).collect(), pages)
    }

    /// The paged report, its `Link` targets absolute URLs with `sep` before the query.
    async fn absolute_report(sep: &'static str) -> MockServer {
        let server = MockServer::start().await;
        let base = server.uri();
        paged_report(&server, move |n| {
            format!("{base}/7/reports/todos/assigned/5.json{sep}page={n}")
        })
        .await;
        server
    }

    #[tokio::test]
    async fn follows_absolute_and_relative_link_headers_to_the_last_page() {
        let absolute = absolute_report("?").await;
        let relative = MockServer::start().await;
        paged_report(&relative, |n| format!("5.json?page={n}")).await;
        for server in [&absolute, &relative] {
            let (titles, pages) = titles(server).await;
            assert_eq!(titles, ["T1", "T2", "T3", "T4", "T5", "T6"]);
            assert_eq!(pages, 3);
        }
    }

    #[tokio::test]
    async fn a_broken_next_page_link_is_a_page_gone_not_a_missing_account() {
        // The sandbox's old mistake: the `?` encoded into the path.
        let server = absolute_report("%3F").await;
        let first = page_of(&server, None).await.unwrap().into_page().unwrap();
        assert_eq!(first.tasks.len(), 2);
        let next = first.next.as_deref();
        let err = person_1(&server).page(next, None).await.unwrap_err();
        assert_eq!(err, ConnectorError::PageGone);
        assert_eq!(err.code(), "TB-PAGE-GONE");
    }

    #[tokio::test]
    async fn refuses_a_next_link_to_another_host_or_a_longer_account_id() {
        let server = MockServer::start().await;
        for next in [
            format!("{}/77/reports/x.json", server.uri()),
            "https://evil.test/7/x.json".to_owned(),
        ] {
            server.reset().await;
            without_assignments(&server, r#"{"id":5}"#).await;
            let link = format!("<{next}>; rel=\"next\"");
            Mock::given(method("GET"))
                .and(path("/7/reports/todos/assigned/5.json"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header("link", link.as_str())
                        .set_body_string(r#"{"todos":[]}"#),
                )
                .mount(&server)
                .await;
            let err = page_of(&server, None).await.unwrap_err();
            assert!(
                matches!(err, ConnectorError::BadResponse(_)),
                "{next}: {err:?}"
            );
        }
    }

    #[test]
    fn account_hrefs_must_be_https_and_public_for_a_real_launchpad() {
        let cfg = config(ProviderKind::Basecamp, "https://launchpad.37signals.com");
        for href in [
            "http://3.basecampapi.com/2",
            "https://127.0.0.1/2",
            "https://169.254.169.254/latest/meta-data",
        ] {
            let body = format!(
                r#"{{"identity":{{"id":1}},"accounts":[{{"product":"bc3","id":2,"name":"X","href":"{href}","app_href":"y"}}]}}"#
            );
            assert!(
                matches!(
                    parse_identity(&reply(&body), &cfg),
                    Err(ConnectorError::BadResponse(_))
                ),
                "{href} accepted"
            );
        }
        // A Launchpad that is itself plain http and local (a test, the sandbox).
        let local = config(ProviderKind::Basecamp, "http://127.0.0.1:9000/launchpad");
        let body = r#"{"identity":{"id":1},"accounts":[{"product":"bc3","id":2,"name":"X","href":"http://127.0.0.1:9000/api/2","app_href":"y"}]}"#;
        assert_eq!(
            parse_identity(&reply(body), &local).unwrap().accounts.len(),
            1
        );
    }

    #[tokio::test]
    async fn my_assignments_is_asked_for_again_with_its_etag() {
        let server = MockServer::start().await;
        let at = "/7/my/assignments.json";
        serve_not_modified(&server, at, "W/\"a1\"").await;
        let one = ResponseTemplate::new(200)
            .insert_header("etag", "W/\"a1\"")
            .set_body_string(
                r#"{"priorities":[],"non_priorities":[{"id":1,"content":"One","completed":false}]}"#,
            );
        serve(&server, "GET", at, one).await;
        let first = page_of(&server, None).await.unwrap().into_page().unwrap();
        assert_eq!(first.tasks.len(), 1);
        assert_eq!(first.etag.as_deref(), Some("W/\"a1\""));
        let again = page_of(&server, first.etag.as_deref()).await.unwrap();
        assert_eq!(again, PageFetch::NotModified);
    }

    #[tokio::test]
    async fn an_inactive_account_is_not_found_without_fallback() {
        let server = MockServer::start().await;
        let inactive = ResponseTemplate::new(404).insert_header("reason", "Account Inactive");
        serve(&server, "GET", "/7/my/assignments.json", inactive).await;
        let err = page_of(&server, None).await.unwrap_err();
        assert_eq!(err, ConnectorError::NotFound);
    }

    #[tokio::test]
    async fn sends_a_user_agent_and_bearer_token() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/authorization.json"))
            .and(header("user-agent", USER_AGENT))
            .and(header("authorization", "Bearer at-1"))
            .respond_with(recorded_answer(200, "basecamp/authorization.json"))
            .mount(&server)
            .await;
        let cfg = config(ProviderKind::Basecamp, &server.uri());
        let id = identity(&client(), &cfg, &bearer("at-1")).await.unwrap();
        assert_eq!(id.accounts.len(), 1);
    }

    #[tokio::test]
    async fn exchange_uses_standard_parameters_and_falls_back_to_legacy() {
        let at = "/authorization/token";
        let unsupported =
            ResponseTemplate::new(400).set_body_string(r#"{"error":"unsupported_grant_type"}"#);
        let server = token_endpoint(at, &["grant_type=authorization_code"], unsupported).await;
        let legacy = recorded_answer(200, "basecamp/token_response.json");
        serve_token(&server, at, &["type=web_server"], legacy).await;
        let cfg = config(ProviderKind::Basecamp, &server.uri());
        let c = exchange_code(&client(), &cfg, "code-1", "verifier", &callback())
            .await
            .unwrap();
        assert!(c.refresh_token.is_some());
        let in_two_weeks = time::OffsetDateTime::now_utc().unix_timestamp() + 1_209_600;
        assert!((c.expires_at.unwrap() - in_two_weeks).abs() < 60);
    }

    #[tokio::test]
    async fn invalid_grant_does_not_retry_the_legacy_form() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/authorization/token"))
            .respond_with(
                ResponseTemplate::new(400).set_body_string(r#"{"error":"invalid_grant"}"#),
            )
            .expect(1)
            .mount(&server)
            .await;
        let cfg = config(ProviderKind::Basecamp, &server.uri());
        let c = creds("at", Some("rt"), serde_json::json!({}));
        assert_eq!(
            refresh(&client(), &cfg, &c).await.unwrap_err(),
            ConnectorError::InvalidGrant
        );
    }
}
