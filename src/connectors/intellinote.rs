//! Intellinote: OAuth with JSON token requests, `/v2/user/-`, TASK notes per org.

use serde::Deserialize;
use url::Url;

use super::http::{self, id_string, Reply};
use super::oauth;
use super::{Answer, Connector, Grant, PageAsk, PageFetch, SignIn, Tool};
use super::{
    ConnectorError, Credentials, Identity, ProviderConfig, RemoteAccount, RemoteTask, TaskPage,
};

/// Notes asked for per page; the server may send fewer, see `fetch_tasks_page`.
const PAGE_SIZE: usize = 100;

/// The sign-in page and token endpoint, under the base URL.
const AUTHORIZE: &[&str] = &["auth", "oauth2", "authorization"];
const TOKEN: &[&str] = &["auth", "oauth2", "access"];

pub(super) struct Intellinote;

#[async_trait::async_trait]
impl Connector for Intellinote {
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url> {
        // The sign-in page is standard OAuth with PKCE (the `oauth2` crate makes it); the
        // token endpoint is not, and is spoken by hand below.
        let endpoints = oauth::Endpoints::under_base(cfg, AUTHORIZE, TOKEN, false)?;
        Ok(oauth::authorize_url(&endpoints, ask, &["read,write"], &[]))
    }

    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials> {
        let body = serde_json::json!({
            "code": grant.code,
            "client_id": http::client_id(tool.cfg)?,
            "client_secret": http::client_secret(tool.cfg)?,
            "grant_type": "authorization_code",
            "redirect_uri": grant.redirect_uri.as_str(),
            "code_verifier": grant.verifier,
        });
        let answer = token_request(tool.http, tool.cfg, body).await?;
        Ok(answer.into_credentials(None, serde_json::json!({})))
    }

    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials> {
        let body = serde_json::json!({
            "refresh_token": http::refresh_token(creds)?,
            "client_id": http::client_id(tool.cfg)?,
            "client_secret": http::client_secret(tool.cfg)?,
            "grant_type": "refresh_token",
        });
        let answer = token_request(tool.http, tool.cfg, body).await?;
        Ok(answer.into_credentials(Some(creds), creds.extra.clone()))
    }

    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let url = http::endpoint(&tool.cfg.base_url, &["v2", "user", "-"])?;
        let user: User = http::bearer_get(tool, creds, url, http::generic_error)
            .await?
            .json()?;
        let mut orgs = user.orgs;
        if orgs.is_empty() {
            let url = http::endpoint(&tool.cfg.base_url, &["v2", "orgs"])?;
            orgs = http::bearer_get(tool, creds, url, http::generic_error)
                .await?
                .json()?;
        }
        let name = http::full_name([user.given_name, user.family_name]);
        Ok(Identity {
            external_user_id: user.user_id,
            name,
            email: user.email,
            accounts: orgs.into_iter().map(org_account).collect(),
        })
    }

    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        use super::pivotal::offset_paging;
        let at = match ask.cursor {
            Some(c) => NoteCursor::parse(c)?,
            None => NoteCursor {
                offset: 0,
                anchor: None,
                restarts: 0,
            },
        };
        let mut url = http::endpoint(&tool.cfg.base_url, &["v2", "org", &ask.account.id, "notes"])?;
        url.query_pairs_mut()
            .append_pair("note_type", "TASK")
            .append_pair("assignee", ask.me)
            .append_pair("include_complete", "false")
            .append_pair("limit", &PAGE_SIZE.to_string())
            .append_pair("offset", &at.offset.to_string());
        let reply = http::bearer_get(tool, ask.creds, url, http::generic_error).await?;
        let (ids, mut tasks) = parse_notes(&reply, &tool.cfg.base_url, &ask.account.id, ask.me)?;
        // Intellinote documents no paging for notes: a page may hold fewer notes than asked
        // for (a server that pages by 50) without being the last, so the one end-of-list
        // signal to trust is a page with nothing new on it. A server that ignores `offset`
        // answers the first page again: its anchor is there, nothing after it is new, and
        // the walk ends too.
        let fresh = offset_paging::fresh_from(&ids, at.anchor.as_deref(), at.restarts);
        if let Some(fresh) = fresh {
            // Up to the anchor, the notes are the page before's, taken then.
            let before = ids.get(..fresh).unwrap_or_default();
            tasks.retain(|t| !before.contains(&t.external_id));
        }
        let next = match fresh {
            // The list shifted under the walk: again from its start.
            None => Some(NoteCursor {
                offset: 0,
                anchor: None,
                restarts: at.restarts + 1,
            }),
            Some(fresh) if fresh >= ids.len() => None,
            Some(_) => {
                let (offset, anchor) = offset_paging::following(at.offset, &ids);
                Some(NoteCursor {
                    offset,
                    anchor,
                    restarts: at.restarts,
                })
            }
        };
        Ok(PageFetch::Page(TaskPage {
            tasks,
            next: next.map(|n| n.write()),
            etag: None,
        }))
    }
}

async fn token_request(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    body: serde_json::Value,
) -> Result<http::TokenAnswer, ConnectorError> {
    let url = http::endpoint(&cfg.base_url, TOKEN)?;
    let reply = http::send(cfg, http_client.post(url).json(&body)).await?;
    if !reply.is_success() {
        return Err(http::oauth_error(&reply));
    }
    reply.json()
}

#[derive(Deserialize)]
struct User {
    #[serde(deserialize_with = "id_string")]
    user_id: String,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    orgs: Vec<Org>,
}

#[derive(Deserialize)]
struct Org {
    #[serde(deserialize_with = "id_string")]
    org_id: String,
    #[serde(default)]
    name: Option<String>,
}

fn org_account(org: Org) -> RemoteAccount {
    RemoteAccount {
        name: org
            .name
            .unwrap_or_else(|| format!("Organization {}", org.org_id)),
        id: org.org_id,
        api_base: None,
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NoteList {
    Bare(Vec<Note>),
    Wrapped { notes: Vec<Note> },
}

#[derive(Deserialize)]
struct Note {
    #[serde(deserialize_with = "id_string")]
    note_id: String,
    #[serde(default)]
    note_type: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    workspace: Option<Workspace>,
    #[serde(default)]
    assignee: Option<Assignee>,
    #[serde(default)]
    complete: Option<bool>,
    #[serde(default)]
    due: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Workspace {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Assignee {
    #[serde(deserialize_with = "id_string")]
    user_id: String,
}

fn due_date(due: &serde_json::Value) -> Option<String> {
    match due {
        serde_json::Value::String(s) => http::date_prefix(s),
        serde_json::Value::Number(n) => n.as_i64().and_then(http::date_from_millis),
        _ => None,
    }
}

/// The web address people open a note at: the app's host, without the `/rest` API prefix.
fn note_link(base: &Url, org: &str, note_id: &str) -> Option<String> {
    let mut app = base.clone();
    let trimmed = app
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/rest")
        .to_string();
    app.set_path(&trimmed);
    http::endpoint(&app, &["org", org, "note", note_id])
        .ok()
        .map(String::from)
}

fn parse_notes(
    reply: &Reply,
    base: &Url,
    org: &str,
    me: &str,
) -> Result<(Vec<String>, Vec<RemoteTask>), ConnectorError> {
    let notes = match reply.json::<NoteList>()? {
        NoteList::Bare(n) | NoteList::Wrapped { notes: n } => n,
    };
    let ids = notes.iter().map(|n| n.note_id.clone()).collect();
    let tasks = notes
        .into_iter()
        .filter(|n| {
            n.note_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("TASK"))
        })
        .filter(|n| n.assignee.as_ref().is_none_or(|a| a.user_id == me))
        .filter(|n| n.complete != Some(true))
        .map(|n| RemoteTask {
            url: note_link(base, org, &n.note_id),
            external_id: n.note_id,
            title: n.title.unwrap_or_default(),
            status: n.state.unwrap_or_else(|| "ACTIVE".into()),
            project: n.workspace.and_then(|w| w.name),
            due_on: n.due.as_ref().and_then(due_date),
            closed: false,
            updated_at: None,
        })
        .collect();
    Ok((ids, tasks))
}

/// Where a walk over the notes stands: the offset to ask for, the last note of the
/// page before (asked for again as this page's first, see
/// [`super::pivotal::offset_paging`]) and how often the list was read again because it
/// shifted. Written `offset:anchor:restarts`.
#[derive(Debug, PartialEq, Eq)]
struct NoteCursor {
    offset: u64,
    anchor: Option<String>,
    restarts: u8,
}

impl NoteCursor {
    fn parse(cursor: &str) -> Result<Self, ConnectorError> {
        let bad = || ConnectorError::BadResponse("unreadable Intellinote page cursor".into());
        let mut parts = cursor.splitn(3, ':');
        let offset = parts.next().and_then(|o| o.parse().ok()).ok_or_else(bad)?;
        let anchor = parts.next().filter(|a| !a.is_empty()).map(str::to_owned);
        // A cursor saved before restarts were counted has none.
        let restarts = match parts.next() {
            Some(r) => r.parse().map_err(|_| bad())?,
            None => 0,
        };
        Ok(Self {
            offset,
            anchor,
            restarts,
        })
    }

    fn write(&self) -> String {
        format!(
            "{}:{}:{}",
            self.offset,
            self.anchor.as_deref().unwrap_or(""),
            self.restarts
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::parse_notes;
    use wiremock::matchers::{body_json, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// Intellinote at `server`, its API under `/rest`.
    fn intellinote(server: &MockServer) -> ProviderConfig {
        config(ProviderKind::Intellinote, &format!("{}/rest", server.uri()))
    }

    #[test]
    fn recorded_notes_without_task_fields_parse() {
        let base = Url::parse("https://api.intellinote.net/rest").unwrap();
        let (ids, tasks) = parse_notes(
            &reply(&fixture("intellinote/workspace_notes.json")),
            &base,
            "5",
            "user2",
        )
        .unwrap();
        assert_eq!(ids, ["4"]);
        // The recording is a plain NOTE, not a TASK.
        assert!(tasks.is_empty());
    }

    #[test]
    fn task_notes_map_to_tasks() {
        let base = Url::parse("https://api.intellinote.net/rest").unwrap();
        let body = r#"[{"note_id":7,"note_type":"TASK","title":"Call Bob","state":"ACTIVE",
            "workspace":{"workspace_id":4,"name":"Sales"},"assignee":{"user_id":"user2"},
            "complete":false,"due":1424662734681},
            {"note_id":8,"note_type":"TASK","title":"Not mine","assignee":{"user_id":"user9"}},
            {"note_id":9,"note_type":"TASK","title":"Done","complete":true}]"#;
        let (_, tasks) = parse_notes(&reply(body), &base, "5", "user2").unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].project.as_deref(), Some("Sales"));
        assert_eq!(tasks[0].due_on.as_deref(), Some("2015-02-23"));
        assert_eq!(
            tasks[0].url.as_deref(),
            Some("https://api.intellinote.net/org/5/note/7")
        );
    }

    #[tokio::test]
    async fn exchange_sends_a_json_body_and_keeps_no_expiry() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/rest/auth/oauth2/access"))
            .and(body_json(serde_json::json!({
                "code": "zmy739bnk6vtpgb9", "client_id": "client-1", "client_secret": "secret-1",
                "grant_type": "authorization_code", "redirect_uri": "https://app.test/cb",
                "code_verifier": "v"
            })))
            .respond_with(recorded_answer(
                200,
                "intellinote/token_response_authorization_code.json",
            ))
            .mount(&server)
            .await;
        let cfg = intellinote(&server);
        let c = exchange_code(&client(), &cfg, "zmy739bnk6vtpgb9", "v", &callback())
            .await
            .unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            c.access_token.expose_secret(),
            "889trp724o9od2t9j75o7tbtxc6ry66r"
        );
        assert_eq!(c.expires_at, None);
    }

    #[tokio::test]
    async fn refresh_takes_the_answered_refresh_token() {
        let answer = recorded_answer(200, "intellinote/token_response_refresh.json");
        let server = token_endpoint("/rest/auth/oauth2/access", &[], answer).await;
        let old = creds("old", Some("old-refresh"), serde_json::json!({}));
        let c = refresh(&client(), &intellinote(&server), &old)
            .await
            .unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            c.refresh_token.unwrap().expose_secret(),
            "43vee5p0ouipy14iuz6uvemndf1xajor"
        );
    }

    #[tokio::test]
    async fn identity_falls_back_to_the_org_list() {
        let server = MockServer::start().await;
        let rod = ResponseTemplate::new(200).set_body_string(
            r#"{"user_id":"user785","given_name":"Rod","family_name":"Smith","email":"rod@x.test"}"#,
        );
        serve(&server, "GET", "/rest/v2/user/-", rod).await;
        let orgs = recorded_answer(200, "intellinote/orgs.json");
        serve(&server, "GET", "/rest/v2/orgs", orgs).await;
        let id = identity(&client(), &intellinote(&server), &bearer("at"))
            .await
            .unwrap();
        assert_eq!(id.external_user_id, "user785");
        assert_eq!(id.name, "Rod Smith");
        assert_eq!(id.accounts[0].id, "5");
        assert_eq!(id.accounts[0].name, "Rod-Sandbox's Organization");
    }

    fn task_note(i: u64) -> serde_json::Value {
        serde_json::json!({"note_id": i, "note_type": "TASK", "title": format!("t{i}"),
            "assignee": {"user_id": "user2"}})
    }

    /// Every task note of user2 in org 5, where the notes list answers as `list` does.
    async fn notes_of(list: impl wiremock::Respond + 'static) -> (Vec<String>, usize) {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/rest/v2/org/5/notes"))
            .and(query_param("assignee", "user2"))
            .respond_with(list)
            .mount(&server)
            .await;
        let account = remote_account("5", "Org");
        let user2 = Connection::new(intellinote(&server), bearer("at"), account, "user2");
        let (tasks, pages) = user2.all_tasks().await.unwrap();
        (tasks.into_iter().map(|t| t.external_id).collect(), pages)
    }

    #[tokio::test]
    async fn a_server_paging_by_fifty_is_read_to_its_end() {
        let list = OffsetList::new((0..120).map(task_note).collect(), 50);
        let (ids, pages) = notes_of(list).await;
        let want: Vec<String> = (0..120).map(|i| i.to_string()).collect();
        assert_eq!(ids, want, "every note once, in order");
        // 50, then 49 new after the one asked for again, then 21, then the last one
        // again alone: nothing new, the end.
        assert_eq!(pages, 4);
    }

    #[tokio::test]
    async fn a_note_leaving_a_page_already_read_does_not_hide_the_next_one() {
        let mut list = OffsetList::new((0..9).map(task_note).collect(), 3);
        list.change = Some((
            1,
            Box::new(|items: &mut Vec<serde_json::Value>| items.retain(|n| n["note_id"] != 1)),
        ));
        let (ids, _) = notes_of(list).await;
        for still in [0, 2, 3, 4, 5, 6, 7, 8] {
            assert!(
                ids.contains(&still.to_string()),
                "note {still} missed: {ids:?}"
            );
        }
    }

    #[tokio::test]
    async fn stops_when_the_server_ignores_offset() {
        let full: Vec<_> = (0..100)
            .map(|i| serde_json::json!({"note_id": i, "note_type": "TASK", "title": "t"}))
            .collect();
        let (ids, pages) = notes_of(ResponseTemplate::new(200).set_body_json(full)).await;
        // The same hundred again: nothing new, the end.
        assert_eq!((ids.len(), pages), (100, 2));
    }
}
