//! The sync engine, inside the server process: each connection syncs by itself on a
//! schedule, at once when turned on, and on "Sync now". A lease in the database makes
//! sure two app instances never sync one connection at once, and its generation
//! fences a run's writes: a run that stalled past its lease, or whose connection was
//! reconnected meanwhile, writes nothing more and stops quietly.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::Semaphore;

use crate::catalogue::ErrorCode;
use crate::connectors::{
    self, ConnectorError, Credentials, PageAsk, PageFetch, ProviderKind, RemoteAccount, TaskPage,
};
use crate::db::{self, now, Pool};
use crate::domain::CompanyId;
use crate::error::AppError;
use crate::models::connection::{self, Connection, ConnectionStatus, Lease, Next};
use crate::models::sync_page::{self, KnownPage, PageMemo};
use crate::models::sync_pass::{self, Checkpoint, PageWrite, Progress};
use crate::models::sync_run::{self, RunStatus};
use crate::models::task::{self, PageChanges, PageCounts};
use crate::models::{company_integration, notification, sync_worker};
use crate::services::credentials::{credentials_binding, open_credentials, seal_credentials};
use crate::services::sync_now::Waker;
use crate::services::tools::Tools;

/// How long a lease lasts without renewal; renewed at every checkpoint.
pub const LEASE_SECS: i64 = 120;
/// How often a pass checkpoints when its pages write nothing: its cursor, the tasks it
/// saw, the lease and the run's progress (shown while it runs). Far within
/// [`LEASE_SECS`], even with a page's retries on top.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// Connections synced at once by one instance.
const CONCURRENCY: usize = 4;
/// Attempts at one page on network errors and 5xx.
const ATTEMPTS: u32 = 3;
/// Times a run renews a rejected access token before it gives up: a long run may
/// outlive more than one token, but a tool refusing every fresh one is not retried
/// for ever.
const RENEWALS: u32 = 3;
/// How often a sync engine notes that it is alive (`models::sync_worker`), well within
/// [`connection::WORKER_GONE_AFTER_SECS`].
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often the engine finishes the runs a killed process left running.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// The name `web/tasks.rs` still reads the catalogue by (it is being changed on `main`).
pub use crate::catalogue::info as error_info;

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
        counts: PageCounts,
    },
    /// The tool asked to wait; the lease is let go and the run resumes from its cursor later.
    Waiting {
        until: i64,
        code: ErrorCode,
    },
    Failed {
        code: ErrorCode,
    },
    /// Failed after pages were saved: `kept` tasks read (and kept) first, then page
    /// `page` of the pass failed (`None` when the run went on with a pass begun before).
    PartlySynced {
        code: ErrorCode,
        kept: i64,
        page: Option<u32>,
    },
    NeedsReconnect {
        code: ErrorCode,
    },
    /// Another instance holds the connection.
    NotLeased,
    /// A newer lease took the connection over mid-run (the lease ran out and another
    /// run took it, or the connection was reconnected), or a save of the run that the
    /// database acknowledged was lost in a crash of it: this run's writes are fenced out
    /// and it stops quietly; the new holder carries on, from what is durable.
    LeaseLost,
}

/// A run's hold on its connection: the connection as read when the lease was taken,
/// and the lease, whose generation every write of the run is fenced with.
struct Held {
    connection: Connection,
    /// The lease as taken; [`Held::lease`] is the lease as it stands.
    taken: Lease,
    /// The saves of the pass that landed under the lease (`Lease::saves`): every save
    /// is refused once one the database acknowledged was lost. (Atomic only because a
    /// run shares its `Held` across awaits; one run saves one page at a time.)
    saves: AtomicI64,
    /// Whether the tool's pull requests are taken with its tasks (a company setting
    /// of GitHub's; true for every other tool).
    pull_requests: bool,
}

impl Held {
    /// The lease with the saves counted so far.
    fn lease(&self) -> Lease {
        Lease {
            saves: self.saves.load(Ordering::Relaxed),
            ..self.taken
        }
    }

    /// Counts the saves `lease` made.
    fn count_saves(&self, lease: Lease) {
        self.saves.store(lease.saves, Ordering::Relaxed);
    }
}

/// The credentials a run reads with, and as they were stored (sealed) when it read
/// them: what a refresh replaces, and how a refresh by another run is noticed.
struct Access {
    creds: Credentials,
    sealed: Vec<u8>,
}

/// What came of renewing a rejected access token.
enum Renewal {
    Renewed,
    /// The lease is no longer this run's.
    Fenced,
    Unreadable,
    Failed(ConnectorError),
}

/// The credentials stored now, as a run holding the lease finds them.
enum Stored {
    /// The lease is no longer this run's.
    Fenced,
    /// Those the run reads with.
    Same,
    /// Others, stored since (another run refreshed).
    Changed(Access),
    Unreadable,
}

/// What the person is told when the stored credentials cannot be decrypted.
fn unreadable() -> RunOutcome {
    RunOutcome::NeedsReconnect {
        code: ErrorCode::CredentialsUnreadable,
    }
}

/// A pass as a run carries it: durable up to the last checkpoint, in memory since.
struct Pass {
    id: i64,
    /// The cursor of the next page to read.
    cursor: Option<String>,
    /// The tool's ids seen since the last checkpoint on pages that wrote nothing for
    /// them: marked as seen at the next checkpoint, and spared by the archive if the pass
    /// ends first.
    unmarked: Vec<String>,
    /// Whether anything (the cursor, seen ids, a new pass) is not durable yet.
    unsaved: bool,
    saved_at: Instant,
    /// The tasks written in this run, when the connection had none as it began: its
    /// pages then need no reading of the stored tasks until one repeats a task.
    fresh: Option<task::Fresh>,
}

impl Pass {
    /// The pass stored on the connection, from its cursor (a new one has none).
    fn resume(id: i64, cursor: Option<String>) -> Self {
        Self {
            id,
            cursor,
            unmarked: Vec::new(),
            unsaved: false,
            saved_at: Instant::now(),
            fresh: None,
        }
    }

    /// A new pass from the first page, dropping what the abandoned one saw.
    fn restart(id: i64) -> Self {
        Self {
            unsaved: true,
            ..Self::resume(id, None)
        }
    }

    fn seen(&mut self, ids: impl IntoIterator<Item = String>) {
        let before = self.unmarked.len();
        self.unmarked.extend(ids);
        self.unsaved |= self.unmarked.len() > before;
    }

    fn advance(&mut self, cursor: String) {
        if self.cursor.as_deref() != Some(cursor.as_str()) {
            self.cursor = Some(cursor);
            self.unsaved = true;
        }
    }

    /// Durable up to `cursor` now.
    fn saved(&mut self, cursor: Option<String>) {
        self.cursor = cursor;
        self.unsaved = false;
        self.saved_at = Instant::now();
    }
}

/// A page the tool answered 304: its tasks, as kept, are seen again. Returns the cursor
/// after it, kept with it.
fn take_kept(
    known: &HashMap<String, KnownPage>,
    key: &str,
    pass: &mut Pass,
    run: &mut Progress,
) -> Result<Option<String>, ConnectorError> {
    let page = known
        .get(key)
        .ok_or_else(|| ConnectorError::BadResponse("a 304 for a page not kept".into()))?;
    run.fetched += page.external_ids.len() as i64;
    pass.seen(page.external_ids.iter().cloned());
    Ok(page.next_cursor.clone())
}

/// What to keep of a page the tool answered in full: its `ETag` (with its ids and the
/// cursor after it) when that is new, nothing when it is what is kept already, and
/// forgetting it when the tool sent none.
fn memo_for(
    key: String,
    kept: Option<&KnownPage>,
    etag: Option<String>,
    ids: &[String],
    next: &Option<String>,
) -> PageMemo {
    match (etag, kept) {
        (Some(etag), Some(k))
            if k.etag == etag && k.next_cursor == *next && k.external_ids == ids =>
        {
            PageMemo::Keep
        }
        (Some(etag), _) => PageMemo::Store(
            key,
            KnownPage {
                etag,
                next_cursor: next.clone(),
                external_ids: ids.to_vec(),
            },
        ),
        (None, Some(_)) => PageMemo::Forget(key),
        (None, None) => PageMemo::Keep,
    }
}

/// A request to a tool (a page), retrying network errors and 5xx with backoff and jitter.
async fn with_retries<T, F>(mut request: impl FnMut() -> F) -> Result<T, ConnectorError>
where
    F: std::future::Future<Output = Result<T, ConnectorError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match request().await {
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

pub struct SyncEngine {
    pool: Pool,
    tools: Arc<Tools>,
    owner: String,
    interval: Duration,
    waker: Waker,
    slots: Arc<Semaphore>,
    refreshing: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    checkpoint_every: Duration,
}

/// A failure after pages were saved is "partly synced": what was kept stays, and the
/// page that failed is named.
fn partly(outcome: RunOutcome, fetched: i64, page: Option<u32>) -> RunOutcome {
    match outcome {
        RunOutcome::Failed { code } if fetched > 0 => RunOutcome::PartlySynced {
            code,
            kept: fetched,
            page,
        },
        other => other,
    }
}

impl SyncEngine {
    pub fn new(pool: Pool, tools: Arc<Tools>, interval: Duration) -> Self {
        Self {
            pool,
            tools,
            owner: format!("{}-{}", std::process::id(), crate::crypto::random_token()),
            interval,
            waker: Waker::new(10),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
            refreshing: Mutex::new(HashMap::new()),
            checkpoint_every: CHECKPOINT_EVERY,
        }
    }

    /// Seconds after a person's "Sync now" during which another asks for nothing more.
    pub fn with_sync_now_cooldown(mut self, secs: i64) -> Self {
        self.waker = Waker::new(secs);
        self
    }

    /// How services ask this engine for a pass at once.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Checkpoints a pass that writes nothing this often instead of every
    /// [`CHECKPOINT_EVERY`] (tests use zero: every page).
    pub fn with_checkpoint_every(mut self, every: Duration) -> Self {
        self.checkpoint_every = every;
        self
    }

    /// This instance's name on the leases it takes.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Wakes the loop now ("Sync now", an integration just turned on).
    pub fn nudge(&self) {
        self.waker.nudge();
    }

    /// Runs the schedule until the process ends, beating all along.
    pub fn spawn(self: Arc<Self>) {
        let beating = self.clone();
        tokio::spawn(async move { beating.keep_beating().await });
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.clone().dispatch_due().await {
                    tracing::warn!(error = %e, "sync scheduler could not read due connections");
                }
                let pause = Duration::from_millis(rand::thread_rng().gen_range(800..1200));
                let _ = tokio::time::timeout(pause, self.waker.nudged()).await;
            }
        });
    }

    /// Notes every [`HEARTBEAT`] that this engine is alive, so that the leases of a
    /// killed one are free within seconds; at start and every [`SWEEP_EVERY`] finishes
    /// the runs such processes left running.
    async fn keep_beating(&self) {
        let mut swept: Option<Instant> = None;
        loop {
            let owner = self.owner.clone();
            let sweep = swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY);
            let beat = db::run(&self.pool, move |conn| {
                sync_worker::beat(conn, &owner)?;
                if !sweep {
                    return Ok(0);
                }
                sync_worker::forget_silent(conn, 86_400)?;
                let code = ErrorCode::Interrupted;
                Ok(sync_pass::interrupt_lapsed_runs(
                    conn,
                    (code.as_str(), code.info().title),
                )?)
            })
            .await;
            match beat {
                Ok(interrupted) => {
                    if sweep {
                        swept = Some(Instant::now());
                    }
                    if interrupted > 0 {
                        tracing::info!(interrupted, "finished the runs of stopped syncs");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sync engine could not note it is alive"),
            }
            tokio::time::sleep(HEARTBEAT).await;
        }
    }

    /// Starts a run for every due connection a free slot allows; returns how many.
    pub async fn dispatch_due(self: Arc<Self>) -> Result<usize, AppError> {
        let free = self.slots.available_permits() as i64;
        if free == 0 {
            return Ok(0);
        }
        let due = db::run(&self.pool, move |conn| Ok(connection::due(conn, free)?)).await?;
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
    /// The run is manual when it takes up a person's "Sync now", else `trigger`.
    pub async fn sync_connection(&self, id: i64, trigger: Trigger) -> Result<RunOutcome, AppError> {
        let owner = self.owner.clone();
        let taken = db::run(&self.pool, move |conn| {
            db::write(conn, |conn| {
                let Some(lease) = connection::try_lease(conn, id, &owner, LEASE_SECS)? else {
                    return Ok(None);
                };
                let trigger = if connection::take_request(conn, &lease)? {
                    Trigger::Manual
                } else {
                    trigger
                };
                // Runs still marked running belong to leases before this one: their
                // process was killed, or they are fenced out from now on.
                let code = ErrorCode::Interrupted;
                sync_run::interrupt_running(conn, id, (code.as_str(), code.info().title))?;
                let run_id = sync_run::start_run(conn, id, trigger.as_str())?;
                let connection = connection::find(conn, id)?;
                let pull_requests = connection.provider != ProviderKind::GitHub
                    || company_integration::includes_pull_requests(
                        conn,
                        CompanyId(connection.company_id),
                    )?;
                let held = Held {
                    connection,
                    taken: lease,
                    saves: AtomicI64::new(lease.saves),
                    pull_requests,
                };
                Ok::<_, AppError>(Some((held, run_id)))
            })
        })
        .await?;
        let Some((held, run_id)) = taken else {
            return Ok(RunOutcome::NotLeased);
        };
        let outcome = match self.run(&held, run_id).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(connection = id, error = %e, "sync run stopped");
                RunOutcome::Failed {
                    code: ErrorCode::Internal,
                }
            }
        };
        self.record(&held, run_id, &outcome).await?;
        Ok(outcome)
    }

    /// One run: the pass the connection is in (from its cursor) or a new one, page by page
    /// to its end, then the archive.
    ///
    /// A page that changes nothing writes nothing: one the tool answers 304 (its `ETag`
    /// kept from last time) or whose tasks all match what is stored. Its tasks are only
    /// remembered as seen, and made durable at the next checkpoint: every
    /// [`CHECKPOINT_EVERY`], at every page that does write, and before the lease is let
    /// go mid-pass. A crash loses at most the pages since then, which the next run reads
    /// again from the older cursor.
    async fn run(&self, held: &Held, run_id: i64) -> Result<RunOutcome, AppError> {
        let connection = &held.connection;
        let (cfg, binding, account) = self.reader(connection)?;
        let Some(mut access) = self.open(connection.credentials.clone(), &binding) else {
            tracing::warn!(connection = %connection.id, "stored credentials cannot be read");
            return Ok(unreadable());
        };
        let id = connection.id;
        let (mut known, stored) = db::run(&self.pool, move |c| {
            Ok((sync_page::known_pages(c, id)?, task::any_stored(c, id)?))
        })
        .await?;
        let mut pass = Pass::resume(
            connection.pass_id.unwrap_or(run_id),
            connection.sync_cursor.clone(),
        );
        pass.fresh = (!stored).then(task::Fresh::default);
        let resuming = pass.cursor.is_some();
        // The number of the page being read, counting from the pass's first.
        let mut page_no: Option<u32> = (!resuming).then_some(1);
        let mut restarted = false;
        let mut renewals = 0;
        let mut run = Progress::start(run_id);
        loop {
            let key = sync_page::page_key(pass.cursor.as_deref());
            let ask = PageAsk {
                creds: &access.creds,
                account: &account,
                me: &connection.external_user_id,
                cursor: pass.cursor.as_deref(),
                etag: known.get(&key).map(|k| k.etag.as_str()),
            };
            let next = match self.fetch(&cfg, ask).await {
                Ok(PageFetch::NotModified) => match take_kept(&known, &key, &mut pass, &mut run) {
                    Ok(next) => next,
                    Err(e) => return self.leave(held, &mut pass, run, self.failure(e)).await,
                },
                Ok(PageFetch::Page(page)) => {
                    let taken = self.take_page(held, &mut known, &mut pass, &mut run, key, page);
                    match taken.await? {
                        Some(next) => next,
                        None => return Ok(RunOutcome::LeaseLost),
                    }
                }
                // An access token can be rejected more than once in a long run.
                Err(ConnectorError::Unauthorized) if renewals < RENEWALS => {
                    renewals += 1;
                    let outcome = match self.renew(held, &cfg, &binding, &mut access).await? {
                        Renewal::Renewed => continue,
                        Renewal::Fenced => return Ok(RunOutcome::LeaseLost),
                        Renewal::Unreadable => unreadable(),
                        Renewal::Failed(e) => self.failure(e),
                    };
                    return self.leave(held, &mut pass, run, outcome).await;
                }
                // A cursor kept across a pause may have expired or broken at the tool
                // (Salesforce's query locators expire): whatever it may have caused
                // starts the pass again, rather than failing on it run after run.
                Err(e)
                    if e.may_be_the_cursor() && resuming && !restarted && pass.cursor.is_some() =>
                {
                    restarted = true;
                    page_no = Some(1);
                    pass = Pass::restart(run_id);
                    continue;
                }
                Err(e) => {
                    let outcome = partly(self.failure(e), run.fetched, page_no);
                    return self.leave(held, &mut pass, run, outcome).await;
                }
            };
            let Some(next) = next else {
                return self.complete(held, &mut pass, run).await;
            };
            page_no = page_no.map(|n| n.saturating_add(1));
            if !self.advance(held, &mut pass, run, next).await? {
                return Ok(RunOutcome::LeaseLost);
            }
        }
    }

    /// The asked page from the tool, retried through passing failures.
    async fn fetch(
        &self,
        cfg: &connectors::ProviderConfig,
        ask: PageAsk<'_>,
    ) -> Result<PageFetch, ConnectorError> {
        let tool = connectors::Tool {
            http: &self.tools.http,
            cfg,
        };
        with_retries(|| cfg.kind.connector().fetch_tasks_page(tool, &ask)).await
    }

    /// On to the page at `next`, checkpointing the pass when it is time; false when the
    /// lease was lost.
    async fn advance(
        &self,
        held: &Held,
        pass: &mut Pass,
        run: Progress,
        next: String,
    ) -> Result<bool, AppError> {
        pass.advance(next);
        if pass.saved_at.elapsed() < self.checkpoint_every {
            return Ok(true);
        }
        let cursor = pass.cursor.clone();
        self.save(held, pass, cursor, run, None).await
    }

    /// What a run reads pages with: the tool's configuration, what the credentials are
    /// sealed to, the account.
    fn reader(
        &self,
        connection: &Connection,
    ) -> Result<(connectors::ProviderConfig, String, RemoteAccount), AppError> {
        let kind = connection.provider;
        let cfg = self.tools.config(kind)?.clone();
        let binding = credentials_binding(connection.company_id, connection.user_id, kind);
        let account = RemoteAccount {
            id: connection.external_account_id.clone(),
            name: connection.account_name.clone(),
            api_base: connection.api_base.clone(),
        };
        Ok((cfg, binding, account))
    }

    /// The stored credentials, opened; `None` when there are none or they do not
    /// decrypt (another key, a ciphertext copied from another row) or decode.
    fn open(&self, sealed: Option<Vec<u8>>, binding: &str) -> Option<Access> {
        let sealed = sealed?;
        let creds = open_credentials(&self.tools.cipher, &sealed, binding).ok()?;
        Some(Access { creds, sealed })
    }

    /// A page the tool answered in full: what it changes is written with a checkpoint
    /// (or, when it changes nothing, its tasks are only remembered as seen). Returns the
    /// cursor of the page after it; `None` when the lease was lost.
    async fn take_page(
        &self,
        held: &Held,
        known: &mut HashMap<String, KnownPage>,
        pass: &mut Pass,
        run: &mut Progress,
        key: String,
        mut page: TaskPage,
    ) -> Result<Option<Option<String>>, AppError> {
        let id = held.connection.id;
        if !held.pull_requests {
            let kind = held.connection.provider;
            page.tasks.retain(|t| !connectors::is_pull_request(kind, t));
        }
        run.fetched += page.tasks.len() as i64;
        let ids: Vec<String> = page.tasks.iter().map(|t| t.external_id.clone()).collect();
        let memo = memo_for(key.clone(), known.get(&key), page.etag, &ids, &page.next);
        let changes = if page.tasks.is_empty() {
            PageChanges::default()
        } else if let Some(changes) = pass.fresh.as_ref().and_then(|f| f.changes(&page.tasks)) {
            changes
        } else {
            let tasks = page.tasks;
            db::run(&self.pool, move |conn| {
                Ok(task::page_changes(conn, id, &tasks)?)
            })
            .await?
        };
        if changes.is_empty() && memo == PageMemo::Keep {
            pass.seen(ids);
            return Ok(Some(page.next));
        }
        run.counts.add(changes.counts);
        pass.seen(changes.unchanged.iter().cloned());
        if let Some(fresh) = pass.fresh.as_mut() {
            fresh.wrote(&changes);
        }
        let write = PageWrite {
            changes,
            memo: memo.clone(),
        };
        if !self
            .save(held, pass, page.next.clone(), *run, Some(write))
            .await?
        {
            return Ok(None);
        }
        match memo {
            PageMemo::Store(key, page) => {
                known.insert(key, page);
            }
            PageMemo::Forget(key) => {
                known.remove(&key);
            }
            PageMemo::Keep => {}
        }
        Ok(Some(page.next))
    }

    /// The pass read its last page: archives what it did not see and ends it.
    async fn complete(
        &self,
        held: &Held,
        pass: &mut Pass,
        mut run: Progress,
    ) -> Result<RunOutcome, AppError> {
        let mut lease = held.lease();
        let pass_id = pass.id;
        let seen: HashSet<String> = pass.unmarked.drain(..).collect();
        let (archived, lease) = db::run(&self.pool, move |conn| {
            let archived = sync_pass::finish_pass(conn, &mut lease, pass_id, &seen, Some(run))?;
            Ok((archived, lease))
        })
        .await?;
        held.count_saves(lease);
        let Some(archived) = archived else {
            return Ok(RunOutcome::LeaseLost);
        };
        run.counts.archived += archived;
        Ok(RunOutcome::Completed {
            fetched: run.fetched,
            counts: run.counts,
        })
    }

    /// Writes a page (if any) and a checkpoint of the pass, with the cursor of the page
    /// after it, in one transaction; false when the lease was lost, or an earlier save
    /// of the run was (`sync_pass::save`).
    async fn save(
        &self,
        held: &Held,
        pass: &mut Pass,
        cursor: Option<String>,
        progress: Progress,
        page: Option<PageWrite>,
    ) -> Result<bool, AppError> {
        let checkpoint = Checkpoint {
            pass_id: pass.id,
            cursor: cursor.clone(),
            seen: std::mem::take(&mut pass.unmarked),
            progress: Some(progress),
        };
        let (connection, mut lease) = (held.connection.clone(), held.lease());
        let (saved, lease) = db::run(&self.pool, move |conn| {
            let saved = sync_pass::save(
                conn,
                &connection,
                &mut lease,
                LEASE_SECS,
                page.as_ref(),
                &checkpoint,
            )?;
            Ok((saved, lease))
        })
        .await?;
        held.count_saves(lease);
        pass.saved(cursor);
        Ok(saved)
    }

    /// Ends a run mid-pass with `outcome`, first making the pass durable so that the next
    /// run resumes where this one stopped. (What the outcome writes is fenced in
    /// [`Self::record`].)
    async fn leave(
        &self,
        held: &Held,
        pass: &mut Pass,
        progress: Progress,
        outcome: RunOutcome,
    ) -> Result<RunOutcome, AppError> {
        if pass.unsaved {
            let cursor = pass.cursor.clone();
            if !self.save(held, pass, cursor, progress, None).await? {
                return Ok(RunOutcome::LeaseLost);
            }
        }
        Ok(outcome)
    }

    /// Renews a rejected access token, one renewal at a time per connection in this
    /// process, and under the lease across processes.
    ///
    /// First the credentials stored now are read: when another run refreshed since this
    /// one read them, those are used. Otherwise the token is refreshed and the new
    /// credentials (a rotated refresh token included) are stored, fenced, before they
    /// are used. A refresh the tool refuses (`invalid_grant`) is checked once more
    /// against what is stored: another instance may have rotated the refresh token
    /// meanwhile, and then its credentials are used instead of asking for a reconnect.
    async fn renew(
        &self,
        held: &Held,
        cfg: &connectors::ProviderConfig,
        binding: &str,
        access: &mut Access,
    ) -> Result<Renewal, AppError> {
        let gate = {
            let mut map = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(held.connection.id).or_default().clone()
        };
        let _one_at_a_time = gate.lock().await;
        let refused = match self.stored(held, access, binding).await? {
            Stored::Same => match cfg
                .kind
                .connector()
                .refresh(
                    connectors::Tool {
                        http: &self.tools.http,
                        cfg,
                    },
                    &access.creds,
                )
                .await
            {
                Ok(fresh) => {
                    let sealed = seal_credentials(&self.tools.cipher, &fresh, binding)?;
                    let (lease, replacing, new) =
                        (held.lease(), access.sealed.clone(), sealed.clone());
                    if db::run(&self.pool, move |conn| {
                        Ok(connection::store_credentials(
                            conn, &lease, &replacing, new,
                        )?)
                    })
                    .await?
                    {
                        *access = Access {
                            creds: fresh,
                            sealed,
                        };
                        return Ok(Renewal::Renewed);
                    }
                    None
                }
                Err(e) => Some(e),
            },
            other => return Ok(self.adopt(other, access)),
        };
        // Refused, or not stored: the lease moved on, or another run stored others.
        match self.stored(held, access, binding).await? {
            Stored::Same => Ok(match refused {
                Some(e) => Renewal::Failed(e),
                None => Renewal::Fenced,
            }),
            other => Ok(self.adopt(other, access)),
        }
    }

    /// The credentials stored now, compared with those the run reads with, while the
    /// run holds the lease; the lease is renewed with it, so that no other run takes it
    /// over while a refresh is under way (a rotated refresh token is stored, not lost).
    async fn stored(
        &self,
        held: &Held,
        access: &Access,
        binding: &str,
    ) -> Result<Stored, AppError> {
        let lease = held.lease();
        let now_stored = db::run(&self.pool, move |conn| {
            db::write(conn, |conn| {
                if !connection::renew_lease(conn, &lease, LEASE_SECS)? {
                    return Ok(None);
                }
                Ok(connection::held_credentials(conn, &lease)?)
            })
        })
        .await?;
        Ok(match now_stored {
            None => Stored::Fenced,
            Some(Some(sealed)) if sealed == access.sealed => Stored::Same,
            Some(sealed) => match self.open(sealed, binding) {
                Some(other) => Stored::Changed(other),
                None => Stored::Unreadable,
            },
        })
    }

    /// Takes up credentials another run stored, or says why not.
    fn adopt(&self, stored: Stored, access: &mut Access) -> Renewal {
        match stored {
            Stored::Changed(other) => {
                *access = other;
                Renewal::Renewed
            }
            Stored::Fenced => Renewal::Fenced,
            Stored::Unreadable => Renewal::Unreadable,
            Stored::Same => Renewal::Failed(ConnectorError::Unauthorized),
        }
    }

    fn failure(&self, e: ConnectorError) -> RunOutcome {
        let code = e.code();
        // Saturated and capped at a day: a huge `Retry-After` is not a negative wait.
        let wait = e.capped_wait_secs();
        match e {
            ConnectorError::InvalidGrant
            | ConnectorError::InvalidToken
            | ConnectorError::Unauthorized
            | ConnectorError::ApiDisabled { .. }
            | ConnectorError::ClientRejected => RunOutcome::NeedsReconnect { code },
            ConnectorError::RateLimited { .. } => RunOutcome::Waiting {
                until: now().saturating_add(wait.unwrap_or(60)),
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

    /// Writes the run's end, the connection's state, and lets go of the lease, in one
    /// transaction fenced by the lease: a run that a newer lease took over only
    /// finishes its own record, as interrupted, and stops quietly (no outcome on the
    /// connection, no notice to the person).
    async fn record(&self, held: &Held, run_id: i64, outcome: &RunOutcome) -> Result<(), AppError> {
        let lease = held.lease();
        let id = lease.connection_id;
        let user_id = held.connection.user_id;
        let tool = held.connection.provider.name();
        let outcome = outcome.clone();
        let next = self.next_scheduled();
        let retry_soon = now() + 60;
        let landed = db::run(&self.pool, move |conn| {
            db::write(conn, |conn| {
                let said = |code: &ErrorCode| (code.as_str(), code.info().title);
                let ours = !matches!(outcome, RunOutcome::LeaseLost | RunOutcome::NotLeased)
                    && connection::renew_lease(conn, &lease, LEASE_SECS)?;
                if !ours {
                    sync_run::interrupt(conn, run_id, said(&ErrorCode::LeaseLost))?;
                    return Ok::<_, AppError>(false);
                }
                match &outcome {
                    RunOutcome::Completed { counts, .. } => {
                        sync_run::finish_run(conn, run_id, RunStatus::Ok, None)?;
                        connection::set_outcome(conn, &lease, ConnectionStatus::Active, None, Some(*counts))?;
                        connection::release(conn, &lease, Next::At(next))?;
                    }
                    RunOutcome::Waiting { until, code } => {
                        // The run and the card say when the next try is.
                        let words = crate::catalogue::waiting_until(*code, *until);
                        let said = Some((code.as_str(), words.as_str()));
                        sync_run::finish_run(conn, run_id, RunStatus::Waiting, said)?;
                        connection::set_outcome(conn, &lease, ConnectionStatus::Active, said, None)?;
                        connection::release(conn, &lease, Next::NotBefore(*until))?;
                    }
                    RunOutcome::PartlySynced { code, kept, page } => {
                        let words = crate::catalogue::partly_synced(*code, *kept, *page);
                        let said = Some((code.as_str(), words.as_str()));
                        sync_run::finish_run(conn, run_id, RunStatus::Failed, said)?;
                        connection::set_outcome(conn, &lease, ConnectionStatus::Active, said, None)?;
                        connection::release(conn, &lease, Next::At(retry_soon.min(next)))?;
                    }
                    RunOutcome::Failed { code } => {
                        sync_run::finish_run(conn, run_id, RunStatus::Failed, Some(said(code)))?;
                        connection::set_outcome(conn, &lease, ConnectionStatus::Active, Some(said(code)), None)?;
                        connection::release(conn, &lease, Next::At(retry_soon.min(next)))?;
                    }
                    RunOutcome::NeedsReconnect { code } => {
                        let message = code.info().title;
                        sync_run::finish_run(conn, run_id, RunStatus::Failed, Some(said(code)))?;
                        connection::set_outcome(conn, &lease, ConnectionStatus::NeedsReconnect, Some(said(code)), None)?;
                        connection::release(conn, &lease, Next::NotBefore(next))?;
                        let notice = format!("{tool} stopped syncing: {message}. Reconnect it in Integration Settings.");
                        notification::notify(conn, &[user_id], &notice, Some(crate::urls::INTEGRATION_SETTINGS))?;
                        crate::services::mail::needs_attention(conn, user_id, tool, &notice)?;
                    }
                    RunOutcome::LeaseLost | RunOutcome::NotLeased => {}
                }
                Ok(true)
            })
        })
        .await?;
        if !landed {
            tracing::info!(
                connection = id,
                run = run_id,
                "a newer lease took this sync over; it stopped without writing more"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(etag: &str, next: Option<&str>, ids: &[&str]) -> KnownPage {
        KnownPage {
            etag: etag.into(),
            next_cursor: next.map(str::to_owned),
            external_ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_page_is_kept_only_when_its_etag_says_something_new() {
        let ids = vec!["1".to_owned(), "2".to_owned()];
        let next = Some("c2".to_owned());
        let same = kept("\"a\"", Some("c2"), &["1", "2"]);
        assert_eq!(
            memo_for("k".into(), Some(&same), Some("\"a\"".into()), &ids, &next),
            PageMemo::Keep
        );
        assert_eq!(
            memo_for("k".into(), Some(&same), Some("\"b\"".into()), &ids, &next),
            PageMemo::Store("k".into(), kept("\"b\"", Some("c2"), &["1", "2"]))
        );
        assert_eq!(
            memo_for("k".into(), None, Some("\"a\"".into()), &ids, &next),
            PageMemo::Store("k".into(), same.clone())
        );
        // The same ETag over other content (a tool getting it wrong) is kept anew.
        assert_eq!(
            memo_for(
                "k".into(),
                Some(&same),
                Some("\"a\"".into()),
                &ids[..1],
                &next
            ),
            PageMemo::Store("k".into(), kept("\"a\"", Some("c2"), &["1"]))
        );
        assert_eq!(
            memo_for("k".into(), Some(&same), None, &ids, &next),
            PageMemo::Forget("k".into())
        );
        assert_eq!(
            memo_for("k".into(), None, None, &ids, &next),
            PageMemo::Keep
        );
    }

    #[test]
    fn a_pass_knows_what_is_not_durable_yet() {
        let mut pass = Pass::resume(7, Some("c1".into()));
        assert!(!pass.unsaved);
        pass.seen(Vec::new());
        assert!(!pass.unsaved, "nothing seen, nothing to save");
        pass.seen(["1".to_owned()]);
        assert!(pass.unsaved);
        pass.saved(Some("c2".into()));
        assert!(!pass.unsaved);
        pass.advance("c2".into());
        assert!(!pass.unsaved, "the cursor saved with the page");
        pass.advance("c3".into());
        assert!(pass.unsaved);
        let restarted = Pass::restart(9);
        assert!(restarted.unsaved && restarted.cursor.is_none() && restarted.id == 9);
    }
}
