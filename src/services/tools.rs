//! The task tools as this deployment reaches them: their configured services, or a
//! stand-in plugged in at start-up for those nobody configured.

use std::collections::HashMap;

use url::Url;

use crate::config::{OAuthClient, Settings};
use crate::connectors::{self, AuthKind, ProviderConfig, ProviderKind};
use crate::crypto::Cipher;
use crate::error::{AppError, Unexpected};

/// Every tool's configuration, the HTTP client for them, and the cipher for their tokens.
pub struct Tools {
    configs: HashMap<ProviderKind, ProviderConfig>,
    pub http: reqwest::Client,
    pub cipher: Cipher,
    base_url: Url,
}

/// Where a tool nobody configured is reached instead (the sandbox, in `lib.rs`).
pub type StandIn<'a> = &'a dyn Fn(ProviderKind) -> ProviderConfig;

impl Tools {
    /// The tools as configured; with `stand_in`, a tool nobody configured talks to it.
    pub fn new(settings: &Settings, stand_in: Option<StandIn<'_>>) -> Result<Self, AppError> {
        let p = &settings.providers;
        let limits = connectors::ToolLimits {
            max_response_bytes: settings.tool_max_response_bytes,
            salesforce_hosts: p.salesforce_allowed_hosts.clone(),
        };
        let real = |kind: ProviderKind, url: &Url, client: &Option<OAuthClient>| ProviderConfig {
            kind,
            base_url: url.clone(),
            api_url: match kind {
                ProviderKind::GitHub => Some(p.github_api_url.clone()),
                ProviderKind::Jira => Some(p.jira_api_url.clone()),
                _ => None,
            },
            client_id: client.as_ref().map(|c| c.client_id.clone()),
            client_secret: client.as_ref().map(|c| c.client_secret.clone()),
            sandbox: false,
            limits: limits.clone(),
        };
        let configs = ProviderKind::ALL
            .into_iter()
            .map(|kind| {
                let (url, client) = match kind {
                    ProviderKind::Asana => (&p.asana_url, &p.asana),
                    ProviderKind::Basecamp => (&p.basecamp_launchpad_url, &p.basecamp),
                    ProviderKind::GitHub => (&p.github_url, &p.github),
                    ProviderKind::Intellinote => (&p.intellinote_url, &p.intellinote),
                    ProviderKind::Jira => (&p.jira_auth_url, &p.jira),
                    ProviderKind::Salesforce => (&p.salesforce_login_url, &p.salesforce),
                    ProviderKind::PivotalTracker => (&p.pivotal_api_url, &None),
                };
                let unconfigured = match kind.auth_kind() {
                    AuthKind::OAuth => client.is_none(),
                    AuthKind::ApiToken => !p.pivotal_api_url_set,
                };
                let config = match stand_in {
                    Some(stand_in) if unconfigured => ProviderConfig {
                        limits: limits.clone(),
                        ..stand_in(kind)
                    },
                    _ => real(kind, url, client),
                };
                (kind, config)
            })
            .collect();
        let http =
            connectors::http_client().unexpected("building the HTTP client for the tools")?;
        Ok(Self {
            configs,
            http,
            cipher: Cipher::new(&settings.secret_key),
            base_url: settings.base_url.clone(),
        })
    }

    pub fn config(&self, kind: ProviderKind) -> Result<&ProviderConfig, AppError> {
        self.configs.get(&kind).ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!("no configuration for {}", kind.name()))
        })
    }

    /// Whether people can turn this tool on here (an OAuth tool needs a registered client).
    pub fn available(&self, kind: ProviderKind) -> bool {
        self.configs
            .get(&kind)
            .is_some_and(|c| kind.auth_kind() == AuthKind::ApiToken || c.client_id.is_some())
    }

    pub fn is_sandbox(&self, kind: ProviderKind) -> bool {
        self.configs.get(&kind).is_some_and(|c| c.sandbox)
    }

    /// Where "Turn it on" may send a browser after its form: the origins of the OAuth
    /// tools people can turn on here (for the CSP's `form-action`).
    pub fn sign_in_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = ProviderKind::ALL
            .into_iter()
            .filter(|kind| kind.auth_kind() == AuthKind::OAuth && self.available(*kind))
            .filter_map(|kind| self.configs.get(&kind))
            .map(|cfg| cfg.base_url.origin().ascii_serialization())
            .filter(|origin| origin != "null")
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }

    /// One callback per tool, so an answer meant for one tool is never taken for another.
    pub fn redirect_uri(&self, kind: ProviderKind) -> Result<Url, AppError> {
        self.base_url
            .join(&crate::urls::oauth_callback(kind))
            .unexpected("making a tool's callback URL")
    }
}
