//! Pivotal Tracker API v5: `X-TrackerToken`, `/me`, stories per project with offset paging.

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use super::http::{self, id_string, Reply};
use super::{Answer, Connector, Grant, PageAsk, SignIn, Tool};
use super::{
    ConnectorError, Credentials, Identity, PageFetch, ProviderConfig, RemoteAccount, RemoteTask,
    TaskPage,
};

pub(super) const NO_OAUTH: ConnectorError =
    ConnectorError::NotConfigured("Pivotal Tracker connects with an API token, not OAuth");

/// Stories asked for per page; the server may answer with a smaller limit.
const PAGE_SIZE: u64 = 100;

fn tracker_get(
    http_client: &reqwest::Client,
    creds: &Credentials,
    url: Url,
) -> reqwest::RequestBuilder {
    http_client
        .get(url)
        .header("X-TrackerToken", creds.access_token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
}

#[derive(Deserialize)]
struct TrackerError {
    code: String,
}

fn api_error(reply: &Reply) -> ConnectorError {
    let code = serde_json::from_slice::<TrackerError>(&reply.body)
        .ok()
        .map(|e| e.code);
    match (reply.status.as_u16(), code.as_deref()) {
        (_, Some("invalid_authentication")) | (401, _) => ConnectorError::InvalidToken,
        _ => http::generic_error(reply),
    }
}

#[derive(Deserialize)]
struct Me {
    #[serde(deserialize_with = "id_string")]
    id: String,
    name: String,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    projects: Vec<Membership>,
}

#[derive(Deserialize)]
struct Membership {
    project_id: u64,
    #[serde(default)]
    project_name: Option<String>,
}

/// `GET /me`, conditional on `etag`: `None` when the tool answered 304.
async fn me(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    creds: &Credentials,
    etag: Option<&str>,
) -> Result<Option<(Me, Option<String>)>, ConnectorError> {
    let url = http::endpoint(&cfg.base_url, &["me"])?;
    let Some(reply) =
        http::send_if_none_match(cfg, tracker_get(http_client, creds, url), etag).await?
    else {
        return Ok(None);
    };
    if !reply.is_success() {
        return Err(api_error(&reply));
    }
    Ok(Some((reply.json()?, reply.etag())))
}

fn identity_of(me: Me) -> Identity {
    Identity {
        accounts: vec![RemoteAccount {
            id: me.id.clone(),
            name: me.username.clone(),
            api_base: None,
        }],
        external_user_id: me.id,
        name: me.name,
        email: me.email,
    }
}

pub(super) struct PivotalTracker;

#[async_trait::async_trait]
impl Connector for PivotalTracker {
    fn authorize_url(&self, _: &ProviderConfig, _: &SignIn<'_>) -> Answer<Url> {
        Err(NO_OAUTH)
    }

    async fn exchange_code(&self, _: Tool<'_>, _: &Grant<'_>) -> Answer<Credentials> {
        Err(NO_OAUTH)
    }

    /// An API token does not expire: there is nothing to refresh.
    async fn refresh(&self, _: Tool<'_>, _: &Credentials) -> Answer<Credentials> {
        Err(ConnectorError::InvalidToken)
    }

    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let (me, _) = me(tool.http, tool.cfg, creds, None)
            .await?
            .ok_or_else(|| ConnectorError::BadResponse("an unasked-for 304 from /me".into()))?;
        Ok(identity_of(me))
    }

    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        let Some(cursor) = ask.cursor else {
            return start_walk(tool.http, tool.cfg, ask.creds, ask.etag).await;
        };
        let walk = serde_json::from_str::<Walk>(cursor)
            .map_err(|_| ConnectorError::BadResponse("unreadable Pivotal Tracker cursor".into()))?;
        let Some((project_id, project_name)) = walk.p.get(walk.i) else {
            return Ok(PageFetch::Page(TaskPage::default()));
        };
        let mut url = http::endpoint(
            &tool.cfg.base_url,
            &["projects", &project_id.to_string(), "stories"],
        )?;
        url.query_pairs_mut()
            .append_pair("filter", &search_filter(&walk.u))
            .append_pair("limit", &PAGE_SIZE.to_string())
            .append_pair("offset", &walk.o.to_string())
            .append_pair("fields", ":default,owners");
        let Some(reply) =
            http::send_if_none_match(tool.cfg, tracker_get(tool.http, ask.creds, url), ask.etag)
                .await?
        else {
            return Ok(PageFetch::NotModified);
        };
        if !reply.is_success() {
            return Err(api_error(&reply));
        }
        let (ids, mut tasks) = parse_stories(&reply, ask.me, project_name)?;
        let at = (walk.i, walk.o, walk.r);
        let following = next_walk(walk, &ids, more_follow(&reply), &mut tasks);
        // A full page that ended its project's list stays the same when a story is added
        // after it, so a 304 for it would keep a next cursor that skips the new story: such
        // a page is asked for in full every pass (found by the soak, docs/benchmarks.md).
        let ends_full = is_full(&reply, ids.len())
            && !following
                .as_ref()
                .is_some_and(|w| w.i == at.0 && w.r == at.2 && w.o > at.1);
        let next = following.as_ref().map(cursor_of).transpose()?;
        Ok(PageFetch::Page(TaskPage {
            tasks,
            next,
            etag: if ends_full { None } else { reply.etag() },
        }))
    }
}

/// Where the walk goes after a page of `ids` (`more`: the project's list goes on). The
/// stories the page shares with the one before are dropped from `tasks`.
fn next_walk(walk: Walk, ids: &[String], more: bool, tasks: &mut Vec<RemoteTask>) -> Option<Walk> {
    match offset_paging::fresh_from(ids, walk.a.as_deref(), walk.r) {
        // The list shifted under the walk: this project again, from its start.
        None => Some(Walk {
            o: 0,
            a: None,
            r: walk.r + 1,
            ..walk
        }),
        Some(fresh) => {
            // Up to the anchor, the stories are the page before's, taken then.
            let before = ids.get(..fresh).unwrap_or_default();
            tasks.retain(|t| !before.contains(&t.external_id));
            if more && fresh < ids.len() {
                let (o, a) = offset_paging::following(walk.o, ids);
                Some(Walk { o, a, ..walk })
            } else if walk.i + 1 < walk.p.len() {
                Some(Walk {
                    i: walk.i + 1,
                    o: 0,
                    a: None,
                    r: 0,
                    ..walk
                })
            } else {
                None
            }
        }
    }
}

/// Where a walk over the person's projects stands; serialised as the page cursor.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Walk {
    /// The person's username, for the search filter.
    u: String,
    /// Project ids and names, fixed at the start so indices stay stable.
    p: Vec<(u64, String)>,
    /// The project being read.
    i: usize,
    /// The offset within it.
    o: u64,
    /// The last story of the page before, asked for again as the first of this one: a
    /// story at another place means the list shifted under the walk (see
    /// [`offset_paging`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<String>,
    /// How often this project's walk started again because its list shifted.
    #[serde(default, skip_serializing_if = "is_zero")]
    r: u8,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Offset paging over a list that may change while it is read.
///
/// A story that leaves the list (accepted, given to someone else) while a project is
/// read moves every later story one place up: the first story of the next page would
/// then slide onto the page already read, be missed by this pass, archived, and come
/// back with the next pass. Tracker has no documented stable order to page by, so each
/// page after the first is asked for from the last story of the page before: when that
/// story is not where it was, the list shifted, and the project is read again from its
/// start (what was read stays seen). Stories added meanwhile only come twice, which the
/// upsert on the tool's id absorbs.
pub(super) mod offset_paging {
    /// Times one list is read again from its start in one pass, at most; after that a
    /// shift is let go (the next pass sets it right).
    pub const RESTARTS: u8 = 3;

    /// What a page gives, read from `anchor` (the last id of the page before, asked
    /// for again as this page's first): the index of the first new item, or `None`
    /// when the anchor is gone from its place and the list is to be read again.
    pub fn fresh_from(ids: &[String], anchor: Option<&str>, restarts: u8) -> Option<usize> {
        let Some(anchor) = anchor else {
            return Some(0);
        };
        match ids.iter().position(|id| id == anchor) {
            Some(at) => Some(at + 1),
            None if restarts < RESTARTS => None,
            None => Some(0),
        }
    }

    /// The next offset and anchor after a page of `ids` read at `offset`: the page's
    /// last item is asked for again (but not when it is the only one, which would ask
    /// for the same place for ever).
    pub fn following(offset: u64, ids: &[String]) -> (u64, Option<String>) {
        let read = ids.len() as u64;
        match ids.last() {
            Some(last) if read >= 2 => (offset + read - 1, Some(last.clone())),
            _ => (offset + read, None),
        }
    }
}

#[derive(Deserialize)]
struct Story {
    #[serde(deserialize_with = "id_string")]
    id: String,
    name: String,
    #[serde(default)]
    current_state: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    owner_ids: Vec<serde_json::Value>,
}

/// The ids of every story on the page, in order, and the person's among them as tasks.
fn parse_stories(
    reply: &Reply,
    me: &str,
    project: &str,
) -> Result<(Vec<String>, Vec<RemoteTask>), ConnectorError> {
    let stories: Vec<Story> = reply.json()?;
    let ids = stories.iter().map(|s| s.id.clone()).collect();
    let tasks = stories
        .into_iter()
        .filter(|s| {
            s.owner_ids.iter().any(|o| match o {
                serde_json::Value::Number(n) => n.to_string() == me,
                serde_json::Value::String(s) => s == me,
                _ => false,
            })
        })
        .map(|s| {
            let state = s.current_state.unwrap_or_else(|| "unscheduled".into());
            RemoteTask {
                external_id: s.id,
                title: s.name,
                closed: state == "accepted",
                status: state,
                project: Some(project.to_string()),
                due_on: s.deadline.as_deref().and_then(http::date_prefix),
                url: s.url,
                updated_at: s.updated_at,
            }
        })
        .collect();
    Ok((ids, tasks))
}

/// Whether more stories follow this page, by Tracker's own `X-Tracker-Pagination-*`
/// headers (offset + returned < total); no headers, no more.
fn more_follow(reply: &Reply) -> bool {
    let num = |name: &str| {
        reply
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (Some(total), Some(offset), Some(returned)) = (
        num("x-tracker-pagination-total"),
        num("x-tracker-pagination-offset"),
        num("x-tracker-pagination-returned"),
    ) else {
        return false;
    };
    returned > 0 && offset + returned < total
}

fn search_filter(username: &str) -> String {
    let quoted = if username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        username.to_string()
    } else {
        format!("\"{}\"", username.replace('"', ""))
    };
    format!("owner:{quoted} -state:accepted")
}

fn cursor_of(walk: &Walk) -> Result<String, ConnectorError> {
    serde_json::to_string(walk)
        .map_err(|_| ConnectorError::BadResponse("could not save the page cursor".into()))
}

/// The walk's first page: who the person is and which projects they belong to, with no
/// tasks. It is a page of its own so that every page of stories is asked for by a cursor
/// that fixes all its tasks depend on (the project's id and name, the offset): a 304 for
/// a cursor then means the same tasks and the same next cursor as last time.
async fn start_walk(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    creds: &Credentials,
    etag: Option<&str>,
) -> Result<PageFetch, ConnectorError> {
    let Some((me, etag)) = me(http_client, cfg, creds, etag).await? else {
        return Ok(PageFetch::NotModified);
    };
    let walk = Walk {
        u: me.username,
        p: me
            .projects
            .into_iter()
            .map(|m| {
                let name = m
                    .project_name
                    .unwrap_or_else(|| format!("Project {}", m.project_id));
                (m.project_id, name)
            })
            .collect(),
        i: 0,
        o: 0,
        a: None,
        r: 0,
    };
    let next = if walk.p.is_empty() {
        None
    } else {
        Some(cursor_of(&walk)?)
    };
    Ok(PageFetch::Page(TaskPage {
        tasks: Vec::new(),
        next,
        etag,
    }))
}

/// Whether the page holds as many stories as it could: the limit the tool says it
/// applied (`X-Tracker-Pagination-Limit`, which may be below the one asked for), or
/// the one asked for.
fn is_full(reply: &Reply, returned: usize) -> bool {
    let limit = reply
        .header("x-tracker-pagination-limit")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(PAGE_SIZE);
    limit > 0 && returned as u64 >= limit
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::{more_follow, parse_stories, Reply};
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn recorded(file: &str) -> Reply {
        let headers: serde_json::Value =
            serde_json::from_str(&fixture("pivotal/recorded_response_headers.json")).unwrap();
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers[file]["headers"].as_object().unwrap() {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v[0].as_str().unwrap().parse().unwrap(),
            );
        }
        Reply {
            status: reqwest::StatusCode::OK,
            headers: map,
            body: fixture(&format!("pivotal/{file}")).into_bytes(),
        }
    }

    #[test]
    fn recorded_pagination_headers_say_whether_more_follow() {
        assert!(more_follow(&recorded("stories_limit7_offset0.json")));
        assert!(!more_follow(&recorded("stories_limit7_offset63.json")));
    }

    #[test]
    fn keeps_only_stories_the_person_owns() {
        let (ids, all) =
            parse_stories(&recorded("stories_limit7_offset0.json"), "1266314", "P").unwrap();
        assert_eq!(ids.len(), 7);
        assert!(all.is_empty(), "no recorded story in that page has owners");
        let body = format!("[{}]", fixture("pivotal/story_with_owners.json"));
        let (_, mine) = parse_stories(&reply(&body), "1266316", "My Sample Project").unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].status, "started");
        assert!(!mine[0].closed);
        assert_eq!(
            mine[0].url.as_deref(),
            Some("https://www.pivotaltracker.com/story/show/66728004")
        );
    }

    #[tokio::test]
    async fn walks_every_project_and_page() {
        let server = MockServer::start().await;
        let me = fixture("pivotal/me.json").replace(
            r#""projects":[{"kind":"membership_summary","id":4001820,"project_id":1027488,"project_name":"My Sample Project""#,
            r#""projects":[{"project_id":2,"project_name":"Two"},{"kind":"membership_summary","id":4001820,"project_id":1027488,"project_name":"My Sample Project""#,
        );
        Mock::given(method("GET"))
            .and(path("/services/v5/me"))
            .and(header("x-trackertoken", "tok"))
            .respond_with(ResponseTemplate::new(200).set_body_string(me))
            .mount(&server)
            .await;
        let story = |id: u64, owner: u64| {
            serde_json::json!({"kind":"story","id":id,"name":format!("S{id}"),"current_state":"started",
                "url":format!("https://t/{id}"),"owner_ids":[owner]})
        };
        Mock::given(method("GET"))
            .and(path("/services/v5/projects/2/stories"))
            .and(query_param("filter", "owner:trackerapi1 -state:accepted"))
            .respond_with(ResponseTemplate::new(200).set_body_json(vec![story(1, 1266314)]))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/services/v5/projects/1027488/stories"))
            .respond_with(OffsetList::new(
                vec![story(2, 1266314), story(3, 99), story(4, 1266314)],
                2,
            ))
            .mount(&server)
            .await;
        let cfg = config(
            ProviderKind::PivotalTracker,
            &format!("{}/services/v5", server.uri()),
        );
        let c = Credentials::api_token("tok".into());
        let id = identity(&client(), &cfg, &c).await.unwrap();
        assert_eq!(id.external_user_id, "1266314");
        let account = id.accounts[0].clone();
        let trackerapi1 = Connection::new(cfg, c, account, "1266314");
        let (tasks, pages) = trackerapi1.all_tasks().await.unwrap();
        let ids: Vec<_> = tasks.iter().map(|t| t.external_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "4"]);
        assert_eq!(pages, 4, "who I am, then three pages of stories");
        assert_eq!(tasks[0].project.as_deref(), Some("Two"));
    }

    /// A Tracker where Jane (7) belongs to one project whose stories `list` serves.
    async fn one_project(list: OffsetList) -> MockServer {
        let server = MockServer::start().await;
        let jane = ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "kind":"me","id":7,"name":"Jane","username":"jane",
            "projects":[{"project_id":5,"project_name":"Five"}]}));
        serve(&server, "GET", "/me", jane).await;
        Mock::given(method("GET"))
            .and(path("/projects/5/stories"))
            .respond_with(list)
            .mount(&server)
            .await;
        server
    }

    fn mine(id: u64) -> serde_json::Value {
        serde_json::json!({"kind":"story","id":id,"name":format!("S{id}"),
            "current_state":"started","owner_ids":[7]})
    }

    /// The ids of all Jane's stories at `server`, and how many pages that took.
    async fn walk(server: &MockServer) -> (Vec<String>, usize) {
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let c = Credentials::api_token("tok".into());
        let jane = Connection::new(cfg, c, remote_account("7", "jane"), "7");
        let (tasks, pages) = jane.all_tasks().await.unwrap();
        (tasks.into_iter().map(|t| t.external_id).collect(), pages)
    }

    #[tokio::test]
    async fn a_story_leaving_a_page_already_read_does_not_hide_the_next_one() {
        // Pages of 3; before the second page is answered, story 2 (on the first)
        // is accepted: every later story moves one place up, and story 4 slides onto
        // the first page, already read.
        let mut list = OffsetList::new((1..=7).map(mine).collect(), 3);
        list.change = Some((
            1,
            Box::new(|items: &mut Vec<serde_json::Value>| items.retain(|s| s["id"] != 2)),
        ));
        let server = one_project(list).await;
        let (ids, _) = walk(&server).await;
        for still in ["1", "3", "4", "5", "6", "7"] {
            assert!(
                ids.iter().any(|i| i == still),
                "story {still} missed: {ids:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unchanging_list_is_read_once_with_one_story_of_overlap() {
        let server = one_project(OffsetList::new((1..=7).map(mine).collect(), 3)).await;
        let (ids, pages) = walk(&server).await;
        assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "7"], "each story once");
        // Who I am, then offsets 0, 2 and 4 (3, 3 and 3 stories, one of each again).
        assert_eq!(pages, 4);
        let offsets: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter_map(|r| {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == "offset")
                    .map(|(_, v)| v.into_owned())
            })
            .collect();
        assert_eq!(offsets, ["0", "2", "4"]);
    }

    #[tokio::test]
    async fn a_refused_token_is_invalid_token() {
        let server = MockServer::start().await;
        let refused = recorded_answer(403, "pivotal/errors/invalid_authentication.mock.json");
        serve(&server, "GET", "/me", refused).await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let err = identity(&client(), &cfg, &Credentials::api_token("bad".into()))
            .await
            .unwrap_err();
        assert_eq!(err, ConnectorError::InvalidToken);
        assert_eq!(err.code(), "TB-TOKEN-INVALID");
        assert_eq!(
            refresh(&client(), &cfg, &Credentials::api_token("bad".into()))
                .await
                .unwrap_err(),
            ConnectorError::InvalidToken
        );
    }

    /// GET `at` answers a bodiless 304 to `If-None-Match: etag` (Tracker's 304s carry
    /// neither a body nor the pagination headers), and `answer` otherwise.
    async fn serve_unless(server: &MockServer, at: &str, etag: &str, answer: ResponseTemplate) {
        serve_not_modified(server, at, etag).await;
        serve(server, "GET", at, answer).await;
    }

    /// The page at `cursor` for the person `me` (trackerapi1 of the recorded payloads).
    async fn fetch(
        cfg: &ProviderConfig,
        me: &str,
        cursor: Option<&str>,
        etag: Option<&str>,
    ) -> Result<PageFetch, ConnectorError> {
        let c = Credentials::api_token("tok".into());
        let trackerapi1 = Connection::new(cfg.clone(), c, remote_account(me, "trackerapi1"), me);
        trackerapi1.page(cursor, etag).await
    }

    fn stories(body: String, total: &str, limit: &str) -> ResponseTemplate {
        let returned = serde_json::from_str::<Vec<serde_json::Value>>(&body)
            .unwrap()
            .len()
            .to_string();
        ResponseTemplate::new(200)
            .insert_header("X-Tracker-Pagination-Total", total)
            .insert_header("X-Tracker-Pagination-Limit", limit)
            .insert_header("X-Tracker-Pagination-Offset", "0")
            .insert_header("X-Tracker-Pagination-Returned", returned.as_str())
            .set_body_string(body)
    }

    #[tokio::test]
    async fn an_unknown_project_is_not_found() {
        let server = MockServer::start().await;
        let me = ResponseTemplate::new(200).set_body_string(fixture("pivotal/me.json"));
        serve(&server, "GET", "/me", me).await;
        let gone = fixture("pivotal/errors/404_unfound_resource.json");
        let gone = ResponseTemplate::new(404).set_body_string(gone);
        serve(&server, "GET", "/projects/1027488/stories", gone).await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let start = fetch(&cfg, "1266314", None, None)
            .await
            .unwrap()
            .into_page()
            .unwrap();
        assert!(start.tasks.is_empty(), "the first page is who I am");
        let err = fetch(&cfg, "1266314", start.next.as_deref(), None)
            .await
            .unwrap_err();
        assert_eq!(err, ConnectorError::NotFound);
    }

    fn recorded_etag(file: &str) -> String {
        recorded(file).header("etag").unwrap().to_owned()
    }

    #[tokio::test]
    async fn pages_are_asked_for_again_with_their_etag_and_a_304_is_not_modified() {
        let server = MockServer::start().await;
        let me_etag = recorded_etag("me.json");
        let stories_etag = recorded_etag("story_with_owners.json");
        let me = ResponseTemplate::new(200)
            .insert_header("etag", me_etag.as_str())
            .set_body_string(fixture("pivotal/me.json"));
        serve_unless(&server, "/me", &me_etag, me).await;
        let one = format!("[{}]", fixture("pivotal/story_with_owners.json"));
        let one = stories(one, "1", "100").insert_header("etag", stories_etag.as_str());
        serve_unless(&server, "/projects/1027488/stories", &stories_etag, one).await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let fetch = |cursor: Option<String>, etag: Option<String>| {
            let cfg = cfg.clone();
            async move {
                fetch(&cfg, "1266316", cursor.as_deref(), etag.as_deref())
                    .await
                    .unwrap()
            }
        };

        let start = fetch(None, None).await.into_page().unwrap();
        assert_eq!(start.etag.as_deref(), Some(me_etag.as_str()));
        assert_eq!(
            fetch(None, start.etag.clone()).await,
            PageFetch::NotModified
        );
        let page = fetch(start.next.clone(), None).await.into_page().unwrap();
        assert_eq!(page.tasks.len(), 1);
        assert_eq!(page.next, None);
        assert_eq!(page.etag.as_deref(), Some(stories_etag.as_str()));
        assert_eq!(
            fetch(start.next.clone(), page.etag.clone()).await,
            PageFetch::NotModified
        );
        // An ETag the tool no longer has gets the page in full.
        let changed = fetch(start.next.clone(), Some("\"older\"".into()))
            .await
            .into_page()
            .unwrap();
        assert_eq!(changed.tasks, page.tasks);

        let sent: Vec<Option<String>> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| {
                r.headers
                    .get("if-none-match")
                    .map(|v| v.to_str().unwrap().to_owned())
            })
            .collect();
        assert_eq!(
            sent,
            [
                None,
                Some(me_etag.clone()),
                None,
                Some(stories_etag.clone()),
                Some("\"older\"".to_owned()),
            ],
            "If-None-Match only when an ETag is given"
        );
    }

    #[tokio::test]
    async fn a_full_page_that_ends_its_project_is_not_kept_for_a_304() {
        // The soak's case: a project's list fits exactly on one page, then a story is
        // added after it. The page's body (and so its ETag) does not change; only the
        // total does, so the page must be asked for in full to find the new story.
        let server = MockServer::start().await;
        let me = || ResponseTemplate::new(200).set_body_string(fixture("pivotal/me.json"));
        let one = || format!("[{}]", fixture("pivotal/story_with_owners.json"));
        let at = "/projects/1027488/stories";
        serve(&server, "GET", "/me", me()).await;
        let page = stories(one(), "1", "1").insert_header("etag", "\"same-page\"");
        serve(&server, "GET", at, page).await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let start = fetch(&cfg, "1266316", None, None).await.unwrap();
        let start = start.into_page().unwrap();
        let first = fetch(&cfg, "1266316", start.next.as_deref(), None).await;
        let first = first.unwrap().into_page().unwrap();
        assert_eq!(first.tasks.len(), 1);
        assert_eq!(first.next, None, "the list ended with this page");
        assert_eq!(first.etag, None, "a full last page keeps no ETag");

        // A story was added at place 1: the same page, a new total.
        server.reset().await;
        serve(&server, "GET", "/me", me()).await;
        let page = stories(one(), "2", "1").insert_header("etag", "\"same-page\"");
        serve(&server, "GET", at, page).await;
        let again = fetch(
            &cfg,
            "1266316",
            start.next.as_deref(),
            first.etag.as_deref(),
        )
        .await;
        let again = again.unwrap().into_page().unwrap();
        let next: serde_json::Value =
            serde_json::from_str(again.next.as_deref().expect("a page follows")).unwrap();
        assert_eq!(next["o"], 1, "the next page starts after the first");
        assert_eq!(again.etag.as_deref(), Some("\"same-page\""));
    }

    #[tokio::test]
    async fn a_304_to_a_request_that_was_not_conditional_is_an_error() {
        let server = MockServer::start().await;
        serve(&server, "GET", "/me", ResponseTemplate::new(304)).await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let err = fetch(&cfg, "1", None, None).await.unwrap_err();
        assert_eq!(err.code(), "TB-TOOL-ERROR");
    }
}
