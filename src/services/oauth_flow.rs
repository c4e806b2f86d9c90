//! The OAuth round trip with a tool: the sign-in started here (single-use `state` and
//! the PKCE verifier, sealed, kept in the session), the tool's answer checked and
//! exchanged for credentials, and, where one sign-in reaches several accounts (Basecamp),
//! the credentials kept sealed in the session until the person chooses.

use actix_session::Session;
use base64::Engine;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::auth::CurrentUser;
use crate::connectors::{
    self, ConnectorError, Credentials, Grant, Identity, Pkce, ProviderKind, SignIn,
};
use crate::crypto::same_secret;
use crate::db::{now, Pool};
use crate::domain::UserId;
use crate::error::{AppError, Unexpected};
use crate::services::credentials;
use crate::services::integrations::{self as service, IntegrationError, Purpose};
use crate::services::tools::Tools;

const FLOW_KEY: &str = "oauth_flow";
const PENDING_KEY: &str = "oauth_pending";
const FLOW_LIFETIME_SECS: i64 = 15 * 60;

/// A sign-in started here: what the callback must match.
#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    state: String,
    sealed_verifier: String,
    purpose: Purpose,
    started_at: i64,
}

/// A Basecamp sign-in that reaches several accounts, waiting for the person's choice.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    provider: String,
    pub purpose: Purpose,
    sealed_credentials: String,
    pub identity: Identity,
}

/// How a sign-in ended when it did not fail.
pub enum Finished {
    Connected,
    ChooseAccount,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD_NO_PAD
}

pub fn session_err(e: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("session: {e}"))
}

/// Starts a sign-in for `purpose`: keeps the flow in the session and returns the
/// tool's sign-in and consent page to send the browser to.
pub fn start(
    session: &Session,
    tools: &Tools,
    user_id: UserId,
    kind: ProviderKind,
    purpose: Purpose,
) -> Result<Url, AppError> {
    let cfg = tools.config(kind)?;
    let pkce = Pkce::new();
    let state = connectors::oauth::new_state();
    let binding = credentials::pkce_binding(user_id);
    let verifier = pkce.verifier.expose_secret().as_bytes();
    let flow = Flow {
        provider: kind.slug().to_owned(),
        state: state.clone(),
        sealed_verifier: b64().encode(tools.cipher.seal(verifier, &binding)),
        purpose,
        started_at: now(),
    };
    session.insert(FLOW_KEY, &flow).map_err(session_err)?;
    let redirect_uri = tools.redirect_uri(kind)?;
    let ask = SignIn {
        redirect_uri: &redirect_uri,
        state: &state,
        pkce: &pkce,
        force_login: true,
    };
    kind.connector()
        .authorize_url(cfg, &ask)
        .unexpected("making the tool's sign-in URL")
}

/// What the tool sent the browser back with.
pub struct Answer<'a> {
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Checks the answer's `state` against the session's flow before anything else: only
/// the answer carrying it ends the flow (taken out of the session, so a state is good
/// for one answer only). Any other answer, `error=` included, leaves the person's flow
/// waiting, so a link cannot cancel it. Then exchanges the code. Returns the flow's
/// purpose (personal when there was none) with the credentials or why there are none.
pub async fn receive(
    session: &Session,
    tools: &Tools,
    user_id: UserId,
    kind: ProviderKind,
    answer: Answer<'_>,
) -> (Purpose, Result<Credentials, IntegrationError>) {
    let Some(flow) = session.get::<Flow>(FLOW_KEY).ok().flatten() else {
        return (Purpose::Personal, Err(IntegrationError::BadState));
    };
    if !same_secret(answer.state.unwrap_or_default(), &flow.state) {
        return (flow.purpose, Err(IntegrationError::BadState));
    }
    session.remove(FLOW_KEY);
    (
        flow.purpose,
        exchange(tools, user_id, kind, &flow, answer).await,
    )
}

/// The answer to `flow`, its state already matched.
async fn exchange(
    tools: &Tools,
    user_id: UserId,
    kind: ProviderKind,
    flow: &Flow,
    answer: Answer<'_>,
) -> Result<Credentials, IntegrationError> {
    let fresh = now() - flow.started_at <= FLOW_LIFETIME_SECS;
    if flow.provider != kind.slug() || !fresh {
        return Err(IntegrationError::BadState);
    }
    if let Some(error) = answer.error {
        return Err(if error == "access_denied" {
            IntegrationError::ConsentDenied
        } else {
            IntegrationError::Tool(ConnectorError::Other {
                status: 400,
                message: error.chars().take(80).collect(),
            })
        });
    }
    let code = answer
        .code
        .filter(|c| !c.is_empty())
        .ok_or(IntegrationError::BadState)?;
    let sealed = b64()
        .decode(&flow.sealed_verifier)
        .map_err(|_| IntegrationError::BadState)?;
    let verifier = tools
        .cipher
        .open(&sealed, &credentials::pkce_binding(user_id))
        .map_err(|_| IntegrationError::BadState)?;
    let verifier = String::from_utf8(verifier).map_err(|_| IntegrationError::BadState)?;
    let redirect_uri = tools.redirect_uri(kind)?;
    let grant = Grant {
        code,
        verifier: &verifier,
        redirect_uri: &redirect_uri,
    };
    Ok(kind
        .connector()
        .exchange_code(tools.tool(kind)?, &grant)
        .await?)
}

/// What a sign-in's credentials lead to, from the person's side.
pub struct Signed<'a> {
    pub ip: String,
    pub user: &'a CurrentUser,
    pub kind: ProviderKind,
    pub purpose: Purpose,
    /// Where credentials can wait for an account choice (none for an API token).
    pub session: Option<&'a Session>,
}

/// Identity, account choice, then the connection itself.
pub async fn finish(
    pool: &Pool,
    tools: &Tools,
    signed: Signed<'_>,
    creds: Credentials,
) -> Result<Finished, IntegrationError> {
    let Signed {
        ip,
        user,
        kind,
        purpose,
        session,
    } = signed;
    let (tool, connector) = (tools.tool(kind)?, kind.connector());
    // A token that is already stale gets one refresh before giving up.
    let (creds, identity) = match connector.identity(tool, &creds).await {
        Err(ConnectorError::Unauthorized) if creds.refresh_token.is_some() => {
            let fresh = connector.refresh(tool, &creds).await?;
            let identity = connector.identity(tool, &fresh).await?;
            (fresh, identity)
        }
        other => (creds, other?),
    };
    if kind.entry().needs_an_account() && identity.accounts.is_empty() {
        return Err(IntegrationError::NoAccounts);
    }
    let Some(account) = service::only_account(&identity) else {
        let session = session.ok_or(IntegrationError::NoAccounts)?;
        let binding = credentials::pending_binding(user.id.0, kind);
        let sealed = credentials::seal_credentials(&tools.cipher, &creds, &binding)?;
        let pending = Pending {
            provider: kind.slug().to_owned(),
            purpose,
            sealed_credentials: b64().encode(sealed),
            identity,
        };
        session.insert(PENDING_KEY, &pending).map_err(session_err)?;
        return Ok(Finished::ChooseAccount);
    };
    let link = service::Link {
        kind,
        purpose,
        creds: &creds,
        identity: &identity,
        account: &account,
    };
    service::connect(pool, &tools.cipher, user, link, ip).await?;
    Ok(Finished::Connected)
}

/// The account choice waiting in this session for this tool, if any.
pub fn pending_for(session: &Session, kind: ProviderKind) -> Option<Pending> {
    session
        .get::<Pending>(PENDING_KEY)
        .ok()
        .flatten()
        .filter(|p| p.provider == kind.slug())
}

/// What choosing an account came to.
pub enum Choice {
    /// No choice waits in this session for this tool.
    NothingPending,
    /// The account chosen is not one of those listed.
    NotListed,
    /// The choice was taken (and the credentials with it) for this purpose.
    Taken(Purpose, Result<Finished, IntegrationError>),
}

/// Connects the account the person chose among those the sign-in reached.
pub async fn choose(
    session: &Session,
    pool: &Pool,
    tools: &Tools,
    user: &CurrentUser,
    (kind, account_id): (ProviderKind, &str),
    ip: String,
) -> Result<Choice, AppError> {
    let Some(pending) = pending_for(session, kind) else {
        return Ok(Choice::NothingPending);
    };
    let Some(account) = pending
        .identity
        .accounts
        .iter()
        .find(|a| a.id == account_id)
    else {
        return Ok(Choice::NotListed);
    };
    session.remove(PENDING_KEY);
    let binding = credentials::pending_binding(user.id.0, kind);
    let sealed = b64()
        .decode(&pending.sealed_credentials)
        .unexpected("decoding the pending credentials")?;
    let creds = credentials::open_credentials(&tools.cipher, &sealed, &binding)?;
    let link = service::Link {
        kind,
        purpose: pending.purpose,
        creds: &creds,
        identity: &pending.identity,
        account,
    };
    let outcome = service::connect(pool, &tools.cipher, user, link, ip)
        .await
        .map(|()| Finished::Connected);
    Ok(Choice::Taken(pending.purpose, outcome))
}
