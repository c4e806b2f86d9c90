//! Salesforce: web server OAuth flow with PKCE, the identity URL, SOQL over Task.

use serde::Deserialize;
use url::Url;

use super::http::{self, Reply};
use super::oauth;
use super::{Answer, Connector, Grant, PageAsk, PageFetch, SignIn, Tool};
use super::{
    ConnectorError, Credentials, Identity, ProviderConfig, RemoteAccount, RemoteTask, TaskPage,
};

/// The REST API version taskbridge speaks (Winter '24; every current org serves it).
pub(crate) const API_VERSION: &str = "v59.0";

const TASK_FIELDS: &str =
    "Id, Subject, Status, Priority, ActivityDate, IsClosed, What.Name, What.Type, LastModifiedDate";

/// Salesforce speaks standard OAuth (web server flow with PKCE): the `oauth2` crate
/// does the work.
fn endpoints(cfg: &ProviderConfig, with_secret: bool) -> Answer<oauth::Endpoints<'_>> {
    let (authorize, token) = (
        ["services", "oauth2", "authorize"],
        ["services", "oauth2", "token"],
    );
    oauth::Endpoints::under_base(cfg, &authorize, &token, with_secret)
}

pub(super) struct Salesforce;

#[async_trait::async_trait]
impl Connector for Salesforce {
    fn authorize_url(&self, cfg: &ProviderConfig, ask: &SignIn<'_>) -> Answer<Url> {
        let scopes = ["api", "refresh_token", "id"];
        let relogin = [("prompt", "login")];
        Ok(oauth::authorize_url(
            &endpoints(cfg, false)?,
            ask,
            &scopes,
            &relogin,
        ))
    }

    async fn exchange_code(&self, tool: Tool<'_>, grant: &Grant<'_>) -> Answer<Credentials> {
        let endpoints = endpoints(tool.cfg, true)?;
        let answer = oauth::exchange_code(tool.http, &endpoints, grant).await?;
        let extra = extra_from(tool.cfg, &answer, &serde_json::Value::Null)?;
        Ok(oauth::into_credentials(&answer, None, extra))
    }

    async fn refresh(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Credentials> {
        let endpoints = endpoints(tool.cfg, true)?;
        let answer = oauth::refresh(tool.http, &endpoints, http::refresh_token(creds)?).await?;
        let extra = extra_from(tool.cfg, &answer, &creds.extra)?;
        Ok(oauth::into_credentials(&answer, Some(creds), extra))
    }

    async fn identity(&self, tool: Tool<'_>, creds: &Credentials) -> Answer<Identity> {
        let mut id_url = extra_url(tool.cfg, creds, "id")?;
        id_url.query_pairs_mut().append_pair("format", "json");
        let reply = http::send(tool.cfg, http::bearer(tool.http.get(id_url), creds)).await?;
        if !reply.is_success() {
            return Err(api_error(&reply));
        }
        let who = parse_identity(&reply)?;
        let instance = extra_url(tool.cfg, creds, "instance_url")?;
        // The identity URL answers in every edition; this REST call is what tells an org
        // without API access apart, and it names the org.
        let url = query_url(
            &instance,
            "SELECT Id, Name, OrganizationType FROM Organization",
        )?;
        let reply = http::send(tool.cfg, http::bearer(tool.http.get(url), creds)).await?;
        let org_name = if reply.is_success() {
            let orgs: QueryAnswer<OrgRecord> = reply.json()?;
            orgs.records.into_iter().next().and_then(|o| o.name)
        } else {
            match api_error(&reply) {
                // Connecting must not fail over today's allowance; the sync reports it.
                ConnectorError::RequestLimitExceeded | ConnectorError::RateLimited { .. } => None,
                e => return Err(e),
            }
        };
        Ok(Identity {
            name: who
                .display_name
                .or(who.username)
                .unwrap_or_else(|| who.user_id.clone()),
            email: who.email,
            accounts: vec![RemoteAccount {
                name: org_name.unwrap_or_else(|| who.organization_id.clone()),
                id: who.organization_id,
                api_base: Some(instance.as_str().trim_end_matches('/').to_string()),
            }],
            external_user_id: who.user_id,
        })
    }

    async fn fetch_tasks_page(&self, tool: Tool<'_>, ask: &PageAsk<'_>) -> Answer<PageFetch> {
        let instance = match ask.account.api_base.as_deref() {
            Some(raw) => salesforce_url(raw, tool.cfg)?,
            None => extra_url(tool.cfg, ask.creds, "instance_url")?,
        };
        let url = match ask.cursor {
            None => {
                if !is_salesforce_id(ask.me) {
                    return Err(ConnectorError::BadResponse(
                        "Salesforce gave a user id that is not an id".into(),
                    ));
                }
                let soql = format!(
                    "SELECT {TASK_FIELDS} FROM Task WHERE OwnerId = '{}' AND IsClosed = false ORDER BY ActivityDate ASC NULLS LAST",
                    ask.me
                );
                query_url(&instance, &soql)?
            }
            Some(next) => {
                // nextRecordsUrl is a path on the instance; never let it point elsewhere.
                if !next.starts_with("/services/data/")
                    || next.contains("//")
                    || next.contains("..")
                {
                    return Err(ConnectorError::BadResponse(
                        "Salesforce's next page is not an API path".into(),
                    ));
                }
                let mut url = instance.clone();
                let prefix = instance.path().trim_end_matches('/').to_string();
                let (path, query) = match next.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (next, None),
                };
                url.set_path(&format!("{prefix}{path}"));
                url.set_query(query);
                url
            }
        };
        let reply = http::send(tool.cfg, http::bearer(tool.http.get(url), ask.creds)).await?;
        if !reply.is_success() {
            // A next page that is not there is a broken cursor, not a missing org.
            return Err(match (ask.cursor, api_error(&reply)) {
                (Some(_), ConnectorError::NotFound) => ConnectorError::PageGone,
                (_, e) => e,
            });
        }
        parse_tasks(&reply, &instance).map(PageFetch::Page)
    }
}

/// An instance or identity URL Salesforce handed us, where the person's token goes:
/// https (unless the login URL is plain http: tests, the sandbox), on a host under the
/// login host's domain or one `TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS` allows.
fn salesforce_url(raw: &str, cfg: &ProviderConfig) -> Result<Url, ConnectorError> {
    let url = http::trusted_url(raw, cfg)?;
    let host = url.host_str().unwrap_or_default();
    if !http::salesforce_host_allowed(host, &cfg.base_url, &cfg.limits.salesforce_hosts) {
        return Err(ConnectorError::BadResponse(
            "Salesforce sent an address on a host that is not Salesforce's".into(),
        ));
    }
    Ok(url)
}

/// The token answer's Salesforce-specific facts, kept in `Credentials::extra`.
fn extra_from(
    cfg: &ProviderConfig,
    answer: &oauth::Answer,
    previous: &serde_json::Value,
) -> Result<serde_json::Value, ConnectorError> {
    let mut extra = match previous {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    for key in ["instance_url", "id", "issued_at"] {
        if let Some(v) = answer.extra.get(key).and_then(|v| v.as_str()) {
            if key != "issued_at" {
                salesforce_url(v, cfg)?;
            }
            extra.insert(key.into(), serde_json::Value::String(v.to_string()));
        }
    }
    for key in ["instance_url", "id"] {
        if !extra.contains_key(key) {
            return Err(ConnectorError::BadResponse(format!(
                "the Salesforce token answer has no {key}"
            )));
        }
    }
    Ok(serde_json::Value::Object(extra))
}

#[derive(Deserialize)]
struct ApiErrorItem {
    #[serde(rename = "errorCode")]
    error_code: String,
}

/// Maps a REST error; Salesforce sends a JSON array of `{message, errorCode}`.
fn api_error(reply: &Reply) -> ConnectorError {
    let code = serde_json::from_slice::<Vec<ApiErrorItem>>(&reply.body)
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|e| e.error_code);
    match code.as_deref() {
        Some("INVALID_SESSION_ID") => ConnectorError::Unauthorized,
        Some("REQUEST_LIMIT_EXCEEDED") => ConnectorError::RequestLimitExceeded,
        Some("API_DISABLED_FOR_ORG") => ConnectorError::ApiDisabled { edition: None },
        Some("NOT_FOUND") => ConnectorError::NotFound,
        // The cursor (query locator) of a query walked page by page has expired or was
        // never valid: the query has to be run again from its start.
        Some("INVALID_QUERY_LOCATOR") => ConnectorError::PageGone,
        Some("INSUFFICIENT_ACCESS" | "INSUFFICIENT_ACCESS_OR_READONLY") => {
            ConnectorError::AccessDenied
        }
        _ => http::generic_error(reply),
    }
}

fn extra_url(
    cfg: &ProviderConfig,
    creds: &Credentials,
    key: &'static str,
) -> Result<Url, ConnectorError> {
    let raw =
        creds
            .extra
            .get(key)
            .and_then(|v| v.as_str())
            .ok_or(ConnectorError::NotConfigured(
                "the Salesforce connection lacks its instance or identity URL",
            ))?;
    salesforce_url(raw, cfg)
}

#[derive(Deserialize)]
struct IdentityAnswer {
    user_id: String,
    organization_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct QueryAnswer<T> {
    done: bool,
    #[serde(default, rename = "nextRecordsUrl")]
    next_records_url: Option<String>,
    records: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrgRecord {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskRecord {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    activity_date: Option<String>,
    #[serde(default)]
    is_closed: bool,
    #[serde(default)]
    what: Option<What>,
    #[serde(default)]
    last_modified_date: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct What {
    #[serde(default)]
    name: Option<String>,
}

fn query_url(instance: &Url, soql: &str) -> Result<Url, ConnectorError> {
    let mut url = http::endpoint(instance, &["services", "data", API_VERSION, "query"])?;
    url.query_pairs_mut().append_pair("q", soql);
    Ok(url)
}

fn parse_identity(reply: &Reply) -> Result<IdentityAnswer, ConnectorError> {
    reply.json()
}

fn is_salesforce_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn parse_tasks(reply: &Reply, instance: &Url) -> Result<TaskPage, ConnectorError> {
    let answer: QueryAnswer<TaskRecord> = reply.json()?;
    let base = instance.as_str().trim_end_matches('/');
    let tasks = answer
        .records
        .into_iter()
        .filter_map(|r| Some((r.id.clone()?, r)))
        .map(|(id, r)| RemoteTask {
            url: is_salesforce_id(&id).then(|| format!("{base}/{id}")),
            external_id: id,
            title: r.subject.unwrap_or_else(|| "(no subject)".into()),
            status: r.status.unwrap_or_default(),
            project: r.what.and_then(|w| w.name),
            due_on: r.activity_date.as_deref().and_then(http::date_prefix),
            closed: r.is_closed,
            updated_at: r.last_modified_date,
        })
        .collect();
    let next = if answer.done {
        None
    } else {
        Some(answer.next_records_url.ok_or_else(|| {
            ConnectorError::BadResponse(
                "Salesforce said there is more but gave no next page".into(),
            )
        })?)
    };
    Ok(TaskPage {
        tasks,
        next,
        etag: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::{api_error, parse_identity, parse_tasks};
    use secrecy::ExposeSecret;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn maps_every_recorded_error_body() {
        let cases = [
            (
                "salesforce/errors/401_invalid_session_id.json",
                401,
                ConnectorError::Unauthorized,
            ),
            (
                "salesforce/errors/401_invalid_session_id_rest_not_allowed.json",
                401,
                ConnectorError::Unauthorized,
            ),
            (
                "salesforce/errors/403_api_disabled_for_org.json",
                403,
                ConnectorError::ApiDisabled { edition: None },
            ),
            (
                "salesforce/errors/403_request_limit_exceeded.json",
                403,
                ConnectorError::RequestLimitExceeded,
            ),
        ];
        for (file, status, want) in cases {
            assert_eq!(
                api_error(&reply_with(status, &fixture(file))),
                want,
                "{file}"
            );
        }
        let e = api_error(&reply_with(
            400,
            &fixture("salesforce/errors/400_query_error_invalid_field.json"),
        ));
        assert_eq!(
            e,
            ConnectorError::Other {
                status: 400,
                message: "INVALID_FIELD: error_message".into()
            }
        );
    }

    #[test]
    fn parses_the_identity_url_answer() {
        let who =
            parse_identity(&reply(&fixture("salesforce/identity_url_response.json"))).unwrap();
        assert_eq!(who.user_id, "005B0000005V71XIAS");
        assert_eq!(who.organization_id, "00DB0000000ToZ3MAK");
        assert_eq!(who.display_name.as_deref(), Some("Wolfgang Mathurin"));
    }

    #[test]
    fn recorded_query_pages_give_next_records_url_until_done() {
        let instance = Url::parse("https://na1.salesforce.com").unwrap();
        let recorded = |file: &str| {
            let body = fixture(&format!("salesforce/{file}"));
            parse_tasks(&reply(&body), &instance).unwrap()
        };
        let p1 = recorded("query_page1_not_done.json");
        assert_eq!(p1.next.as_deref(), Some("/services/data/v26.0/query/01gD"));
        let p2 = recorded("query_page2_done.json");
        assert_eq!(p2.next, None);
        let empty = recorded("query_empty.json");
        assert!(empty.tasks.is_empty() && empty.next.is_none());
    }

    #[test]
    fn task_records_map_to_tasks() {
        let body = r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Task","url":"/x"},
            "Id":"00T5e00000AbCdEAAV","Subject":"Call Acme","Status":"Not Started","Priority":"High",
            "ActivityDate":"2026-04-01","IsClosed":false,"What":{"attributes":{"type":"Name"},"Name":"Acme Deal","Type":"Opportunity"},
            "LastModifiedDate":"2026-03-01T10:00:00.000+0000"}]}"#;
        let instance = Url::parse("https://na1.salesforce.com/").unwrap();
        let page = parse_tasks(&reply(body), &instance).unwrap();
        let t = &page.tasks[0];
        assert_eq!(
            t.url.as_deref(),
            Some("https://na1.salesforce.com/00T5e00000AbCdEAAV")
        );
        assert_eq!(t.project.as_deref(), Some("Acme Deal"));
        assert_eq!(t.due_on.as_deref(), Some("2026-04-01"));
    }

    #[tokio::test]
    async fn exchange_keeps_instance_and_identity_urls_and_has_no_expiry() {
        let answer = ResponseTemplate::new(200)
            .set_body_string(fixture("salesforce/token_response_web_server.json"));
        let holds = ["code_verifier=ver", "grant_type=authorization_code"];
        let server = token_endpoint("/services/oauth2/token", &holds, answer).await;
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let c = exchange_code(&client(), &cfg, "c", "ver", &callback())
            .await
            .unwrap();
        assert_eq!(c.extra["instance_url"], "https://na1.salesforce.com");
        assert_eq!(
            c.extra["id"],
            "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P"
        );
        assert_eq!(c.expires_at, None);
        assert!(c.refresh_token.is_none());
    }

    #[tokio::test]
    async fn refresh_keeps_the_refresh_token_salesforce_does_not_rotate() {
        let answer = ResponseTemplate::new(200)
            .set_body_string(fixture("salesforce/token_refresh_response.json"));
        let holds = ["grant_type=refresh_token"];
        let server = token_endpoint("/services/oauth2/token", &holds, answer).await;
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let old = creds(
            "old",
            Some("keep-me"),
            serde_json::json!({"instance_url":"https://old.test","id":"https://login.test/id/a/b"}),
        );
        let c = refresh(&client(), &cfg, &old).await.unwrap();
        assert_eq!(c.access_token.expose_secret(), "refreshed_access_token");
        assert_eq!(c.refresh_token.unwrap().expose_secret(), "keep-me");
        assert_eq!(c.extra["instance_url"], "https://na1.salesforce.com");
    }

    #[tokio::test]
    async fn refresh_takes_a_rotated_refresh_token() {
        let answer = ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token":"a2","refresh_token":"rotated","instance_url":"https://na1.salesforce.com",
            "id":"https://login.salesforce.com/id/o/u","issued_at":"1"}));
        let server = token_endpoint("/services/oauth2/token", &[], answer).await;
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let old = creds("old", Some("old-rt"), serde_json::json!({}));
        let c = refresh(&client(), &cfg, &old).await.unwrap();
        assert_eq!(c.refresh_token.unwrap().expose_secret(), "rotated");
    }

    #[tokio::test]
    async fn refresh_invalid_grant_needs_reconnect() {
        let answer = recorded_answer(400, "salesforce/errors/refresh_error_invalid_grant.json");
        let server = token_endpoint("/services/oauth2/token", &[], answer).await;
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let old = creds("old", Some("rt"), serde_json::json!({}));
        let err = refresh(&client(), &cfg, &old).await.unwrap_err();
        assert_eq!(err, ConnectorError::InvalidGrant);
        assert_eq!(err.code(), "TB-AUTH-REVOKED");
    }

    #[tokio::test]
    async fn follows_next_records_url_until_done() {
        let server = MockServer::start().await;
        let rec = |id: &str| serde_json::json!({"attributes":{"type":"Task"},"Id":id,"Subject":id,"Status":"Open","IsClosed":false});
        Mock::given(method("GET"))
            .and(path("/services/data/v59.0/query"))
            .and(query_param(
                "q",
                "SELECT Id, Subject, Status, Priority, ActivityDate, IsClosed, What.Name, What.Type, LastModifiedDate FROM Task WHERE OwnerId = '005x00000012Q9P' AND IsClosed = false ORDER BY ActivityDate ASC NULLS LAST",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "totalSize":2,"done":false,"nextRecordsUrl":"/services/data/v59.0/query/01gD-1",
                "records":[rec("00T000000000001")]})))
            .mount(&server)
            .await;
        let last = ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "totalSize":2,"done":true,"records":[rec("00T000000000002")]}));
        serve(&server, "GET", "/services/data/v59.0/query/01gD-1", last).await;
        // The test server is both the login host and the instance.
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let (tasks, pages) = sample_user(cfg, &server.uri()).all_tasks().await.unwrap();
        assert_eq!(pages, 2);
        assert_eq!(tasks.len(), 2);
    }

    /// An org whose API is at `api_base`.
    fn org(api_base: &str) -> RemoteAccount {
        RemoteAccount {
            id: "00Dx0000000BV7z".into(),
            name: "Org".into(),
            api_base: Some(api_base.into()),
        }
    }

    /// The sample user of the recorded payloads, in the org whose API is at `api_base`.
    fn sample_user(cfg: ProviderConfig, api_base: &str) -> Connection {
        Connection::new(cfg, bearer("at"), org(api_base), "005x00000012Q9P")
    }

    #[tokio::test]
    async fn refuses_a_next_page_outside_the_api() {
        let cfg = config(ProviderKind::Salesforce, "https://login.test");
        let user = sample_user(cfg, "https://na1.salesforce.com");
        for bad in [
            "https://evil.test/services/data/x",
            "//evil.test/services/data/",
            "/services/data/../../x",
        ] {
            let err = user.page(Some(bad), None).await.unwrap_err();
            assert!(matches!(err, ConnectorError::BadResponse(_)), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_expired_query_locator_or_a_missing_next_page_is_page_gone() {
        let server = MockServer::start().await;
        let expired_at = "/services/data/v59.0/query/01gD-expired";
        let expired = ResponseTemplate::new(400).set_body_json(serde_json::json!([
            {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
        ]));
        serve(&server, "GET", expired_at, expired).await;
        let gone_at = "/services/data/v59.0/query/01gD-gone";
        let gone = ResponseTemplate::new(404).set_body_json(serde_json::json!([
            {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
        ]));
        serve(&server, "GET", gone_at, gone).await;
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let user = sample_user(cfg, &server.uri());
        for cursor in [expired_at, gone_at] {
            let err = user.page(Some(cursor), None).await.unwrap_err();
            assert_eq!(err, ConnectorError::PageGone, "{cursor}");
        }
    }

    #[tokio::test]
    async fn instance_and_identity_urls_must_be_salesforces() {
        let answer = |instance: &str, id: &str| serde_json::json!({"access_token":"a","instance_url":instance,"id":id,"issued_at":"1"});
        // A real login host: https, Salesforce's domains or the allowed hosts only.
        let cases = [
            (
                "https://evil.test",
                "https://login.salesforce.com/id/o/u",
                false,
            ),
            (
                "http://na1.salesforce.com",
                "https://login.salesforce.com/id/o/u",
                false,
            ),
            (
                "https://na1.salesforce.com",
                "https://10.0.0.7/id/o/u",
                false,
            ),
            (
                "https://acme.my.salesforce.com",
                "https://login.salesforce.com/id/o/u",
                true,
            ),
            (
                "https://sf.example.com",
                "https://login.salesforce.com/id/o/u",
                true,
            ),
        ];
        let mut cfg = config(ProviderKind::Salesforce, "https://login.salesforce.com");
        cfg.limits.salesforce_hosts.push("sf.example.com".into());
        for (instance, id, ok) in cases {
            let extra = super::extra_from(
                &cfg,
                &serde_json::from_value(answer(instance, id)).unwrap(),
                &serde_json::Value::Null,
            );
            assert_eq!(extra.is_ok(), ok, "{instance} {id}: {extra:?}");
        }
        // A stored connection whose instance is not Salesforce's is not read either.
        let err = sample_user(cfg, "https://evil.test")
            .first_page_error()
            .await;
        assert!(matches!(err, ConnectorError::BadResponse(_)), "{err:?}");
    }

    #[tokio::test]
    async fn an_org_without_api_access_fails_identity() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/id/00D/005"))
            .and(query_param("format", "json"))
            .respond_with(recorded_answer(
                200,
                "salesforce/identity_url_response.json",
            ))
            .mount(&server)
            .await;
        let disabled = recorded_answer(403, "salesforce/errors/403_api_disabled_for_org.json");
        serve(&server, "GET", "/services/data/v59.0/query", disabled).await;
        let cfg = config(ProviderKind::Salesforce, &server.uri());
        let c = creds(
            "at",
            None,
            serde_json::json!({"instance_url": server.uri(), "id": format!("{}/id/00D/005", server.uri())}),
        );
        let err = identity(&client(), &cfg, &c).await.unwrap_err();
        assert_eq!(err.code(), "TB-SF-API-DISABLED");
    }
}
