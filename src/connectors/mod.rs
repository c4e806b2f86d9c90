//! The task tools taskbridge syncs from, one module per tool behind one interface.
//!
//! Every call takes the tool's [`ProviderConfig`] and only contacts URLs that come from it
//! or from the tool's own answers (Basecamp account `href`, Salesforce `instance_url`),
//! so the sandbox or a test server can stand in for any tool.

mod asana;
mod basecamp;
mod error;
mod github;
mod http;
mod intellinote;
mod jira;
pub mod oauth;
mod pivotal;
mod salesforce;
mod tools;

pub use tools::{Address, ToolEntry};

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

pub use error::ConnectorError;

/// A task tool taskbridge can sync from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "lowercase")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ProviderKind {
    Asana,
    Basecamp,
    GitHub,
    Intellinote,
    Jira,
    #[serde(rename = "pivotal")]
    PivotalTracker,
    Salesforce,
}

text_column!(ProviderKind);

impl AsRef<str> for ProviderKind {
    fn as_ref(&self) -> &str {
        self.slug()
    }
}

impl PartialEq<&str> for ProviderKind {
    fn eq(&self, other: &&str) -> bool {
        self.slug() == *other
    }
}

/// How a person proves to a tool who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// OAuth 2 authorization code with PKCE and state.
    OAuth,
    /// A personal API token pasted by the person.
    ApiToken,
}

impl ProviderKind {
    /// Every tool, in alphabetical order of name.
    pub const ALL: [ProviderKind; 7] = [
        ProviderKind::Asana,
        ProviderKind::Basecamp,
        ProviderKind::GitHub,
        ProviderKind::Intellinote,
        ProviderKind::Jira,
        ProviderKind::PivotalTracker,
        ProviderKind::Salesforce,
    ];

    /// The short name used in URLs and the database.
    pub fn slug(self) -> &'static str {
        self.entry().slug
    }

    /// The tool for a slug, if it is one. (It takes anything that reads as text, the
    /// tool itself included, so that callers written when the database handed out
    /// slugs as strings read the same.)
    pub fn from_slug(slug: impl AsRef<str>) -> Option<Self> {
        let slug = slug.as_ref();
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    fn as_text(self) -> &'static str {
        self.slug()
    }

    fn from_text(text: &str) -> Option<Self> {
        Self::from_slug(text)
    }

    /// The tool's name as people know it.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The tool's mark beside its name: its initial, on its colour (`.tool-<slug>`).
    pub fn mark(self) -> char {
        self.name().chars().next().unwrap_or('?')
    }

    /// How people authenticate with this tool.
    pub fn auth_kind(self) -> AuthKind {
        self.entry().auth
    }
}

/// Where a tool lives and taskbridge's OAuth client registered with it.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// Basecamp Launchpad URL, GitHub web URL (sign-in), Intellinote REST URL, Pivotal API
    /// URL or Salesforce login URL.
    pub base_url: Url,
    /// Where the tool serves its API when that is not under `base_url` (GitHub's
    /// `api.github.com`); `None` for tools that need no second address.
    pub api_url: Option<Url>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Whether `base_url` points at taskbridge's own sandbox.
    pub sandbox: bool,
    /// How much of an answer is read, and where the tool may send us.
    pub limits: ToolLimits,
}

/// What taskbridge accepts from a tool, the same for every tool of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolLimits {
    /// The most bytes of one answer read; a larger one fails with
    /// [`ConnectorError::TooLarge`] (`TASKBRIDGE_TOOL_MAX_RESPONSE_MB`).
    pub max_response_bytes: usize,
    /// The hosts Salesforce may name as an instance or identity URL besides those under
    /// the login host's own domain: a host, or `*.` and a domain for any host under it
    /// (`TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS`).
    pub salesforce_hosts: Vec<String>,
}

/// The default of [`ToolLimits::max_response_bytes`], in MiB: a page of 2,000
/// Salesforce records with every field taskbridge asks for is well under 2 MiB.
pub const DEFAULT_MAX_RESPONSE_MB: usize = 8;

/// The default of [`ToolLimits::salesforce_hosts`]: Salesforce's own domains.
pub const DEFAULT_SALESFORCE_HOSTS: [&str; 2] = ["*.salesforce.com", "*.force.com"];

impl Default for ToolLimits {
    fn default() -> Self {
        Self {
            max_response_bytes: DEFAULT_MAX_RESPONSE_MB * 1024 * 1024,
            salesforce_hosts: DEFAULT_SALESFORCE_HOSTS.map(String::from).to_vec(),
        }
    }
}

/// What taskbridge holds to act for a person in a tool.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The OAuth access token, or the Pivotal Tracker API token.
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// When the access token expires (Unix seconds), if the tool said.
    pub expires_at: Option<i64>,
    /// Tool-specific facts from the token answer (Salesforce `instance_url`, `id`, `issued_at`).
    pub extra: serde_json::Value,
}

impl Credentials {
    /// Credentials for a tool that takes a personal API token.
    pub fn api_token(token: SecretString) -> Self {
        Self {
            access_token: token,
            refresh_token: None,
            expires_at: None,
            extra: serde_json::Value::Null,
        }
    }
}

/// Who the connected person is in the tool, and the accounts they can sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub external_user_id: String,
    pub name: String,
    pub email: Option<String>,
    pub accounts: Vec<RemoteAccount>,
}

/// One account (Basecamp account, Salesforce org, Intellinote org) a person can sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteAccount {
    pub id: String,
    pub name: String,
    /// The account's API root where the tool gives one (Basecamp `href`, Salesforce `instance_url`).
    pub api_base: Option<String>,
}

/// One task assigned to the person, in taskbridge's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTask {
    pub external_id: String,
    pub title: String,
    pub status: String,
    pub project: Option<String>,
    /// Due date as `YYYY-MM-DD`.
    pub due_on: Option<String>,
    /// Where to open the task in the tool.
    pub url: Option<String>,
    pub closed: bool,
    pub updated_at: Option<String>,
}

/// One page of tasks and the opaque cursor for the next, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskPage {
    pub tasks: Vec<RemoteTask>,
    pub next: Option<String>,
    /// The page's `ETag`, where the tool sends one: asking for the same cursor again with
    /// it gives [`PageFetch::NotModified`] while the page has not changed.
    pub etag: Option<String>,
}

/// What asking for a page of tasks gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageFetch {
    Page(TaskPage),
    /// The tool answered 304 to the `ETag` sent: the page is as it was when it had that
    /// `ETag` (the same tasks, the same cursor after it). Only given when an `ETag` was sent.
    NotModified,
}

impl PageFetch {
    /// The page, treating "not modified" as a page the tool did not send.
    pub fn into_page(self) -> Result<TaskPage, ConnectorError> {
        match self {
            PageFetch::Page(page) => Ok(page),
            PageFetch::NotModified => Err(ConnectorError::BadResponse(
                "the tool answered 304 Not Modified to a request that was not conditional".into(),
            )),
        }
    }
}

/// Whether a task of `kind` is a pull request (GitHub's status for them), which a
/// company may choose to leave out.
pub fn is_pull_request(kind: ProviderKind, task: &RemoteTask) -> bool {
    kind == ProviderKind::GitHub && task.status == github::PULL_REQUEST_STATUS
}

/// The `User-Agent` every request carries (Basecamp refuses requests without one).
pub const USER_AGENT: &str = "taskbridge (https://github.com/taskbridge/taskbridge)";
/// How long a whole request may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client for talking to tools: no redirects, bounded time, taskbridge's User-Agent.
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    http_client_with_timeout(DEFAULT_TIMEOUT)
}

/// [`http_client`] with another total timeout (tests use a short one).
pub fn http_client_with_timeout(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .build()
}

/// A PKCE pair (RFC 7636, S256): keep the verifier secret, send the challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    /// A fresh random verifier and its S256 challenge (made by the `oauth2` crate).
    pub fn new() -> Self {
        let (challenge, verifier) = oauth::new_pkce();
        Self {
            verifier,
            challenge,
        }
    }

    /// The S256 challenge for a verifier: base64url(sha256(verifier)), unpadded.
    pub fn challenge_for(verifier: &str) -> String {
        oauth::challenge_for(verifier)
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// What a tool's answer is: the value, or what went wrong in the tool's terms.
pub type Answer<T> = Result<T, ConnectorError>;

/// How a call reaches a tool: the HTTP client, and where the tool lives.
#[derive(Clone, Copy)]
pub struct Tool<'a> {
    pub http: &'a reqwest::Client,
    pub cfg: &'a ProviderConfig,
}

/// What goes into a sign-in link.
#[derive(Clone, Copy)]
pub struct SignIn<'a> {
    pub redirect_uri: &'a Url,
    pub state: &'a str,
    pub pkce: &'a Pkce,
    /// Ask the tool to show its sign-in again where it supports that (Salesforce, GitHub).
    pub force_login: bool,
}

/// The authorization code from the redirect, and what proves it is ours.
#[derive(Clone, Copy)]
pub struct Grant<'a> {
    pub code: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a Url,
}

/// Which page of whose tasks.
#[derive(Clone, Copy)]
pub struct PageAsk<'a> {
    /// What taskbridge holds to act for the person.
    pub creds: &'a Credentials,
    pub account: &'a RemoteAccount,
    /// The identity's `external_user_id`.
    pub me: &'a str,
    /// `None` for the first page, then each page's `next`.
    pub cursor: Option<&'a str>,
    /// The `ETag` the page at this cursor had last time: the request is then conditional
    /// where the tool supports it, and an unchanged page is [`PageFetch::NotModified`].
    pub etag: Option<&'a str>,
}

/// One task tool, as the rest of taskbridge talks to it. Each tool's module implements
/// it; [`ToolEntry::connector`] is how callers find it.
#[async_trait::async_trait]
pub trait Connector: Sync {
    /// The tool's sign-in and consent page to send the browser to (OAuth tools only).
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url>;

    /// Trades the authorization code from the redirect for credentials.
    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials>;

    /// New credentials from the refresh token; keeps the old refresh token unless the
    /// tool rotated it. A tool with nothing to refresh answers `InvalidToken`.
    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials>;

    /// Who the credentials belong to, and which accounts they reach.
    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity>;

    /// One page of the open tasks assigned to the person in the asked account. Start
    /// with no cursor and pass each page's `next` back until it is `None`. A page's tasks
    /// and next cursor depend only on the cursor and the tool's answer, so a 304 means
    /// both are as they were. Tools without conditional requests ignore the `ETag`.
    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch>;
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for connector tests: among them each call of [`Connector`] with plain
    //! arguments, dispatched by the configuration's tool.

    use super::*;

    pub fn fixture(path: &str) -> String {
        let full = format!(
            "{}/tests/fixtures/providers/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    /// A tool's 200 answer with `body`.
    pub fn reply(body: &str) -> http::Reply {
        http::Reply {
            status: reqwest::StatusCode::OK,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// A tool's `status` answer with `body`.
    pub fn reply_with(status: u16, body: &str) -> http::Reply {
        http::Reply {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            ..reply(body)
        }
    }

    pub fn config(kind: ProviderKind, base: &str) -> ProviderConfig {
        ProviderConfig {
            kind,
            base_url: Url::parse(base).unwrap(),
            api_url: None,
            client_id: Some("client-1".into()),
            client_secret: Some(SecretString::from("secret-1")),
            sandbox: false,
            limits: ToolLimits::default(),
        }
    }

    pub fn creds(access: &str, refresh: Option<&str>, extra: serde_json::Value) -> Credentials {
        Credentials {
            access_token: SecretString::from(access),
            refresh_token: refresh.map(SecretString::from),
            expires_at: None,
            extra,
        }
    }

    pub fn client() -> reqwest::Client {
        http_client().unwrap()
    }

    /// The redirect URI the connector tests sign in with.
    pub fn callback() -> Url {
        Url::parse("https://app.test/cb").unwrap()
    }

    /// Credentials holding only the access token `access`, as a tool's answer to
    /// signing in keeps them when it sends nothing else.
    pub fn bearer(access: &str) -> Credentials {
        creds(access, None, serde_json::json!({}))
    }

    /// An account in a tool that gives it no API address of its own.
    pub fn remote_account(id: &str, name: &str) -> RemoteAccount {
        RemoteAccount {
            id: id.into(),
            name: name.into(),
            api_base: None,
        }
    }

    /// A `status` answer whose body is the recorded payload `file`.
    pub fn recorded_answer(status: u16, file: &str) -> wiremock::ResponseTemplate {
        wiremock::ResponseTemplate::new(status).set_body_string(fixture(file))
    }

    /// `server` answers `answer` to every `verb` request of `at`.
    pub async fn serve(
        server: &wiremock::MockServer,
        verb: &str,
        at: &str,
        answer: wiremock::ResponseTemplate,
    ) {
        use wiremock::matchers::{method, path};
        wiremock::Mock::given(method(verb))
            .and(path(at))
            .respond_with(answer)
            .mount(server)
            .await;
    }

    /// `server` answers a bodiless 304 to a GET of `at` that sends `If-None-Match: etag`,
    /// ahead of any other answer it has there.
    pub async fn serve_not_modified(server: &wiremock::MockServer, at: &str, etag: &str) {
        use wiremock::matchers::{header, method, path};
        wiremock::Mock::given(method("GET"))
            .and(path(at))
            .and(header("if-none-match", etag))
            .respond_with(wiremock::ResponseTemplate::new(304))
            .with_priority(1)
            .mount(server)
            .await;
    }

    /// A token endpoint at `at` that answers `answer` to a POST whose body holds each of
    /// `holds`.
    pub async fn token_endpoint(
        at: &str,
        holds: &[&str],
        answer: wiremock::ResponseTemplate,
    ) -> wiremock::MockServer {
        let server = wiremock::MockServer::start().await;
        serve_token(&server, at, holds, answer).await;
        server
    }

    /// `server` answers `answer` to a POST of `at` whose body holds each of `holds`.
    pub async fn serve_token(
        server: &wiremock::MockServer,
        at: &str,
        holds: &[&str],
        answer: wiremock::ResponseTemplate,
    ) {
        use wiremock::matchers::{body_string_contains, method, path};
        let mut mock = wiremock::Mock::given(method("POST")).and(path(at));
        for part in holds {
            mock = mock.and(body_string_contains(*part));
        }
        mock.respond_with(answer).mount(server).await;
    }

    /// The tool's sign-in link, through its connector.
    pub fn authorize_url(
        cfg: &ProviderConfig,
        redirect_uri: &Url,
        state: &str,
        pkce: &Pkce,
        force_login: bool,
    ) -> Answer<Url> {
        let ask = SignIn {
            redirect_uri,
            state,
            pkce,
            force_login,
        };
        cfg.kind.connector().authorize_url(cfg, &ask)
    }

    pub async fn exchange_code(
        http: &reqwest::Client,
        cfg: &ProviderConfig,
        code: &str,
        verifier: &str,
        redirect_uri: &Url,
    ) -> Answer<Credentials> {
        let grant = Grant {
            code,
            verifier,
            redirect_uri,
        };
        let tool = Tool { http, cfg };
        cfg.kind.connector().exchange_code(tool, &grant).await
    }

    pub async fn refresh(
        http: &reqwest::Client,
        cfg: &ProviderConfig,
        creds: &Credentials,
    ) -> Answer<Credentials> {
        cfg.kind
            .connector()
            .refresh(Tool { http, cfg }, creds)
            .await
    }

    pub async fn identity(
        http: &reqwest::Client,
        cfg: &ProviderConfig,
        creds: &Credentials,
    ) -> Answer<Identity> {
        cfg.kind
            .connector()
            .identity(Tool { http, cfg }, creds)
            .await
    }

    /// A list served by `offset` and `limit` (never more than `cap` an answer), with
    /// Pivotal Tracker's pagination headers, that can change between answers: `change`
    /// runs on the items before answer number `n` (counting from 0).
    pub struct OffsetList {
        pub items: std::sync::Mutex<Vec<serde_json::Value>>,
        pub cap: usize,
        pub answered: std::sync::atomic::AtomicUsize,
        #[allow(clippy::type_complexity)]
        pub change: Option<(
            usize,
            Box<dyn Fn(&mut Vec<serde_json::Value>) + Send + Sync>,
        )>,
    }

    impl OffsetList {
        pub fn new(items: Vec<serde_json::Value>, cap: usize) -> Self {
            Self {
                items: std::sync::Mutex::new(items),
                cap,
                answered: Default::default(),
                change: None,
            }
        }
    }

    impl wiremock::Respond for OffsetList {
        fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
            let n = self
                .answered
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut items = self.items.lock().unwrap();
            if let Some((at, change)) = &self.change {
                if *at == n {
                    change(&mut items);
                }
            }
            let q: std::collections::HashMap<String, String> =
                request.url.query_pairs().into_owned().collect();
            let offset: usize = q.get("offset").map_or(0, |o| o.parse().unwrap());
            let limit: usize = q.get("limit").map_or(100, |l| l.parse().unwrap());
            let limit = limit.min(self.cap);
            let page: Vec<_> = items.iter().skip(offset).take(limit).cloned().collect();
            wiremock::ResponseTemplate::new(200)
                .insert_header(
                    "X-Tracker-Pagination-Total",
                    items.len().to_string().as_str(),
                )
                .insert_header("X-Tracker-Pagination-Limit", limit.to_string().as_str())
                .insert_header("X-Tracker-Pagination-Offset", offset.to_string().as_str())
                .insert_header(
                    "X-Tracker-Pagination-Returned",
                    page.len().to_string().as_str(),
                )
                .set_body_json(page)
        }
    }

    /// A person's connection to a tool: who they are there and with what credentials,
    /// asked for their tasks the way the sync engine asks.
    pub struct Connection {
        pub cfg: ProviderConfig,
        pub creds: Credentials,
        pub account: RemoteAccount,
        /// The person's id in the tool.
        pub me: String,
    }

    impl Connection {
        pub fn new(
            cfg: ProviderConfig,
            creds: Credentials,
            account: RemoteAccount,
            me: &str,
        ) -> Self {
            Self {
                cfg,
                creds,
                account,
                me: me.into(),
            }
        }

        /// The page at `cursor` (the first without one), `etag` sent if given.
        pub async fn page(&self, cursor: Option<&str>, etag: Option<&str>) -> Answer<PageFetch> {
            let http = client();
            let ask = PageAsk {
                creds: &self.creds,
                account: &self.account,
                me: &self.me,
                cursor,
                etag,
            };
            let tool = Tool {
                http: &http,
                cfg: &self.cfg,
            };
            let connector = self.cfg.kind.connector();
            connector.fetch_tasks_page(tool, &ask).await
        }

        /// The first page, which must fail: its error.
        pub async fn first_page_error(&self) -> ConnectorError {
            self.page(None, None).await.unwrap_err()
        }

        /// Every task over every page, and how many pages that took; failing after 100.
        pub async fn all_tasks(&self) -> Answer<(Vec<RemoteTask>, usize)> {
            let mut tasks = Vec::new();
            let mut cursor: Option<String> = None;
            for pages in 1..=100 {
                let page = self.page(cursor.as_deref(), None).await?.into_page()?;
                tasks.extend(page.tasks);
                match page.next {
                    Some(n) => cursor = Some(n),
                    None => return Ok((tasks, pages)),
                }
            }
            panic!("more than 100 pages");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_slugs_in_alphabetical_order() {
        let names: Vec<_> = ProviderKind::ALL.iter().map(|k| k.name()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for k in ProviderKind::ALL {
            assert_eq!(ProviderKind::from_slug(k.slug()), Some(k));
        }
        assert_eq!(ProviderKind::from_slug("trello"), None);
        assert_eq!(ProviderKind::PivotalTracker.auth_kind(), AuthKind::ApiToken);
        assert_eq!(ProviderKind::Salesforce.auth_kind(), AuthKind::OAuth);
    }

    #[test]
    fn pkce_challenge_matches_rfc_7636_example() {
        assert_eq!(
            Pkce::challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let p = Pkce::new();
        use secrecy::ExposeSecret;
        assert_eq!(Pkce::challenge_for(p.verifier.expose_secret()), p.challenge);
    }

    use test_support::*;
    use wiremock::{MockServer, ResponseTemplate};

    /// Basecamp's identity call answering `response`, through the shared error mapping.
    async fn identity_answering(response: ResponseTemplate, timeout: Duration) -> ConnectorError {
        let server = MockServer::start().await;
        serve(&server, "GET", "/authorization.json", response).await;
        let cfg = config(ProviderKind::Basecamp, &server.uri());
        let http = http_client_with_timeout(timeout).unwrap();
        identity(&http, &cfg, &creds("at", None, serde_json::Value::Null))
            .await
            .unwrap_err()
    }

    const SHORT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn rate_limits_carry_retry_after_in_seconds() {
        let e = identity_answering(
            ResponseTemplate::new(429).insert_header("Retry-After", "2"),
            SHORT,
        )
        .await;
        assert_eq!(
            e,
            ConnectorError::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        assert!(e.retryable());
    }

    #[tokio::test]
    async fn rate_limits_carry_retry_after_as_an_http_date() {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(90);
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let date = at.format(&format).unwrap();
        let e = identity_answering(
            ResponseTemplate::new(429).insert_header("Retry-After", date.as_str()),
            SHORT,
        )
        .await;
        let wait = e.retry_after().unwrap().as_secs();
        assert!((85..=90).contains(&wait), "{wait}");
    }

    #[tokio::test]
    async fn server_errors_unauthorized_and_garbage_map_to_their_codes() {
        let e = identity_answering(ResponseTemplate::new(503), SHORT).await;
        assert_eq!((e.code().as_str(), e.retryable()), ("TB-TOOL-DOWN", true));
        let e = identity_answering(ResponseTemplate::new(401).set_body_string("{}"), SHORT).await;
        assert_eq!(e, ConnectorError::Unauthorized);
        let e = identity_answering(
            ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
            SHORT,
        )
        .await;
        assert_eq!(e.code(), "TB-TOOL-GARBAGE");
        assert!(!e.to_string().contains("oops"));
        let e = identity_answering(
            ResponseTemplate::new(302).insert_header("Location", "https://x.test/login"),
            SHORT,
        )
        .await;
        assert_eq!(e.code(), "TB-TOOL-ERROR");
    }

    #[tokio::test]
    async fn a_slow_tool_times_out() {
        let slow = ResponseTemplate::new(200).set_delay(Duration::from_secs(3));
        let e = identity_answering(slow, Duration::from_millis(300)).await;
        assert_eq!(e, ConnectorError::Timeout);
        assert_eq!(e.code(), "TB-TOOL-SLOW");
    }

    #[tokio::test]
    async fn an_unreachable_tool_is_a_network_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let cfg = config(ProviderKind::Basecamp, &format!("http://127.0.0.1:{port}"));
        let e = identity(
            &client(),
            &cfg,
            &creds("secret-at", None, serde_json::Value::Null),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "TB-TOOL-UNREACHABLE");
        assert!(!e.to_string().contains("secret-at"));
    }

    #[test]
    fn authorize_urls_carry_state_pkce_and_the_tools_parameters() {
        let redirect = Url::parse("https://app.test/integrations/x/callback").unwrap();
        let pkce = Pkce::new();
        let q = |kind, base: &str, force| {
            let url = authorize_url(&config(kind, base), &redirect, "st-1", &pkce, force).unwrap();
            assert!(!url.as_str().contains("secret-1"), "{url}");
            let pairs: std::collections::HashMap<String, String> =
                url.query_pairs().into_owned().collect();
            (url.path().to_string(), pairs)
        };
        // (tool, base, path, scope, what a fresh sign-in adds)
        let tools = [
            (
                ProviderKind::Asana,
                "https://app.asana.test",
                "/-/oauth_authorize",
                Some("tasks:read users:read workspaces:read"),
                None,
            ),
            (
                ProviderKind::Basecamp,
                "https://launchpad.test",
                "/authorization/new",
                None,
                None,
            ),
            (
                ProviderKind::GitHub,
                "https://github.test",
                "/login/oauth/authorize",
                Some("repo"),
                Some("select_account"),
            ),
            (
                ProviderKind::Intellinote,
                "https://api.test/rest",
                "/rest/auth/oauth2/authorization",
                Some("read,write"),
                None,
            ),
            (
                ProviderKind::Salesforce,
                "https://login.test",
                "/services/oauth2/authorize",
                Some("api refresh_token id"),
                Some("login"),
            ),
        ];
        for (kind, base, at, scope, prompt) in tools {
            let (p, q1) = q(kind, base, false);
            assert_eq!(p, at, "{kind:?}");
            assert_eq!(q1["response_type"], "code");
            assert_eq!(q1["client_id"], "client-1");
            assert_eq!(q1["state"], "st-1");
            assert_eq!(q1["code_challenge"], pkce.challenge);
            assert_eq!(q1["code_challenge_method"], "S256");
            assert_eq!(q1["redirect_uri"], redirect.as_str());
            assert_eq!(q1.get("scope").map(String::as_str), scope, "{kind:?}");
            assert!(!q1.contains_key("prompt"), "{kind:?}");
            let (_, fresh) = q(kind, base, true);
            assert_eq!(fresh.get("prompt").map(String::as_str), prompt, "{kind:?}");
        }
        assert!(authorize_url(
            &config(ProviderKind::PivotalTracker, "https://p.test"),
            &redirect,
            "s",
            &pkce,
            false
        )
        .is_err());
        let mut no_client = config(ProviderKind::Basecamp, "https://launchpad.test");
        no_client.client_id = None;
        assert_eq!(
            authorize_url(&no_client, &redirect, "s", &pkce, false)
                .unwrap_err()
                .code(),
            "TB-NOT-CONFIGURED"
        );
    }

    #[test]
    fn credentials_debug_hides_tokens() {
        let c = test_support::creds("at-secret", Some("rt-secret"), serde_json::Value::Null);
        let shown = format!("{c:?}");
        assert!(!shown.contains("at-secret") && !shown.contains("rt-secret"));
    }
}
