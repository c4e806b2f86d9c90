//! Sync: a connection to the fake Pivotal Tracker synced by taskbridge's own engine
//! (first full sync, then again with nothing changed), and the database side alone: the
//! engine's database calls over the same tasks, 100 a page, without HTTP. The first
//! sync writes every page (its tasks, the page's `ETag`, a checkpoint); an unchanged
//! re-sync whose pages are all 304s reads what is kept of the pages and finishes the
//! pass; one whose pages come in full (a tool without `ETag`s) also compares every page
//! with the stored tasks, writing nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use secrecy::SecretString;
use taskbridge::config::Settings;
use taskbridge::connectors::{Credentials, ProviderKind, RemoteTask};
use taskbridge::db::DbConn;
use taskbridge::domain::Role;
use taskbridge::models::connection::{self, NewConnection};
use taskbridge::models::{
    company, company_integration, login, sync_page, sync_pass, sync_run, task, user,
};
use taskbridge::services::credentials::{credentials_binding, seal_credentials};
use taskbridge::services::tools::Tools;
use taskbridge::sync::{RunOutcome, SyncEngine, Trigger};

use crate::fake_pivotal::{self, FakePivotal};
use crate::seed::{Database, FAR_FUTURE};
use crate::server::SECRET_KEY;

#[derive(Debug, Clone, Default)]
pub struct SyncFigures {
    pub tasks: i64,
    /// The connection the engine synced (its tasks stay, for the query plans).
    pub connection_id: i64,
    /// The engine, end to end: HTTP, parsing, database.
    pub first_secs: f64,
    pub again_secs: f64,
    /// The database side alone: first sync, unchanged re-sync (all 304s), and unchanged
    /// re-sync with every page in full (a tool without `ETag`s).
    pub db_first_secs: f64,
    pub db_again_secs: f64,
    pub db_again_full_secs: f64,
}

impl SyncFigures {
    pub fn db_first_rate(&self) -> f64 {
        self.tasks as f64 / self.db_first_secs
    }

    pub fn db_again_rate(&self) -> f64 {
        self.tasks as f64 / self.db_again_secs
    }

    pub fn db_again_full_rate(&self) -> f64 {
        self.tasks as f64 / self.db_again_full_secs
    }
}

pub fn tools_for(db: &Database, fake: &FakePivotal) -> anyhow::Result<Arc<Tools>> {
    tools_with(db, &fake.api_url)
}

/// The tools as the server has them (its key, so that it can open what is sealed
/// here), with Pivotal Tracker at `api_url`.
pub fn tools_with(db: &Database, api_url: &str) -> anyhow::Result<Arc<Tools>> {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", db.url.clone()),
        ("TASKBRIDGE_SECRET_KEY", SECRET_KEY.to_owned()),
        ("TASKBRIDGE_SANDBOX", "off".to_owned()),
        ("TASKBRIDGE_PIVOTAL_API_URL", api_url.to_owned()),
    ]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
    Ok(Arc::new(
        taskbridge::tools(&settings).map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
}

/// A new company and person with Pivotal Tracker connected (to the fake), not due.
pub fn new_connection(conn: &mut DbConn, tools: &Tools, label: &str) -> anyhow::Result<i64> {
    use taskbridge::schema::connections;
    let company_id = company::create(conn, &format!("Sync bench {label}"))?;
    let email = format!("sync-{label}@bench.test");
    let login_id = login::create(conn, &email, "-", true)?;
    let user_id = user::create(conn, company_id, login_id, "Bench Runner", Role::Owner)?;
    company_integration::set_enabled(
        conn,
        company_id,
        ProviderKind::PivotalTracker,
        true,
        user_id,
    )?;
    let creds = Credentials::api_token(SecretString::from(fake_pivotal::TOKEN.to_owned()));
    let sealed = seal_credentials(
        &tools.cipher,
        &creds,
        &credentials_binding(company_id, user_id, ProviderKind::PivotalTracker),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let me = fake_pivotal::ME_ID.to_string();
    let id = connection::upsert(
        conn,
        NewConnection {
            company_id,
            user_id,
            provider: ProviderKind::PivotalTracker,
            external_user_id: &me,
            external_account_id: &me,
            account_name: fake_pivotal::USERNAME,
            display_name: "Bench Runner",
            email: Some("runner@bench.test"),
            api_base: None,
            credentials: sealed,
        },
    )?;
    diesel::update(connections::table.find(id))
        .set(connections::next_sync_at.eq(FAR_FUTURE))
        .execute(conn)?;
    Ok(id)
}

/// The pages the connector makes of the fake's stories: the same tasks, 100 a page.
pub fn pages(total: u64, projects: u64) -> Vec<Vec<RemoteTask>> {
    let mut pages = Vec::new();
    for (_, _, stories) in fake_pivotal::stories(total, projects) {
        for chunk in stories.chunks(100) {
            pages.push(
                chunk
                    .iter()
                    .map(|s| RemoteTask {
                        external_id: s.id.to_string(),
                        title: s.name.clone(),
                        status: s.state.to_owned(),
                        project: Some(s.project.clone()),
                        due_on: s.deadline.as_ref().map(|d| d[..10].to_owned()),
                        url: Some(s.url.clone()),
                        closed: false,
                        updated_at: Some("2026-02-01T10:30:00Z".into()),
                    })
                    .collect(),
            );
        }
    }
    pages
}

/// How the tool answers the pages of a pass, for [`db_pass`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Every page in full, with its `ETag`.
    Full,
    /// Every page a 304 to the `ETag` kept from the pass before.
    NotModified,
}

/// One pass of the engine's database work over `pages` (see `SyncEngine::run`): what
/// is kept of the pages, read once; for each page answered in full, its comparison with
/// the stored tasks (judged without reading them while the connection had none as the
/// pass began and the page repeats none it wrote: `task::Fresh`) and, when it changes
/// anything (its tasks or its `ETag`), one write transaction with a checkpoint; then
/// the archive. Returns (seconds, counts).
fn db_pass(
    conn: &mut DbConn,
    id: i64,
    pages: &[Vec<RemoteTask>],
    answer: Answer,
) -> anyhow::Result<(f64, task::PageCounts)> {
    const OWNER: &str = "bench";
    let mut lease = connection::try_lease(conn, id, OWNER, 600)?
        .ok_or_else(|| anyhow::anyhow!("lease not taken"))?;
    let connection = connection::find(conn, id)?;
    let run_id = sync_run::start_run(conn, id, "manual")?;
    let pass_id = run_id;
    let started = Instant::now();
    let known = sync_page::known_pages(conn, id)?;
    let mut fresh = (!task::any_stored(conn, id)?).then(task::Fresh::default);
    let mut run = sync_pass::Progress {
        run_id,
        fetched: 0,
        counts: task::PageCounts::default(),
    };
    let mut seen: Vec<String> = Vec::new();
    let cursor = |i: usize| (i > 0).then(|| format!("{{\"page\":{i}}}"));
    for (i, page) in pages.iter().enumerate() {
        let key = sync_page::page_key(cursor(i).as_deref());
        let next = (i + 1 < pages.len()).then(|| cursor(i + 1)).flatten();
        run.fetched += page.len() as i64;
        if answer == Answer::NotModified {
            let kept = known
                .get(&key)
                .ok_or_else(|| anyhow::anyhow!("page {i} was not kept"))?;
            seen.extend(kept.external_ids.iter().cloned());
            continue;
        }
        let etag = format!("\"bench-page-{i}\"");
        let ids: Vec<String> = page.iter().map(|t| t.external_id.clone()).collect();
        let memo = match known.get(&key) {
            Some(k) if k.etag == etag => sync_page::PageMemo::Keep,
            _ => sync_page::PageMemo::Store(
                key,
                sync_page::KnownPage {
                    etag,
                    next_cursor: next.clone(),
                    external_ids: ids.clone(),
                },
            ),
        };
        let changes = match fresh.as_ref().and_then(|f| f.changes(page)) {
            Some(changes) => changes,
            None => task::page_changes(conn, id, page)?,
        };
        if changes.is_empty() && memo == sync_page::PageMemo::Keep {
            seen.extend(ids);
            continue;
        }
        run.counts.add(changes.counts);
        seen.extend(changes.unchanged.iter().cloned());
        if let Some(fresh) = fresh.as_mut() {
            fresh.wrote(&changes);
        }
        let checkpoint = sync_pass::Checkpoint {
            pass_id,
            cursor: next,
            seen: std::mem::take(&mut seen),
            progress: Some(run),
        };
        let page = sync_pass::PageWrite { changes, memo };
        anyhow::ensure!(
            sync_pass::save(conn, &connection, &mut lease, 600, Some(&page), &checkpoint)?,
            "lease lost"
        );
    }
    let seen = seen.into_iter().collect();
    let archived = sync_pass::finish_pass(conn, &mut lease, pass_id, &seen, Some(run))?
        .ok_or_else(|| anyhow::anyhow!("lease lost"))?;
    run.counts.archived += archived;
    let secs = started.elapsed().as_secs_f64();
    sync_run::finish_run(conn, run_id, sync_run::RunStatus::Ok, None)?;
    connection::release(conn, &lease, connection::Next::NotBefore(FAR_FUTURE))?;
    Ok((secs, run.counts))
}

fn expect_completed(outcome: RunOutcome, total: i64, added: i64, what: &str) -> anyhow::Result<()> {
    match outcome {
        RunOutcome::Completed { fetched, counts }
            if fetched == total && counts.added == added && counts.updated == 0 =>
        {
            Ok(())
        }
        other => anyhow::bail!("{what}: expected {total} fetched and {added} added, got {other:?}"),
    }
}

/// Syncs a new connection of `total` tasks twice through the engine, then measures
/// the database side alone on another new connection.
pub fn measure(
    rt: &tokio::runtime::Runtime,
    db: &Database,
    fake: &FakePivotal,
    (total, projects): (u64, u64),
    label: &str,
) -> anyhow::Result<SyncFigures> {
    let tools = tools_for(db, fake)?;
    let mut conn = db.conn()?;
    let engine = SyncEngine::new(db.pool.clone(), tools.clone(), Duration::from_secs(86_400));
    let id = new_connection(&mut conn, &tools, &format!("{label}-engine"))?;
    let connection_id = id;
    let total_i = total as i64;

    let started = Instant::now();
    let outcome = rt
        .block_on(engine.sync_connection(id, Trigger::Manual))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let first_secs = started.elapsed().as_secs_f64();
    expect_completed(outcome, total_i, total_i, "first sync")?;

    let started = Instant::now();
    let outcome = rt
        .block_on(engine.sync_connection(id, Trigger::Manual))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let again_secs = started.elapsed().as_secs_f64();
    expect_completed(outcome, total_i, 0, "unchanged re-sync")?;

    let pages = pages(total, projects);
    let id = new_connection(&mut conn, &tools, &format!("{label}-db"))?;
    let (db_first_secs, counts) = db_pass(&mut conn, id, &pages, Answer::Full)?;
    anyhow::ensure!(counts.added == total_i, "database pass added {counts:?}");
    let (db_again_secs, counts) = db_pass(&mut conn, id, &pages, Answer::NotModified)?;
    anyhow::ensure!(
        counts == task::PageCounts::default(),
        "unchanged pass wrote {counts:?}"
    );
    let (db_again_full_secs, counts) = db_pass(&mut conn, id, &pages, Answer::Full)?;
    anyhow::ensure!(
        counts == task::PageCounts::default(),
        "unchanged pass wrote {counts:?}"
    );
    Ok(SyncFigures {
        tasks: total_i,
        connection_id,
        first_secs,
        again_secs,
        db_first_secs,
        db_again_secs,
        db_again_full_secs,
    })
}
