//! Asana: OAuth with PKCE (standard, through `connectors/oauth.rs`), `/users/me`, and
//! the tasks assigned to the person in each of their workspaces, paged by `offset`.
//!
//! Everything lives under the configured URL (`TASKBRIDGE_ASANA_URL`,
//! `https://app.asana.com`): OAuth under `/-/`, the API under `/api/1.0`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use super::http::{self, Reply};
use super::oauth;
use super::{Answer, Connector, Grant, PageAsk, PageFetch, SignIn, Tool};
use super::{
    ConnectorError, Credentials, Identity, ProviderConfig, RemoteAccount, RemoteTask, TaskPage,
};

/// What taskbridge reads: tasks (`GET /tasks`), the person (`GET /users/me`) and the
/// workspaces they belong to. An app registered with scopes must ask for them, and a
/// subset is allowed; an app registered with "full permissions" takes them as well.
const SCOPES: [&str; 3] = ["tasks:read", "users:read", "workspaces:read"];

/// The task fields taskbridge asks for: without `opt_fields` Asana answers compact
/// records (gid, name, resource_type, resource_subtype) only.
const TASK_FIELDS: &str =
    "name,completed,due_on,due_at,permalink_url,projects.name,memberships.project.name,modified_at";

/// The most Asana sends a page (and what it is asked for: unpaged lists are cut short).
const PAGE_SIZE: &str = "100";

/// Asana's standard endpoints; the secret goes with token requests only (`with_secret`),
/// never into the browser's address.
fn endpoints(cfg: &ProviderConfig, with_secret: bool) -> Answer<oauth::Endpoints<'_>> {
    let (authorize, token) = (["-", "oauth_authorize"], ["-", "oauth_token"]);
    oauth::Endpoints::under_base(cfg, &authorize, &token, with_secret)
}

pub(super) struct Asana;

#[async_trait::async_trait]
impl Connector for Asana {
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url> {
        Ok(oauth::authorize_url(
            &endpoints(cfg, false)?,
            ask,
            &SCOPES,
            &[],
        ))
    }

    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials> {
        let endpoints = endpoints(tool.cfg, true)?;
        oauth::code_to_credentials(tool, &endpoints, grant, serde_json::Value::Null).await
    }

    /// Asana sends a refresh token only when a code is exchanged; a refresh answers a new
    /// access token alone, and the first refresh token keeps working (it is not rotated).
    ///
    /// A revoked refresh token is taken to come back as `400 {"error":"invalid_grant"}`
    /// (then "needs reconnect", through the shared OAuth error mapping): that body is
    /// marked "observed" in providers-more.md, not documented by Asana.
    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials> {
        oauth::refreshed(tool, &endpoints(tool.cfg, true)?, creds).await
    }

    /// The person, and one account standing for all their workspaces: taskbridge syncs the
    /// tasks assigned to them in each workspace, so there is nothing to choose.
    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let me = me(tool.http, tool.cfg, creds).await?;
        let name = me.name.clone().unwrap_or_else(|| me.gid.clone());
        let workspaces: Vec<String> = me
            .workspaces
            .iter()
            .map(|w| w.name.clone().unwrap_or_else(|| w.gid.clone()))
            .collect();
        let account = RemoteAccount {
            id: me.gid.clone(),
            name: if workspaces.is_empty() {
                name.clone()
            } else {
                workspaces.join(", ")
            },
            api_base: None,
        };
        Ok(Identity {
            external_user_id: me.gid,
            name,
            email: me.email,
            accounts: vec![account],
        })
    }

    /// One page of the person's open tasks. A pass starts by asking who the person is, for
    /// the workspaces they are in now; it then reads each workspace's pages in turn.
    /// Requests are never conditional: Asana documents no `ETag`s (marked "unverified" in
    /// providers-more.md).
    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        let cursor = ask.cursor;
        let cursor = match cursor {
            Some(raw) => Cursor::parse(raw)?,
            None => {
                let me = me(tool.http, tool.cfg, ask.creds).await?;
                let workspaces: Vec<String> = me.workspaces.into_iter().map(|w| w.gid).collect();
                if workspaces.is_empty() {
                    return Ok(PageFetch::Page(TaskPage::default()));
                }
                Cursor {
                    workspaces,
                    offset: None,
                }
            }
        };
        let url = tasks_url(tool.cfg, &cursor)?;
        let reply = http::send(tool.cfg, http::bearer(tool.http.get(url), ask.creds)).await?;
        if !reply.is_success() {
            // Offsets expire; one Asana no longer takes is a broken cursor. (Which status an
            // expired offset gets is not documented: a 400 or 404 to a request that sent one
            // is taken as that.)
            return Err(match (&cursor.offset, api_error(&reply)) {
                (Some(_), ConnectorError::NotFound | ConnectorError::Other { status: 400, .. }) => {
                    ConnectorError::PageGone
                }
                (_, e) => e,
            });
        }
        let (tasks, offset) = parse_tasks(&reply)?;
        let next = match cursor.after(offset) {
            Some(next) => Some(next.encode()?),
            None => None,
        };
        Ok(PageFetch::Page(TaskPage {
            tasks,
            next,
            etag: None,
        }))
    }
}

fn api(cfg: &ProviderConfig, segments: &[&str]) -> Result<Url, ConnectorError> {
    let mut all = vec!["api", "1.0"];
    all.extend_from_slice(segments);
    http::endpoint(&cfg.base_url, &all)
}

#[derive(Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    #[serde(default)]
    message: Option<String>,
}

/// Maps an API error. Asana answers `{"errors":[{"message", "help", "phrase"}]}`; the
/// status says what happened, the first message says it in words.
fn api_error(reply: &Reply) -> ConnectorError {
    match reply.status.as_u16() {
        401 | 403 | 404 | 429 | 500..=599 | 300..=399 => http::generic_error(reply),
        status => {
            let message = serde_json::from_slice::<ErrorBody>(&reply.body)
                .ok()
                .and_then(|b| b.errors.into_iter().find_map(|e| e.message))
                .map(|m| m.chars().take(200).collect())
                .unwrap_or_else(|| http::short_message(&reply.body));
            ConnectorError::Other { status, message }
        }
    }
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Me {
    gid: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    workspaces: Vec<Named>,
}

#[derive(Deserialize)]
struct Named {
    gid: String,
    #[serde(default)]
    name: Option<String>,
}

async fn me(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    creds: &Credentials,
) -> Result<Me, ConnectorError> {
    let mut url = api(cfg, &["users", "me"])?;
    url.query_pairs_mut()
        .append_pair("opt_fields", "name,email,workspaces.name");
    let reply = http::send(cfg, http::bearer(http_client.get(url), creds)).await?;
    if !reply.is_success() {
        return Err(api_error(&reply));
    }
    let me: Data<Me> = reply.json()?;
    Ok(me.data)
}

/// Where a pass is: the workspaces still to read (the first one being read) and the
/// `offset` of its next page (none: its first page).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    workspaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset: Option<String>,
}

impl Cursor {
    fn parse(raw: &str) -> Result<Self, ConnectorError> {
        let bad = || ConnectorError::BadResponse("the stored Asana page cursor is broken".into());
        let cursor: Self = serde_json::from_str(raw).map_err(|_| bad())?;
        let gid_ok = |g: &String| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
        if cursor.workspaces.is_empty() || !cursor.workspaces.iter().all(gid_ok) {
            return Err(bad());
        }
        Ok(cursor)
    }

    fn encode(&self) -> Result<String, ConnectorError> {
        serde_json::to_string(self)
            .map_err(|e| ConnectorError::BadResponse(format!("encoding the page cursor: {e}")))
    }

    /// The cursor after a page of the first workspace that gave `offset` as its next.
    fn after(mut self, offset: Option<String>) -> Option<Self> {
        if offset.is_some() {
            return Some(Self { offset, ..self });
        }
        self.workspaces.remove(0);
        (!self.workspaces.is_empty()).then_some(Self {
            workspaces: self.workspaces,
            offset: None,
        })
    }
}

#[derive(Deserialize)]
struct TasksAnswer {
    data: Vec<TaskRecord>,
    #[serde(default)]
    next_page: Option<NextPage>,
}

#[derive(Deserialize)]
struct NextPage {
    #[serde(default)]
    offset: Option<String>,
}

#[derive(Deserialize)]
struct TaskRecord {
    gid: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    completed: bool,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    due_at: Option<String>,
    #[serde(default)]
    permalink_url: Option<String>,
    #[serde(default)]
    projects: Vec<Named>,
    #[serde(default)]
    memberships: Vec<Membership>,
    #[serde(default)]
    modified_at: Option<String>,
}

#[derive(Deserialize)]
struct Membership {
    #[serde(default)]
    project: Option<Named>,
}

impl TaskRecord {
    fn into_task(self) -> RemoteTask {
        let project = self
            .projects
            .into_iter()
            .chain(self.memberships.into_iter().filter_map(|m| m.project))
            .find_map(|p| p.name.filter(|n| !n.is_empty()));
        // Links come as Asana gives them: its task URLs have changed shape before.
        let url = self.permalink_url.filter(|u| http::tool_url(u).is_ok());
        RemoteTask {
            external_id: self.gid,
            title: self
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "(no name)".into()),
            status: if self.completed { "Completed" } else { "Open" }.into(),
            project,
            due_on: self
                .due_on
                .or(self.due_at)
                .as_deref()
                .and_then(http::date_prefix),
            url,
            closed: self.completed,
            updated_at: self.modified_at,
        }
    }
}

fn parse_tasks(reply: &Reply) -> Result<(Vec<RemoteTask>, Option<String>), ConnectorError> {
    let answer: TasksAnswer = reply.json()?;
    let tasks = answer.data.into_iter().map(TaskRecord::into_task).collect();
    let next = answer
        .next_page
        .and_then(|n| n.offset)
        .filter(|o| !o.is_empty());
    Ok((tasks, next))
}

/// `completed_since` as the current time: Asana then answers incomplete tasks only.
/// The keyword `now` is documented for user task lists only (providers-more.md:
/// "the keyword `now` is documented for the user-task-list endpoint"), so the
/// documented date-time form is sent instead.
fn completed_since() -> String {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "now".into())
}

fn tasks_url(cfg: &ProviderConfig, cursor: &Cursor) -> Result<Url, ConnectorError> {
    let workspace = cursor
        .workspaces
        .first()
        .ok_or_else(|| ConnectorError::BadResponse("no workspace to read".into()))?;
    let mut url = api(cfg, &["tasks"])?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("assignee", "me")
            .append_pair("workspace", workspace)
            .append_pair("completed_since", &completed_since())
            .append_pair("limit", PAGE_SIZE)
            .append_pair("opt_fields", TASK_FIELDS);
        if let Some(offset) = &cursor.offset {
            q.append_pair("offset", offset);
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::{api_error, parse_tasks, Cursor};
    use secrecy::ExposeSecret;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn maps_the_documented_error_bodies() {
        let cases = [
            (
                401,
                "error_401_missing_auth_header.json",
                ConnectorError::Unauthorized,
            ),
            (
                500,
                "error_500_server_error.json",
                ConnectorError::Server { status: 500 },
            ),
            (
                400,
                "error_400_missing_workspace.json",
                ConnectorError::Other {
                    status: 400,
                    message: "workspace: Missing input".into(),
                },
            ),
        ];
        for (status, file, want) in cases {
            let body = fixture(&format!("asana/{file}"));
            assert_eq!(api_error(&reply_with(status, &body)), want, "{file}");
        }
        let e = api_error(&reply_with(
            402,
            r#"{"errors":[{"message":"Premium only"}]}"#,
        ));
        assert_eq!(e.code(), "TB-TOOL-ERROR");
        assert!(e.to_string().contains("Premium only"), "{e}");
    }

    #[test]
    fn the_full_task_example_maps_to_a_task() {
        let full: serde_json::Value =
            serde_json::from_str(&fixture("asana/task_get_200_full.json")).unwrap();
        let body = serde_json::json!({"data": [full["data"]], "next_page": null});
        let (tasks, next) = parse_tasks(&reply(&body.to_string())).unwrap();
        assert_eq!(next, None);
        let t = &tasks[0];
        assert_eq!(t.external_id, "12345");
        assert_eq!(t.title, "Buy catnip");
        assert_eq!(t.project.as_deref(), Some("Stuff to buy"));
        assert_eq!(t.due_on.as_deref(), Some("2019-09-15"));
        assert_eq!(
            t.url.as_deref(),
            Some("https://app.asana.com/0/resource/123456789/list")
        );
        assert!(!t.closed);
        assert_eq!(t.updated_at.as_deref(), Some("2012-02-22T02:06:58.147Z"));
        // The compact records of an answer without opt_fields still read.
        let (compact, _) = parse_tasks(&reply(&fixture("asana/tasks_get_200.json"))).unwrap();
        assert_eq!(compact[0].title, "Bug Task");
        assert_eq!(compact[0].project, None);
    }

    #[test]
    fn cursors_walk_offsets_then_the_next_workspace() {
        let c = Cursor {
            workspaces: vec!["1".into(), "2".into()],
            offset: None,
        };
        let c = c.after(Some("off-1".into())).unwrap();
        assert_eq!(c.offset.as_deref(), Some("off-1"));
        let c = Cursor::parse(&c.encode().unwrap()).unwrap();
        let c = c.after(None).unwrap();
        assert_eq!(
            (c.workspaces.as_slice(), c.offset.as_deref()),
            (&["2".to_owned()][..], None)
        );
        assert_eq!(c.after(None), None);
        for bad in [
            "",
            "{}",
            r#"{"workspaces":[]}"#,
            r#"{"workspaces":["1&x=2"]}"#,
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn exchange_posts_a_form_with_the_verifier_and_expires_in_an_hour() {
        let answer =
            ResponseTemplate::new(200).set_body_string(fixture("asana/oauth_token_response.json"));
        let holds = [
            "grant_type=authorization_code",
            "code=c-1",
            "code_verifier=ver",
            "client_secret=secret-1",
        ];
        let server = token_endpoint("/-/oauth_token", &holds, answer).await;
        let cfg = config(ProviderKind::Asana, &server.uri());
        let c = exchange_code(&client(), &cfg, "c-1", "ver", &callback())
            .await
            .unwrap();
        assert_eq!(c.access_token.expose_secret(), "f6ds7fdsa69ags7ag9sd5a");
        assert_eq!(
            c.refresh_token.unwrap().expose_secret(),
            "hjkl325hjkl4325hj4kl32fjds"
        );
        let left = c.expires_at.unwrap() - time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((3590..=3600).contains(&left), "{left}");
        let request = &server.received_requests().await.unwrap()[0];
        assert_eq!(
            request.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
    }

    #[tokio::test]
    async fn refresh_keeps_the_refresh_token_asana_sends_only_once() {
        let mut body: serde_json::Value =
            serde_json::from_str(&fixture("asana/oauth_token_response.json")).unwrap();
        body.as_object_mut().unwrap().remove("refresh_token");
        body["access_token"] = "fresh".into();
        let answer = ResponseTemplate::new(200).set_body_json(body);
        let holds = ["grant_type=refresh_token", "refresh_token=keep-me"];
        let server = token_endpoint("/-/oauth_token", &holds, answer).await;
        let cfg = config(ProviderKind::Asana, &server.uri());
        let old = creds("old", Some("keep-me"), serde_json::Value::Null);
        let c = refresh(&client(), &cfg, &old).await.unwrap();
        assert_eq!(c.access_token.expose_secret(), "fresh");
        assert_eq!(c.refresh_token.unwrap().expose_secret(), "keep-me");
        assert!(c.expires_at.is_some());
    }

    #[tokio::test]
    async fn a_refused_refresh_token_needs_reconnecting() {
        // Observed, not documented: Asana answers a revoked refresh token with
        // `400 {"error":"invalid_grant"}` (providers-more.md, [A-invalid_grant]).
        let answer = ResponseTemplate::new(400).set_body_string(r#"{"error":"invalid_grant"}"#);
        let server = token_endpoint("/-/oauth_token", &[], answer).await;
        let cfg = config(ProviderKind::Asana, &server.uri());
        let old = creds("old", Some("gone"), serde_json::Value::Null);
        let e = refresh(&client(), &cfg, &old).await.unwrap_err();
        assert_eq!(e, ConnectorError::InvalidGrant);
        assert_eq!(e.code(), "TB-AUTH-REVOKED");
    }

    /// A new Asana whose `users/me` (asked with the token "at") answers the recorded
    /// person, a member of `workspaces`.
    async fn asana_with_me(workspaces: serde_json::Value) -> MockServer {
        let server = MockServer::start().await;
        let mut me: serde_json::Value =
            serde_json::from_str(&fixture("asana/users_me_get_200.json")).unwrap();
        me["data"]["workspaces"] = workspaces;
        Mock::given(method("GET"))
            .and(path("/api/1.0/users/me"))
            .and(header("authorization", "Bearer at"))
            .respond_with(ResponseTemplate::new(200).set_body_json(me))
            .mount(&server)
            .await;
        server
    }

    /// The recorded person (12345) connected to the Asana at `server` as `name`.
    fn person_12345(server: &MockServer, name: &str) -> Connection {
        let cfg = config(ProviderKind::Asana, &server.uri());
        Connection::new(cfg, bearer("at"), remote_account("12345", name), "12345")
    }

    #[tokio::test]
    async fn identity_reads_users_me_with_every_workspace_as_one_account() {
        let server = asana_with_me(serde_json::json!([
            {"gid": "111", "resource_type": "workspace", "name": "Acme"},
            {"gid": "222", "resource_type": "workspace", "name": "Acme Labs"}
        ]))
        .await;
        let cfg = config(ProviderKind::Asana, &server.uri());
        let who = identity(&client(), &cfg, &bearer("at")).await.unwrap();
        assert_eq!(who.external_user_id, "12345");
        assert_eq!(who.name, "Greg Sanchez");
        assert_eq!(who.email.as_deref(), Some("gsanchez@example.com"));
        assert_eq!(who.accounts.len(), 1);
        assert_eq!(who.accounts[0].name, "Acme, Acme Labs");
    }

    fn task(gid: &str, project: &str) -> serde_json::Value {
        serde_json::json!({"gid": gid, "name": format!("Task {gid}"), "completed": false,
            "due_on": null, "permalink_url": format!("https://app.asana.com/1/1/task/{gid}"),
            "projects": [{"gid": "9", "name": project}], "modified_at": "2026-01-01T00:00:00Z"})
    }

    fn page_of(tasks: &[serde_json::Value], offset: Option<&str>) -> ResponseTemplate {
        let next = offset.map(|o| {
            serde_json::json!({"offset": o, "path": format!("/tasks?offset={o}"),
                "uri": format!("https://app.asana.com/api/1.0/tasks?offset={o}")})
        });
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"data": tasks, "next_page": next}))
    }

    #[tokio::test]
    async fn follows_offsets_through_each_workspace_asking_for_open_tasks_and_fields() {
        let server = asana_with_me(
            serde_json::json!([{"gid": "111", "name": "Acme"}, {"gid": "222", "name": "Labs"}]),
        )
        .await;
        let tasks = || {
            Mock::given(method("GET"))
                .and(path("/api/1.0/tasks"))
                .and(query_param("assignee", "me"))
                .and(query_param("limit", "100"))
                .and(query_param("opt_fields", super::TASK_FIELDS))
        };
        tasks()
            .and(query_param("workspace", "111"))
            .and(query_param("offset", "eyJ0eXAi-2"))
            .respond_with(page_of(&[task("3", "Web")], None))
            .mount(&server)
            .await;
        tasks()
            .and(query_param("workspace", "111"))
            .respond_with(page_of(
                &[task("1", "Web"), task("2", "Web")],
                Some("eyJ0eXAi-2"),
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        tasks()
            .and(query_param("workspace", "222"))
            .respond_with(page_of(&[task("4", "Research")], None))
            .mount(&server)
            .await;
        let (got, pages) = person_12345(&server, "Acme, Labs")
            .all_tasks()
            .await
            .unwrap();
        assert_eq!(pages, 3);
        let ids: Vec<_> = got.iter().map(|t| t.external_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
        assert_eq!(got[3].project.as_deref(), Some("Research"));
        for r in server.received_requests().await.unwrap() {
            if r.url.path() == "/api/1.0/tasks" {
                let since = r
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "completed_since")
                    .unwrap()
                    .1;
                assert!(since.ends_with('Z') && since.len() == 20, "{since}");
            }
        }
    }

    async fn tasks_answering(response: ResponseTemplate, cursor: Option<&str>) -> ConnectorError {
        let server = asana_with_me(serde_json::json!([{"gid": "111", "name": "Acme"}])).await;
        serve(&server, "GET", "/api/1.0/tasks", response).await;
        let page = person_12345(&server, "Acme").page(cursor, None).await;
        page.unwrap_err()
    }

    #[tokio::test]
    async fn a_429_waits_for_retry_after() {
        let e = tasks_answering(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .set_body_string(fixture("asana/error_429_rate_limited.json")),
            None,
        )
        .await;
        assert_eq!(
            e,
            ConnectorError::RateLimited {
                retry_after: Some(std::time::Duration::from_secs(30))
            }
        );
    }

    #[tokio::test]
    async fn a_401_is_unauthorized_and_an_expired_offset_is_page_gone() {
        let e = tasks_answering(
            ResponseTemplate::new(401)
                .set_body_string(fixture("asana/error_401_missing_auth_header.json")),
            None,
        )
        .await;
        assert_eq!(e, ConnectorError::Unauthorized);
        let cursor = r#"{"workspaces":["111"],"offset":"old"}"#;
        let e = tasks_answering(
            ResponseTemplate::new(400).set_body_string(
                r#"{"errors":[{"message":"offset: Your pagination token has expired."}]}"#,
            ),
            Some(cursor),
        )
        .await;
        assert_eq!(e, ConnectorError::PageGone);
        let e = tasks_answering(
            ResponseTemplate::new(500)
                .set_body_string(fixture("asana/error_500_server_error.json")),
            None,
        )
        .await;
        assert_eq!(e.code(), "TB-TOOL-DOWN");
        assert!(!e.to_string().contains("squid"));
    }

    #[tokio::test]
    async fn a_person_in_no_workspace_has_no_tasks() {
        let server = asana_with_me(serde_json::json!([])).await;
        let (tasks, pages) = person_12345(&server, "x").all_tasks().await.unwrap();
        assert_eq!((tasks.len(), pages), (0, 1));
    }
}
