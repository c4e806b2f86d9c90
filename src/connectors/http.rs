//! HTTP plumbing shared by the connectors: sending, error mapping, token answers.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use url::Url;

use super::{ConnectorError, Credentials, ProviderConfig};

/// A tool's whole answer, read into memory.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The answer's `ETag`, to send back as `If-None-Match`.
    pub fn etag(&self) -> Option<String> {
        self.header("etag")
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    }

    /// Parses the body; the error names only where parsing failed, never the content.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ConnectorError::BadResponse(format!(
                "HTTP {} with a body that is not the expected JSON (line {}, column {})",
                self.status.as_u16(),
                e.line(),
                e.column()
            ))
        })
    }
}

/// Sends a request made conditional on `etag` (`If-None-Match`, when there is one):
/// `None` when the tool answered 304 Not Modified to it, what `etag` names being still
/// current. A 304 to a request sent without an `ETag` is returned like any other answer.
pub(crate) async fn send_if_none_match(
    req: reqwest::RequestBuilder,
    etag: Option<&str>,
) -> Result<Option<Reply>, ConnectorError> {
    let req = match etag.and_then(|e| reqwest::header::HeaderValue::from_str(e).ok()) {
        Some(value) => req.header(reqwest::header::IF_NONE_MATCH, value),
        None => req,
    };
    let reply = send(req).await?;
    Ok((etag.is_none() || reply.status != StatusCode::NOT_MODIFIED).then_some(reply))
}

/// Sends a request and reads the whole answer, mapping transport failures.
/// A request with the connection's access token, asking for JSON.
pub(crate) fn bearer(req: reqwest::RequestBuilder, creds: &Credentials) -> reqwest::RequestBuilder {
    req.bearer_auth(creds.access_token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> Result<Reply, ConnectorError> {
    let resp = req.send().await.map_err(transport_error)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.map_err(transport_error)?.to_vec();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn transport_error(e: reqwest::Error) -> ConnectorError {
    // The URL can carry query parameters; keep it out of messages that reach logs.
    let e = e.without_url();
    if e.is_timeout() {
        return ConnectorError::Timeout;
    }
    if e.is_connect() {
        return ConnectorError::Network("could not connect".into());
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    ConnectorError::Network(message)
}

/// The error for a non-success answer that no tool-specific rule recognised.
pub(crate) fn generic_error(reply: &Reply) -> ConnectorError {
    match reply.status.as_u16() {
        401 => ConnectorError::Unauthorized,
        403 => ConnectorError::AccessDenied,
        404 => ConnectorError::NotFound,
        429 => ConnectorError::RateLimited {
            retry_after: reply
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, OffsetDateTime::now_utc())),
        },
        s @ 500..=599 => ConnectorError::Server { status: s },
        s @ 300..=399 => ConnectorError::Other {
            status: s,
            message: "unexpected redirect".into(),
        },
        s => ConnectorError::Other {
            status: s,
            message: short_message(&reply.body),
        },
    }
}

/// A short, human-readable summary of an error body (its error/message fields).
pub(crate) fn short_message(body: &[u8]) -> String {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return "unexpected answer".into(),
    };
    let first = match &value {
        serde_json::Value::Array(items) => items.first().cloned().unwrap_or_default(),
        v => v.clone(),
    };
    let mut parts = Vec::new();
    for key in ["error", "errorCode", "code", "error_description", "message"] {
        if let Some(s) = first.get(key).and_then(|v| v.as_str()) {
            if !parts.iter().any(|p: &String| p == s) {
                parts.push(s.to_string());
            }
        }
    }
    if parts.is_empty() {
        return "unexpected answer".into();
    }
    let mut message = parts.join(": ");
    if message.len() > 200 {
        let mut cut = 200;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    message
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &format)
        .ok()?
        .assume_utc();
    let wait = at - now;
    Some(Duration::from_secs(
        wait.whole_seconds().max(0).unsigned_abs(),
    ))
}

/// `base` with `segments` appended as percent-encoded path segments.
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Result<Url, ConnectorError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| ConnectorError::NotConfigured("the tool's address is not a web address"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Parses a URL a tool handed us, accepting only http and https.
pub(crate) fn tool_url(raw: &str) -> Result<Url, ConnectorError> {
    let url = Url::parse(raw)
        .map_err(|_| ConnectorError::BadResponse("the tool sent an invalid address".into()))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        _ => Err(ConnectorError::BadResponse(
            "the tool sent an address that is not http or https".into(),
        )),
    }
}

/// Whether `url` lies under `base` (same origin, path prefix), so our token may go there.
pub(crate) fn is_under(url: &Url, base: &Url) -> bool {
    url.origin() == base.origin() && url.path().starts_with(base.path().trim_end_matches('/'))
}

pub(crate) fn client_id(cfg: &ProviderConfig) -> Result<&str, ConnectorError> {
    cfg.client_id
        .as_deref()
        .ok_or(ConnectorError::NotConfigured(
            "the tool's OAuth client id is not set",
        ))
}

pub(crate) fn client_secret(cfg: &ProviderConfig) -> Result<&str, ConnectorError> {
    cfg.client_secret
        .as_ref()
        .map(|s| s.expose_secret())
        .ok_or(ConnectorError::NotConfigured(
            "the tool's OAuth client secret is not set",
        ))
}

pub(crate) fn refresh_token(creds: &Credentials) -> Result<&str, ConnectorError> {
    // Without a refresh token the only way forward is connecting again.
    creds
        .refresh_token
        .as_ref()
        .map(|s| s.expose_secret())
        .ok_or(ConnectorError::InvalidGrant)
}

/// A standard OAuth 2 token endpoint answer; tool-specific fields stay in `rest`.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default, deserialize_with = "opt_number_lenient")]
    pub expires_in: Option<i64>,
}

impl TokenAnswer {
    /// Credentials from this answer, keeping `previous`'s refresh token when none was sent.
    pub fn into_credentials(
        self,
        previous: Option<&Credentials>,
        extra: serde_json::Value,
    ) -> Credentials {
        let refresh_token = match self.refresh_token.filter(|t| !t.is_empty()) {
            Some(t) => Some(SecretString::from(t)),
            None => previous.and_then(|p| p.refresh_token.clone()),
        };
        Credentials {
            access_token: SecretString::from(self.access_token),
            refresh_token,
            expires_at: self
                .expires_in
                .map(|s| OffsetDateTime::now_utc().unix_timestamp().saturating_add(s)),
            extra,
        }
    }
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The OAuth error code in a token endpoint's answer, if it has one.
pub(crate) fn oauth_error_code(reply: &Reply) -> Option<String> {
    serde_json::from_slice::<OAuthErrorBody>(&reply.body)
        .ok()
        .map(|b| b.error)
}

/// Maps a token endpoint's error answer (RFC 6749 §5.2 shape) to an error.
pub(crate) fn oauth_error(reply: &Reply) -> ConnectorError {
    let status = reply.status.as_u16();
    if status == 429 || status >= 500 {
        return generic_error(reply);
    }
    match serde_json::from_slice::<OAuthErrorBody>(&reply.body) {
        Ok(body) => match body.error.as_str() {
            "invalid_grant" => ConnectorError::InvalidGrant,
            "invalid_client" | "unauthorized_client" => ConnectorError::ClientRejected,
            "access_denied" => ConnectorError::AccessDenied,
            code => ConnectorError::Other {
                status,
                message: match body.error_description {
                    Some(d) => short_message(
                        serde_json::json!({"error": code, "error_description": d})
                            .to_string()
                            .as_bytes(),
                    ),
                    None => code.to_string(),
                },
            },
        },
        Err(_) if status == 401 => ConnectorError::ClientRejected,
        Err(_) => generic_error(reply),
    }
}

/// Deserializes an id that tools send as a number or a string.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, found {}",
            kind_of(&other)
        ))),
    }
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn opt_number_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

/// The first 10 characters of a timestamp when they form a `YYYY-MM-DD` date.
pub(crate) fn date_prefix(s: &str) -> Option<String> {
    let head = s.get(..10)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(head, &format).ok()?;
    Some(head.to_string())
}

/// The `YYYY-MM-DD` day of a Unix timestamp in milliseconds (UTC).
pub(crate) fn date_from_millis(ms: i64) -> Option<String> {
    let at = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
    Some(at.date().to_string())
}

/// The URL of the `rel="next"` link in a `Link` header (RFC 8288), if any.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all("link") {
        let Ok(value) = value.to_str() else { continue };
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let target = &after[..end];
            let params_all = &after[end + 1..];
            let params = match params_all.find('<') {
                Some(next) => &params_all[..next],
                None => params_all,
            };
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                let Some((k, v)) = p.split_once('=') else {
                    return false;
                };
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
            if is_next {
                return Some(target.to_string());
            }
            rest = params_all;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = time::macros::datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn finds_the_next_link_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "<https://x.test/1/a.json?page=1>; rel=\"prev\", <https://x.test/1/a.json?page=3>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://x.test/1/a.json?page=3")
        );
        h.insert(
            "link",
            HeaderValue::from_static("<https://x.test/1/a.json?page=2>; rel=\"prev\""),
        );
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn endpoint_appends_encoded_segments() {
        let base = Url::parse("https://h.test/sandbox/x/rest/").unwrap();
        let url = endpoint(&base, &["v2", "org", "a b/c", "notes"]).unwrap();
        assert_eq!(
            url.as_str(),
            "https://h.test/sandbox/x/rest/v2/org/a%20b%2Fc/notes"
        );
    }

    #[test]
    fn under_requires_same_origin_and_path() {
        let base = Url::parse("https://h.test/api/1").unwrap();
        let ok = Url::parse("https://h.test/api/1/x.json?page=2").unwrap();
        let other = Url::parse("https://evil.test/api/1/x.json").unwrap();
        assert!(is_under(&ok, &base));
        assert!(!is_under(&other, &base));
    }

    #[test]
    fn short_message_reads_salesforce_and_oauth_bodies() {
        assert_eq!(
            short_message(br#"[{"message":"error_message","errorCode":"INVALID_FIELD"}]"#),
            "INVALID_FIELD: error_message"
        );
        assert_eq!(short_message(b"<html>"), "unexpected answer");
    }

    #[test]
    fn dates_from_timestamps() {
        assert_eq!(
            date_prefix("2026-03-15T10:00:00Z").as_deref(),
            Some("2026-03-15")
        );
        assert_eq!(date_prefix("soon"), None);
        assert_eq!(
            date_from_millis(1424662734681).as_deref(),
            Some("2015-02-23")
        );
    }
}
