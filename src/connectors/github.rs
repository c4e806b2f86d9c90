//! GitHub: OAuth App sign-in with PKCE, `GET /user`, and the open issues and pull
//! requests assigned to the person across repositories (`GET /issues`), `Link` paging
//! and `ETag`s.
//!
//! Two addresses: the web one (`TASKBRIDGE_GITHUB_URL`, sign-in under `/login/oauth/`)
//! is `base_url`; the API (`TASKBRIDGE_GITHUB_API_URL`) is `api_url`.

use serde::Deserialize;
use time::OffsetDateTime;
use url::Url;

use super::http::{self, Reply};
use super::oauth;
use super::{Answer, Connector, Grant, PageAsk, SignIn, Tool};
use super::{ConnectorError, Credentials, Identity, PageFetch, ProviderConfig, RemoteAccount};
use super::{RemoteTask, TaskPage};

/// The REST API version taskbridge speaks (GitHub keeps an old version at least 24 months).
const API_VERSION: &str = "2022-11-28";
/// The most items GitHub sends a page.
const PAGE_SIZE: &str = "100";
/// The status a pull request shows with on My Tasks; issues show their state ("open").
pub(crate) const PULL_REQUEST_STATUS: &str = "pull request";
/// GitHub's advice when a secondary rate limit names no wait: at least a minute.
const SECONDARY_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Scopes asked for: there is no read-only scope for private repositories, and
/// without `repo` `/issues` leaves their issues out. taskbridge only reads.
const SCOPES: [&str; 1] = ["repo"];

fn endpoints(cfg: &ProviderConfig, with_secret: bool) -> Answer<oauth::Endpoints<'_>> {
    let (authorize, token) = (
        ["login", "oauth", "authorize"],
        ["login", "oauth", "access_token"],
    );
    oauth::Endpoints::under_base(cfg, &authorize, &token, with_secret)
}

/// The API root: `api_url`, which the configuration always sets for GitHub.
fn api_base(cfg: &ProviderConfig) -> Result<&Url, ConnectorError> {
    cfg.api_url.as_ref().ok_or(ConnectorError::NotConfigured(
        "the GitHub API address is not set",
    ))
}

pub(super) struct GitHub;

#[async_trait::async_trait]
impl Connector for GitHub {
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url> {
        // PKCE for OAuth Apps since 2025-07-14 (S256 only); GitHub's account picker
        // (`prompt=select_account`) stands in for a fresh sign-in.
        let relogin = [("prompt", "select_account")];
        Ok(oauth::authorize_url(
            &endpoints(cfg, false)?,
            ask,
            &SCOPES,
            &relogin,
        ))
    }

    /// The code for a token. The `oauth2` crate asks for JSON (`Accept: application/json`;
    /// GitHub answers form-encoded otherwise), and `oauth` reads an `error` in a 200 answer
    /// as the refusal it is.
    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials> {
        let endpoints = endpoints(tool.cfg, true)?;
        oauth::code_to_credentials(tool, &endpoints, grant, serde_json::json!({})).await
    }

    /// OAuth App tokens do not expire and come without a refresh token: a refused one
    /// needs the person to connect again. (A GitHub App's expiring token, which does come
    /// with one, is refreshed the standard way.)
    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials> {
        oauth::refreshed(tool, &endpoints(tool.cfg, true)?, creds).await
    }

    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let url = http::endpoint(api_base(tool.cfg)?, &["user"])?;
        let reply = http::send(tool.cfg, api_get(tool.http, creds, url)).await?;
        if !reply.is_success() {
            return Err(api_error(&reply));
        }
        Ok(identity_of(reply.json()?))
    }

    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        let url = page_url(tool.cfg, ask.cursor)?;
        let request = api_get(tool.http, ask.creds, url.clone());
        let Some(reply) = http::send_if_none_match(tool.cfg, request, ask.etag).await? else {
            return Ok(PageFetch::NotModified);
        };
        if !reply.is_success() {
            if ask.cursor.is_some() && reply.status.as_u16() == 404 {
                return Err(ConnectorError::PageGone);
            }
            return Err(api_error(&reply));
        }
        let tasks = parse_issues(&reply)?;
        let next = match http::next_link(&reply.headers) {
            Some(raw) => {
                let next = http::link_target(&url, &raw)?;
                Some(page_url(tool.cfg, Some(next.as_str()))?.to_string())
            }
            None => None,
        };
        Ok(PageFetch::Page(TaskPage {
            tasks,
            next,
            etag: reply.etag(),
        }))
    }
}

/// A request to the API with the person's token and the pinned API version.
fn api_get(
    http_client: &reqwest::Client,
    creds: &Credentials,
    url: Url,
) -> reqwest::RequestBuilder {
    http::bearer(http_client.get(url), creds)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", API_VERSION)
}

/// Maps an API error: rate limits (primary and secondary) wait as GitHub says.
fn api_error(reply: &Reply) -> ConnectorError {
    api_error_at(reply, OffsetDateTime::now_utc())
}

fn api_error_at(reply: &Reply, now: OffsetDateTime) -> ConnectorError {
    let status = reply.status.as_u16();
    if status != 403 && status != 429 {
        // 401 "Bad credentials": refused, expired or revoked (the body is "observed" in
        // providers-more.md; only the status is relied on).
        return http::generic_error(reply);
    }
    if reply.header("x-ratelimit-remaining").map(str::trim) == Some("0") {
        let reset = reply
            .header("x-ratelimit-reset")
            .and_then(|r| r.trim().parse::<i64>().ok());
        let retry_after = reset.map(|at| {
            std::time::Duration::from_secs(
                at.saturating_sub(now.unix_timestamp())
                    .max(0)
                    .unsigned_abs(),
            )
        });
        return ConnectorError::RateLimited { retry_after };
    }
    if let Some(wait) = reply
        .header("retry-after")
        .and_then(|v| http::parse_retry_after(v, now))
    {
        return ConnectorError::RateLimited {
            retry_after: Some(wait),
        };
    }
    // A secondary limit without `retry-after` says so in its message (the wording is
    // "observed" in providers-more.md, not documented as a contract).
    let message = http::short_message(&reply.body).to_ascii_lowercase();
    if message.contains("secondary rate limit") || status == 429 {
        return ConnectorError::RateLimited {
            retry_after: Some(SECONDARY_WAIT),
        };
    }
    http::generic_error(reply)
}

#[derive(Deserialize)]
struct User {
    login: String,
    id: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn identity_of(user: User) -> Identity {
    let id = user.id.to_string();
    Identity {
        accounts: vec![RemoteAccount {
            id: id.clone(),
            name: user.login.clone(),
            api_base: None,
        }],
        external_user_id: id,
        name: user
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(user.login),
        // Null unless the person made it public (or the token has the `user` scope).
        email: user.email.filter(|e| !e.is_empty()),
    }
}

#[derive(Deserialize)]
struct Issue {
    id: i64,
    title: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    repository: Option<Repository>,
    /// Present (an object) on pull requests only.
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

fn task_of(issue: Issue) -> RemoteTask {
    let is_pull = issue.pull_request.as_ref().is_some_and(|p| !p.is_null());
    let state = issue.state.unwrap_or_else(|| "open".into());
    let closed = state == "closed";
    RemoteTask {
        // On `/issues` a pull request's `id` is its issue id: one id space for both.
        external_id: issue.id.to_string(),
        title: issue.title,
        status: if is_pull {
            PULL_REQUEST_STATUS.into()
        } else {
            state
        },
        project: issue.repository.map(|r| r.full_name),
        // Issues have no due date (only their milestone has one).
        due_on: None,
        url: issue.html_url,
        closed,
        updated_at: issue.updated_at,
    }
}

fn parse_issues(reply: &Reply) -> Result<Vec<RemoteTask>, ConnectorError> {
    let issues: Vec<Issue> = reply.json()?;
    Ok(issues
        .into_iter()
        .map(task_of)
        .filter(|t| !t.closed)
        .collect())
}

/// The first page's URL: open issues and pull requests assigned to the person.
fn first_page(cfg: &ProviderConfig) -> Result<Url, ConnectorError> {
    let mut url = http::endpoint(api_base(cfg)?, &["issues"])?;
    url.query_pairs_mut()
        .append_pair("filter", "assigned")
        .append_pair("state", "open")
        .append_pair("per_page", PAGE_SIZE);
    Ok(url)
}

/// A page's URL: the first, or the `Link` kept as the cursor, which must lie under the
/// configured API (the person's token goes there).
fn page_url(cfg: &ProviderConfig, cursor: Option<&str>) -> Result<Url, ConnectorError> {
    let Some(next) = cursor else {
        return first_page(cfg);
    };
    let url = http::tool_url(next)?;
    if !http::is_under(&url, api_base(cfg)?) {
        return Err(ConnectorError::BadResponse(
            "the next page link points outside the GitHub API".into(),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::{api_error_at, parse_issues, PULL_REQUEST_STATUS};
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// GitHub at `server`: the web address at its root, the API under `/api`.
    fn github(server: &MockServer) -> ProviderConfig {
        let mut cfg = config(ProviderKind::GitHub, &server.uri());
        cfg.api_url = Some(Url::parse(&format!("{}/api", server.uri())).unwrap());
        cfg
    }

    /// Octocat (1) connected with the token "t" to the GitHub at `server`.
    fn octocat(server: &MockServer) -> Connection {
        let account = remote_account("1", "octocat");
        Connection::new(github(server), bearer("t"), account, "1")
    }

    #[test]
    fn the_documented_example_is_a_pull_request_in_its_repository() {
        let tasks = parse_issues(&reply(&fixture("github/issues_assigned_get_200.json"))).unwrap();
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!(t.external_id, "1");
        assert_eq!(t.title, "Found a bug");
        assert_eq!(t.status, PULL_REQUEST_STATUS);
        assert_eq!(t.project.as_deref(), Some("octocat/Hello-World"));
        assert_eq!(
            t.url.as_deref(),
            Some("https://github.com/octocat/Hello-World/issues/1347")
        );
        assert_eq!(t.due_on, None);
    }

    #[test]
    fn issues_and_pull_requests_are_told_apart() {
        let body = r#"[{"id":7,"title":"An issue","state":"open","repository":{"full_name":"a/b"}},
                       {"id":8,"title":"A PR","state":"open","pull_request":{"url":"x"},"repository":{"full_name":"a/b"}},
                       {"id":9,"title":"Gone","state":"closed"}]"#;
        let tasks = parse_issues(&reply(body)).unwrap();
        let seen: Vec<_> = tasks
            .iter()
            .map(|t| (t.external_id.as_str(), t.status.as_str()))
            .collect();
        assert_eq!(seen, [("7", "open"), ("8", PULL_REQUEST_STATUS)]);
    }

    #[tokio::test]
    async fn identity_is_the_user_with_the_login_as_account() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/user"))
            .and(header("authorization", "Bearer gho_1"))
            .and(header("x-github-api-version", "2022-11-28"))
            .and(header("user-agent", USER_AGENT))
            .respond_with(recorded_answer(200, "github/user_get_200.json"))
            .mount(&server)
            .await;
        let id = identity(&client(), &github(&server), &bearer("gho_1"))
            .await
            .unwrap();
        assert_eq!(id.external_user_id, "1");
        assert_eq!(id.name, "monalisa octocat");
        assert_eq!(id.email.as_deref(), Some("octocat@github.com"));
        assert_eq!(id.accounts[0].name, "octocat");
    }

    #[tokio::test]
    async fn a_null_name_and_email_fall_back_to_the_login() {
        let server = MockServer::start().await;
        let mona = r#"{"login":"mona","id":42,"name":null,"email":null}"#;
        let user = ResponseTemplate::new(200).set_body_string(mona);
        serve(&server, "GET", "/api/user", user).await;
        let id = identity(&client(), &github(&server), &bearer("t"))
            .await
            .unwrap();
        assert_eq!((id.name.as_str(), id.email), ("mona", None));
    }

    /// Three pages of two, linked the way GitHub links them, each with its ETag.
    async fn three_pages(server: &MockServer) {
        for page in 1..=3u32 {
            let items: Vec<_> = (1..=2u32)
                .map(|i| {
                    let id = (page - 1) * 2 + i;
                    let mut item = serde_json::json!({"id": id, "title": format!("T{id}"),
                        "state": "open", "repository": {"full_name": "acme/web"}});
                    if id % 3 == 0 {
                        item["pull_request"] = serde_json::json!({"url": "x"});
                    }
                    item
                })
                .collect();
            let mut answer = ResponseTemplate::new(200)
                .insert_header("etag", format!("W/\"p{page}\"").as_str())
                .set_body_json(items);
            if page < 3 {
                let link = format!(
                    "<{}/api/issues?filter=assigned&state=open&per_page=100&page={}>; rel=\"next\", <{}/api/issues?page=3>; rel=\"last\"",
                    server.uri(),
                    page + 1,
                    server.uri()
                );
                answer = answer.insert_header("link", link.as_str());
            }
            let mock = Mock::given(method("GET")).and(path("/api/issues"));
            let mock = if page == 1 {
                mock.and(query_param("filter", "assigned"))
                    .and(query_param("state", "open"))
                    .and(query_param("per_page", "100"))
                    .and(wiremock::matchers::query_param_is_missing("page"))
            } else {
                mock.and(query_param("page", page.to_string()))
            };
            mock.respond_with(answer).mount(server).await;
        }
    }

    #[tokio::test]
    async fn follows_link_headers_to_the_last_page() {
        let server = MockServer::start().await;
        three_pages(&server).await;
        let (tasks, pages) = octocat(&server).all_tasks().await.unwrap();
        assert_eq!(pages, 3);
        let ids: Vec<_> = tasks.iter().map(|t| t.external_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
        let pulls = tasks
            .iter()
            .filter(|t| t.status == PULL_REQUEST_STATUS)
            .count();
        assert_eq!(pulls, 2);
    }

    #[tokio::test]
    async fn an_unchanged_page_is_a_304() {
        let server = MockServer::start().await;
        serve_not_modified(&server, "/api/issues", "W/\"p1\"").await;
        three_pages(&server).await;
        let me = octocat(&server);
        let first = me.page(None, None).await.unwrap().into_page().unwrap();
        assert_eq!(first.etag.as_deref(), Some("W/\"p1\""));
        let again = me.page(None, Some("W/\"p1\"")).await.unwrap();
        assert_eq!(again, PageFetch::NotModified);
    }

    #[tokio::test]
    async fn a_next_link_outside_the_api_is_refused() {
        let server = MockServer::start().await;
        let elsewhere = ResponseTemplate::new(200)
            .insert_header(
                "link",
                "<https://evil.test/api/issues?page=2>; rel=\"next\"",
            )
            .set_body_string("[]");
        serve(&server, "GET", "/api/issues", elsewhere).await;
        let me = octocat(&server);
        let err = me.first_page_error().await;
        assert!(matches!(err, ConnectorError::BadResponse(_)), "{err:?}");
        let login = format!("{}/login/x", server.uri());
        let err = me.page(Some(&login), None).await.unwrap_err();
        assert!(matches!(err, ConnectorError::BadResponse(_)), "{err:?}");
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> http::Reply {
        let mut r = reply_with(status, body);
        for (k, v) in headers {
            r.headers.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        r
    }

    #[test]
    fn rate_limits_wait_until_the_reset_or_as_told() {
        let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        let reset = (now.unix_timestamp() + 90).to_string();
        let primary = answer(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            r#"{"message":"API rate limit exceeded for user ID 1."}"#,
        );
        let wait = |e: ConnectorError| e.retry_after().map(|d| d.as_secs());
        assert_eq!(wait(api_error_at(&primary, now)), Some(90));
        let secondary = answer(
            403,
            &[("retry-after", "30"), ("x-ratelimit-remaining", "4000")],
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        );
        assert_eq!(wait(api_error_at(&secondary, now)), Some(30));
        let unsaid = answer(
            403,
            &[],
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        );
        assert_eq!(wait(api_error_at(&unsaid, now)), Some(60));
        let forbidden = answer(
            403,
            &[],
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        assert_eq!(api_error_at(&forbidden, now), ConnectorError::AccessDenied);
        let bad = answer(
            401,
            &[],
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}"#,
        );
        assert_eq!(api_error_at(&bad, now), ConnectorError::Unauthorized);
    }

    #[tokio::test]
    async fn a_rate_limited_page_is_the_rate_limited_error() {
        let server = MockServer::start().await;
        let reset = (time::OffsetDateTime::now_utc().unix_timestamp() + 120).to_string();
        let limited = ResponseTemplate::new(429)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.as_str());
        serve(&server, "GET", "/api/issues", limited).await;
        let err = octocat(&server).first_page_error().await;
        assert_eq!(err.code(), "TB-RATE-LIMITED");
        let secs = err.retry_after().unwrap().as_secs();
        assert!((115..=120).contains(&secs), "{secs}");
    }

    #[tokio::test]
    async fn the_code_is_traded_with_pkce_asking_for_json() {
        let server = token_endpoint(
            "/login/oauth/access_token",
            &["code=c-1", "code_verifier=v-1", "client_secret=secret-1"],
            recorded_answer(200, "github/oauth_app_token_response_accept_json.json"),
        )
        .await;
        let c = exchange_code(&client(), &github(&server), "c-1", "v-1", &callback())
            .await
            .unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            c.access_token.expose_secret(),
            "gho_16C7e42F292c6912E7710c838347Ae178B4a"
        );
        assert!(c.refresh_token.is_none() && c.expires_at.is_none());
        let requests = server.received_requests().await.unwrap();
        assert_eq!(
            requests[0].headers.get("accept").unwrap(),
            "application/json"
        );
    }

    #[tokio::test]
    async fn a_token_error_in_a_200_is_a_refusal() {
        let at = "/login/oauth/access_token";
        let bad_code = recorded_answer(200, "github/oauth_token_error_bad_verification_code.json");
        let server = token_endpoint(at, &[], bad_code).await;
        let err = exchange_code(&client(), &github(&server), "old", "v", &callback())
            .await
            .unwrap_err();
        assert_eq!(err, ConnectorError::InvalidGrant);
        server.reset().await;
        let bad_client = ResponseTemplate::new(200).set_body_string(
            r#"{"error":"incorrect_client_credentials","error_description":"The client_id and/or client_secret passed are incorrect."}"#,
        );
        serve_token(&server, at, &[], bad_client).await;
        let err = exchange_code(&client(), &github(&server), "c", "v", &callback())
            .await
            .unwrap_err();
        assert_eq!(err, ConnectorError::ClientRejected);
    }

    #[tokio::test]
    async fn a_token_without_refresh_needs_a_reconnect() {
        let server = MockServer::start().await;
        let err = refresh(&client(), &github(&server), &bearer("gho"))
            .await
            .unwrap_err();
        assert_eq!(err, ConnectorError::InvalidGrant);
        assert!(server.received_requests().await.unwrap().is_empty());
    }
}
