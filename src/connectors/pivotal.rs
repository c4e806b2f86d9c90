//! Pivotal Tracker API v5: `X-TrackerToken`, `/me`, stories per project with offset paging.

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use super::http::{self, id_string, Reply};
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

pub(super) async fn identity(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    creds: &Credentials,
) -> Result<Identity, ConnectorError> {
    let (me, _) = me(http_client, cfg, creds, None)
        .await?
        .ok_or_else(|| ConnectorError::BadResponse("an unasked-for 304 from /me".into()))?;
    Ok(identity_of(me))
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

fn parse_stories(
    reply: &Reply,
    me: &str,
    project: &str,
) -> Result<Vec<RemoteTask>, ConnectorError> {
    let stories: Vec<Story> = reply.json()?;
    Ok(stories
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
        .collect())
}

/// The next offset from the `X-Tracker-Pagination-*` headers, or `None` on the last page.
fn next_offset(reply: &Reply) -> Option<u64> {
    let num = |name: &str| {
        reply
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let total = num("x-tracker-pagination-total")?;
    let offset = num("x-tracker-pagination-offset")?;
    let limit = num("x-tracker-pagination-limit")?;
    let returned = num("x-tracker-pagination-returned")?;
    (returned > 0 && offset + returned < total).then_some(offset + limit.max(returned))
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

pub(super) async fn fetch_tasks_page(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    creds: &Credentials,
    me_id: &str,
    cursor: Option<&str>,
    etag: Option<&str>,
) -> Result<PageFetch, ConnectorError> {
    let Some(cursor) = cursor else {
        return start_walk(http_client, cfg, creds, etag).await;
    };
    let walk = serde_json::from_str::<Walk>(cursor)
        .map_err(|_| ConnectorError::BadResponse("unreadable Pivotal Tracker cursor".into()))?;
    let Some((project_id, project_name)) = walk.p.get(walk.i) else {
        return Ok(PageFetch::Page(TaskPage::default()));
    };
    let mut url = http::endpoint(
        &cfg.base_url,
        &["projects", &project_id.to_string(), "stories"],
    )?;
    url.query_pairs_mut()
        .append_pair("filter", &search_filter(&walk.u))
        .append_pair("limit", &PAGE_SIZE.to_string())
        .append_pair("offset", &walk.o.to_string())
        .append_pair("fields", ":default,owners");
    let Some(reply) =
        http::send_if_none_match(cfg, tracker_get(http_client, creds, url), etag).await?
    else {
        return Ok(PageFetch::NotModified);
    };
    if !reply.is_success() {
        return Err(api_error(&reply));
    }
    let tasks = parse_stories(&reply, me_id, project_name)?;
    let following = match next_offset(&reply) {
        Some(o) => Some(Walk { o, ..walk }),
        None if walk.i + 1 < walk.p.len() => Some(Walk {
            i: walk.i + 1,
            o: 0,
            ..walk
        }),
        None => None,
    };
    let next = following.as_ref().map(cursor_of).transpose()?;
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
    use super::{next_offset, parse_stories, Reply};
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
    fn recorded_pagination_headers_give_the_next_offset() {
        assert_eq!(
            next_offset(&recorded("stories_limit7_offset0.json")),
            Some(7)
        );
        assert_eq!(next_offset(&recorded("stories_limit7_offset63.json")), None);
    }

    #[test]
    fn keeps_only_stories_the_person_owns() {
        let all = parse_stories(&recorded("stories_limit7_offset0.json"), "1266314", "P").unwrap();
        assert!(all.is_empty(), "no recorded story in that page has owners");
        let body = format!("[{}]", fixture("pivotal/story_with_owners.json"));
        let reply = Reply {
            status: reqwest::StatusCode::OK,
            headers: Default::default(),
            body: body.into_bytes(),
        };
        let mine = parse_stories(&reply, "1266316", "My Sample Project").unwrap();
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
        let pages = |offset: &str, returned: &str| {
            ResponseTemplate::new(200)
                .insert_header("X-Tracker-Pagination-Total", "3")
                .insert_header("X-Tracker-Pagination-Limit", "2")
                .insert_header("X-Tracker-Pagination-Offset", offset)
                .insert_header("X-Tracker-Pagination-Returned", returned)
        };
        Mock::given(method("GET"))
            .and(path("/services/v5/projects/2/stories"))
            .and(query_param("filter", "owner:trackerapi1 -state:accepted"))
            .respond_with(ResponseTemplate::new(200).set_body_json(vec![story(1, 1266314)]))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/services/v5/projects/1027488/stories"))
            .and(query_param("offset", "0"))
            .respond_with(pages("0", "2").set_body_json(vec![story(2, 1266314), story(3, 99)]))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/services/v5/projects/1027488/stories"))
            .and(query_param("offset", "2"))
            .respond_with(pages("2", "1").set_body_json(vec![story(4, 1266314)]))
            .mount(&server)
            .await;
        let cfg = config(
            ProviderKind::PivotalTracker,
            &format!("{}/services/v5", server.uri()),
        );
        let c = Credentials::api_token("tok".into());
        let id = identity(&client(), &cfg, &c).await.unwrap();
        assert_eq!(id.external_user_id, "1266314");
        let (tasks, pages) = all_tasks(&client(), &cfg, &c, &id.accounts[0], "1266314")
            .await
            .unwrap();
        let ids: Vec<_> = tasks.iter().map(|t| t.external_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "4"]);
        assert_eq!(pages, 4, "who I am, then three pages of stories");
        assert_eq!(tasks[0].project.as_deref(), Some("Two"));
    }

    #[tokio::test]
    async fn a_refused_token_is_invalid_token() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_string(fixture("pivotal/errors/invalid_authentication.mock.json")),
            )
            .mount(&server)
            .await;
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

    #[tokio::test]
    async fn an_unknown_project_is_not_found() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(ResponseTemplate::new(200).set_body_string(fixture("pivotal/me.json")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/projects/1027488/stories"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_string(fixture("pivotal/errors/404_unfound_resource.json")),
            )
            .mount(&server)
            .await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let c = Credentials::api_token("tok".into());
        let account = RemoteAccount {
            id: "1266314".into(),
            name: "trackerapi1".into(),
            api_base: None,
        };
        let start = fetch_tasks_page(&client(), &cfg, &c, &account, "1266314", None, None)
            .await
            .unwrap()
            .into_page()
            .unwrap();
        assert!(start.tasks.is_empty(), "the first page is who I am");
        let next = start.next.as_deref();
        let err = fetch_tasks_page(&client(), &cfg, &c, &account, "1266314", next, None)
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
        // Tracker's 304s carry neither a body nor the pagination headers.
        Mock::given(method("GET"))
            .and(path("/me"))
            .and(header("if-none-match", me_etag.as_str()))
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", me_etag.as_str())
                    .set_body_string(fixture("pivotal/me.json")),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/projects/1027488/stories"))
            .and(header("if-none-match", stories_etag.as_str()))
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/projects/1027488/stories"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", stories_etag.as_str())
                    .insert_header("X-Tracker-Pagination-Total", "1")
                    .insert_header("X-Tracker-Pagination-Limit", "100")
                    .insert_header("X-Tracker-Pagination-Offset", "0")
                    .insert_header("X-Tracker-Pagination-Returned", "1")
                    .set_body_string(format!("[{}]", fixture("pivotal/story_with_owners.json"))),
            )
            .mount(&server)
            .await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let c = Credentials::api_token("tok".into());
        let account = RemoteAccount {
            id: "1266316".into(),
            name: "trackerapi1".into(),
            api_base: None,
        };
        let fetch = |cursor: Option<String>, etag: Option<String>| {
            let (cfg, c, account) = (cfg.clone(), c.clone(), account.clone());
            async move {
                fetch_tasks_page(
                    &client(),
                    &cfg,
                    &c,
                    &account,
                    "1266316",
                    cursor.as_deref(),
                    etag.as_deref(),
                )
                .await
            }
        };

        let start = fetch(None, None).await.unwrap().into_page().unwrap();
        assert_eq!(start.etag.as_deref(), Some(me_etag.as_str()));
        assert_eq!(
            fetch(None, start.etag.clone()).await.unwrap(),
            PageFetch::NotModified
        );
        let stories = fetch(start.next.clone(), None)
            .await
            .unwrap()
            .into_page()
            .unwrap();
        assert_eq!(stories.tasks.len(), 1);
        assert_eq!(stories.next, None);
        assert_eq!(stories.etag.as_deref(), Some(stories_etag.as_str()));
        assert_eq!(
            fetch(start.next.clone(), stories.etag.clone())
                .await
                .unwrap(),
            PageFetch::NotModified
        );
        // An ETag the tool no longer has gets the page in full.
        let changed = fetch(start.next.clone(), Some("\"older\"".into()))
            .await
            .unwrap()
            .into_page()
            .unwrap();
        assert_eq!(changed.tasks, stories.tasks);

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
    async fn a_304_to_a_request_that_was_not_conditional_is_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(ResponseTemplate::new(304))
            .mount(&server)
            .await;
        let cfg = config(ProviderKind::PivotalTracker, &server.uri());
        let c = Credentials::api_token("tok".into());
        let account = RemoteAccount {
            id: "1".into(),
            name: "u".into(),
            api_base: None,
        };
        let err = fetch_tasks_page(&client(), &cfg, &c, &account, "1", None, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "TB-TOOL-ERROR");
    }
}
