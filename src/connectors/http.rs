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
    cfg: &ProviderConfig,
    req: reqwest::RequestBuilder,
    etag: Option<&str>,
) -> Result<Option<Reply>, ConnectorError> {
    let req = match etag.and_then(|e| reqwest::header::HeaderValue::from_str(e).ok()) {
        Some(value) => req.header(reqwest::header::IF_NONE_MATCH, value),
        None => req,
    };
    let reply = send(cfg, req).await?;
    Ok((etag.is_none() || reply.status != StatusCode::NOT_MODIFIED).then_some(reply))
}

/// A GET with the person's token; an answer that is not a success is the tool's
/// error as `error` reads it.
pub(crate) async fn bearer_get(
    tool: super::Tool<'_>,
    creds: &Credentials,
    url: Url,
    error: fn(&Reply) -> ConnectorError,
) -> Result<Reply, ConnectorError> {
    let reply = send(tool.cfg, bearer(tool.http.get(url), creds)).await?;
    if !reply.is_success() {
        return Err(error(&reply));
    }
    Ok(reply)
}

/// A request with the connection's access token, asking for JSON.
pub(crate) fn bearer(req: reqwest::RequestBuilder, creds: &Credentials) -> reqwest::RequestBuilder {
    req.bearer_auth(creds.access_token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
}

/// Sends a request and reads the answer, mapping transport failures. The body is read
/// chunk by chunk and never past `cfg.limits.max_response_bytes`: a larger answer is
/// [`ConnectorError::TooLarge`], whatever its `Content-Length` says (an honest one
/// over the limit is refused before reading; a small one is not believed either).
pub(crate) async fn send(
    cfg: &ProviderConfig,
    req: reqwest::RequestBuilder,
) -> Result<Reply, ConnectorError> {
    let limit = cfg.limits.max_response_bytes;
    let too_large = ConnectorError::TooLarge { limit_bytes: limit };
    let mut resp = req.send().await.map_err(transport_error)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let announced = resp.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(too_large);
    }
    // Room for what was announced, within the limit and a first chunk's worth: a
    // lying `Content-Length` costs nothing.
    let mut body = Vec::with_capacity((announced as usize).min(limit).min(64 * 1024));
    while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
        if chunk.len() > limit - body.len() {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
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

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in any of the
/// three date forms a recipient must accept (§5.6.7). Seconds too many to count are as
/// many as can be; the caller caps the wait.
pub(crate) fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = http_date(value)?;
    let wait = at - now;
    Some(Duration::from_secs(
        wait.whole_seconds().max(0).unsigned_abs(),
    ))
}

/// An HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime forms.
fn http_date(value: &str) -> Option<OffsetDateTime> {
    use time::macros::format_description;
    let imf = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let asctime = format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    if let Ok(at) = time::PrimitiveDateTime::parse(value, &imf) {
        return Some(at.assume_utc());
    }
    if let Ok(at) = time::PrimitiveDateTime::parse(value, &asctime) {
        return Some(at.assume_utc());
    }
    // RFC 850 has a two-digit year: `time` cannot parse one into a date, so the
    // century is put back by hand (RFC 9110: a year more than 50 years ahead is in the
    // past century).
    let (head, rest) = value.split_once(", ")?;
    let (date, clock) = rest.split_once(' ')?;
    let mut parts = date.splitn(3, '-');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 2 {
        return None;
    }
    let yy: i32 = year.parse().ok()?;
    let this = OffsetDateTime::now_utc().year();
    let mut full = this - this.rem_euclid(100) + yy;
    if full > this + 50 {
        full -= 100;
    }
    let rebuilt = format!("{head}, {day} {month} {full} {clock}");
    let imf_long = format_description!(
        "[weekday], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(&rebuilt, &imf_long)
        .ok()
        .map(|at| at.assume_utc())
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

/// A URL a tool handed us to send the person's token to (Basecamp's account `href`,
/// Salesforce's `instance_url` and `id`): https only, unless the tool's configured
/// address is itself plain http (tests, the sandbox); and no address on this machine
/// or a private network, unless the configured one is such an address too.
pub(crate) fn trusted_url(raw: &str, cfg: &ProviderConfig) -> Result<Url, ConnectorError> {
    let url = tool_url(raw)?;
    if url.scheme() != "https" && cfg.base_url.scheme() != "http" {
        return Err(ConnectorError::BadResponse(
            "the tool sent an address that is not https".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConnectorError::BadResponse(
            "the tool sent an address with a user name in it".into(),
        ));
    }
    let local = |u: &Url| u.host().is_none_or(|h| is_internal(&h));
    if local(&url) && !local(&cfg.base_url) {
        return Err(ConnectorError::BadResponse(
            "the tool sent an address on an internal network".into(),
        ));
    }
    Ok(url)
}

/// Whether a host is this machine or on a private, link-local or otherwise
/// non-public network.
fn is_internal(host: &url::Host<&str>) -> bool {
    use std::net::IpAddr;
    let ip = match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            return d == "localhost"
                || d.ends_with(".localhost")
                || d.ends_with(".local")
                || d.ends_with(".internal")
                || !d.contains('.');
        }
        url::Host::Ipv4(ip) => IpAddr::V4(*ip),
        url::Host::Ipv6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(*ip),
        },
    };
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
        }
    }
}

/// Whether `host` may serve a Salesforce org for a login at `login`: the login host
/// itself, a host under its domain (`login.salesforce.com` gives `salesforce.com`,
/// `acme.my.salesforce.com` gives `my.salesforce.com`), or one `allowed` names
/// (`host`, or `*.domain` for any host under the domain).
pub(crate) fn salesforce_host_allowed(host: &str, login: &Url, allowed: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |domain: &str| {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        host == domain || host.ends_with(&format!(".{domain}"))
    };
    if let Some(login_host) = login.host_str() {
        if host == login_host.to_ascii_lowercase() {
            return true;
        }
        // Only a name has a domain to share; an address stands for itself.
        if let Some(url::Host::Domain(name)) = login.host() {
            let labels: Vec<&str> = name.split('.').collect();
            let domain = if labels.len() >= 3 {
                labels[1..].join(".")
            } else {
                name.to_owned()
            };
            if under(&domain) {
                return true;
            }
        }
    }
    allowed
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(domain) => under(domain) && host != domain.to_ascii_lowercase(),
            None => host == pattern.to_ascii_lowercase(),
        })
}

/// Whether `url` lies under `base` (same origin, and its path is `base`'s or goes on
/// below it, segment by segment), so our token may go there.
pub(crate) fn is_under(url: &Url, base: &Url) -> bool {
    if url.origin() != base.origin() {
        return false;
    }
    let prefix = base.path().trim_end_matches('/');
    let path = url.path();
    prefix.is_empty()
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The URL a `Link` header's target names, resolved against the URL of the request
/// that answered it (RFC 8288 §3.2: a target may be relative).
pub(crate) fn link_target(request: &Url, raw: &str) -> Result<Url, ConnectorError> {
    let url = request.join(raw.trim()).map_err(|_| {
        ConnectorError::BadResponse("the tool sent an invalid next page link".into())
    })?;
    tool_url(url.as_str())
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

/// A person's name from its parts (given name first), leaving out the missing ones.
pub fn full_name(parts: [Option<String>; 2]) -> String {
    let parts: Vec<String> = parts
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    parts.join(" ")
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

/// The error a token endpoint's success answer carries instead of a token: GitHub
/// answers its token errors with HTTP 200 and an `error` field (RFC 6749 §5.2 says 400).
pub(crate) fn error_in_success(reply: &Reply) -> Option<ConnectorError> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        access_token: Option<serde_json::Value>,
        #[serde(default)]
        error: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(&reply.body).ok()?;
    if probe.access_token.is_some() || !probe.error.is_some_and(|e| e.is_string()) {
        return None;
    }
    let as_refusal = Reply {
        status: StatusCode::BAD_REQUEST,
        headers: HeaderMap::new(),
        body: reply.body.clone(),
    };
    Some(oauth_error(&as_refusal))
}

/// Maps a token endpoint's error answer (RFC 6749 §5.2 shape) to an error.
pub(crate) fn oauth_error(reply: &Reply) -> ConnectorError {
    let status = reply.status.as_u16();
    if status == 429 || status >= 500 {
        return generic_error(reply);
    }
    match serde_json::from_slice::<OAuthErrorBody>(&reply.body) {
        Ok(body) => match body.error.as_str() {
            // GitHub names its own: a code that is wrong or expired, a refresh token
            // that is, and a client id or secret it does not know.
            "invalid_grant" | "bad_verification_code" | "bad_refresh_token" => {
                ConnectorError::InvalidGrant
            }
            "invalid_client" | "unauthorized_client" | "incorrect_client_credentials" => {
                ConnectorError::ClientRejected
            }
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
    fn under_stops_at_segment_boundaries() {
        let base = Url::parse("https://3.basecampapi.com/999").unwrap();
        let under = |u: &str| is_under(&Url::parse(u).unwrap(), &base);
        assert!(under("https://3.basecampapi.com/999"));
        assert!(under("https://3.basecampapi.com/999/"));
        assert!(under("https://3.basecampapi.com/999/reports/x.json"));
        assert!(!under("https://3.basecampapi.com/9999/reports/x.json"));
        assert!(!under("https://3.basecampapi.com/999x"));
        assert!(!under("https://3.basecampapi.com/999/../1000/x.json"));
        let with_slash = Url::parse("https://3.basecampapi.com/999/").unwrap();
        assert!(!is_under(
            &Url::parse("https://3.basecampapi.com/9999/x").unwrap(),
            &with_slash
        ));
    }

    #[test]
    fn link_targets_resolve_against_the_request() {
        let request = Url::parse("https://h.test/7/reports/todos/assigned/5.json").unwrap();
        assert_eq!(
            link_target(&request, "5.json?page=2").unwrap().as_str(),
            "https://h.test/7/reports/todos/assigned/5.json?page=2"
        );
        assert_eq!(
            link_target(&request, "/7/reports/todos/assigned/5.json?page=3")
                .unwrap()
                .as_str(),
            "https://h.test/7/reports/todos/assigned/5.json?page=3"
        );
        assert_eq!(
            link_target(&request, "https://h.test/7/x.json?page=2")
                .unwrap()
                .query(),
            Some("page=2")
        );
        assert!(link_target(&request, "javascript:alert(1)").is_err());
    }

    fn cfg_at(base: &str) -> ProviderConfig {
        ProviderConfig {
            kind: super::super::ProviderKind::Basecamp,
            base_url: Url::parse(base).unwrap(),
            api_url: None,
            client_id: None,
            client_secret: None,
            sandbox: false,
            limits: Default::default(),
        }
    }

    #[test]
    fn urls_from_a_real_tool_must_be_https_and_public() {
        let real = cfg_at("https://launchpad.37signals.com");
        assert!(trusted_url("https://3.basecampapi.com/1", &real).is_ok());
        for bad in [
            "http://3.basecampapi.com/1",
            "https://127.0.0.1/1",
            "https://localhost:8080/1",
            "https://169.254.169.254/latest",
            "https://10.1.2.3/1",
            "https://192.168.0.1/1",
            "https://[::1]/1",
            "https://[fd00::1]/1",
            "https://[::ffff:10.0.0.1]/1",
            "https://intranet/1",
            "https://user:pw@3.basecampapi.com/1",
            "ftp://3.basecampapi.com/1",
        ] {
            assert!(trusted_url(bad, &real).is_err(), "{bad} accepted");
        }
        // A tool configured at a plain http, local address (tests, the sandbox).
        let local = cfg_at("http://127.0.0.1:8080/sandbox/basecamp/launchpad");
        assert!(trusted_url("http://127.0.0.1:8080/sandbox/basecamp/api/1", &local).is_ok());
        assert!(trusted_url("https://3.basecampapi.com/1", &local).is_ok());
    }

    #[test]
    fn salesforce_hosts_are_its_own_or_allowed() {
        let login = Url::parse("https://login.salesforce.com").unwrap();
        let defaults: Vec<String> = super::super::DEFAULT_SALESFORCE_HOSTS
            .map(String::from)
            .to_vec();
        let ok = |host: &str, login: &Url, allowed: &[String]| {
            salesforce_host_allowed(host, login, allowed)
        };
        assert!(ok("na1.salesforce.com", &login, &[]));
        assert!(ok("acme.my.salesforce.com", &login, &[]));
        assert!(!ok("evil.test", &login, &defaults));
        assert!(!ok("salesforce.com.evil.test", &login, &defaults));
        assert!(!ok("evilsalesforce.com", &login, &defaults));
        let my_domain = Url::parse("https://acme.my.salesforce.com").unwrap();
        assert!(ok("acme--dev.sandbox.my.salesforce.com", &my_domain, &[]));
        assert!(ok("acme.lightning.force.com", &my_domain, &defaults));
        assert!(!ok("acme.lightning.force.com", &my_domain, &[]));
        let extra = vec!["sf.example.com".to_owned(), "*.crm.example.org".to_owned()];
        assert!(ok("sf.example.com", &login, &extra));
        assert!(ok("eu.crm.example.org", &login, &extra));
        assert!(!ok("crm.example.org", &login, &extra));
        let local = Url::parse("http://127.0.0.1:9000").unwrap();
        assert!(ok("127.0.0.1", &local, &[]));
        assert!(!ok("127.0.0.2", &local, &[]));
    }

    #[test]
    fn retry_after_saturates_and_reads_every_date_form() {
        let now = time::macros::datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(
            parse_retry_after("18446744073709551615", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX)),
            "more seconds than fit is as many as fit"
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:30:00 2015", now),
            Some(Duration::from_secs(120))
        );
    }

    /// A server that answers one request with an endless chunked body, and counts
    /// the bytes it managed to send.
    async fn endless_chunks() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let frame = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            // Up to 1 GiB, unless the client hangs up first.
            for _ in 0..16 * 1024 {
                if socket.write_all(&frame).await.is_err() {
                    return;
                }
                counter.fetch_add(64 * 1024, std::sync::atomic::Ordering::SeqCst);
            }
        });
        (format!("http://{addr}"), sent)
    }

    #[tokio::test]
    async fn an_endless_answer_is_cut_at_the_limit() {
        let (url, sent) = endless_chunks().await;
        let mut cfg = cfg_at(&url);
        cfg.limits.max_response_bytes = 1024 * 1024;
        let client = super::super::http_client().unwrap();
        let err = send(&cfg, client.get(&url)).await.unwrap_err();
        assert_eq!(
            err,
            ConnectorError::TooLarge {
                limit_bytes: 1024 * 1024
            }
        );
        assert_eq!(err.code().as_str(), "TB-TOOL-TOO-LARGE");
        // Reading stopped at the limit: what the server got out is the limit plus what
        // sat in the socket buffers, nowhere near the gigabyte it meant to send.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let out = sent.load(std::sync::atomic::Ordering::SeqCst);
        assert!(out < 64 * 1024 * 1024, "{out} bytes sent");
    }

    #[tokio::test]
    async fn an_announced_oversize_answer_is_refused_before_reading() {
        use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 2048]))
            .mount(&server)
            .await;
        let mut cfg = cfg_at(&server.uri());
        cfg.limits.max_response_bytes = 2047;
        let client = super::super::http_client().unwrap();
        let err = send(&cfg, client.get(server.uri())).await.unwrap_err();
        assert_eq!(err.code().as_str(), "TB-TOOL-TOO-LARGE");
        cfg.limits.max_response_bytes = 2048;
        let reply = send(&cfg, client.get(server.uri())).await.unwrap();
        assert_eq!(reply.body.len(), 2048, "exactly the limit is read");
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
