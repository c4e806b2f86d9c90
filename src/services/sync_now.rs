//! "Sync now" and its progress, for My Tasks and the API alike.

use crate::db::{self, Pool};
use crate::domain::UserId;
use crate::error::AppError;
use crate::models::connection::{self, ConnectionStatus};
use std::sync::Arc;

use tokio::sync::Notify;

/// How a "Sync now" or a changed setting asks the sync engine for a pass at once: the
/// engine's wake-up, which the engine shares, and the cooldown between a person's
/// "Sync now"s. Services hold this rather than the engine, which is above them.
#[derive(Debug, Clone)]
pub struct Waker {
    wake: Arc<Notify>,
    cooldown_secs: i64,
}

impl Waker {
    pub fn new(cooldown_secs: i64) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            cooldown_secs,
        }
    }

    /// Wakes the engine now.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Seconds after a person's "Sync now" during which another asks for nothing more.
    pub fn cooldown_secs(&self) -> i64 {
        self.cooldown_secs
    }

    /// Returns once someone nudges (or at once, for a nudge nobody waited for yet).
    pub async fn nudged(&self) {
        self.wake.notified().await;
    }
}

/// What came of a "Sync now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncNow {
    /// This many connections will sync (a run each, one more after a run going on).
    Requested(usize),
    /// Nothing to sync yet: no connection is on.
    NothingToSync,
    /// Asked a moment ago: that sync is on its way; another may be asked in this many
    /// seconds.
    TooSoon { wait_secs: i64 },
}

/// Makes every connection of the person due at once, each with one run asked for
/// however often the button is pressed, and wakes the engine; within
/// the engine's cooldown (`TASKBRIDGE_SYNC_NOW_COOLDOWN_SECS`) of the last time, asks
/// for nothing.
pub async fn sync_now(pool: &Pool, engine: &Waker, user_id: UserId) -> Result<SyncNow, AppError> {
    let cooldown = engine.cooldown_secs();
    let asked = db::run(pool, move |conn| {
        Ok(db::write(conn, |conn| {
            connection::request_sync(conn, user_id.0, cooldown)
        })?)
    })
    .await?;
    Ok(match asked {
        Err(wait_secs) => SyncNow::TooSoon { wait_secs },
        Ok(0) => SyncNow::NothingToSync,
        Ok(n) => {
            engine.nudge();
            SyncNow::Requested(n)
        }
    })
}

/// A person's sync as it goes.
#[derive(Debug, Clone)]
pub struct Progress {
    /// A sync of theirs is running or waiting to start.
    pub running: bool,
    /// Each tool syncing now, with the tasks fetched so far.
    pub syncing: Vec<(&'static str, i64)>,
    /// Connections due but not yet picked up.
    pub waiting: usize,
}

impl Progress {
    /// From the person's connections: each sync running now, and those due (the tool
    /// on, never synced, not waiting for a reconnect) that no engine has picked up.
    pub fn of(shown: &[connection::Shown]) -> Self {
        let syncing: Vec<(&'static str, i64)> = shown
            .iter()
            .filter_map(|s| s.fetched.map(|n| (s.connection.provider.name(), n)))
            .collect();
        let waiting = shown
            .iter()
            .filter(|s| {
                s.tool_on
                    && s.connection.next_sync_at == 0
                    && s.connection.status != ConnectionStatus::NeedsReconnect
            })
            .count();
        Progress {
            running: !syncing.is_empty() || waiting > 0,
            syncing,
            waiting,
        }
    }

    /// "Sync finished.", "Sync starting…", "Syncing… Basecamp: 40 tasks fetched".
    pub fn text(&self) -> String {
        if !self.running {
            "Sync finished.".to_owned()
        } else if self.syncing.is_empty() {
            "Sync starting…".to_owned()
        } else {
            let parts: Vec<String> = self
                .syncing
                .iter()
                .map(|(name, fetched)| format!("{name}: {fetched} tasks fetched"))
                .collect();
            format!("Syncing… {}", parts.join(" · "))
        }
    }
}

/// The person's sync as it goes: their connections, each with its tool's switch and its
/// running sync, in one statement (`connection::shown_to`, as My Tasks reads them).
pub async fn progress(pool: &Pool, user_id: UserId) -> Result<Progress, AppError> {
    let shown = db::run(pool, move |conn| Ok(connection::shown_to(conn, user_id.0)?)).await?;
    Ok(Progress::of(&shown))
}
