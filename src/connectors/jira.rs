//! Jira Cloud: OAuth 2.0 (3LO) at `auth.atlassian.com`, the sites a sign-in reaches from
//! `accessible-resources`, `/myself`, and the open issues assigned to the person from
//! `/rest/api/3/search/jql`, paged by `nextPageToken`.
//!
//! `base_url` is the authorization server (`TASKBRIDGE_JIRA_AUTH_URL`: `/authorize`,
//! `/oauth/token`); `api_url` the API gateway (`TASKBRIDGE_JIRA_API_URL`:
//! `/oauth/token/accessible-resources`, `/ex/jira/<cloudId>/rest/api/3/…`). Every API
//! call goes through the gateway with the bearer token, never to the site's own host.
//! The site's URL (kept as the account's `api_base`) only makes the links people open.

use serde::Deserialize;
use url::Url;

use super::http::{self, id_string, Reply};
use super::{Answer, Connector, Grant, PageAsk, PageFetch, SignIn, Tool};
use super::{
    ConnectorError, Credentials, Identity, ProviderConfig, RemoteAccount, RemoteTask, TaskPage,
};

/// `read:jira-work` for the search, `read:jira-user` for `/myself`, `offline_access`
/// for a refresh token.
const SCOPES: &str = "read:jira-work read:jira-user offline_access";
/// Bounded, as `/search/jql` requires; newest first.
const JQL: &str = "assignee = currentUser() AND statusCategory != Done ORDER BY updated DESC";
/// `fields` defaults to `id` only: every field the task needs is asked for.
const FIELDS: &str = "summary,status,duedate,project,updated";
const PAGE_SIZE: &str = "50";

pub(super) struct Jira;

#[async_trait::async_trait]
impl Connector for Jira {
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url> {
        let client_id = http::client_id(cfg)?;
        // Built here rather than with `oauth::authorize_url`, which always adds a PKCE
        // challenge: Atlassian's 3LO has no PKCE; the state and the client secret guard it.
        let mut url = http::endpoint(&cfg.base_url, &["authorize"])?;
        url.query_pairs_mut()
            .append_pair("audience", "api.atlassian.com")
            .append_pair("client_id", client_id)
            .append_pair("scope", SCOPES)
            .append_pair("redirect_uri", ask.redirect_uri.as_str())
            .append_pair("state", ask.state)
            .append_pair("response_type", "code")
            .append_pair("prompt", "consent");
        Ok(url)
    }

    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials> {
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": http::client_id(tool.cfg)?,
            "client_secret": http::client_secret(tool.cfg)?,
            "code": grant.code,
            "redirect_uri": grant.redirect_uri.as_str(),
        });
        let answer = token_request(tool.http, tool.cfg, body).await?;
        Ok(answer.into_credentials(None, serde_json::json!({})))
    }

    /// New credentials, with the new refresh token: Atlassian rotates it on every refresh and
    /// disables the one sent, so the caller must store these before using them (the sync
    /// engine does). A refresh answer without a refresh token has been seen (marked
    /// "observed" in providers-more.md): the old one is then kept.
    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials> {
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "client_id": http::client_id(tool.cfg)?,
            "client_secret": http::client_secret(tool.cfg)?,
            "refresh_token": http::refresh_token(creds)?,
        });
        let answer = token_request(tool.http, tool.cfg, body).await?;
        Ok(answer.into_credentials(Some(creds), creds.extra.clone()))
    }

    /// The person (`accountId`, the same on every site) and the Jira sites the sign-in
    /// reaches, each an account to sync; with several, the person chooses. Without any
    /// Jira site there is nothing to sync, and no site to ask who the person is.
    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let api = api_base(tool.cfg)?;
        let url = http::endpoint(api, &["oauth", "token", "accessible-resources"])?;
        let sites: Vec<Site> = http::bearer_get(tool, creds, url, api_error)
            .await?
            .json()?;
        let sites: Vec<Site> = sites.into_iter().filter(Site::is_jira).collect();
        let Some(first) = sites.first() else {
            return Ok(Identity {
                external_user_id: String::new(),
                name: String::new(),
                email: None,
                accounts: Vec::new(),
            });
        };
        let url = http::endpoint(
            api,
            &["ex", "jira", &first.id, "rest", "api", "3", "myself"],
        )?;
        let me: Myself = http::bearer_get(tool, creds, url, api_error)
            .await?
            .json()?;
        Ok(Identity {
            name: me.display_name.unwrap_or_else(|| me.account_id.clone()),
            external_user_id: me.account_id,
            email: me.email_address.filter(|e| !e.is_empty()),
            accounts: sites
                .into_iter()
                .map(|s| RemoteAccount {
                    id: s.id,
                    name: s.name,
                    api_base: Some(s.url.trim_end_matches('/').to_string()),
                })
                .collect(),
        })
    }

    /// One page of the open issues assigned to the person on the account's site. Only
    /// `/search/jql`: the old `/search` answers 410 since 2025. Search is eventually
    /// consistent: an issue changed a moment ago may show on the next pass.
    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        let mut url = http::endpoint(
            api_base(tool.cfg)?,
            &[
                "ex",
                "jira",
                &ask.account.id,
                "rest",
                "api",
                "3",
                "search",
                "jql",
            ],
        )?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("jql", JQL)
                .append_pair("fields", FIELDS)
                .append_pair("maxResults", PAGE_SIZE);
            if let Some(token) = ask.cursor {
                q.append_pair("nextPageToken", token);
            }
        }
        let reply = http::bearer_get(tool, ask.creds, url, api_error).await?;
        parse_page(&reply, ask.account.api_base.as_deref()).map(PageFetch::Page)
    }
}

/// A token request. Hand-written, as Intellinote's: Atlassian's token endpoint takes a
/// JSON body, and the `oauth2` crate only sends form-encoded ones.
async fn token_request(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    body: serde_json::Value,
) -> Result<http::TokenAnswer, ConnectorError> {
    let url = http::endpoint(&cfg.base_url, &["oauth", "token"])?;
    let reply = http::send(cfg, http_client.post(url).json(&body)).await?;
    if reply.status.as_u16() == 401 {
        // A missing or wrong client secret answers `401 access_denied` (observed).
        return Err(ConnectorError::ClientRejected);
    }
    if !reply.is_success() {
        // A rotated-away or expired refresh token is `403 invalid_grant`.
        return Err(http::oauth_error(&reply));
    }
    reply.json()
}

fn api_base(cfg: &ProviderConfig) -> Result<&Url, ConnectorError> {
    cfg.api_url.as_ref().ok_or(ConnectorError::NotConfigured(
        "Jira's API address (TASKBRIDGE_JIRA_API_URL) is not set",
    ))
}

/// Jira's error bodies: `{"errorMessages":[…],"errors":{…}}` from Jira itself,
/// `{"code":401,"message":…}` from the gateway (observed). Rate limits carry
/// `Retry-After` in seconds, which the shared mapping reads.
fn api_error(reply: &Reply) -> ConnectorError {
    match http::generic_error(reply) {
        ConnectorError::Other { status, message } => ConnectorError::Other {
            status,
            message: error_message(&reply.body).unwrap_or(message),
        },
        other => other,
    }
}

fn error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorCollection {
        #[serde(default, rename = "errorMessages")]
        error_messages: Vec<String>,
    }
    let first = serde_json::from_slice::<ErrorCollection>(body)
        .ok()?
        .error_messages
        .into_iter()
        .next()?;
    Some(first.chars().take(200).collect())
}

#[derive(Deserialize)]
struct Site {
    id: String,
    name: String,
    url: String,
    #[serde(default)]
    scopes: Vec<String>,
}

impl Site {
    /// Whether the site is a Jira site. The list also holds Confluence and other
    /// products' sites. providers-more.md suggests keeping those granted
    /// `read:jira-work`; Atlassian's own example site lists `write:jira-work` and no
    /// `read:` scope, so any Jira scope counts (unverified which scopes the list repeats).
    fn is_jira(&self) -> bool {
        self.scopes.iter().any(|s| s.contains("jira"))
    }
}

#[derive(Deserialize)]
struct Myself {
    #[serde(rename = "accountId")]
    account_id: String,
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    /// Null when the person's privacy settings hide it.
    #[serde(default, rename = "emailAddress")]
    email_address: Option<String>,
}

#[derive(Deserialize)]
struct SearchResults {
    #[serde(default)]
    issues: Vec<Issue>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: Option<String>,
    #[serde(default, rename = "isLast")]
    is_last: Option<bool>,
}

#[derive(Deserialize)]
struct Issue {
    #[serde(deserialize_with = "id_string")]
    id: String,
    key: String,
    #[serde(default)]
    fields: Fields,
}

#[derive(Deserialize, Default)]
struct Fields {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    duedate: Option<String>,
    #[serde(default)]
    project: Option<Project>,
    /// A timestamp string (`2023-06-24T19:24:50.000+0000`); Atlassian's own example
    /// has a number here, which is ignored.
    #[serde(default)]
    updated: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "statusCategory")]
    category: Option<StatusCategory>,
}

#[derive(Deserialize)]
struct StatusCategory {
    #[serde(default)]
    key: Option<String>,
}

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    key: Option<String>,
}

/// `<site>/browse/<KEY>`: the convention for an issue's page; the API's `self` is a REST
/// URL on the gateway (unverified as documented, see providers-more.md).
fn browse_link(site: Option<&str>, key: &str) -> Option<String> {
    let mut url = http::tool_url(site?).ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(["browse", key]);
    Some(url.to_string())
}

fn task(issue: Issue, site: Option<&str>) -> RemoteTask {
    let f = issue.fields;
    let title = match f.summary.as_deref().map(str::trim) {
        Some(summary) if !summary.is_empty() => format!("{} {summary}", issue.key),
        _ => issue.key.clone(),
    };
    // The category keys `new`/`indeterminate`/`done` are observed; the spec's example
    // uses illustrative ones.
    let closed = f
        .status
        .as_ref()
        .and_then(|s| s.category.as_ref())
        .and_then(|c| c.key.as_deref())
        == Some("done");
    RemoteTask {
        url: browse_link(site, &issue.key),
        external_id: issue.id,
        title,
        status: f
            .status
            .and_then(|s| s.name)
            .unwrap_or_else(|| "Open".into()),
        project: f.project.and_then(|p| p.name.or(p.key)),
        due_on: f.duedate.as_deref().and_then(http::date_prefix),
        closed,
        updated_at: match f.updated {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        },
    }
}

fn parse_page(reply: &Reply, site: Option<&str>) -> Result<TaskPage, ConnectorError> {
    let results: SearchResults = reply.json()?;
    // The last page has no token (or `isLast`); a token expires after 7 days, when the
    // pass starts again from the first page.
    let next = match results.is_last {
        Some(true) => None,
        _ => results.next_page_token.filter(|t| !t.is_empty()),
    };
    Ok(TaskPage {
        tasks: results
            .issues
            .into_iter()
            .map(|i| task(i, site))
            .filter(|t| !t.closed)
            .collect(),
        next,
        etag: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Pkce, ProviderKind};
    use super::*;
    use secrecy::ExposeSecret;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn jira_config(server: &MockServer) -> ProviderConfig {
        let mut cfg = config(ProviderKind::Jira, &format!("{}/auth", server.uri()));
        cfg.api_url = Some(Url::parse(&format!("{}/api", server.uri())).unwrap());
        cfg
    }

    fn site(id: &str, name: &str, scopes: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "id": id, "name": name, "url": format!("https://{name}.atlassian.net"),
            "scopes": scopes, "avatarUrl": "https://x.test/a.png"
        })
    }

    /// acc-1, connected with the token "at" to the Acme site (cloud-1) of the Jira at
    /// `server`.
    fn acc_1(server: &MockServer) -> Connection {
        let account = RemoteAccount {
            id: "cloud-1".into(),
            name: "Acme".into(),
            api_base: Some("https://acme.atlassian.net".into()),
        };
        Connection::new(jira_config(server), bearer("at"), account, "acc-1")
    }

    /// Who holds `token` at the Jira at `server`.
    async fn identity_at(server: &MockServer, token: &str) -> Answer<Identity> {
        identity(&client(), &jira_config(server), &bearer(token)).await
    }

    #[test]
    fn the_authorize_url_asks_for_consent_the_audience_and_the_scopes_without_pkce() {
        let cfg = config(ProviderKind::Jira, "https://auth.test");
        let url = authorize_url(&cfg, &callback(), "st-1", &Pkce::new(), false).unwrap();
        assert_eq!(url.path(), "/authorize");
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["audience"], "api.atlassian.com");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["scope"], "read:jira-work read:jira-user offline_access");
        assert_eq!(q["state"], "st-1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "client-1");
        assert!(!q.contains_key("code_challenge"));
    }

    #[tokio::test]
    async fn the_code_exchange_sends_json_with_the_client_secret() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/auth/oauth/token"))
            .and(header("content-type", "application/json"))
            .and(body_json(serde_json::json!({
                "grant_type": "authorization_code", "client_id": "client-1",
                "client_secret": "secret-1", "code": "c-1", "redirect_uri": "https://app.test/cb"
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600,
                "scope": SCOPES, "token_type": "bearer"
            })))
            .mount(&server)
            .await;
        let creds = exchange_code(&client(), &jira_config(&server), "c-1", "v", &callback())
            .await
            .unwrap();
        assert_eq!(creds.access_token.expose_secret(), "at-1");
        assert_eq!(creds.refresh_token.unwrap().expose_secret(), "rt-1");
        assert!(creds.expires_at.is_some());
    }

    #[tokio::test]
    async fn a_refresh_returns_the_rotated_refresh_token_and_a_spent_one_is_invalid_grant() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/auth/oauth/token"))
            .and(body_json(serde_json::json!({
                "grant_type": "refresh_token", "client_id": "client-1",
                "client_secret": "secret-1", "refresh_token": "rt-1"
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600
            })))
            .mount(&server)
            .await;
        let spent = recorded_answer(403, "jira/oauth_refresh_error_403_invalid_grant.json");
        serve_token(&server, "/auth/oauth/token", &[], spent).await;
        let cfg = jira_config(&server);
        let old = creds("at-1", Some("rt-1"), serde_json::json!({}));
        let fresh = refresh(&client(), &cfg, &old).await.unwrap();
        assert_eq!(fresh.access_token.expose_secret(), "at-2");
        assert_eq!(
            fresh.refresh_token.as_ref().unwrap().expose_secret(),
            "rt-2"
        );
        let spent = refresh(
            &client(),
            &cfg,
            &creds("at-2", Some("rt-0"), serde_json::json!({})),
        )
        .await
        .unwrap_err();
        assert_eq!(spent, ConnectorError::InvalidGrant);
    }

    #[tokio::test]
    async fn a_refused_client_secret_is_the_client_rejected() {
        let server = token_endpoint(
            "/auth/oauth/token",
            &[],
            ResponseTemplate::new(401).set_body_json(
                serde_json::json!({"error": "access_denied", "error_description": "Unauthorized"}),
            ),
        )
        .await;
        let e = exchange_code(&client(), &jira_config(&server), "c", "v", &callback())
            .await
            .unwrap_err();
        assert_eq!(e, ConnectorError::ClientRejected);
    }

    #[tokio::test]
    async fn a_refresh_answer_without_a_refresh_token_keeps_the_old_one() {
        let answer = ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"access_token": "at-2", "expires_in": 3600}));
        let server = token_endpoint("/auth/oauth/token", &[], answer).await;
        let old = creds("at-1", Some("rt-1"), serde_json::json!({}));
        let fresh = refresh(&client(), &jira_config(&server), &old)
            .await
            .unwrap();
        assert_eq!(fresh.refresh_token.unwrap().expose_secret(), "rt-1");
    }

    #[tokio::test]
    async fn identity_reads_the_official_payloads() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/oauth/token/accessible-resources"))
            .and(header("authorization", "Bearer at-1"))
            .respond_with(recorded_answer(200, "jira/accessible_resources.json"))
            .mount(&server)
            .await;
        let myself = "/api/ex/jira/1324a887-45db-1bf4-1e99-ef0ff456d421/rest/api/3/myself";
        let mia = recorded_answer(200, "jira/myself.json");
        serve(&server, "GET", myself, mia).await;
        let me = identity_at(&server, "at-1").await.unwrap();
        assert_eq!(me.external_user_id, "5b10a2844c20165700ede21g");
        assert_eq!(me.name, "Mia Krystof");
        assert_eq!(me.email.as_deref(), Some("mia@example.com"));
        assert_eq!(
            me.accounts,
            vec![RemoteAccount {
                id: "1324a887-45db-1bf4-1e99-ef0ff456d421".into(),
                name: "Site name".into(),
                api_base: Some("https://your-domain.atlassian.net".into()),
            }]
        );
    }

    #[tokio::test]
    async fn several_sites_are_each_an_account_and_confluence_ones_are_left_out() {
        let server = MockServer::start().await;
        let sites = serde_json::json!([
            site("c-wiki", "acme-wiki", &["read:confluence-content.all"]),
            site("c-1", "acme", &["read:jira-work", "read:jira-user"]),
            site("c-2", "globex", &["read:jira-work", "read:jira-user"]),
        ]);
        let resources = "/api/oauth/token/accessible-resources";
        let sites = ResponseTemplate::new(200).set_body_json(sites);
        serve(&server, "GET", resources, sites).await;
        let sam = ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accountId": "acc-1", "displayName": "Sam", "emailAddress": null
        }));
        serve(&server, "GET", "/api/ex/jira/c-1/rest/api/3/myself", sam).await;
        let me = identity_at(&server, "at").await.unwrap();
        let ids: Vec<_> = me.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["c-1", "c-2"]);
        assert_eq!(me.email, None, "a hidden email is null");

        let only_wiki = MockServer::start().await;
        let wiki = site("c-wiki", "acme-wiki", &["read:confluence-content.all"]);
        let wiki = ResponseTemplate::new(200).set_body_json(serde_json::json!([wiki]));
        serve(&only_wiki, "GET", resources, wiki).await;
        let me = identity_at(&only_wiki, "at").await.unwrap();
        assert!(me.accounts.is_empty());
    }

    fn issue(id: u32, key: &str, summary: &str) -> serde_json::Value {
        serde_json::json!({
            "id": id.to_string(), "key": key, "self": "https://api.test/issue",
            "fields": {
                "summary": summary,
                "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "duedate": "2026-12-24",
                "project": {"id": "10000", "key": "PROJ", "name": "Project One"},
                "updated": "2026-12-01T10:00:00.000+0000"
            }
        })
    }

    #[tokio::test]
    async fn issues_are_followed_page_by_page_through_next_page_tokens() {
        let server = MockServer::start().await;
        let search = "/api/ex/jira/cloud-1/rest/api/3/search/jql";
        Mock::given(method("GET"))
            .and(path(search))
            .and(query_param("nextPageToken", "tok-2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "issues": [issue(3, "PROJ-3", "Third")], "isLast": true
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(search))
            .and(query_param("jql", JQL))
            .and(query_param("fields", FIELDS))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "issues": [issue(1, "PROJ-1", "Fix the login"), issue(2, "PROJ-2", "Second")],
                "nextPageToken": "tok-2", "isLast": false
            })))
            .mount(&server)
            .await;
        let (tasks, pages) = acc_1(&server).all_tasks().await.unwrap();
        assert_eq!(pages, 2);
        assert_eq!(tasks.len(), 3);
        let first = &tasks[0];
        assert_eq!(first.external_id, "1");
        assert_eq!(first.title, "PROJ-1 Fix the login");
        assert_eq!(first.status, "In Progress");
        assert_eq!(first.project.as_deref(), Some("Project One"));
        assert_eq!(first.due_on.as_deref(), Some("2026-12-24"));
        assert_eq!(
            first.url.as_deref(),
            Some("https://acme.atlassian.net/browse/PROJ-1")
        );
        assert_eq!(
            first.updated_at.as_deref(),
            Some("2026-12-01T10:00:00.000+0000")
        );
        for r in server.received_requests().await.unwrap() {
            assert!(
                r.url.path().ends_with("/search/jql"),
                "never the old /search"
            );
        }
    }

    #[tokio::test]
    async fn the_official_search_example_reads_as_one_last_page() {
        let server = MockServer::start().await;
        let search = "/api/ex/jira/cloud-1/rest/api/3/search/jql";
        let example = recorded_answer(200, "jira/search_jql_get_200.json");
        serve(&server, "GET", search, example).await;
        let page = acc_1(&server).page(None, None).await.unwrap();
        let page = page.into_page().unwrap();
        assert_eq!(page.next, None);
        assert_eq!(page.tasks.len(), 1);
        let t = &page.tasks[0];
        assert_eq!(
            t.title, "ED-1",
            "no summary in the example: the key stands alone"
        );
        assert_eq!(t.project.as_deref(), Some("Example"));
        assert_eq!(
            t.updated_at, None,
            "the example's number is not a timestamp"
        );
    }

    async fn search_answering(response: ResponseTemplate) -> ConnectorError {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        acc_1(&server).first_page_error().await
    }

    #[tokio::test]
    async fn errors_map_to_their_codes() {
        let cases = [
            (
                ResponseTemplate::new(401)
                    .set_body_json(serde_json::json!({"code": 401, "message": "Unauthorized"})),
                ConnectorError::Unauthorized,
            ),
            (
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "7")
                    .insert_header("X-RateLimit-Reset", "2026-12-03T09:00Z"),
                ConnectorError::RateLimited {
                    retry_after: Some(std::time::Duration::from_secs(7)),
                },
            ),
            (
                recorded_answer(404, "jira/error_collection_404_example.json"),
                ConnectorError::NotFound,
            ),
            (
                ResponseTemplate::new(503),
                ConnectorError::Server { status: 503 },
            ),
        ];
        for (answer, want) in cases {
            assert_eq!(search_answering(answer).await, want);
        }
        let e = search_answering(recorded_answer(
            410,
            "jira/observed_410_old_search_removed.json",
        ))
        .await;
        assert!(
            matches!(&e, ConnectorError::Other { status: 410, message } if message.starts_with("The requested API has been removed")),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn without_an_api_address_nothing_is_called() {
        let cfg = config(ProviderKind::Jira, "https://auth.test");
        let e = identity(&client(), &cfg, &bearer("at")).await.unwrap_err();
        assert_eq!(e.code(), "TB-NOT-CONFIGURED");
    }
}
