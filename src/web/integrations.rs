//! Company Integrations, Integration Settings, and the pages of the OAuth round trip
//! (the round trip itself is `services::oauth_flow`).

use actix_session::Session;
use actix_web::http::StatusCode;
use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::auth::{CompanyManager, CurrentUser};
use crate::catalogue::Problem;
use crate::connectors::{
    AuthKind, ConnectorError, Credentials, ProviderKind, RemoteAccount, ToolEntry,
};
use crate::db::{self, Pool};
use crate::error::{AppError, AppResult};
use crate::models::{company_integration, connection};
use crate::services::integrations::{self as service, IntegrationError, PersonalChange, Purpose};
use crate::services::oauth_flow::{self, session_err, Answer, Choice, Finished, Signed};
use crate::services::tools::Tools;
use crate::urls;
use crate::web::confirm::{self, Confirmation, Question};
use crate::web::shell::{self, Action, Nav, Page, Shell};
use crate::web::{flash, render, render_status, see_other};

fn tool(slug: &str) -> AppResult<ProviderKind> {
    ProviderKind::from_slug(slug).ok_or(AppError::NotFound)
}

/// What a step of turning a tool on takes: the person (checked by `U`) with their
/// session and address, the database, the tools, and the tool the path names (404 for
/// one taskbridge does not know, once `U` has let the person through).
pub struct RoundTrip<U = CurrentUser> {
    act: Action<U>,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    kind: ProviderKind,
}

impl<U> FromRequest for RoundTrip<U>
where
    U: FromRequest<Error = AppError> + 'static,
{
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let act = Action::<U>::from_request(req, payload);
        let pool = req.app_data::<web::Data<Pool>>().cloned();
        let tools = req.app_data::<web::Data<Tools>>().cloned();
        let slug = req.match_info().get("tool").map(str::to_owned);
        Box::pin(async move {
            let act = act.await?;
            let kind = tool(slug.as_deref().unwrap_or_default())?;
            let (pool, tools) = pool
                .zip(tools)
                .ok_or_else(|| AppError::unexpected("no database or tools in the app data"))?;
            Ok(RoundTrip {
                act,
                pool,
                tools,
                kind,
            })
        })
    }
}

/// "Connected as Jane Doe, jane@acme.test, account Acme".
pub struct ConnectedAs {
    /// Reconnecting is a sign-in (OAuth tools) rather than a new API token.
    pub oauth: bool,
    pub name: String,
    pub email: Option<String>,
    pub account: String,
    pub state: connection::State,
}

impl From<&connection::Connection> for ConnectedAs {
    fn from(c: &connection::Connection) -> Self {
        Self {
            oauth: c.provider.auth_kind() == AuthKind::OAuth,
            name: c.display_name.clone(),
            email: c.email.clone(),
            account: c.account_name.clone(),
            state: connection::State::of(Some(c), crate::db::now()),
        }
    }
}

pub struct ToolRow {
    pub slug: &'static str,
    pub name: &'static str,
    pub on: bool,
    pub tagline: &'static str,
    /// The tool's mark: its initial on its colour.
    pub mark: char,
    /// "2 of 5 people connected".
    pub connected: String,
}

#[derive(Template)]
#[template(path = "company_integrations.html")]
pub struct CompanyIntegrationsPage {
    pub shell: Shell,
    pub tools: Vec<ToolRow>,
}

pub async fn company_list(
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
) -> AppResult<HttpResponse> {
    let overview = service::company_overview(&pool, page.user.company_id).await?;
    render(&CompanyIntegrationsPage {
        shell: page.shell(Nav::CompanyIntegrations),
        tools: ProviderKind::ALL
            .into_iter()
            .map(|k| ToolRow {
                slug: k.slug(),
                name: k.name(),
                on: overview.enabled.contains(&k),
                tagline: k.entry().tagline,
                mark: k.mark(),
                connected: overview.connected_line(k),
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
    /// What it does and needs, from the catalogue of tools.
    pub about: &'static ToolEntry,
    pub on: bool,
    pub token_based: bool,
    pub available: bool,
    pub sandbox: bool,
    pub mine: Option<ConnectedAs>,
    /// GitHub only: whether pull requests come in besides issues.
    pub pull_requests: Option<bool>,
}

pub async fn company_details(
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
    tools: web::Data<Tools>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let (company_id, user_id) = (page.user.company_id, page.user.id);
    let (on, mine, pull_requests) = db::run(&pool, move |conn| {
        let pull_requests = match kind {
            ProviderKind::GitHub => Some(company_integration::includes_pull_requests(
                conn, company_id,
            )?),
            _ => None,
        };
        Ok((
            company_integration::is_enabled(conn, company_id, kind)?,
            connection::of_user(conn, user_id, kind)?,
            pull_requests,
        ))
    })
    .await?;
    render(&DetailsPage {
        shell: page.shell(Nav::CompanyIntegrations),
        slug: kind.slug(),
        name: kind.name(),
        about: kind.entry(),
        on,
        token_based: kind.auth_kind() == AuthKind::ApiToken,
        available: tools.available(kind),
        sandbox: tools.is_sandbox(kind),
        mine: mine.as_ref().map(ConnectedAs::from),
        pull_requests,
    })
}

#[derive(Deserialize)]
pub struct PullRequestsForm {
    /// The checkbox: present when ticked.
    #[serde(default)]
    include: Option<String>,
}

/// The company's choice to bring in GitHub pull requests besides issues, or not.
pub async fn company_github_pull_requests(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    engine: web::Data<crate::services::sync_now::Waker>,
    form: web::Form<PullRequestsForm>,
) -> AppResult<HttpResponse> {
    let include = form.include.is_some();
    let ip = act.ip.clone();
    if service::set_github_pull_requests(&pool, &engine, &act.user, include, ip).await? {
        act.success(if include {
            "GitHub now brings in pull requests as well as issues, from the sync starting now."
        } else {
            "GitHub now leaves pull requests out: they leave My Tasks with the sync starting now. Time tracked on them is kept."
        });
    }
    Ok(see_other(&urls::company_details(
        ProviderKind::GitHub.slug(),
    )))
}

#[derive(Deserialize)]
pub struct TurnOnForm {
    #[serde(default)]
    api_token: Option<String>,
}

async fn turn_on<U: shell::Signed>(
    trip: RoundTrip<U>,
    purpose: Purpose,
    form: TurnOnForm,
) -> AppResult<HttpResponse> {
    let (act, kind) = (&trip.act, trip.kind);
    let (user, session) = (act.user.current(), &act.session);
    if !trip.tools.available(kind) {
        return conclude(session, kind, purpose, Err(IntegrationError::NotConfigured));
    }
    if kind.auth_kind() == AuthKind::ApiToken {
        let token = form.api_token.unwrap_or_default().trim().to_owned();
        if token.is_empty() {
            // Turned off with its token kept: on again with it.
            let ip = act.ip.clone();
            if purpose == Purpose::Personal
                && service::change_personal(
                    &trip.pool,
                    user,
                    kind,
                    PersonalChange::TurnOnWithKeptToken,
                    ip,
                )
                .await?
            {
                flash::success(
                    session,
                    format!("{} is on again with your kept API token.", kind.name()),
                );
                return Ok(see_other(&success_path(kind, purpose)));
            }
            return conclude(session, kind, purpose, Err(IntegrationError::EmptyToken));
        }
        let creds = Credentials::api_token(SecretString::from(token));
        let signed = Signed {
            ip: act.ip.clone(),
            user,
            kind,
            purpose,
            session: None,
        };
        let outcome = oauth_flow::finish(&trip.pool, &trip.tools, signed, creds).await;
        return conclude(session, kind, purpose, outcome);
    }
    let url = oauth_flow::start(session, &trip.tools, user.id, kind, purpose)?;
    Ok(see_other(url.as_str()))
}

pub async fn company_turn_on(
    trip: RoundTrip<CompanyManager>,
    form: web::Form<TurnOnForm>,
) -> AppResult<HttpResponse> {
    turn_on(trip, Purpose::Company, form.into_inner()).await
}

pub async fn personal_turn_on(
    trip: RoundTrip,
    form: web::Form<TurnOnForm>,
) -> AppResult<HttpResponse> {
    let (kind, company_id) = (trip.kind, trip.act.user.company_id);
    let enabled = db::run(&trip.pool, move |conn| {
        Ok(company_integration::is_enabled(conn, company_id, kind)?)
    })
    .await?;
    if !enabled {
        let not_enabled = Err(IntegrationError::NotEnabled);
        return conclude(&trip.act.session, kind, Purpose::Personal, not_enabled);
    }
    turn_on(trip, Purpose::Personal, form.into_inner()).await
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
    trip: RoundTrip,
    query: web::Query<CallbackQuery>,
) -> AppResult<HttpResponse> {
    let (act, kind) = (&trip.act, trip.kind);
    let answer = Answer {
        code: query.code.as_deref(),
        state: query.state.as_deref(),
        error: query.error.as_deref(),
    };
    let (purpose, creds) =
        oauth_flow::receive(&act.session, &trip.tools, act.user.id, kind, answer).await;
    let outcome = match creds {
        Ok(creds) => {
            let signed = Signed {
                ip: act.ip.clone(),
                user: &act.user,
                kind,
                purpose,
                session: Some(&act.session),
            };
            oauth_flow::finish(&trip.pool, &trip.tools, signed, creds).await
        }
        Err(e) => Err(e),
    };
    conclude(&act.session, kind, purpose, outcome)
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
        let (said, status) = match problem {
            IntegrationError::ConsentDenied => (Problem::ConsentDenied, 400),
            IntegrationError::BadState => (Problem::BadState, 400),
            IntegrationError::AlreadyLinked { other } => (Problem::AlreadyLinked { other }, 409),
            IntegrationError::NotEnabled => (Problem::NotEnabled, 409),
            IntegrationError::NoAccounts => (Problem::NoAccounts, 400),
            IntegrationError::NotConfigured => (Problem::NotConfigured, 503),
            IntegrationError::EmptyToken => (Problem::EmptyToken, 400),
            IntegrationError::Tool(e @ ConnectorError::InvalidToken) => {
                (Problem::Tool(e.code()), 400)
            }
            IntegrationError::Tool(e) => (Problem::Tool(e.code()), 502),
            IntegrationError::App(_) => (Problem::Unexpected, 500),
        };
        let told = said.told(kind.entry().subject());
        Self {
            provider: kind.slug().into(),
            purpose,
            title: told.title,
            message: told.message,
            fix: told.fix,
            code: told.code.map(|c| c.as_str().to_owned()),
            editions: told.editions,
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
    page: Page,
    tools: web::Data<Tools>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let note = page
        .session
        .remove_as::<ProblemNote>("integration_problem")
        .and_then(Result::ok)
        .filter(|n| n.provider == kind.slug());
    let Some(note) = note else {
        return Ok(see_other(urls::INTEGRATION_SETTINGS));
    };
    let back = match note.purpose {
        Purpose::Company if page.user.role.manages_company() => urls::company_details(kind.slug()),
        _ => urls::INTEGRATION_SETTINGS.to_owned(),
    };
    let status = StatusCode::from_u16(note.status).unwrap_or(StatusCode::BAD_REQUEST);
    // Only failures of the tool itself are the sandbox misbehaving on purpose.
    let sandbox_tool = tools.is_sandbox(kind) && note.code.is_some();
    render_status(
        status,
        &ProblemPage {
            shell: page.shell(nav_for(note.purpose)),
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

pub async fn choose_form(page: Page, path: web::Path<String>) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    let Some(pending) = oauth_flow::pending_for(&page.session, kind) else {
        return Ok(see_other(urls::INTEGRATION_SETTINGS));
    };
    render(&ChoosePage {
        shell: page.shell(nav_for(pending.purpose)),
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

pub async fn choose(trip: RoundTrip, form: web::Form<ChooseForm>) -> AppResult<HttpResponse> {
    let (act, kind) = (&trip.act, trip.kind);
    let ip = act.ip.clone();
    let choice = (kind, form.account.as_str());
    match oauth_flow::choose(&act.session, &trip.pool, &trip.tools, &act.user, choice, ip).await? {
        Choice::NothingPending => Ok(see_other(urls::INTEGRATION_SETTINGS)),
        Choice::NotListed => {
            act.error("Choose one of the accounts listed.");
            Ok(see_other(&urls::oauth_choose(kind.slug())))
        }
        Choice::Taken(purpose, outcome) => conclude(&act.session, kind, purpose, outcome),
    }
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

async fn connected<U: shell::Signed>(
    page: Page<U>,
    pool: web::Data<Pool>,
    slug: &str,
    company: bool,
) -> AppResult<HttpResponse> {
    let kind = tool(slug)?;
    let user_id = page.user.current().id;
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
        shell: page.shell(nav),
        name: kind.name(),
        slug: kind.slug(),
        company,
        connected: ConnectedAs::from(&mine),
    })
}

pub async fn company_connected(
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    connected(page, pool, &path, true).await
}

pub async fn personal_connected(
    page: Page,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    connected(page, pool, &path, false).await
}

pub struct SettingsRow {
    pub slug: &'static str,
    pub name: &'static str,
    pub mark: char,
    pub token_based: bool,
    pub state: connection::State,
    pub connected: Option<ConnectedAs>,
    /// Turned off with its API token kept.
    pub kept_token: bool,
    /// What turning it off loses, for the confirmation.
    pub off_warning: String,
}

#[derive(Template)]
#[template(path = "integration_settings.html")]
pub struct SettingsPage {
    pub shell: Shell,
    pub rows: Vec<SettingsRow>,
}

pub async fn settings_page(page: Page, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    let service::PersonalOverview {
        enabled,
        mine,
        kept,
    } = service::personal_overview(&pool, &page.user).await?;
    let rows = ProviderKind::ALL
        .into_iter()
        .filter(|k| enabled.contains(k))
        .map(|k| {
            let connected = mine.iter().find(|c| c.provider == k).map(ConnectedAs::from);
            SettingsRow {
                slug: k.slug(),
                name: k.name(),
                mark: k.mark(),
                token_based: k.auth_kind() == AuthKind::ApiToken,
                state: connected
                    .as_ref()
                    .map_or(connection::State::Off, |c| c.state),
                connected,
                kept_token: kept.contains(&k),
                off_warning: off_warning(k),
            }
        })
        .collect();
    render(&SettingsPage {
        shell: page.shell(Nav::IntegrationSettings),
        rows,
    })
}

pub async fn personal_turn_off(
    trip: RoundTrip,
    form: web::Form<Confirmation>,
) -> AppResult<HttpResponse> {
    change_own(trip, &form, Own::TurnOff).await
}

/// What Integration Settings asks first about one's own integration.
#[derive(Debug, Clone, Copy)]
enum Own {
    TurnOff,
    ForgetToken,
}

/// Turning one's own integration off, or deleting its kept API token: asked first
/// (without the page's script), then done and said.
async fn change_own(trip: RoundTrip, form: &Confirmation, own: Own) -> AppResult<HttpResponse> {
    let (kind, name) = (trip.kind, trip.kind.name());
    let (change, title, message, action, button, done) = match own {
        Own::TurnOff => (
            PersonalChange::TurnOff,
            format!("Turn off your {name} integration?"),
            off_warning(kind),
            urls::personal_off(kind.slug()),
            "Turn it off",
            if kind.auth_kind() == AuthKind::ApiToken {
                format!("Your {name} integration is off; your API token is kept.")
            } else {
                format!("Your {name} integration is off; its tokens were deleted.")
            },
        ),
        Own::ForgetToken => (
            PersonalChange::ForgetToken,
            format!("Delete your kept {name} API token?"),
            format!("taskbridge forgets the token; to turn {name} on again you paste one."),
            urls::personal_forget_token(kind.slug()),
            "Delete the token",
            format!("Your {name} API token was deleted."),
        ),
    };
    if !form.given() {
        let back = urls::INTEGRATION_SETTINGS.to_owned();
        let question = Question {
            title,
            message,
            action,
            button,
            back,
        };
        return confirm::ask(&trip.act, Nav::IntegrationSettings, question);
    }
    let (act, ip) = (&trip.act, trip.act.ip.clone());
    if service::change_personal(&trip.pool, &act.user, kind, change, ip).await? {
        act.success(done);
    }
    Ok(see_other(urls::INTEGRATION_SETTINGS))
}

/// What turning a personal integration off loses, as its confirmation says it.
pub fn off_warning(kind: ProviderKind) -> String {
    if kind.auth_kind() == AuthKind::ApiToken {
        format!(
            "Your tasks from {0} stop syncing and leave My Tasks. Your API token is kept, so you can turn {0} on again without pasting it (or delete it). Time you tracked is kept.",
            kind.name()
        )
    } else {
        format!(
            "Your tasks from {0} stop syncing and taskbridge deletes its tokens for your {0} account. Time you tracked is kept. You can turn it on again at any time.",
            kind.name()
        )
    }
}

pub async fn personal_forget_token(
    trip: RoundTrip,
    form: web::Form<Confirmation>,
) -> AppResult<HttpResponse> {
    change_own(trip, &form, Own::ForgetToken).await
}

#[derive(Template)]
#[template(path = "integration_off_confirm.html")]
pub struct ConfirmOffPage {
    pub shell: Shell,
    pub name: &'static str,
    pub slug: &'static str,
}

pub async fn company_off_confirm(
    page: Page<CompanyManager>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    render(&ConfirmOffPage {
        shell: page.shell(Nav::CompanyIntegrations),
        name: kind.name(),
        slug: kind.slug(),
    })
}

pub async fn company_turn_off(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let kind = tool(&path)?;
    if service::turn_off_for_company(&pool, &act.user, kind, act.ip.clone()).await? {
        act.success(format!(
            "{} is now OFF for your company. What was synced is kept.",
            kind.name()
        ));
    }
    Ok(see_other(&urls::company_details(kind.slug())))
}
