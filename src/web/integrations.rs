//! Company Integrations, Integration Settings, and the OAuth round trip.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::{self, CompanyManager, CurrentUser};
use crate::config::Settings;
use crate::connectors::{
    self, AuthKind, ConnectorError, Credentials, Identity, Pkce, ProviderKind, RemoteAccount,
};
use crate::crypto::{random_token, same_secret};
use crate::db::{self, now, Pool};
use crate::error::{AppError, AppResult};
use crate::models::{company_integration, connection};
use crate::services::integrations::{self as service, IntegrationError, Purpose};
use crate::services::tools::Tools;
use crate::urls;
use crate::web::shell::{Nav, Shell};
use crate::web::{flash, render, render_status, see_other};

const FLOW_KEY: &str = "oauth_flow";
const PENDING_KEY: &str = "oauth_pending";
const FLOW_LIFETIME_SECS: i64 = 15 * 60;

fn tool(slug: &str) -> AppResult<ProviderKind> {
    ProviderKind::from_slug(slug).ok_or(AppError::NotFound)
}

/// What each tool does and what it needs, as the details page says it.
pub struct About {
    pub does: &'static str,
    pub needs: &'static str,
}

pub fn about(kind: ProviderKind) -> About {
    match kind {
        ProviderKind::Basecamp => About {
            does: "Brings in the to-dos assigned to you in your Basecamp projects (Basecamp 3 and 4), with their project, due date and a link back to Basecamp.",
            needs: "A Basecamp account. Each person signs in with their own Basecamp login through 37signals Launchpad; when one login reaches several Basecamp accounts, the person chooses which one to sync.",
        },
        ProviderKind::Intellinote => About {
            does: "Brings in the tasks assigned to you in your Intellinote organization, with their workspace and due date.",
            needs: "An Intellinote login with access to your organization. Each person signs in with their own login.",
        },
        ProviderKind::PivotalTracker => About {
            does: "Brings in the stories you own in your Pivotal Tracker projects that are not yet accepted, with their state and a link back to Tracker.",
            needs: "Each person's Pivotal Tracker API token, found at the bottom of their Profile page in Tracker. No sign-in page is involved: paste the token in the API token field.",
        },
        ProviderKind::Salesforce => About {
            does: "Brings in the open Salesforce Tasks assigned to you (calls, emails and to-dos), with their status, due date and related record.",
            needs: "A Salesforce edition with API access: Enterprise, Unlimited, Performance or Developer Edition, or Professional Edition with the API add-on. Group and Contact Manager editions have no API access. Each person also needs the \"API Enabled\" permission.",
        },
    }
}

/// "Connected as Jane Doe, jane@acme.test, account Acme".
pub struct ConnectedAs {
    /// Reconnecting is a sign-in (OAuth tools) rather than a new API token.
    pub oauth: bool,
    pub name: String,
    pub email: Option<String>,
    pub account: String,
    pub needs_reconnect: bool,
}

impl From<&connection::Connection> for ConnectedAs {
    fn from(c: &connection::Connection) -> Self {
        Self {
            oauth: c.provider.auth_kind() == AuthKind::OAuth,
            name: c.display_name.clone(),
            email: c.email.clone(),
            account: c.account_name.clone(),
            needs_reconnect: c.status == connection::ConnectionStatus::NeedsReconnect,
        }
    }
}

pub struct ToolRow {
    pub slug: &'static str,
    pub name: &'static str,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "company_integrations.html")]
pub struct CompanyIntegrationsPage {
    pub shell: Shell,
    pub tools: Vec<ToolRow>,
}

pub async fn company_list(
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
) -> AppResult<HttpResponse> {
    let company_id = user.company_id.0;
    let enabled = db::run(&pool, move |conn| {
        Ok(company_integration::enabled_providers(conn, company_id)?)
    })
    .await?;
    render(&CompanyIntegrationsPage {
        shell: Shell::new(&user, &session, Nav::CompanyIntegrations, settings.sandbox),
        tools: ProviderKind::ALL
            .into_iter()
            .map(|k| ToolRow {
                slug: k.slug(),
                name: k.name(),
                on: enabled.contains(&k),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "integration_details.html")]
pub struct DetailsPage {
    pub shell: Shell,
    pub slug: &'static str,
    pub name: &'static str,
    pub about: About,
    pub on: bool,
    pub token_based: bool,
    pub available: bool,
    pub sandbox: bool,
    pub mine: Option<ConnectedAs>,
}

pub async fn company_details(
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let (company_id, user_id) = (user.company_id.0, user.id.0);
    let (on, mine) = db::run(&pool, move |conn| {
        Ok((
            company_integration::is_enabled(conn, company_id, kind)?,
            connection::of_user(conn, user_id, kind)?,
        ))
    })
    .await?;
    render(&DetailsPage {
        shell: Shell::new(&user, &session, Nav::CompanyIntegrations, settings.sandbox),
        slug: kind.slug(),
        name: kind.name(),
        about: about(kind),
        on,
        token_based: kind.auth_kind() == AuthKind::ApiToken,
        available: tools.available(kind),
        sandbox: tools.is_sandbox(kind),
        mine: mine.as_ref().map(ConnectedAs::from),
    })
}

#[derive(Deserialize)]
pub struct TurnOnForm {
    #[serde(default)]
    api_token: Option<String>,
}

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
struct Pending {
    provider: String,
    purpose: Purpose,
    sealed_credentials: String,
    identity: Identity,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD_NO_PAD
}

fn session_err(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("session: {e}"))
}

async fn turn_on(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    (kind, purpose): (ProviderKind, Purpose),
    form: TurnOnForm,
) -> AppResult<HttpResponse> {
    if !tools.available(kind) {
        return conclude(
            &session,
            kind,
            purpose,
            Err(IntegrationError::NotConfigured),
        );
    }
    if kind.auth_kind() == AuthKind::ApiToken {
        let token = form.api_token.unwrap_or_default().trim().to_owned();
        if token.is_empty() {
            return conclude(&session, kind, purpose, Err(IntegrationError::EmptyToken));
        }
        let creds = Credentials::api_token(SecretString::from(token));
        let outcome = finish(&req, &user, &pool, &tools, kind, purpose, creds, None).await;
        return conclude(&session, kind, purpose, outcome);
    }
    let cfg = tools.config(kind)?;
    let pkce = Pkce::new();
    let state = random_token();
    let binding = service::pkce_binding(user.id.0);
    let flow = Flow {
        provider: kind.slug().to_owned(),
        state: state.clone(),
        sealed_verifier: b64().encode(
            tools
                .cipher
                .seal(pkce.verifier.expose_secret().as_bytes(), &binding),
        ),
        purpose,
        started_at: now(),
    };
    session.insert(FLOW_KEY, &flow).map_err(session_err)?;
    let url = connectors::authorize_url(
        cfg,
        &tools.redirect_uri(kind)?,
        &state,
        &pkce.challenge,
        true,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(see_other(url.as_str()))
}

pub async fn company_turn_on(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
    form: web::Form<TurnOnForm>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    turn_on(
        req,
        user.0,
        session,
        pool,
        tools,
        (kind, Purpose::Company),
        form.into_inner(),
    )
    .await
}

pub async fn personal_turn_on(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
    form: web::Form<TurnOnForm>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let company_id = user.company_id.0;
    let enabled = db::run(&pool, move |conn| {
        Ok(company_integration::is_enabled(conn, company_id, kind)?)
    })
    .await?;
    if !enabled {
        return conclude(
            &session,
            kind,
            Purpose::Personal,
            Err(IntegrationError::NotEnabled),
        );
    }
    turn_on(
        req,
        user,
        session,
        pool,
        tools,
        (kind, Purpose::Personal),
        form.into_inner(),
    )
    .await
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The tool sends the browser back here. The flow is taken out of the session first,
/// so a state is good for one answer only.
pub async fn callback(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let flow: Option<Flow> = session.remove_as::<Flow>(FLOW_KEY).and_then(Result::ok);
    let purpose = flow
        .as_ref()
        .map(|f| f.purpose)
        .unwrap_or(Purpose::Personal);
    let outcome = async {
        let flow = flow.ok_or(IntegrationError::BadState)?;
        let fresh = now() - flow.started_at <= FLOW_LIFETIME_SECS;
        if flow.provider != kind.slug() || !fresh {
            return Err(IntegrationError::BadState);
        }
        if let Some(error) = query.error.as_deref() {
            return Err(if error == "access_denied" {
                IntegrationError::ConsentDenied
            } else {
                IntegrationError::Tool(ConnectorError::Other {
                    status: 400,
                    message: error.chars().take(80).collect(),
                })
            });
        }
        let presented = query.state.as_deref().unwrap_or_default();
        if !same_secret(presented, &flow.state) {
            return Err(IntegrationError::BadState);
        }
        let code = query
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(IntegrationError::BadState)?;
        let sealed = b64()
            .decode(&flow.sealed_verifier)
            .map_err(|_| IntegrationError::BadState)?;
        let verifier = tools
            .cipher
            .open(&sealed, &service::pkce_binding(user.id.0))
            .map_err(|_| IntegrationError::BadState)?;
        let verifier = String::from_utf8(verifier).map_err(|_| IntegrationError::BadState)?;
        let cfg = tools.config(kind)?;
        let creds = connectors::exchange_code(
            &tools.http,
            cfg,
            code,
            &verifier,
            &tools.redirect_uri(kind)?,
        )
        .await?;
        Ok(creds)
    }
    .await;
    let creds = match outcome {
        Ok(creds) => creds,
        Err(e) => return conclude(&session, kind, purpose, Err(e)),
    };
    let result = finish(
        &req,
        &user,
        &pool,
        &tools,
        kind,
        purpose,
        creds,
        Some(&session),
    )
    .await;
    conclude(&session, kind, purpose, result)
}

enum Finished {
    Connected,
    ChooseAccount,
}

/// Identity, account choice, then the connection itself.
#[allow(clippy::too_many_arguments)]
async fn finish(
    req: &HttpRequest,
    user: &CurrentUser,
    pool: &Pool,
    tools: &Tools,
    kind: ProviderKind,
    purpose: Purpose,
    creds: Credentials,
    session: Option<&Session>,
) -> Result<Finished, IntegrationError> {
    let cfg = tools.config(kind)?;
    // A token that is already stale gets one refresh before giving up.
    let (creds, identity) = match connectors::identity(&tools.http, cfg, &creds).await {
        Err(ConnectorError::Unauthorized) if creds.refresh_token.is_some() => {
            let fresh = connectors::refresh(&tools.http, cfg, &creds).await?;
            let identity = connectors::identity(&tools.http, cfg, &fresh).await?;
            (fresh, identity)
        }
        other => (creds, other?),
    };
    if kind == ProviderKind::Basecamp && identity.accounts.is_empty() {
        return Err(IntegrationError::NoAccounts);
    }
    let account = match service::only_account(&identity) {
        Some(account) => account,
        None => {
            let session = session.ok_or(IntegrationError::NoAccounts)?;
            let binding = service::pending_binding(user.id.0, kind);
            let pending = Pending {
                provider: kind.slug().to_owned(),
                purpose,
                sealed_credentials: b64().encode(service::seal_credentials(
                    &tools.cipher,
                    &creds,
                    &binding,
                )?),
                identity,
            };
            session.insert(PENDING_KEY, &pending).map_err(session_err)?;
            return Ok(Finished::ChooseAccount);
        }
    };
    let ip = auth::client_ip(req);
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

fn nav_for(purpose: Purpose) -> Nav {
    match purpose {
        Purpose::Company => Nav::CompanyIntegrations,
        Purpose::Personal => Nav::IntegrationSettings,
    }
}

fn success_path(kind: ProviderKind, purpose: Purpose) -> String {
    match purpose {
        Purpose::Company => urls::company_connected(kind),
        Purpose::Personal => urls::personal_connected(kind),
    }
}

/// After the callback, always a redirect to a clean URL (no code or state left in it).
fn conclude(
    session: &Session,
    kind: ProviderKind,
    purpose: Purpose,
    outcome: Result<Finished, IntegrationError>,
) -> AppResult<HttpResponse> {
    match outcome {
        Ok(Finished::Connected) => Ok(see_other(&success_path(kind, purpose))),
        Ok(Finished::ChooseAccount) => Ok(see_other(&urls::oauth_choose(kind.slug()))),
        Err(IntegrationError::App(e)) => Err(e),
        Err(problem) => {
            tracing::info!(tool = kind.slug(), problem = %problem, "integration not turned on");
            session
                .insert(
                    "integration_problem",
                    ProblemNote::new(kind, purpose, &problem),
                )
                .map_err(session_err)?;
            Ok(see_other(&urls::problem(kind)))
        }
    }
}

/// The problem, carried to the clean problem page.
#[derive(Serialize, Deserialize)]
struct ProblemNote {
    provider: String,
    purpose: Purpose,
    title: String,
    message: String,
    fix: String,
    code: Option<String>,
    editions: bool,
    status: u16,
}

impl ProblemNote {
    fn new(kind: ProviderKind, purpose: Purpose, problem: &IntegrationError) -> Self {
        let tool = kind.name();
        let (title, message, fix, code, editions, status): (String, String, String, Option<String>, bool, u16) = match problem {
            IntegrationError::ConsentDenied => (
                format!("You did not allow access to {tool}"),
                format!("{tool} was not connected because access was denied on its consent page. Nothing was saved."),
                "To connect, choose \"Turn it on\" again and choose Allow on the consent page.".into(),
                None, false, 400,
            ),
            IntegrationError::BadState => (
                "That sign-in could not be finished".into(),
                format!("The answer from {tool} did not match a sign-in started here: it was already used, is too old, or was started in another browser or for another tool. Nothing was saved."),
                "Start again with \"Turn it on\".".into(),
                None, false, 400,
            ),
            IntegrationError::AlreadyLinked { other } => (
                format!("This {tool} account is already linked to {other}"),
                format!("One account in {tool} can be linked to one person in your company only, and this one belongs to {other}. Nothing was changed."),
                format!("Sign in to {tool} with your own account. If this account really is yours, ask {other} to disconnect it in Integration Settings first."),
                None, false, 409,
            ),
            IntegrationError::NotEnabled => (
                format!("{tool} is not turned on for your company"),
                format!("Your company's owner or admin has not turned on {tool}, or turned it off."),
                format!("Ask your company's owner or admin to turn on {tool} in Company Integrations."),
                None, false, 409,
            ),
            IntegrationError::NoAccounts => (
                format!("No {tool} account to sync"),
                format!("The {tool} login you used does not reach any Basecamp 3 or 4 account."),
                format!("Sign in with a login that belongs to your company's {tool} account."),
                None, false, 400,
            ),
            IntegrationError::NotConfigured => (
                format!("{tool} is not set up on this server"),
                format!("taskbridge has no OAuth client registered with {tool}."),
                format!("The person running taskbridge must set TASKBRIDGE_{}_CLIENT_ID and TASKBRIDGE_{}_CLIENT_SECRET, or turn on the sandbox.", kind.slug().to_uppercase(), kind.slug().to_uppercase()),
                None, false, 503,
            ),
            IntegrationError::EmptyToken => (
                "Enter your API token".into(),
                format!("{tool} needs your API token to connect. Nothing was saved."),
                "Copy the API token from the bottom of your Profile page in Tracker and paste it in the API token field.".into(),
                None, false, 400,
            ),
            IntegrationError::Tool(ConnectorError::InvalidToken) => (
                format!("{tool} did not accept that API token"),
                format!("{tool} refused the token, so nothing was saved."),
                "Copy the API token again from the bottom of your Profile page in Tracker (it is 32 characters) and paste it in the API token field.".into(),
                Some(ConnectorError::InvalidToken.code().into()), false, 400,
            ),
            IntegrationError::Tool(e @ ConnectorError::ApiDisabled { .. }) => (
                "Your Salesforce edition has no API access".into(),
                "Salesforce answered that the REST API is not enabled for your organization (API_DISABLED_FOR_ORG), so taskbridge cannot read your tasks. Nothing was saved.".into(),
                "API access comes with Enterprise, Unlimited, Performance and Developer Edition, and with Professional Edition when the API add-on is bought. Group and Contact Manager editions have none. Ask your Salesforce administrator to upgrade or add API access, and make sure your user has the \"API Enabled\" permission; then turn it on again.".into(),
                Some(e.code().into()), true, 502,
            ),
            IntegrationError::Tool(e) => {
                let info = e.info();
                (
                    format!("{tool}: {}", info.title),
                    format!("{} Nothing was saved.", info.cause),
                    info.fix.into(),
                    Some(e.code().into()), false, 502,
                )
            }
            IntegrationError::App(_) => (
                "Something went wrong".into(),
                "An unexpected error happened on our side.".into(),
                "Please try again.".into(),
                None, false, 500,
            ),
        };
        Self {
            provider: kind.slug().into(),
            purpose,
            title,
            message,
            fix,
            code,
            editions,
            status,
        }
    }
}

#[derive(Template)]
#[template(path = "integration_problem.html")]
pub struct ProblemPage {
    pub shell: Shell,
    pub name: &'static str,
    pub title: String,
    pub message: String,
    pub fix: String,
    pub code: Option<String>,
    pub editions: bool,
    pub back: String,
    pub sandbox_tool: bool,
}

pub async fn problem(
    user: CurrentUser,
    session: Session,
    settings: web::Data<Settings>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let note = session
        .remove_as::<ProblemNote>("integration_problem")
        .and_then(Result::ok)
        .filter(|n| n.provider == kind.slug());
    let Some(note) = note else {
        return Ok(see_other(urls::INTEGRATION_SETTINGS));
    };
    let back = match note.purpose {
        Purpose::Company if user.role.manages_company() => urls::company_details(kind.slug()),
        _ => urls::INTEGRATION_SETTINGS.to_owned(),
    };
    let status = StatusCode::from_u16(note.status).unwrap_or(StatusCode::BAD_REQUEST);
    // Only failures of the tool itself are the sandbox misbehaving on purpose.
    let sandbox_tool = tools.is_sandbox(kind) && note.code.is_some();
    render_status(
        status,
        &ProblemPage {
            shell: Shell::new(&user, &session, nav_for(note.purpose), settings.sandbox),
            name: kind.name(),
            title: note.title,
            message: note.message,
            fix: note.fix,
            code: note.code,
            editions: note.editions,
            back,
            sandbox_tool,
        },
    )
}

#[derive(Template)]
#[template(path = "integration_choose_account.html")]
pub struct ChoosePage {
    pub shell: Shell,
    pub name: &'static str,
    pub slug: &'static str,
    pub person: String,
    pub accounts: Vec<RemoteAccount>,
}

/// The account choice waiting in this session for this tool, if any.
fn pending_for(session: &Session, kind: ProviderKind) -> Option<Pending> {
    session
        .get::<Pending>(PENDING_KEY)
        .ok()
        .flatten()
        .filter(|p| p.provider == kind.slug())
}

pub async fn choose_form(
    user: CurrentUser,
    session: Session,
    settings: web::Data<Settings>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let Some(pending) = pending_for(&session, kind) else {
        return Ok(see_other(urls::INTEGRATION_SETTINGS));
    };
    render(&ChoosePage {
        shell: Shell::new(&user, &session, nav_for(pending.purpose), settings.sandbox),
        name: kind.name(),
        slug: kind.slug(),
        person: pending.identity.name.clone(),
        accounts: pending.identity.accounts,
    })
}

#[derive(Deserialize)]
pub struct ChooseForm {
    account: String,
}

pub async fn choose(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
    form: web::Form<ChooseForm>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let Some(pending) = pending_for(&session, kind) else {
        return Ok(see_other(urls::INTEGRATION_SETTINGS));
    };
    let Some(account) = pending
        .identity
        .accounts
        .iter()
        .find(|a| a.id == form.account)
        .cloned()
    else {
        flash::error(&session, "Choose one of the accounts listed.");
        return Ok(see_other(&urls::oauth_choose(kind.slug())));
    };
    session.remove(PENDING_KEY);
    let binding = service::pending_binding(user.id.0, kind);
    let sealed = b64()
        .decode(&pending.sealed_credentials)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let creds = service::open_credentials(&tools.cipher, &sealed, &binding)?;
    let ip = auth::client_ip(&req);
    let link = service::Link {
        kind,
        purpose: pending.purpose,
        creds: &creds,
        identity: &pending.identity,
        account: &account,
    };
    let outcome = service::connect(&pool, &tools.cipher, &user, link, ip)
        .await
        .map(|()| Finished::Connected);
    conclude(&session, kind, pending.purpose, outcome)
}

#[derive(Template)]
#[template(path = "integration_connected.html")]
pub struct ConnectedPage {
    pub shell: Shell,
    pub name: &'static str,
    pub slug: &'static str,
    pub company: bool,
    pub connected: ConnectedAs,
}

async fn connected(
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    slug: &str,
    company: bool,
) -> AppResult<HttpResponse> {
    let kind = tool(slug)?;
    let user_id = user.id.0;
    let mine = db::run(&pool, move |conn| {
        Ok(connection::of_user(conn, user_id, kind)?)
    })
    .await?;
    let Some(mine) = mine else {
        return Ok(see_other(urls::INTEGRATION_SETTINGS));
    };
    let nav = if company {
        Nav::CompanyIntegrations
    } else {
        Nav::IntegrationSettings
    };
    render(&ConnectedPage {
        shell: Shell::new(&user, &session, nav, settings.sandbox),
        name: kind.name(),
        slug: kind.slug(),
        company,
        connected: ConnectedAs::from(&mine),
    })
}

pub async fn company_connected(
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    connected(user.0, session, pool, settings, &path, true).await
}

pub async fn personal_connected(
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    connected(user, session, pool, settings, &path, false).await
}

pub struct SettingsRow {
    pub slug: &'static str,
    pub name: &'static str,
    pub token_based: bool,
    pub connected: Option<ConnectedAs>,
}

#[derive(Template)]
#[template(path = "integration_settings.html")]
pub struct SettingsPage {
    pub shell: Shell,
    pub rows: Vec<SettingsRow>,
}

pub async fn settings_page(
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    settings: web::Data<Settings>,
) -> AppResult<HttpResponse> {
    let (company_id, user_id) = (user.company_id.0, user.id.0);
    let (enabled, mine) = db::run(&pool, move |conn| {
        Ok((
            company_integration::enabled_providers(conn, company_id)?,
            connection::for_user(conn, user_id)?,
        ))
    })
    .await?;
    let rows = ProviderKind::ALL
        .into_iter()
        .filter(|k| enabled.contains(k))
        .map(|k| SettingsRow {
            slug: k.slug(),
            name: k.name(),
            token_based: k.auth_kind() == AuthKind::ApiToken,
            connected: mine.iter().find(|c| c.provider == k).map(ConnectedAs::from),
        })
        .collect();
    render(&SettingsPage {
        shell: Shell::new(&user, &session, Nav::IntegrationSettings, settings.sandbox),
        rows,
    })
}

pub async fn personal_turn_off(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    if service::disconnect(&pool, &user, kind, auth::client_ip(&req)).await? {
        flash::success(
            &session,
            format!(
                "Your {} integration is off; its tokens were deleted.",
                kind.name()
            ),
        );
    }
    Ok(see_other(urls::INTEGRATION_SETTINGS))
}

#[derive(Template)]
#[template(path = "integration_off_confirm.html")]
pub struct ConfirmOffPage {
    pub shell: Shell,
    pub name: &'static str,
    pub slug: &'static str,
}

pub async fn company_off_confirm(
    user: CompanyManager,
    session: Session,
    settings: web::Data<Settings>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    render(&ConfirmOffPage {
        shell: Shell::new(&user, &session, Nav::CompanyIntegrations, settings.sandbox),
        name: kind.name(),
        slug: kind.slug(),
    })
}

pub async fn company_turn_off(
    req: HttpRequest,
    user: CompanyManager,
    session: Session,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    if service::turn_off_for_company(&pool, &user, kind, auth::client_ip(&req)).await? {
        flash::success(
            &session,
            format!(
                "{} is now OFF for your company. What was synced is kept.",
                kind.name()
            ),
        );
    }
    Ok(see_other(&urls::company_details(kind.slug())))
}
