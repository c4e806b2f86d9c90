//! The task tools as this deployment reaches them: their configured services, or a
//! stand-in plugged in at start-up for those nobody configured.

use std::collections::HashMap;

use url::Url;

use crate::config::Settings;
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
        let mut configs = HashMap::new();
        for (kind, set) in &p.tools {
            let unconfigured = match kind.auth_kind() {
                AuthKind::OAuth => set.client.is_none(),
                AuthKind::ApiToken => !set.base_url_set,
            };
            let config = match stand_in {
                Some(stand_in) if unconfigured => stand_in(*kind),
                _ => ProviderConfig {
                    kind: *kind,
                    base_url: set.base_url.clone(),
                    api_url: set.api_url.clone(),
                    client_id: set.client.as_ref().map(|c| c.client_id.clone()),
                    client_secret: set.client.as_ref().map(|c| c.client_secret.clone()),
                    sandbox: false,
                    limits: limits.clone(),
                },
            };
            let limits = limits.clone();
            configs.insert(*kind, ProviderConfig { limits, ..config });
        }
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

    /// How calls reach the tool: the shared HTTP client and its configuration.
    pub fn tool(&self, kind: ProviderKind) -> Result<connectors::Tool<'_>, AppError> {
        Ok(connectors::Tool {
            http: &self.http,
            cfg: self.config(kind)?,
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
