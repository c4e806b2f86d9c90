//! Settings, read once from the environment (and `.env`) at start.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::connectors::ProviderKind;

/// A configuration problem: names the variable, says what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
}

impl ConfigError {
    fn new(var: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            problem: problem.into(),
        }
    }
}

/// The registered OAuth client for one tool.
#[derive(Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Where one tool lives and the client registered with it, from the settings its
/// catalogue entry names (`connectors::ToolEntry`).
#[derive(Clone, Debug)]
pub struct ToolSettings {
    pub base_url: Url,
    /// Whether the base URL was set rather than defaulted: a tool without OAuth is then
    /// taken as configured, and the sandbox leaves it alone.
    pub base_url_set: bool,
    /// Where its API is, for a tool that has a second address.
    pub api_url: Option<Url>,
    pub client: Option<OAuthClient>,
}

/// Where each tool lives and the clients registered with them.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub tools: BTreeMap<ProviderKind, ToolSettings>,
    /// Hosts Salesforce may name as instance or identity URL besides those under the
    /// login host's domain: a host, or `*.domain` (`TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS`).
    pub salesforce_allowed_hosts: Vec<String>,
}

impl ProviderSettings {
    /// One tool's settings (every tool has some, defaulted to the real tool).
    pub fn tool(&self, kind: ProviderKind) -> Option<&ToolSettings> {
        self.tools.get(&kind)
    }
}

/// The 64 bytes behind session cookies and encryption at rest.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() < 32 {
            return Err("must be at least 32 characters (64 random hex digits recommended)".into());
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes).into_bytes())
    }

    pub fn as_text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// A key for one purpose, so no two uses ever share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 64] {
        use sha2::{Digest, Sha512};
        let mut hasher = Sha512::new();
        hasher.update(b"taskbridge/");
        hasher.update(purpose.as_bytes());
        hasher.update([0u8]);
        hasher.update(&self.0);
        hasher.finalize().into()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Everything the application needs to run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    pub base_url: Url,
    pub secret_key: SecretKey,
    pub sync_interval: Duration,
    pub sandbox: bool,
    pub providers: ProviderSettings,
    /// A timer running longer is flagged to its person ("still running since …"),
    /// never cut (`TASKBRIDGE_TIMER_LIMIT_HOURS`).
    pub timer_limit: Duration,
    /// Requests a minute each API token may send, per instance; 0 is no limit
    /// (`TASKBRIDGE_API_RATE_PER_MINUTE`).
    pub api_rate_per_minute: u32,
    /// Seconds after a person's "Sync now" during which another asks for nothing more
    /// (`TASKBRIDGE_SYNC_NOW_COOLDOWN_SECS`).
    pub sync_now_cooldown_secs: i64,
    /// The most bytes of one tool answer read (`TASKBRIDGE_TOOL_MAX_RESPONSE_MB`).
    pub tool_max_response_bytes: usize,
    /// Where mail goes: an SMTP server, or the in-app outbox.
    pub mail: MailSettings,
    /// Reverse proxies whose `X-Forwarded-For` names the client
    /// (`TASKBRIDGE_TRUSTED_PROXIES`); none by default, and then the header is ignored.
    pub trusted_proxies: crate::auth::client_addr::TrustedProxies,
    /// A warning to print once the logger is up (a generated key, say).
    pub warnings: Vec<String>,
    /// The key file generated at this start, if one was: removed again when the
    /// database turns out to be sealed with another key.
    pub generated_key_file: Option<PathBuf>,
}

/// `TASKBRIDGE_SMTP_URL` and `TASKBRIDGE_MAIL_FROM`.
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…`; `None`: the outbox.
    pub smtp_url: Option<SecretString>,
    pub from: lettre::message::Mailbox,
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp", &self.smtp_url.is_some())
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Settings {
    /// Reads `.env` if present, then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut warnings = Vec::new();

        let database_url = var("DATABASE_URL").unwrap_or_else(|| "taskbridge.db".to_owned());
        if database_url.starts_with("mysql:") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "MySQL is not supported; use a SQLite file path or postgres://…",
            ));
        }

        let bind = bind(&var)?;

        let base_url = parse_url(&var, "TASKBRIDGE_BASE_URL", "http://127.0.0.1:8080")?;

        let (secret_key, generated_key_file) = secret_key(&var, &database_url, &mut warnings)?;

        let sync_interval = sync_interval(&var)?;

        let providers = providers(&var)?;
        let sandbox = sandbox(&var, &providers)?;

        let timer_limit = timer_limit(&var)?;
        let api_rate_per_minute = api_rate(&var)?;
        let sync_now_cooldown_secs = sync_now_cooldown(&var)?;
        let tool_max_response_bytes = tool_max_response(&var)?;
        let mail = mail(&var)?;
        let trusted_proxies = trusted_proxies(&var)?;

        Ok(Self {
            mail,
            trusted_proxies,
            timer_limit,
            api_rate_per_minute,
            sync_now_cooldown_secs,
            tool_max_response_bytes,
            database_url,
            bind,
            base_url,
            secret_key,
            sync_interval,
            sandbox,
            providers,
            warnings,
            generated_key_file,
        })
    }

    pub fn timer_limit_secs(&self) -> i64 {
        i64::try_from(self.timer_limit.as_secs()).unwrap_or(i64::MAX)
    }

    /// Cookies are marked `Secure` and HSTS is sent when served over TLS.
    pub fn served_over_tls(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// The origin browsers send in `Origin` for our own pages.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn bind(var: &impl Fn(&str) -> Option<String>) -> Result<SocketAddr, ConfigError> {
    match var("TASKBRIDGE_BIND") {
        Some(v) => v.parse().map_err(|_| {
            ConfigError::new(
                "TASKBRIDGE_BIND",
                format!("{v:?} is not an address like 127.0.0.1:8080"),
            )
        }),
        None => Ok(SocketAddr::from(([127, 0, 0, 1], 8080))),
    }
}

/// `TASKBRIDGE_SECRET_KEY`, or with SQLite a key generated once and kept beside the
/// database (with a warning), with the path of the file when it was generated now.
fn secret_key(
    var: &impl Fn(&str) -> Option<String>,
    database_url: &str,
    warnings: &mut Vec<String>,
) -> Result<(SecretKey, Option<PathBuf>), ConfigError> {
    let key = match var("TASKBRIDGE_SECRET_KEY") {
        Some(v) => {
            SecretKey::from_text(&v).map_err(|p| ConfigError::new("TASKBRIDGE_SECRET_KEY", p))?
        }
        None if is_postgres(database_url) => {
            return Err(ConfigError::new(
                "TASKBRIDGE_SECRET_KEY",
                "required with PostgreSQL, so every app instance shares one key",
            ))
        }
        None => {
            let path = key_file_beside(database_url);
            let (key, created) = load_or_create_key(&path).map_err(|e| {
                ConfigError::new("TASKBRIDGE_SECRET_KEY", format!("not set, and {e}"))
            })?;
            if created {
                warnings.push(format!(
                    "TASKBRIDGE_SECRET_KEY is not set: generated one and kept it in {} (mode 0600). Back it up: without it, stored tokens cannot be read.",
                    path.display()
                ));
                return Ok((key, Some(path)));
            }
            key
        }
    };
    Ok((key, None))
}

fn sync_interval(var: &impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    let interval = match var("TASKBRIDGE_SYNC_INTERVAL_SECS") {
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs >= 10 => Duration::from_secs(secs),
            _ => {
                return Err(ConfigError::new(
                    "TASKBRIDGE_SYNC_INTERVAL_SECS",
                    format!("{v:?} is not a number of seconds of at least 10"),
                ))
            }
        },
        None => Duration::from_secs(300),
    };
    Ok(interval)
}

/// Where each tool lives and the OAuth clients registered with them, each read from
/// the variables its catalogue entry names.
fn providers(var: &impl Fn(&str) -> Option<String>) -> Result<ProviderSettings, ConfigError> {
    let tools = ProviderKind::ALL
        .into_iter()
        .map(|kind| {
            let entry = kind.entry();
            let settings = ToolSettings {
                base_url: parse_url(var, entry.base.var, entry.base.default)?,
                base_url_set: var(entry.base.var).is_some(),
                api_url: entry
                    .api
                    .map(|api| parse_url(var, api.var, api.default))
                    .transpose()?,
                client: match entry.client_vars() {
                    Some((id, secret)) => oauth_client(var, &id, &secret)?,
                    None => None,
                },
            };
            Ok((kind, settings))
        })
        .collect::<Result<_, ConfigError>>()?;
    Ok(ProviderSettings {
        tools,
        salesforce_allowed_hosts: salesforce_hosts(var)?,
    })
}

/// `TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS`: comma-separated hosts, each a name or an
/// address, or `*.` and a domain for any host under it; Salesforce's own domains by
/// default. (Hosts under the login URL's domain are allowed whatever this says.)
fn salesforce_hosts(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    const NAME: &str = "TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS";
    let Some(raw) = var(NAME) else {
        return Ok(crate::connectors::DEFAULT_SALESFORCE_HOSTS
            .map(String::from)
            .to_vec());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|entry| {
            let host = entry.strip_prefix("*.").unwrap_or(entry);
            let plain = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
            match url::Host::parse(host) {
                Ok(url::Host::Domain(_)) if plain && !host.contains(':') => {
                    Ok(entry.to_ascii_lowercase())
                }
                Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) if plain && host == entry => {
                    Ok(entry.to_ascii_lowercase())
                }
                _ => Err(ConfigError::new(
                    NAME,
                    format!("{entry:?} is not a host name like na1.salesforce.com or *.my.salesforce.com"),
                )),
            }
        })
        .collect()
}

/// `TASKBRIDGE_SMTP_URL` (checked the way the mailer will read it; a bad value is
/// told without its password) and `TASKBRIDGE_MAIL_FROM`.
fn mail(var: &impl Fn(&str) -> Option<String>) -> Result<MailSettings, ConfigError> {
    const URL: &str = "TASKBRIDGE_SMTP_URL";
    const FROM: &str = "TASKBRIDGE_MAIL_FROM";
    let smtp_url = match var(URL) {
        None => None,
        Some(raw) => {
            let bad = |why: &str| {
                ConfigError::new(
                    URL,
                    format!(
                        "{} {why}; expected smtp://user:password@host:587?tls=required or smtps://user:password@host:465",
                        redacted_url(&raw)
                    ),
                )
            };
            let url = Url::parse(&raw).map_err(|_| bad("is not a URL"))?;
            if !matches!(url.scheme(), "smtp" | "smtps") {
                return Err(bad("must start with smtp:// or smtps://"));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(bad("names no host"));
            }
            let tls = url.query_pairs().find(|(k, _)| k == "tls");
            if tls.is_some_and(|(_, v)| v != "required" && v != "opportunistic") {
                return Err(bad("has a tls= other than required or opportunistic"));
            }
            type Smtp = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;
            Smtp::from_url(&raw).map_err(|_| bad("cannot be used"))?;
            Some(SecretString::from(raw))
        }
    };
    let from = var(FROM).unwrap_or_else(|| "taskbridge <no-reply@localhost>".to_owned());
    let from = from.parse().map_err(|_| {
        ConfigError::new(
            FROM,
            format!("{from:?} is not an address like \"taskbridge <no-reply@example.com>\""),
        )
    })?;
    Ok(MailSettings { smtp_url, from })
}

/// A URL as it may be shown: its password, if any, replaced.
pub fn redacted_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.host_str().is_some() => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        // Where a password would sit cannot be told: show nothing of it.
        _ => "the value".to_owned(),
    }
}

/// `TASKBRIDGE_TOOL_MAX_RESPONSE_MB`: 1 to 1024 MiB per answer, 8 by default.
fn tool_max_response(var: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    const NAME: &str = "TASKBRIDGE_TOOL_MAX_RESPONSE_MB";
    let mib = match var(NAME) {
        None => crate::connectors::DEFAULT_MAX_RESPONSE_MB,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => n,
            _ => {
                return Err(ConfigError::new(
                    NAME,
                    format!("{v:?} is not a whole number of MiB from 1 to 1024"),
                ))
            }
        },
    };
    Ok(mib * 1024 * 1024)
}

/// On when forced, or when no tool has client credentials.
fn sandbox(
    var: &impl Fn(&str) -> Option<String>,
    providers: &ProviderSettings,
) -> Result<bool, ConfigError> {
    let any_credentials = providers.tools.values().any(|t| t.client.is_some());
    Ok(match var("TASKBRIDGE_SANDBOX").as_deref() {
        Some("on") | Some("true") | Some("1") => true,
        Some("off") | Some("false") | Some("0") => false,
        Some(other) => {
            return Err(ConfigError::new(
                "TASKBRIDGE_SANDBOX",
                format!("{other:?} is neither \"on\" nor \"off\""),
            ))
        }
        None => !any_credentials,
    })
}

fn parse_url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Url, ConfigError> {
    let raw = var(name).unwrap_or_else(|| default.to_owned());
    let url = Url::parse(raw.trim_end_matches('/'))
        .map_err(|e| ConfigError::new(name, format!("{raw:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            name,
            format!("{raw:?} must start with http:// or https://"),
        ));
    }
    Ok(url)
}

fn oauth_client(
    var: &impl Fn(&str) -> Option<String>,
    id_var: &str,
    secret_var: &str,
) -> Result<Option<OAuthClient>, ConfigError> {
    match (var(id_var), var(secret_var)) {
        (Some(client_id), Some(secret)) => Ok(Some(OAuthClient {
            client_id,
            client_secret: SecretString::from(secret),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::new(
            secret_var,
            format!("is required when {id_var} is set"),
        )),
        (None, Some(_)) => Err(ConfigError::new(
            id_var,
            format!("is required when {secret_var} is set"),
        )),
    }
}

/// `taskbridge.db` keeps its key in `taskbridge.db.key`, beside it.
fn key_file_beside(database_url: &str) -> PathBuf {
    let path = database_url
        .strip_prefix("sqlite://")
        .unwrap_or(database_url);
    let path = if path == ":memory:" {
        "taskbridge.db"
    } else {
        path
    };
    PathBuf::from(format!("{path}.key"))
}

fn load_or_create_key(path: &Path) -> Result<(SecretKey, bool), String> {
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::from_text(&text)
            .map(|k| (k, false))
            .map_err(|e| format!("{} {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_private(path, key.as_text().as_bytes())
                .map_err(|e| format!("{} could not be written: {e}", path.display()))?;
            Ok((key, true))
        }
        Err(e) => Err(format!("{} could not be read: {e}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Keeps a secret out of `Debug` output while still letting code read it.
pub fn expose(secret: &SecretString) -> &str {
    secret.expose_secret()
}

/// `TASKBRIDGE_TRUSTED_PROXIES`: comma-separated addresses or networks (CIDR).
fn trusted_proxies(
    var: &impl Fn(&str) -> Option<String>,
) -> Result<crate::auth::client_addr::TrustedProxies, ConfigError> {
    const NAME: &str = "TASKBRIDGE_TRUSTED_PROXIES";
    let raw = var(NAME).unwrap_or_default();
    crate::auth::client_addr::TrustedProxies::parse(&raw).map_err(|entry| {
        ConfigError::new(
            NAME,
            format!("{entry:?} is not an address or network like 10.0.0.1 or 10.0.0.0/8"),
        )
    })
}

/// `TASKBRIDGE_API_RATE_PER_MINUTE`: 0 (off) to 100,000, 600 by default.
fn api_rate(var: &impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    const NAME: &str = "TASKBRIDGE_API_RATE_PER_MINUTE";
    match var(NAME) {
        None => Ok(600),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n <= 100_000 => Ok(n),
            _ => Err(ConfigError::new(
                NAME,
                format!("{v:?} is not a whole number of requests from 0 to 100000"),
            )),
        },
    }
}

/// `TASKBRIDGE_SYNC_NOW_COOLDOWN_SECS`: 0 to 3600 seconds, 10 by default.
fn sync_now_cooldown(var: &impl Fn(&str) -> Option<String>) -> Result<i64, ConfigError> {
    const NAME: &str = "TASKBRIDGE_SYNC_NOW_COOLDOWN_SECS";
    match var(NAME) {
        None => Ok(10),
        Some(v) => match v.parse::<i64>() {
            Ok(secs) if (0..=3600).contains(&secs) => Ok(secs),
            _ => Err(ConfigError::new(
                NAME,
                format!("{v:?} is not a whole number of seconds from 0 to 3600"),
            )),
        },
    }
}

/// `TASKBRIDGE_TIMER_LIMIT_HOURS`: 1 to 168 hours, 12 by default.
fn timer_limit(var: &impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    const NAME: &str = "TASKBRIDGE_TIMER_LIMIT_HOURS";
    match var(NAME) {
        None => Ok(Duration::from_secs(12 * 3600)),
        Some(v) => match v.parse::<u64>() {
            Ok(hours) if (1..=168).contains(&hours) => Ok(Duration::from_secs(hours * 3600)),
            _ => Err(ConfigError::new(
                NAME,
                format!("{v:?} is not a whole number of hours from 1 to 168"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db").display().to_string();
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("DATABASE_URL".into()).or_insert(db);
        let result = Settings::from_lookup(|k| map.get(k).cloned());
        drop(dir);
        result
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.sync_interval, Duration::from_secs(300));
        assert!(s.sandbox, "no credentials means the sandbox is on");
        assert_eq!(s.warnings.len(), 1, "a generated key is announced");
        assert_eq!(s.tool_max_response_bytes, 8 * 1024 * 1024);
        assert_eq!(
            s.providers.salesforce_allowed_hosts,
            ["*.salesforce.com", "*.force.com"]
        );
    }

    /// Why `vars` are refused: the error, which must come.
    fn refusal(vars: &[(&str, &str)]) -> ConfigError {
        match settings(vars) {
            Ok(_) => panic!("{vars:?} accepted"),
            Err(e) => e,
        }
    }

    fn tool(s: &Settings, kind: ProviderKind) -> &ToolSettings {
        s.providers.tool(kind).unwrap()
    }

    fn api_url(s: &Settings, kind: ProviderKind) -> &str {
        tool(s, kind).api_url.as_ref().unwrap().as_str()
    }

    /// An OAuth tool whose API is at a second address: where both are without
    /// configuration, and how its variables (`{vars}_CLIENT_ID`, …) configure it.
    struct TwoAddresses {
        kind: ProviderKind,
        vars: &'static str,
        /// The web (or sign-in) address and the API's, by default.
        defaults: [&'static str; 2],
        client_id: &'static str,
        /// An API address as set, and as read.
        api: [&'static str; 2],
    }

    impl TwoAddresses {
        fn check(&self) {
            let s = settings(&[]).unwrap();
            assert_eq!(tool(&s, self.kind).base_url.as_str(), self.defaults[0]);
            assert_eq!(api_url(&s, self.kind), self.defaults[1]);
            let var = |name: &str| format!("{}_{name}", self.vars);
            let (id, secret) = (var("CLIENT_ID"), var("CLIENT_SECRET"));
            let s = settings(&[
                (&id, self.client_id),
                (&secret, "shh"),
                (&var("API_URL"), self.api[0]),
            ])
            .unwrap();
            assert!(!s.sandbox);
            let client = tool(&s, self.kind).client.clone().unwrap();
            assert_eq!(client.client_id, self.client_id);
            assert_eq!(api_url(&s, self.kind), self.api[1]);
            assert_eq!(refusal(&[(&id, "x")]).var, secret);
        }
    }

    #[test]
    fn jira_defaults_to_atlassian_and_its_client_turns_the_sandbox_off() {
        TwoAddresses {
            kind: ProviderKind::Jira,
            vars: "TASKBRIDGE_JIRA",
            defaults: ["https://auth.atlassian.com/", "https://api.atlassian.com/"],
            client_id: "jira-id",
            api: ["http://127.0.0.1:9000/gw/", "http://127.0.0.1:9000/gw"],
        }
        .check();
    }

    #[test]
    fn github_defaults_to_the_real_one_and_its_client_turns_the_sandbox_off() {
        TwoAddresses {
            kind: ProviderKind::GitHub,
            vars: "TASKBRIDGE_GITHUB",
            defaults: ["https://github.com/", "https://api.github.com/"],
            client_id: "Iv1.abc",
            api: ["http://127.0.0.1:9000/api/", "http://127.0.0.1:9000/api"],
        }
        .check();
    }

    #[test]
    fn tool_limits_are_read_and_checked() {
        let s = settings(&[
            ("TASKBRIDGE_TOOL_MAX_RESPONSE_MB", "2"),
            (
                "TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS",
                " *.my.salesforce.com, sf.example.com ,",
            ),
        ])
        .unwrap();
        assert_eq!(s.tool_max_response_bytes, 2 * 1024 * 1024);
        assert_eq!(
            s.providers.salesforce_allowed_hosts,
            ["*.my.salesforce.com", "sf.example.com"]
        );
        for bad in ["0", "2000", "lots", "-1"] {
            let err = refusal(&[("TASKBRIDGE_TOOL_MAX_RESPONSE_MB", bad)]);
            assert_eq!(err.var, "TASKBRIDGE_TOOL_MAX_RESPONSE_MB");
        }
        for bad in [
            "https://x.test",
            "x.test/path",
            "*.",
            "a b.test",
            "x.test:443",
        ] {
            let err = refusal(&[("TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS", bad)]);
            assert_eq!(err.var, "TASKBRIDGE_SALESFORCE_ALLOWED_HOSTS");
        }
        for bad in ["proxy.internal", "10.0.0.0/40", "10.0.0.1:80"] {
            let err = refusal(&[("TASKBRIDGE_TRUSTED_PROXIES", bad)]);
            assert_eq!(err.var, "TASKBRIDGE_TRUSTED_PROXIES");
        }
        let ok = settings(&[("TASKBRIDGE_TRUSTED_PROXIES", "10.0.0.1, fd00::/8")]).unwrap();
        assert!(!ok.trusted_proxies.is_empty());
        assert!(settings(&[]).unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("TASKBRIDGE_BIND", "nowhere", "TASKBRIDGE_BIND"),
            (
                "TASKBRIDGE_SYNC_INTERVAL_SECS",
                "soon",
                "TASKBRIDGE_SYNC_INTERVAL_SECS",
            ),
            ("TASKBRIDGE_SANDBOX", "maybe", "TASKBRIDGE_SANDBOX"),
            ("TASKBRIDGE_BASE_URL", "ftp://x", "TASKBRIDGE_BASE_URL"),
            (
                "TASKBRIDGE_BASECAMP_CLIENT_ID",
                "abc",
                "TASKBRIDGE_BASECAMP_CLIENT_SECRET",
            ),
            (
                "DATABASE_URL",
                "postgres://localhost/x",
                "TASKBRIDGE_SECRET_KEY",
            ),
        ];
        for (var, value, named) in cases {
            assert_eq!(refusal(&[(var, value)]).var, named, "{var}={value}");
        }
    }

    #[test]
    fn mail_settings_are_checked_without_showing_the_password() {
        let s = settings(&[]).unwrap();
        assert!(s.mail.smtp_url.is_none(), "the outbox by default");
        assert_eq!(s.mail.from.email.to_string(), "no-reply@localhost");
        let s = settings(&[
            (
                "TASKBRIDGE_SMTP_URL",
                "smtp://me:hunter2@mail.test:587?tls=required",
            ),
            ("TASKBRIDGE_MAIL_FROM", "Acme <ops@acme.test>"),
        ])
        .unwrap();
        assert!(s.mail.smtp_url.is_some());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.mail.from.to_string(), "Acme <ops@acme.test>");
        for bad in [
            "http://me:hunter2@mail.test",
            "smtp://me:hunter2@mail.test?tls=maybe",
            "smtp:///nohost",
            "me:hunter2@",
        ] {
            let err = refusal(&[("TASKBRIDGE_SMTP_URL", bad)]);
            assert_eq!(err.var, "TASKBRIDGE_SMTP_URL");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let err = refusal(&[("TASKBRIDGE_MAIL_FROM", "not an address")]);
        assert_eq!(err.var, "TASKBRIDGE_MAIL_FROM");
    }

    #[test]
    fn asana_is_configured_like_the_other_oauth_tools() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            tool(&s, ProviderKind::Asana).base_url.as_str(),
            "https://app.asana.com/"
        );
        assert!(tool(&s, ProviderKind::Asana).client.is_none());
        let s = settings(&[
            ("TASKBRIDGE_ASANA_CLIENT_ID", "asana-id"),
            ("TASKBRIDGE_ASANA_CLIENT_SECRET", "asana-secret"),
            ("TASKBRIDGE_ASANA_URL", "http://127.0.0.1:9/asana/"),
        ])
        .unwrap();
        assert!(!s.sandbox, "credentials turn the sandbox off");
        assert_eq!(
            tool(&s, ProviderKind::Asana).base_url.as_str(),
            "http://127.0.0.1:9/asana"
        );
        assert!(!format!("{s:?}").contains("asana-secret"));
        let err = refusal(&[("TASKBRIDGE_ASANA_CLIENT_ID", "asana-id")]);
        assert_eq!(err.var, "TASKBRIDGE_ASANA_CLIENT_SECRET");
        let err = refusal(&[("TASKBRIDGE_ASANA_URL", "ftp://x")]);
        assert_eq!(err.var, "TASKBRIDGE_ASANA_URL");
    }

    #[test]
    fn real_credentials_turn_the_sandbox_off_unless_forced() {
        let creds = [
            ("TASKBRIDGE_SALESFORCE_CLIENT_ID", "id"),
            ("TASKBRIDGE_SALESFORCE_CLIENT_SECRET", "secret"),
        ];
        assert!(!settings(&creds).unwrap().sandbox);
        let mut forced = creds.to_vec();
        forced.push(("TASKBRIDGE_SANDBOX", "on"));
        assert!(settings(&forced).unwrap().sandbox);
    }

    #[test]
    fn generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db").display().to_string();
        let get = |k: &str| (k == "DATABASE_URL").then(|| db.clone());
        let first = Settings::from_lookup(get).unwrap();
        let second = Settings::from_lookup(get).unwrap();
        assert_eq!(first.secret_key.as_text(), second.secret_key.as_text());
        assert!(second.warnings.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(format!("{db}.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
