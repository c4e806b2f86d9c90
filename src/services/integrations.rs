//! Turning integrations on and off, for the company and for each person.

use serde::{Deserialize, Serialize};

use crate::auth::{CompanyManager, CurrentUser};
use crate::connectors::{
    AuthKind, ConnectorError, Credentials, Identity, ProviderKind, RemoteAccount,
};
use crate::crypto::Cipher;
use crate::db::{self, DbConn, Pool};
use crate::domain::CompanyId;
use crate::error::AppError;
use crate::models::{audit, company_integration, connection, sync_page, user};
use crate::services::credentials::{credentials_binding, seal_credentials};

/// Why an integration was being turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// An owner or admin turning the tool on for the whole company (and for themselves).
    Company,
    /// A person connecting their own account.
    Personal,
}

/// What went wrong turning an integration on, told to the person with what to do.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("consent denied")]
    ConsentDenied,
    #[error("state missing, wrong or reused")]
    BadState,
    #[error("tool: {0}")]
    Tool(#[from] ConnectorError),
    #[error("account already linked")]
    AlreadyLinked { other: String },
    #[error("company integration is off")]
    NotEnabled,
    #[error("no account to sync")]
    NoAccounts,
    #[error("not configured")]
    NotConfigured,
    #[error("empty token")]
    EmptyToken,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<diesel::result::Error> for IntegrationError {
    fn from(e: diesel::result::Error) -> Self {
        IntegrationError::App(e.into())
    }
}

/// What Company Integrations shows: the tools on, how many people connected each, and
/// how many active people the company has.
pub struct CompanyOverview {
    pub enabled: Vec<ProviderKind>,
    pub connected: Vec<(ProviderKind, i64)>,
    pub people: i64,
}

impl CompanyOverview {
    /// "2 of 5 people connected".
    pub fn connected_line(&self, kind: ProviderKind) -> String {
        let n = self
            .connected
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n);
        let noun = if self.people == 1 { "person" } else { "people" };
        format!("{n} of {} {noun} connected", self.people)
    }
}

pub async fn company_overview(
    pool: &Pool,
    company: CompanyId,
) -> Result<CompanyOverview, AppError> {
    db::run(pool, move |conn| {
        Ok(CompanyOverview {
            enabled: company_integration::enabled_providers(conn, company)?,
            connected: connection::counts_by_tool(conn, company.0)?,
            people: user::active_count(conn, company.0)?,
        })
    })
    .await
}

/// What Integration Settings shows: the tools the company has on, the person's own
/// connections, and the API tokens they turned off and kept.
pub struct PersonalOverview {
    pub enabled: Vec<ProviderKind>,
    pub mine: Vec<connection::Connection>,
    pub kept: Vec<ProviderKind>,
}

pub async fn personal_overview(
    pool: &Pool,
    person: &CurrentUser,
) -> Result<PersonalOverview, AppError> {
    let (company_id, user_id) = (person.company_id.0, person.id.0);
    db::run(pool, move |conn| {
        Ok(PersonalOverview {
            enabled: company_integration::enabled_providers(conn, CompanyId(company_id))?,
            mine: connection::for_user(conn, user_id)?,
            kept: connection::kept_tokens(conn, user_id)?,
        })
    })
    .await
}

/// The account to sync when there is no choice to make.
pub fn only_account(identity: &Identity) -> Option<RemoteAccount> {
    match identity.accounts.as_slice() {
        [] => Some(RemoteAccount {
            id: identity.external_user_id.clone(),
            name: identity.name.clone(),
            api_base: None,
        }),
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// What a sign-in produced: the credentials, who they belong to, and the account to sync.
pub struct Link<'a> {
    pub kind: ProviderKind,
    pub purpose: Purpose,
    pub creds: &'a Credentials,
    pub identity: &'a Identity,
    pub account: &'a RemoteAccount,
}

/// Links the person to the tool account and, for a company purpose, turns the
/// integration on for the company and tells everyone else. All in one transaction.
pub async fn connect(
    pool: &Pool,
    cipher: &Cipher,
    user: &CurrentUser,
    link: Link<'_>,
    ip: String,
) -> Result<(), IntegrationError> {
    let Link {
        kind,
        purpose,
        creds,
        identity,
        account,
    } = link;
    if purpose == Purpose::Company && !user.role.manages_company() {
        return Err(AppError::Forbidden.into());
    }
    let (company_id, user_id) = (user.company_id.0, user.id.0);
    let sealed = seal_credentials(
        cipher,
        creds,
        &credentials_binding(company_id, user_id, kind),
    )?;
    let identity = identity.clone();
    let account = account.clone();
    db::run(pool, move |conn| {
        let outcome = db::write(
            conn,
            |conn| -> Result<Result<(), IntegrationError>, AppError> {
                if purpose == Purpose::Personal
                    && !company_integration::is_enabled(conn, CompanyId(company_id), kind)?
                {
                    return Ok(Err(IntegrationError::NotEnabled));
                }
                if let Some(other) = connection::account_linked_to_other(
                    conn,
                    company_id,
                    kind,
                    &account.id,
                    &identity.external_user_id,
                    user_id,
                )? {
                    return Ok(Err(IntegrationError::AlreadyLinked { other }));
                }
                let new = connection::NewConnection {
                    company_id,
                    user_id,
                    provider: kind,
                    external_user_id: &identity.external_user_id,
                    external_account_id: &account.id,
                    account_name: &account.name,
                    display_name: &identity.name,
                    email: identity.email.as_deref(),
                    api_base: account.api_base.as_deref(),
                    credentials: sealed,
                };
                link_account(conn, new, &ip)?;
                if purpose == Purpose::Company {
                    turn_on_for_company(conn, company_id, user_id, kind, &ip)?;
                }
                Ok(Ok(()))
            },
        )?;
        Ok(outcome)
    })
    .await?
}

/// Creates or re-links the connection, with its audit record.
fn link_account(
    conn: &mut DbConn,
    new: connection::NewConnection<'_>,
    ip: &str,
) -> Result<(), AppError> {
    let (company_id, user_id) = (new.company_id, new.user_id);
    let what = format!(
        "{}: {} ({})",
        new.provider.name(),
        new.display_name,
        new.account_name
    );
    connection::upsert(conn, new)?;
    let on = audit::Action::ConnectionOn;
    audit::record(conn, Some(company_id), Some(user_id), on, &what, Some(ip))?;
    Ok(())
}

/// Turns the tool on for the company if it was off: audit record, and everyone else
/// is told where to turn on their own.
fn turn_on_for_company(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    kind: ProviderKind,
    ip: &str,
) -> Result<(), AppError> {
    if !company_integration::set_enabled(conn, company_id, kind, true, user_id)? {
        return Ok(());
    }
    let on = audit::Action::IntegrationOn;
    audit::record(
        conn,
        Some(company_id),
        Some(user_id),
        on,
        kind.name(),
        Some(ip),
    )?;
    let others = user::others_in_company(conn, company_id, user_id)?;
    crate::services::mail::tool_on(conn, &others, kind)?;
    Ok(())
}

/// A person's own change to their connection to a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalChange {
    /// Off: the connection and what it synced go. An OAuth tool's tokens are deleted;
    /// an API token is kept, so the person can turn the tool on again without pasting
    /// it, until they replace it or delete it.
    TurnOff,
    /// On again with the API token kept when it was turned off.
    TurnOnWithKeptToken,
    /// The kept API token deleted.
    ForgetToken,
}

/// Makes `change` with its audit record; false when it changed nothing (nothing to
/// turn off, no token kept).
pub async fn change_personal(
    pool: &Pool,
    user: &CurrentUser,
    kind: ProviderKind,
    change: PersonalChange,
    ip: String,
) -> Result<bool, AppError> {
    let user_id = user.id.0;
    let action = match change {
        PersonalChange::TurnOnWithKeptToken => audit::Action::ConnectionOn,
        PersonalChange::TurnOff | PersonalChange::ForgetToken => audit::Action::ConnectionOff,
    };
    let keeps_token = kind.auth_kind() == AuthKind::ApiToken;
    write_audited(pool, user, action, kind, ip, move |conn| match change {
        PersonalChange::TurnOff if keeps_token => {
            connection::turn_off_keeping_token(conn, user_id, kind)
        }
        PersonalChange::TurnOnWithKeptToken => connection::turn_on_kept(conn, user_id, kind),
        PersonalChange::ForgetToken if !connection::kept_tokens(conn, user_id)?.contains(&kind) => {
            Ok(false)
        }
        PersonalChange::TurnOff | PersonalChange::ForgetToken => {
            Ok(connection::delete_for_user(conn, user_id, kind)? > 0)
        }
    })
    .await
}

/// Company OFF: sync stops for everyone; connections and what was synced are kept.
/// Everyone else with a connection to the tool is told (in the app, and by email).
pub async fn turn_off_for_company(
    pool: &Pool,
    user: &CompanyManager,
    kind: ProviderKind,
    ip: String,
) -> Result<bool, AppError> {
    let (company_id, user_id, by) = (user.company_id.0, user.id.0, user.name.clone());
    let off = audit::Action::IntegrationOff;
    write_audited(pool, user, off, kind, ip, move |conn| {
        if !company_integration::set_enabled(conn, company_id, kind, false, user_id)? {
            return Ok(false);
        }
        let affected: Vec<i64> = connection::for_company(conn, CompanyId(company_id))?
            .into_iter()
            .filter(|c| c.provider == kind && c.user_id != user_id)
            .map(|c| c.user_id)
            .collect();
        crate::services::mail::tool_off(conn, &affected, kind, &by)?;
        Ok(true)
    })
    .await
}

/// Whether the company's GitHub brings in pull requests besides issues. A change takes
/// effect at once: every GitHub connection of the company reads its pages in full again
/// right away (pull requests left out are archived after that pass, as any task that
/// is no longer assigned). Returns whether anything changed.
pub async fn set_github_pull_requests(
    pool: &Pool,
    engine: &crate::services::sync_now::Waker,
    user: &CompanyManager,
    include: bool,
    ip: String,
) -> Result<bool, AppError> {
    let (company_id, user_id) = (user.company_id.0, user.id.0);
    let action = audit::Action::CompanySettingsChanged;
    let kind = ProviderKind::GitHub;
    let changed = write_audited(pool, user, action, kind, ip, move |conn| {
        if !company_integration::set_include_pull_requests(conn, company_id, include, user_id)? {
            return Ok(false);
        }
        sync_page::forget_pages_of_tool(conn, company_id, kind)?;
        connection::request_sync_for_tool(conn, company_id, kind)?;
        Ok(true)
    })
    .await?;
    if changed {
        engine.nudge();
    }
    Ok(changed)
}

/// One write transaction that, when `change` changed something, records `action` on
/// the tool in the audit log; returns whether it changed anything.
async fn write_audited(
    pool: &Pool,
    user: &CurrentUser,
    action: audit::Action,
    kind: ProviderKind,
    ip: String,
    change: impl FnOnce(&mut DbConn) -> diesel::QueryResult<bool> + Send + 'static,
) -> Result<bool, AppError> {
    let (company_id, user_id) = (user.company_id.0, user.id.0);
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let changed = change(conn)?;
            if changed {
                let (company, actor) = (Some(company_id), Some(user_id));
                audit::record(conn, company, actor, action, kind.name(), Some(&ip))?;
            }
            Ok(changed)
        })
    })
    .await
}
