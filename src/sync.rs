//! The sync engine, inside the server process: each connection syncs by itself on a
//! schedule, at once when turned on, and on "Sync now". A lease in the database makes
//! sure two app instances never sync one connection at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, Semaphore};

use crate::connectors::{self, ConnectorError, Credentials, ProviderKind, RemoteAccount};
use crate::db::{self, now, Pool};
use crate::error::AppError;
use crate::models::integration::{Connection, STATUS_ACTIVE, STATUS_NEEDS_RECONNECT};
use crate::models::{notification, sync as store};
use crate::services::integrations::{credentials_binding, open_credentials, seal_credentials};
use crate::services::tools::Tools;

/// How long a lease lasts without renewal; renewed at every page.
pub const LEASE_SECS: i64 = 120;
/// Connections synced at once by one instance.
const CONCURRENCY: usize = 4;
/// Attempts at one page on network errors and 5xx.
const ATTEMPTS: u32 = 3;

/// Codes the engine itself records, beside the tools' own (see `connectors::catalogue`).
pub const ENGINE_CODES: [connectors::ErrorInfo; 2] = [
    connectors::ErrorInfo {
        code: "TB-INTERNAL",
        title: "taskbridge could not finish the sync",
        cause: "Something went wrong on taskbridge's side (for example the database was unavailable) while syncing.",
        fix: "Nothing to do: the sync is tried again within a minute. If it keeps happening, tell the person running taskbridge.",
    },
    connectors::ErrorInfo {
        code: "TB-LEASE-LOST",
        title: "Another taskbridge server took the sync over",
        cause: "This sync took longer than its lease, so another taskbridge server carried on with it.",
        fix: "Nothing to do: the other server finishes the sync.",
    },
];

/// Every code a person can be shown: the tools' and the engine's own.
pub fn error_codes() -> impl Iterator<Item = &'static connectors::ErrorInfo> {
    connectors::catalogue().iter().chain(ENGINE_CODES.iter())
}

/// The catalogue entry for a recorded code.
pub fn error_info(code: &str) -> Option<&'static connectors::ErrorInfo> {
    error_codes().find(|i| i.code == code)
}

/// Why a run started.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    Schedule,
    Manual,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

/// What a run ended as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    Completed {
        fetched: i64,
        counts: store::PageCounts,
    },
    /// The tool asked to wait; the lease is let go and the run resumes from its cursor later.
    Waiting {
        until: i64,
        code: &'static str,
    },
    Failed {
        code: &'static str,
    },
    NeedsReconnect {
        code: &'static str,
    },
    /// Another instance holds the connection.
    NotLeased,
    /// The lease was lost mid-run; the new holder carries on.
    LeaseLost,
}

pub struct SyncEngine {
    pool: Pool,
    tools: Arc<Tools>,
    owner: String,
    interval: Duration,
    wake: Notify,
    slots: Arc<Semaphore>,
    refreshing: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    http: reqwest::Client,
}

impl SyncEngine {
    pub fn new(pool: Pool, tools: Arc<Tools>, interval: Duration) -> Self {
        let http = tools.http.clone();
        Self {
            pool,
            tools,
            owner: format!("{}-{}", std::process::id(), crate::crypto::random_token()),
            interval,
            wake: Notify::new(),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
            refreshing: Mutex::new(HashMap::new()),
            http,
        }
    }

    /// Uses another HTTP client (tests use a short timeout).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// This instance's name on the leases it takes.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Wakes the loop now ("Sync now", an integration just turned on).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Runs the schedule until the process ends.
    pub fn spawn(self: Arc<Self>) {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.clone().dispatch_due().await {
                    tracing::warn!(error = %e, "sync scheduler could not read due connections");
                }
                let pause = Duration::from_millis(rand::thread_rng().gen_range(800..1200));
                let _ = tokio::time::timeout(pause, self.wake.notified()).await;
            }
        });
    }

    /// Starts a run for every due connection a free slot allows; returns how many.
    pub async fn dispatch_due(self: Arc<Self>) -> Result<usize, AppError> {
        let free = self.slots.available_permits() as i64;
        if free == 0 {
            return Ok(0);
        }
        let due = db::run(&self.pool, move |conn| Ok(store::due(conn, now(), free)?)).await?;
        let mut started = 0;
        for id in due {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                break;
            };
            let engine = self.clone();
            started += 1;
            tokio::spawn(async move {
                let outcome = engine.sync_connection(id, Trigger::Schedule).await;
                if let Err(e) = outcome {
                    tracing::warn!(connection = id, error = %e, "sync run failed on our side");
                }
                drop(permit);
            });
        }
        Ok(started)
    }

    /// Syncs one connection if its lease can be taken: every page, then the archive.
    pub async fn sync_connection(&self, id: i64, trigger: Trigger) -> Result<RunOutcome, AppError> {
        let owner = self.owner.clone();
        if !db::run(&self.pool, move |conn| {
            Ok(store::try_lease(conn, id, &owner, LEASE_SECS)?)
        })
        .await?
        {
            return Ok(RunOutcome::NotLeased);
        }
        let connection = db::run(&self.pool, move |conn| Ok(store::load(conn, id)?)).await?;
        let run_id = {
            let trigger = trigger.as_str();
            db::run(&self.pool, move |conn| {
                Ok(store::start_run(conn, id, trigger)?)
            })
            .await?
        };
        let outcome = match self.run(&connection, run_id).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(connection = id, error = %e, "sync run stopped");
                RunOutcome::Failed {
                    code: "TB-INTERNAL",
                }
            }
        };
        self.record(&connection, run_id, &outcome).await?;
        Ok(outcome)
    }

    async fn run(&self, connection: &Connection, run_id: i64) -> Result<RunOutcome, AppError> {
        let kind = ProviderKind::from_slug(&connection.provider)
            .ok_or_else(|| AppError::Internal(format!("unknown tool {}", connection.provider)))?;
        let cfg = self.tools.config(kind)?.clone();
        let binding = credentials_binding(connection.company_id, connection.user_id, kind);
        let sealed = connection
            .credentials
            .clone()
            .ok_or_else(|| AppError::Internal("connection without credentials".into()))?;
        let mut creds = open_credentials(&self.tools.cipher, &sealed, &binding)?;
        let account = RemoteAccount {
            id: connection.external_account_id.clone(),
            name: connection.account_name.clone(),
            api_base: connection.api_base.clone(),
        };
        let pass_id = connection.pass_id.unwrap_or(run_id);
        let mut cursor = connection.sync_cursor.clone();
        let resuming = cursor.is_some();
        let mut restarted = false;
        let mut refreshed = false;
        let mut fetched = 0i64;
        let mut totals = store::PageCounts::default();
        loop {
            let page = self
                .fetch_with_retries(
                    &cfg,
                    &creds,
                    &account,
                    &connection.external_user_id,
                    cursor.as_deref(),
                )
                .await;
            let page = match page {
                Ok(page) => page,
                Err(ConnectorError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    match self.refresh(connection, &cfg, &creds, &binding).await {
                        Ok(fresh) => {
                            creds = fresh;
                            continue;
                        }
                        Err(e) => return Ok(self.failure(e)),
                    }
                }
                // A cursor kept across a pause may have expired at the tool: start the pass again.
                Err(ConnectorError::NotFound | ConnectorError::BadResponse(_))
                    if resuming && !restarted && cursor.is_some() =>
                {
                    restarted = true;
                    cursor = None;
                    continue;
                }
                Err(e) => return Ok(self.failure(e)),
            };
            fetched += page.tasks.len() as i64;
            let (conn_row, owner, next) =
                (connection.clone(), self.owner.clone(), page.next.clone());
            let pass = if restarted { run_id } else { pass_id };
            let written = db::run(&self.pool, move |conn| {
                Ok(store::apply_page(
                    conn,
                    &conn_row,
                    pass,
                    &page.tasks,
                    next.as_deref(),
                    &owner,
                    LEASE_SECS,
                )?)
            })
            .await?;
            let Some(counts) = written else {
                return Ok(RunOutcome::LeaseLost);
            };
            totals.added += counts.added;
            totals.updated += counts.updated;
            totals.archived += counts.archived;
            let progress = totals;
            db::run(&self.pool, move |conn| {
                Ok(store::progress(conn, run_id, fetched, progress)?)
            })
            .await?;
            match page.next {
                Some(next) => cursor = Some(next),
                None => {
                    let owner = self.owner.clone();
                    let id = connection.id;
                    let archived = db::run(&self.pool, move |conn| {
                        Ok(store::finish_pass(conn, id, pass, &owner)?)
                    })
                    .await?;
                    let Some(archived) = archived else {
                        return Ok(RunOutcome::LeaseLost);
                    };
                    totals.archived += archived;
                    return Ok(RunOutcome::Completed {
                        fetched,
                        counts: totals,
                    });
                }
            }
        }
    }

    /// One page, retrying network errors and 5xx with backoff and jitter.
    async fn fetch_with_retries(
        &self,
        cfg: &connectors::ProviderConfig,
        creds: &Credentials,
        account: &RemoteAccount,
        me: &str,
        cursor: Option<&str>,
    ) -> Result<connectors::TaskPage, ConnectorError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let page =
                connectors::fetch_tasks_page(&self.http, cfg, creds, account, me, cursor, None)
                    .await
                    .and_then(connectors::PageFetch::into_page);
            match page {
                Err(e @ (ConnectorError::Server { .. } | ConnectorError::Network(_)))
                    if attempt < ATTEMPTS =>
                {
                    let base = 250u64 * 2u64.pow(attempt - 1);
                    let jitter = rand::thread_rng().gen_range(0..base);
                    tracing::debug!(error = %e, attempt, "retrying a page");
                    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
                }
                other => return other,
            }
        }
    }

    /// Refreshes the access token, one refresh at a time per connection, and stores
    /// the new credentials (a rotated refresh token included) before they are used.
    async fn refresh(
        &self,
        connection: &Connection,
        cfg: &connectors::ProviderConfig,
        creds: &Credentials,
        binding: &str,
    ) -> Result<Credentials, ConnectorError> {
        let gate = {
            let mut map = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(connection.id).or_default().clone()
        };
        let _one_at_a_time = gate.lock().await;
        let fresh = connectors::refresh(&self.http, cfg, creds).await?;
        let sealed = seal_credentials(&self.tools.cipher, &fresh, binding).map_err(|e| {
            ConnectorError::Other {
                status: 0,
                message: e.to_string(),
            }
        })?;
        let id = connection.id;
        db::run(&self.pool, move |conn| {
            Ok(store::store_credentials(conn, id, sealed)?)
        })
        .await
        .map_err(|e| ConnectorError::Other {
            status: 0,
            message: e.to_string(),
        })?;
        Ok(fresh)
    }

    fn failure(&self, e: ConnectorError) -> RunOutcome {
        let code = e.code();
        match e {
            ConnectorError::InvalidGrant
            | ConnectorError::InvalidToken
            | ConnectorError::Unauthorized
            | ConnectorError::ApiDisabled { .. }
            | ConnectorError::ClientRejected => RunOutcome::NeedsReconnect { code },
            ConnectorError::RateLimited { retry_after } => RunOutcome::Waiting {
                until: now() + retry_after.map(|d| d.as_secs().max(1) as i64).unwrap_or(60),
                code,
            },
            // The org's daily allocation: try again in an hour.
            ConnectorError::RequestLimitExceeded => RunOutcome::Waiting {
                until: now() + 3600,
                code,
            },
            _ => RunOutcome::Failed { code },
        }
    }

    fn next_scheduled(&self) -> i64 {
        let secs = self.interval.as_secs_f64() * rand::thread_rng().gen_range(0.9..1.1);
        now() + secs as i64
    }

    /// Writes the run's end, the connection's state, and lets go of the lease.
    async fn record(
        &self,
        connection: &Connection,
        run_id: i64,
        outcome: &RunOutcome,
    ) -> Result<(), AppError> {
        let id = connection.id;
        let user_id = connection.user_id;
        let owner = self.owner.clone();
        let tool = ProviderKind::from_slug(&connection.provider)
            .map(|k| k.name())
            .unwrap_or("A tool");
        let outcome = outcome.clone();
        let next = self.next_scheduled();
        let retry_soon = now() + 60;
        db::run(&self.pool, move |conn| {
            let info = |code: &str| {
                error_info(code)
                    .map(|i| i.title.to_owned())
                    .unwrap_or_else(|| "The sync failed".to_owned())
            };
            match &outcome {
                RunOutcome::Completed { .. } => {
                    store::finish_run(conn, run_id, store::RUN_OK, None)?;
                    store::set_outcome(conn, id, STATUS_ACTIVE, None, true)?;
                    store::release(conn, id, &owner, next)?;
                }
                RunOutcome::Waiting { until, code } => {
                    let message = info(code);
                    store::finish_run(conn, run_id, store::RUN_WAITING, Some((code, &message)))?;
                    store::set_outcome(conn, id, STATUS_ACTIVE, Some((code, &message)), false)?;
                    store::release(conn, id, &owner, *until)?;
                }
                RunOutcome::Failed { code } => {
                    let message = info(code);
                    store::finish_run(conn, run_id, store::RUN_FAILED, Some((code, &message)))?;
                    store::set_outcome(conn, id, STATUS_ACTIVE, Some((code, &message)), false)?;
                    store::release(conn, id, &owner, retry_soon.min(next))?;
                }
                RunOutcome::NeedsReconnect { code } => {
                    let message = info(code);
                    store::finish_run(conn, run_id, store::RUN_FAILED, Some((code, &message)))?;
                    store::set_outcome(conn, id, STATUS_NEEDS_RECONNECT, Some((code, &message)), false)?;
                    store::release(conn, id, &owner, next)?;
                    notification::notify(
                        conn,
                        &[user_id],
                        &format!("{tool} stopped syncing: {message}. Reconnect it in Integration Settings."),
                        Some(crate::web::paths::INTEGRATION_SETTINGS),
                    )?;
                }
                RunOutcome::LeaseLost | RunOutcome::NotLeased => {
                    store::finish_run(
                        conn,
                        run_id,
                        store::RUN_FAILED,
                        Some(("TB-LEASE-LOST", "Another taskbridge instance took this sync over.")),
                    )?;
                }
            }
            Ok(())
        })
        .await
    }
}
