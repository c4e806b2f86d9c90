//! Point 8, the sync soak with faults (issue 15, point 12): `BENCH_ONLY=soak`, never
//! part of a full run.
//!
//! 40 people in 4 companies, each with a Pivotal Tracker connection to the soak's
//! stand-in ([`crate::soak_tool`]), sync on the real server (the release binary, every
//! 10 s) for `BENCH_SOAK_SECONDS`, while the stand-in answers some requests with 429
//! and `Retry-After`, 5xx, an answer held past the client's timeout or a slow one, and
//! its data changes (stories added, closed, given to someone else, renamed, moved to
//! another state), and the harness kills the server with SIGKILL at random and starts
//! it again over the same database. Then the faults and the changes stop, the server
//! is started once more (with the schedule a day away, so that it is quiet after), and
//! every person presses Sync now (`POST /api/v1/sync`) twice: the first finishes any
//! pass in progress, the second is a whole pass over the final data. Then the checks:
//! every person's open tasks are the tool's (the set, titles, states), no task row
//! twice, no run left `running` without a live lease, no connection stuck, and the
//! sync status of every person says finished.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::Rng;
use secrecy::SecretString;
use taskbridge::connectors::{Credentials, ProviderKind};
use taskbridge::domain::Role;
use taskbridge::models::connection::{self, NewConnection};
use taskbridge::models::{company, company_integration, login, user};
use taskbridge::services::credentials::{credentials_binding, seal_credentials};

use crate::report::{row, secs, thousands, Verdict};
use crate::seed::Database;
use crate::server::Server;
use crate::soak_tool::{self, Shape, SoakTool};
use crate::Suite;

const SHAPE: Shape = Shape {
    companies: 4,
    people: 10,
    projects: 3,
    stories_per_person: 40,
};
/// The server's schedule during the soak (the least it accepts).
const SYNC_INTERVAL_SECS: u64 = 10;
/// How long each settling round may take: a lease left by a killed run lasts
/// `taskbridge::sync::LEASE_SECS` (120 s), then a pass.
const SETTLE_LIMIT: Duration = Duration::from_secs(taskbridge::sync::LEASE_SECS as u64 + 90);

/// A seeded person of the soak.
struct Soaker {
    user_id: i64,
    connection_id: i64,
    /// Their personal API token.
    token: String,
}

/// One settling round: every person pressed Sync now; how long until each connection
/// had a run end `ok`, and the connections that had none within the limit.
struct Round {
    secs: f64,
    refused: usize,
    unsettled: Vec<i64>,
}

fn max_run_id(db: &Database) -> anyhow::Result<i64> {
    use taskbridge::schema::sync_runs;
    let mut conn = db.conn()?;
    let max: Option<i64> = sync_runs::table
        .select(diesel::dsl::max(sync_runs::id))
        .first(&mut *conn)?;
    Ok(max.unwrap_or(0))
}

/// Connections leased by the server process `pid` right now (runs in flight).
fn leased_by(db: &Database, pid: u32) -> anyhow::Result<i64> {
    use taskbridge::schema::connections;
    let mut conn = db.conn()?;
    Ok(connections::table
        .filter(connections::lease_owner.like(format!("{pid}-%")))
        .filter(connections::lease_until.ge(taskbridge::db::now()))
        .count()
        .get_result(&mut *conn)?)
}

impl Suite {
    fn soak_seed(&self, db: &Database, tool: &SoakTool) -> anyhow::Result<Vec<Soaker>> {
        let tools = crate::syncing::tools_with(db, &tool.api_url)?;
        let mut conn = db.conn()?;
        let mut companies: HashMap<usize, i64> = HashMap::new();
        let mut soakers = Vec::new();
        for p in tool.people() {
            let first = !companies.contains_key(&p.company);
            let company_id = match companies.get(&p.company) {
                Some(id) => *id,
                None => {
                    let id =
                        company::create(&mut conn, &format!("Soak company {}", p.company + 1))?;
                    companies.insert(p.company, id);
                    id
                }
            };
            let role = if first { Role::Owner } else { Role::User };
            let login_id = login::create(&mut conn, &p.email, "-", true)?;
            let user_id = user::create(&mut conn, company_id, login_id, &p.name, role)?;
            if first {
                company_integration::set_enabled(
                    &mut conn,
                    company_id,
                    ProviderKind::PivotalTracker,
                    true,
                    user_id,
                )?;
            }
            let creds = Credentials::api_token(SecretString::from(p.token.clone()));
            let sealed = seal_credentials(
                &tools.cipher,
                &creds,
                &credentials_binding(company_id, user_id, ProviderKind::PivotalTracker),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let tracker_id = p.tracker_id.to_string();
            // Due at once, as a connection just made in Integration Settings is.
            let connection_id = connection::upsert(
                &mut conn,
                NewConnection {
                    company_id,
                    user_id,
                    provider: ProviderKind::PivotalTracker,
                    external_user_id: &tracker_id,
                    external_account_id: &tracker_id,
                    account_name: &p.username,
                    display_name: &p.name,
                    email: Some(&p.email),
                    api_base: None,
                    credentials: sealed,
                },
            )?;
            let token = crate::seed::api_token(&mut conn, company_id, user_id, "soak")?;
            soakers.push(Soaker {
                user_id,
                connection_id,
                token,
            });
        }
        Ok(soakers)
    }

    /// Point 8 on a new, empty database.
    pub(crate) fn soak(&mut self, db: &Database, backend: &str, name: &str) -> anyhow::Result<()> {
        let soak_for = Duration::from_secs_f64(self.cfg.soak_seconds);
        let (kill_min, kill_max) = if self.cfg.quick {
            (4.0, 12.0)
        } else {
            (8.0, 30.0)
        };
        let tool = soak_tool::start(SHAPE)?;
        let people = self.soak_seed(db, &tool)?;
        self.say(&format!(
            "{backend}: soak of {} people in {} companies for {}: faults, changes, SIGKILL every {kill_min}–{kill_max} s",
            people.len(),
            SHAPE.companies,
            secs(soak_for.as_secs_f64())
        ));
        let start_server = |n: usize, interval: u64| {
            Server::start_with(
                &db.url,
                self.dir.path(),
                &self.log(&format!("{name}-{n}")),
                &[
                    ("TASKBRIDGE_PIVOTAL_API_URL", tool.api_url.clone()),
                    ("TASKBRIDGE_SYNC_INTERVAL_SECS", interval.to_string()),
                ],
            )
        };

        // The soak: faults on, the data changing, the server killed now and then.
        let mut starts = 0;
        let mut server = start_server(starts, SYNC_INTERVAL_SECS)?;
        tool.set_faults(true);
        let stop = Arc::new(AtomicBool::new(false));
        let changer = {
            let (tool, stop) = (tool.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rng = rand::thread_rng();
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(rng.gen_range(200..800)));
                    tool.change(&mut rng);
                }
            })
        };
        let began = Instant::now();
        let mut rng = rand::thread_rng();
        let (mut kills, mut in_flight, mut restart_secs) = (0u64, 0i64, Vec::new());
        loop {
            let wait = Duration::from_secs_f64(rng.gen_range(kill_min..kill_max));
            let left = soak_for.saturating_sub(began.elapsed());
            if wait >= left {
                std::thread::sleep(left);
                break;
            }
            std::thread::sleep(wait);
            server.child.check_alive()?;
            in_flight += leased_by(db, server.pid())?;
            drop(server);
            kills += 1;
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..1000)));
            let t = Instant::now();
            starts += 1;
            server = start_server(starts, SYNC_INTERVAL_SECS)?;
            restart_secs.push(t.elapsed().as_secs_f64());
            self.say(&format!(
                "{backend}: soak {:.0} s: kill {kills} ({in_flight} leases held at kills so far), restarted",
                began.elapsed().as_secs_f64()
            ));
        }
        tool.set_faults(false);
        stop.store(true, Ordering::SeqCst);
        let _ = changer.join();
        let (answered, changes) = (tool.answered(), tool.changes());

        // Settle: one more start, with the schedule a day away; Sync now twice.
        let base = max_run_id(db)?;
        in_flight += leased_by(db, server.pid())?;
        drop(server);
        starts += 1;
        let server = start_server(starts, 86_400)?;
        self.say(&format!(
            "{backend}: faults and changes stopped after {kills} kills; settling (Sync now for everyone, twice)"
        ));
        let first = self.settle(db, &server, &people, base)?;
        let base = max_run_id(db)?;
        let second = self.settle(db, &server, &people, base)?;
        self.say(&format!(
            "{backend}: settled in {} and {}; checking",
            secs(first.secs),
            secs(second.secs)
        ));

        // What was done.
        let b = backend;
        self.rows.push(row(
            "8",
            format!("Soak {b}: faults injected"),
            format!(
                "429 ×{}, 5xx ×{}, held past the timeout ×{}, slow ×{}",
                thousands(answered.rate_limited as f64),
                thousands(answered.server_errors as f64),
                thousands(answered.timeouts as f64),
                thousands(answered.slow as f64)
            ),
            format!(
                "of {} requests ({} answered 304)",
                thousands(answered.requests as f64),
                thousands(answered.not_modified as f64)
            ),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "8",
            format!("Soak {b}: changes at the tool"),
            format!(
                "{} added, {} closed, {} reassigned, {} renamed, {} other state",
                changes.added,
                changes.closed,
                changes.reassigned,
                changes.renamed,
                changes.restated
            ),
            format!(
                "{} changes over {} stories to begin with",
                changes.total(),
                thousands((people.len() * SHAPE.stories_per_person) as f64)
            ),
            "",
            Verdict::Info,
        ));
        let restart = restart_secs.iter().sum::<f64>() / restart_secs.len().max(1) as f64;
        self.rows.push(row(
            "8",
            format!("Soak {b}: server killed (SIGKILL)"),
            format!(
                "{kills} times in {}, and once to settle",
                secs(soak_for.as_secs_f64())
            ),
            format!(
                "{in_flight} connections leased (runs in flight) when killed; restart to /healthz {} on average",
                secs(restart)
            ),
            "",
            Verdict::Info,
        ));
        self.soak_checks(db, &server, &people, &tool, (&first, &second), b)
    }

    /// Every person presses Sync now through the API; waits until each connection has
    /// a run after `base` that ended `ok`.
    fn settle(
        &self,
        db: &Database,
        server: &Server,
        people: &[Soaker],
        base: i64,
    ) -> anyhow::Result<Round> {
        use taskbridge::schema::sync_runs;
        let began = Instant::now();
        let mut refused = 0;
        for p in people {
            // A press asked to wait (a cooldown on Sync now) is pressed again after it.
            loop {
                let r = crate::http::block_on(crate::http::once(
                    &server.addr,
                    "POST",
                    "/api/v1/sync",
                    &[("Authorization", &format!("Bearer {}", p.token))],
                    b"",
                ))?;
                if r.status == 429 && began.elapsed() < SETTLE_LIMIT {
                    let wait = r
                        .header("retry-after")
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(1)
                        .clamp(1, 30);
                    std::thread::sleep(Duration::from_secs(wait));
                    continue;
                }
                if r.status != 202 {
                    refused += 1;
                }
                break;
            }
        }
        let wanted: HashSet<i64> = people.iter().map(|p| p.connection_id).collect();
        loop {
            let done: HashSet<i64> = {
                let mut conn = db.conn()?;
                sync_runs::table
                    .filter(sync_runs::id.gt(base))
                    .filter(sync_runs::status.eq("ok"))
                    .select(sync_runs::connection_id)
                    .load::<i64>(&mut *conn)?
                    .into_iter()
                    .collect()
            };
            let mut unsettled: Vec<i64> = wanted.difference(&done).copied().collect();
            if unsettled.is_empty() || began.elapsed() > SETTLE_LIMIT {
                unsettled.sort_unstable();
                return Ok(Round {
                    secs: began.elapsed().as_secs_f64(),
                    refused,
                    unsettled,
                });
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn soak_checks(
        &mut self,
        db: &Database,
        server: &Server,
        people: &[Soaker],
        tool: &SoakTool,
        (first, second): (&Round, &Round),
        b: &str,
    ) -> anyhow::Result<()> {
        use taskbridge::schema::{connections, sync_runs, tasks};
        let truth = tool.truth();
        let ids: Vec<i64> = people.iter().map(|p| p.connection_id).collect();
        let mut conn = db.conn()?;
        let rows: Vec<(i64, i64, String, String, String, bool)> = tasks::table
            .filter(tasks::connection_id.eq_any(&ids))
            .select((
                tasks::connection_id,
                tasks::user_id,
                tasks::external_id,
                tasks::title,
                tasks::status,
                tasks::archived,
            ))
            .load(&mut *conn)?;
        let runs: Vec<(i64, i64, String, Option<String>)> = sync_runs::table
            .filter(sync_runs::connection_id.eq_any(&ids))
            .select((
                sync_runs::id,
                sync_runs::connection_id,
                sync_runs::status,
                sync_runs::error_code,
            ))
            .load(&mut *conn)?;
        type ConnRow = (i64, String, Option<String>, Option<i64>, Option<String>);
        let conns: Vec<ConnRow> = connections::table
            .filter(connections::id.eq_any(&ids))
            .select((
                connections::id,
                connections::status,
                connections::lease_owner,
                connections::lease_until,
                connections::last_error_code,
            ))
            .load(&mut *conn)?;
        drop(conn);
        let now = taskbridge::db::now();

        // The tasks against the tool's truth.
        let mut open: HashMap<i64, BTreeMap<&str, (&str, &str)>> = HashMap::new();
        let mut seen: HashMap<(i64, &str), usize> = HashMap::new();
        let mut seen_open: HashMap<(i64, &str), usize> = HashMap::new();
        for (connection_id, user_id, external_id, title, status, archived) in &rows {
            *seen.entry((*connection_id, external_id)).or_default() += 1;
            if !archived {
                *seen_open.entry((*user_id, external_id)).or_default() += 1;
                open.entry(*user_id)
                    .or_default()
                    .insert(external_id, (title, status));
            }
        }
        let (mut missing, mut extra, mut wrong_title, mut wrong_state) = (0, 0, 0, 0);
        let (mut people_exact, mut truth_tasks) = (0, 0);
        let empty = BTreeMap::new();
        // (person, tool id, what is wrong), to say more about below.
        let mut odd: Vec<(usize, String, &str)> = Vec::new();
        for (i, (p, want)) in people.iter().zip(&truth).enumerate() {
            let have = open.get(&p.user_id).unwrap_or(&empty);
            truth_tasks += want.len();
            let mut exact = have.len() == want.len();
            for (id, (title, state)) in want {
                match have.get(id.as_str()) {
                    None => {
                        missing += 1;
                        exact = false;
                        odd.push((i, id.clone(), "missing"));
                    }
                    Some((t, s)) => {
                        if t != title {
                            wrong_title += 1;
                            exact = false;
                        }
                        if s != state {
                            wrong_state += 1;
                            exact = false;
                        }
                    }
                }
            }
            for id in have.keys().filter(|id| !want.contains_key(**id)) {
                extra += 1;
                odd.push((i, id.to_string(), "extra"));
            }
            people_exact += usize::from(exact);
        }
        self.say_odd(db, people, tool, &odd, b)?;
        let n = people.len();
        self.rows.push(row(
            "8",
            format!("Soak {b}: open tasks = the tool's (set)"),
            format!("{people_exact} of {n} people exact"),
            format!(
                "{} open at the tool; {missing} missing, {extra} extra",
                thousands(truth_tasks as f64)
            ),
            "every person",
            Verdict::check(missing == 0 && extra == 0),
        ));
        self.rows.push(row(
            "8",
            format!("Soak {b}: titles and states = the tool's"),
            format!("{wrong_title} titles, {wrong_state} states differ"),
            "",
            "none differ",
            Verdict::check(wrong_title == 0 && wrong_state == 0),
        ));
        let twice = seen.values().filter(|c| **c > 1).count()
            + seen_open.values().filter(|c| **c > 1).count();
        self.rows.push(row(
            "8",
            format!("Soak {b}: no duplicate task"),
            format!("{twice} duplicates"),
            format!(
                "{} task rows (a tool id once per connection, once open per person)",
                thousands(rows.len() as f64)
            ),
            "none",
            Verdict::check(twice == 0),
        ));

        // Runs and connections. A lease is live when the running server holds it (its
        // leases are named after its process id) and it has not lapsed.
        let live = |c: &ConnRow| {
            c.2.as_deref()
                .is_some_and(|o| o.starts_with(&format!("{}-", server.pid())))
                && c.3.is_some_and(|until| until >= now)
        };
        let by_id: HashMap<i64, &ConnRow> = conns.iter().map(|c| (c.0, c)).collect();
        let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
        let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
        let mut orphaned = 0;
        for (_, connection_id, status, code) in &runs {
            *statuses.entry(status).or_default() += 1;
            if let Some(code) = code {
                *codes.entry(code).or_default() += 1;
            }
            if status == "running" && !by_id.get(connection_id).is_some_and(|c| live(c)) {
                orphaned += 1;
            }
        }
        let list = |m: &BTreeMap<&str, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.rows.push(row(
            "8",
            format!("Soak {b}: runs"),
            list(&statuses),
            format!("error codes: {}", list(&codes)),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "8",
            format!("Soak {b}: no orphaned run"),
            format!("{orphaned} runs `running` without a live lease"),
            format!("{} runs in all", thousands(runs.len() as f64)),
            "none",
            Verdict::check(orphaned == 0),
        ));
        let last_ok: HashSet<i64> = {
            let mut last: HashMap<i64, (i64, &str)> = HashMap::new();
            for (id, connection_id, status, _) in &runs {
                let e = last.entry(*connection_id).or_insert((*id, status));
                if *id > e.0 {
                    *e = (*id, status);
                }
            }
            last.into_iter()
                .filter(|(_, (_, s))| *s == "ok")
                .map(|(c, _)| c)
                .collect()
        };
        let stuck: Vec<i64> = conns
            .iter()
            .filter(|c| {
                c.1 != "active"
                    || c.4.is_some()
                    || c.3.is_some_and(|until| until >= now)
                    || !last_ok.contains(&c.0)
                    || second.unsettled.contains(&c.0)
            })
            .map(|c| c.0)
            .collect();
        self.rows.push(row(
            "8",
            format!("Soak {b}: no connection stuck"),
            format!("{} of {n} stuck", stuck.len()),
            format!(
                "each: active, no error, lease free, last run ok; settled in {} then {} ({} and {} without an ok run in {})",
                secs(first.secs),
                secs(second.secs),
                first.unsettled.len(),
                second.unsettled.len(),
                secs(SETTLE_LIMIT.as_secs_f64()),
            ),
            "none",
            Verdict::check(stuck.is_empty() && first.refused + second.refused == 0),
        ));

        // What each person's client is told.
        let mut still = 0;
        for p in people {
            let r = crate::http::block_on(crate::http::once(
                &server.addr,
                "GET",
                "/api/v1/sync",
                &[("Authorization", &format!("Bearer {}", p.token))],
                b"",
            ))?;
            let state: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            if r.status != 200 || state["running"].as_bool() != Some(false) {
                still += 1;
            }
        }
        self.rows.push(row(
            "8",
            format!("Soak {b}: sync status says finished"),
            format!("{still} of {n} people still told \"running\""),
            "GET /api/v1/sync on the quiet server",
            "none",
            Verdict::check(still == 0),
        ));
        let failed: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail && r.what.starts_with(&format!("Soak {b}")))
            .map(|r| format!("{}: {}", r.what, r.value))
            .collect();
        if failed.is_empty() {
            self.say(&format!("{b}: soak checks all passed"));
        } else {
            self.say(&format!("{b}: soak checks FAILED: {}", failed.join("; ")));
            self.soak_failures.extend(failed);
        }
        Ok(())
    }
}

impl Suite {
    /// Says what the tool and the database hold of each task that differs (the first
    /// ten): the story at the tool, its rows, the connection's pass and last runs, and
    /// the kept pages that list it.
    fn say_odd(
        &self,
        db: &Database,
        people: &[Soaker],
        tool: &SoakTool,
        odd: &[(usize, String, &str)],
        b: &str,
    ) -> anyhow::Result<()> {
        use taskbridge::schema::{connections, sync_pages, sync_runs, tasks};
        let mut conn = db.conn()?;
        for (i, id, what) in odd.iter().take(10) {
            let p = &people[*i];
            type TaskRow = (i64, i64, bool, String, i64, i64);
            let rows: Vec<TaskRow> = tasks::table
                .filter(tasks::external_id.eq(id))
                .select((
                    tasks::connection_id,
                    tasks::user_id,
                    tasks::archived,
                    tasks::title,
                    tasks::seen_pass,
                    tasks::updated_at,
                ))
                .load(&mut *conn)?;
            let (pass, cursor): (Option<i64>, Option<String>) = connections::table
                .find(p.connection_id)
                .select((connections::pass_id, connections::sync_cursor))
                .first(&mut *conn)?;
            type RunRow = (i64, String, i64, i64, i64, i64, i64, Option<i64>);
            let runs: Vec<RunRow> = sync_runs::table
                .filter(sync_runs::connection_id.eq(p.connection_id))
                .order(sync_runs::id.desc())
                .limit(4)
                .select((
                    sync_runs::id,
                    sync_runs::status,
                    sync_runs::fetched,
                    sync_runs::added,
                    sync_runs::updated,
                    sync_runs::archived,
                    sync_runs::started_at,
                    sync_runs::finished_at,
                ))
                .load(&mut *conn)?;
            let pages: Vec<(String, Option<String>)> = sync_pages::table
                .filter(sync_pages::connection_id.eq(p.connection_id))
                .filter(sync_pages::external_ids.like(format!("%{id}%")))
                .select((sync_pages::etag, sync_pages::next_cursor))
                .load(&mut *conn)?;
            self.say(&format!(
                "{b}: task {id} {what} for person {i} (user {}, connection {}): tool: {}; rows (connection, user, archived, title, seen_pass, updated_at): {rows:?}; connection pass {pass:?}, cursor {cursor:?}; last runs (id, status, fetched, added, updated, archived, started, finished): {runs:?}; kept pages listing it (etag, next): {pages:?}",
                p.user_id,
                p.connection_id,
                tool.describe(id),
            ));
        }
        Ok(())
    }
}
