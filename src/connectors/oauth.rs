//! Standard OAuth 2.0 (RFC 6749 with PKCE, RFC 7636) through the `oauth2` crate: the
//! PKCE pair, the `state` token, the authorization URL, and the code and refresh
//! exchanges. Salesforce and GitHub (and the tools to come that speak the standard)
//! use it.
//!
//! Its requests go through the crate's hook for a custom HTTP client, so that they take
//! the connectors' own path (`http::send`: timeouts, no redirects, the error mapping
//! every tool shares) rather than a second client with rules of its own. Basecamp
//! (Launchpad's `type=web_server` and its legacy form) and Intellinote (a JSON token
//! body) are not standard, so their requests stay hand-written in their modules.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use super::http;
use super::{ConnectorError, Credentials, Grant, ProviderConfig, SignIn, Tool};

/// A token endpoint's answer. Not the crate's `StandardTokenResponse`: Salesforce's
/// own example answer has no `token_type`, which that type requires; a missing one is
/// taken as `Bearer`, the only type these tools issue. Whatever else the answer
/// carries (Salesforce's `instance_url`, `id`, `issued_at`) is kept in `extra`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Answer {
    access_token: AccessToken,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(skip, default = "bearer")]
    token_type: BasicTokenType,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenResponse for Answer {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<std::time::Duration> {
        self.expires_in.map(std::time::Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

type StandardClient = oauth2::Client<
    BasicErrorResponse,
    Answer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A registered client at a tool's standard endpoints.
pub(crate) struct Endpoints<'a> {
    /// The tool's configuration: its limits apply to the token requests too.
    pub config: &'a ProviderConfig,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub authorize: Url,
    pub token: Url,
}

impl<'a> Endpoints<'a> {
    /// The tool's endpoints at these paths under its base URL, with its client id, and
    /// with its secret when `with_secret` (token requests; the sign-in page needs none).
    pub(crate) fn under_base(
        cfg: &'a ProviderConfig,
        authorize: &[&str],
        token: &[&str],
        with_secret: bool,
    ) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: cfg,
            client_id: http::client_id(cfg)?,
            client_secret: if with_secret {
                Some(http::client_secret(cfg)?)
            } else {
                None
            },
            authorize: http::endpoint(&cfg.base_url, authorize)?,
            token: http::endpoint(&cfg.base_url, token)?,
        })
    }
    fn client(&self) -> StandardClient {
        let client = oauth2::Client::new(ClientId::new(self.client_id.to_owned()))
            .set_auth_uri(AuthUrl::from_url(self.authorize.clone()))
            .set_token_uri(TokenUrl::from_url(self.token.clone()))
            // The id and secret go in the form body, as the tools' own examples do.
            .set_auth_type(AuthType::RequestBody);
        match self.client_secret {
            Some(secret) => client.set_client_secret(ClientSecret::new(secret.to_owned())),
            None => client,
        }
    }
}

/// A PKCE pair (S256): keep the verifier secret, send the challenge.
pub fn new_pkce() -> (String, SecretString) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (
        challenge.as_str().to_owned(),
        SecretString::from(verifier.secret().clone()),
    )
}

/// The S256 challenge for a verifier: base64url(sha256(verifier)), unpadded.
pub fn challenge_for(verifier: &str) -> String {
    let verifier = PkceCodeVerifier::new(verifier.to_owned());
    PkceCodeChallenge::from_code_verifier_sha256(&verifier)
        .as_str()
        .to_owned()
}

/// A fresh, unguessable `state` for one sign-in.
pub fn new_state() -> String {
    CsrfToken::new_random().secret().clone()
}

/// The tool's sign-in and consent page for one sign-in: its state, the PKCE challenge
/// of its verifier and the scopes, plus `relogin` (the tool's own parameters that show
/// its sign-in again) when the sign-in asks for that.
pub(crate) fn authorize_url(
    endpoints: &Endpoints<'_>,
    ask: &SignIn<'_>,
    scopes: &[&str],
    relogin: &[(&str, &str)],
) -> Url {
    let verifier = PkceCodeVerifier::new(ask.pkce.verifier.expose_secret().to_owned());
    let client = endpoints.client();
    let mut request = client
        .authorize_url(|| CsrfToken::new(ask.state.to_owned()))
        .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::from_url(
            ask.redirect_uri.clone(),
        )))
        .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
    if ask.force_login {
        for (name, value) in relogin {
            request = request.add_extra_param(*name, *value);
        }
    }
    request.url().0
}

/// Trades the authorization `code` from the redirect for tokens.
pub(crate) async fn exchange_code(
    http_client: &reqwest::Client,
    endpoints: &Endpoints<'_>,
    grant: &Grant<'_>,
) -> Result<Answer, ConnectorError> {
    endpoints
        .client()
        .exchange_code(AuthorizationCode::new(grant.code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(grant.verifier.to_owned()))
        .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::from_url(
            grant.redirect_uri.clone(),
        )))
        .request_async(&Hook(http_client, endpoints.config))
        .await
        .map_err(token_error)
}

/// A code traded for credentials the standard way, carrying `extra` (what the tool's
/// calls need besides the token).
pub(crate) async fn code_to_credentials(
    tool: Tool<'_>,
    endpoints: &Endpoints<'_>,
    grant: &Grant<'_>,
    extra: serde_json::Value,
) -> Result<Credentials, ConnectorError> {
    let answer = exchange_code(tool.http, endpoints, grant).await?;
    Ok(into_credentials(&answer, None, extra))
}

/// Credentials refreshed the standard way, keeping the refresh token when none was sent
/// and what they carried besides the token.
pub(crate) async fn refreshed(
    tool: Tool<'_>,
    endpoints: &Endpoints<'_>,
    creds: &Credentials,
) -> Result<Credentials, ConnectorError> {
    let answer = refresh(tool.http, endpoints, http::refresh_token(creds)?).await?;
    Ok(into_credentials(&answer, Some(creds), creds.extra.clone()))
}

/// New tokens from a refresh token.
pub(crate) async fn refresh(
    http_client: &reqwest::Client,
    endpoints: &Endpoints<'_>,
    refresh_token: &str,
) -> Result<Answer, ConnectorError> {
    endpoints
        .client()
        .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
        .request_async(&Hook(http_client, endpoints.config))
        .await
        .map_err(token_error)
}

/// Credentials from an answer, keeping `previous`'s refresh token when none was sent
/// (tools that do not rotate it).
pub(crate) fn into_credentials(
    answer: &Answer,
    previous: Option<&Credentials>,
    extra: serde_json::Value,
) -> Credentials {
    let refresh_token = match answer.refresh_token().map(|t| t.secret().as_str()) {
        Some(t) if !t.is_empty() => Some(SecretString::from(t.to_owned())),
        _ => previous.and_then(|p| p.refresh_token.clone()),
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Credentials {
        access_token: SecretString::from(answer.access_token().secret().clone()),
        refresh_token,
        expires_at: answer
            .expires_in()
            .map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))),
        extra,
    }
}

/// The custom HTTP client the crate calls: the request goes through `http::send`, and
/// an error answer is mapped here the way every tool's is, so the crate only ever sees
/// a success.
struct Hook<'a>(&'a reqwest::Client, &'a ProviderConfig);

impl<'c> oauth2::AsyncHttpClient<'c> for Hook<'_> {
    type Error = ConnectorError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, ConnectorError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send(self.0, self.1, request))
    }
}

async fn send(
    http_client: &reqwest::Client,
    cfg: &ProviderConfig,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, ConnectorError> {
    let (parts, body) = request.into_parts();
    let builder = http_client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body);
    let reply = http::send(cfg, builder).await?;
    if !reply.is_success() {
        return Err(http::oauth_error(&reply));
    }
    if let Some(refusal) = http::error_in_success(&reply) {
        return Err(refusal);
    }
    let mut response = oauth2::HttpResponse::new(reply.body);
    // Any success is the answer: the crate checks for exactly 200.
    *response.status_mut() = oauth2::http::StatusCode::OK;
    // No Content-Type is passed on: the crate would refuse JSON labelled loosely
    // (`text/plain`), which the hand-written exchanges took; the body is parsed as JSON
    // either way.
    Ok(response)
}

/// The crate's error, as the connectors' own. Never the body: it may hold a token.
fn token_error(e: RequestTokenError<ConnectorError, BasicErrorResponse>) -> ConnectorError {
    match e {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(answer) => ConnectorError::Other {
            status: 400,
            message: answer.error().to_string(),
        },
        RequestTokenError::Parse(e, _) => ConnectorError::BadResponse(format!(
            "the token answer could not be read at {}",
            e.path()
        )),
        RequestTokenError::Other(message) => ConnectorError::BadResponse(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_fresh_and_long() {
        let (a, b) = (new_state(), new_state());
        assert_ne!(a, b);
        assert!(a.len() >= 20, "{a}");
    }
}
