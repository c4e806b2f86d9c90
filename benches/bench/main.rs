//! taskbridge's benchmark suite: `cargo bench --bench bench` (see docs/benchmarks.md).
//!
//! It starts the real server (the release binary, in its own process), seeds data,
//! drives it from a separate load process over loopback, and prints one results table.
//! Every comparison is measured side by side in the same run. The same executable
//! re-runs itself for its helper processes: `__load <spec>` (the load generator) and
//! `__reference <database> <port>` (the bare reference page).
//!
//! Options, from the environment:
//! - `BENCH_QUICK=1`: short measurements (2 s) and a smaller scale database (100
//!   companies, 400,000 tasks), to try the suite out; not figures for the record.
//! - `BENCH_SCALE=0`: skip the 4-million-task database (point 3).
//! - `BENCH_SCALE_COMPANIES=N`: companies in the scale database (default 1,000).
//! - `BENCH_PG_URL`: the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres);
//!   `BENCH_PG=0` skips every PostgreSQL part.
//! - `BENCH_SECONDS`: seconds per load measurement (default 5; each is taken twice).
//! - `BENCH_CONNECTIONS`: concurrent keep-alive connections of the load (default 16).
//! - `BENCH_SERVER_LOG`: `RUST_LOG` for the server (default: the server's own, info).
//! - `BENCH_PERF=1` (or `dwarf`): a `perf` profile of the server during one more My
//!   Tasks load, into `target/bench-perf-<database>.data`.
//! - `MIMALLOC_*` (and glibc's `MALLOC_*`, for SQLite's own allocations): the
//!   allocator's settings, passed on to the server.
//! - `BENCH_ONLY=sync`: only the sync (point 2) on each database, into the same small
//!   database as in a full run.
//! - `BENCH_ONLY=time`: only time tracking (point 6) on each database, over the same
//!   small database as in a full run, and its scale database on PostgreSQL.
//! - `BENCH_TIME_SCALE=N`: companies of 20 people with a year of time each (2,088
//!   entries a person) in the time scale database, beside the small company (default
//!   100: about 4.3 million entries; 10 with `BENCH_QUICK`); `0` skips it, as
//!   `BENCH_SCALE=0` does.
//! - `BENCH_ONLY=api`: only the JSON API (point 7) on each database, over the same
//!   small database as in a full run.
//! - `BENCH_ONLY=pages`: only the signed-in pages against their references: My Tasks
//!   with 50 rows and with 10, and the Timesheet week, on each database.
//! - `BENCH_ONLY=hash`: only OWASP's equal-strength Argon2id settings side by side
//!   (point 4), in this process.
//! - `BENCH_ONLY=soak`: only the sync soak with faults (point 8), on each database; it
//!   is never part of a full run.
//! - `BENCH_SOAK_SECONDS`: how long the soak's faults, changes and kills go on (default
//!   180; 45 with `BENCH_QUICK`), before it settles and checks.

mod anatomy;
mod api;
mod explain;
mod fake_pivotal;
mod hashing;
mod http;
mod load;
mod pages;
mod proc;
mod reference;
mod report;
mod seed;
mod server;
mod soak;
mod soak_tool;
mod syncing;
mod tracking;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use load::{Measured, Spec};
use report::{mib, ms, row, secs, thousands, Machine, Row, Verdict};
use seed::{Database, Person, Shape};
use server::Server;

/// Tasks one person sees: My Tasks shows 50 of them a page.
const TASKS_PER_PERSON: i64 = 200;
/// The database of points 1, 2 and 4, and the 10,000 tasks point 3 compares with.
const SMALL: Shape = Shape {
    companies: 1,
    people: 50,
    tasks: TASKS_PER_PERSON,
};
/// The sync: 10,000 stories assigned to one person, over 4 projects, 100 a page.
const SYNC_TASKS: u64 = 10_000;
const SYNC_PROJECTS: u64 = 4;
const SIGN_INS_PER_SECOND: f64 = 20.0;

/// A part run alone (`BENCH_ONLY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Only {
    /// The sync (point 2).
    Sync,
    /// Time tracking (point 6).
    Time,
    /// The JSON API (point 7).
    Api,
    /// The sync soak with faults (point 8), never part of a full run.
    Soak,
    /// The signed-in pages: My Tasks (50 rows and 10) and the Timesheet week.
    Pages,
    /// The Argon2id settings side by side (point 4).
    Hash,
}

struct Config {
    quick: bool,
    only: Option<Only>,
    /// Seconds of faults, changes and kills in the soak.
    soak_seconds: f64,
    seconds: f64,
    connections: usize,
    postgres: Option<String>,
    scale_companies: Option<i64>,
    /// Companies of 20 people in the time scale database.
    time_scale_companies: Option<i64>,
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let quick = var("BENCH_QUICK").is_some_and(|v| v != "0");
        let only = match var("BENCH_ONLY").as_deref() {
            None => None,
            Some("sync") => Some(Only::Sync),
            Some("time") => Some(Only::Time),
            Some("api") => Some(Only::Api),
            Some("soak") => Some(Only::Soak),
            Some("pages") => Some(Only::Pages),
            Some("hash") => Some(Only::Hash),
            Some(other) => {
                anyhow::bail!(
                    "BENCH_ONLY={other}: the parts that run alone are sync, time, api, pages, hash and soak"
                )
            }
        };
        let postgres = match var("BENCH_PG").as_deref() {
            Some("0") => None,
            _ => Some(
                var("BENCH_PG_URL")
                    .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            ),
        };
        let scale_companies = match var("BENCH_SCALE").as_deref() {
            Some("0") => None,
            _ => Some(
                var("BENCH_SCALE_COMPANIES")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(if quick { 100 } else { 1000 }),
            ),
        };
        let time_scale_companies = match var("BENCH_TIME_SCALE").as_deref() {
            Some("0") => None,
            _ if scale_companies.is_none() => None,
            v => Some(
                v.and_then(|v| v.parse().ok())
                    .unwrap_or(if quick { 10 } else { 100 }),
            ),
        };
        Ok(Self {
            quick,
            only,
            soak_seconds: var("BENCH_SOAK_SECONDS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if quick { 45.0 } else { 180.0 }),
            time_scale_companies,
            seconds: var("BENCH_SECONDS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if quick { 2.0 } else { 5.0 }),
            connections: var("BENCH_CONNECTIONS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(16),
            postgres,
            scale_companies,
        })
    }
}

struct Suite {
    cfg: Config,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    password_hash: String,
    fake: fake_pivotal::FakePivotal,
    rows: Vec<Row>,
    notes: Vec<String>,
    plans: Vec<explain::Plan>,
    /// The soak's checks that failed, to fail the run with after the table.
    soak_failures: Vec<String>,
    started: Instant,
}

/// The same allocator as the server's (`src/main.rs`): the reference pages, served by
/// this binary, are the same stack.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("__load") => load::child_main(args.get(2).map(String::as_str).unwrap_or("")),
        Some("__reference") => reference::child_main(
            args.get(2).map(String::as_str).unwrap_or(""),
            args.get(3).map(String::as_str).unwrap_or(""),
        ),
        _ => run_suite(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn say(suite_started: Instant, what: &str) {
    eprintln!("[{:>6.1}s] {what}", suite_started.elapsed().as_secs_f64());
}

fn run_suite() -> anyhow::Result<()> {
    let cfg = Config::from_env()?;
    let started = Instant::now();
    let mut machine = Machine::detect();
    let mut suite = Suite {
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?,
        dir: tempfile::Builder::new()
            .prefix("taskbridge-bench")
            .tempdir()?,
        password_hash: taskbridge::auth::password::hash(server::PASSWORD)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        fake: fake_pivotal::start(SYNC_TASKS, SYNC_PROJECTS)?,
        rows: Vec::new(),
        notes: Vec::new(),
        plans: Vec::new(),
        soak_failures: Vec::new(),
        started,
        cfg,
    };
    say(started, &format!("machine: {}", machine.describe()));
    match suite.cfg.only {
        None => {}
        Some(Only::Sync) => suite
            .notes
            .push("Only the sync (point 2) was run (BENCH_ONLY=sync)".into()),
        Some(Only::Time) => suite
            .notes
            .push("Only time tracking (point 6) was run (BENCH_ONLY=time)".into()),
        Some(Only::Api) => suite
            .notes
            .push("Only the JSON API (point 7) was run (BENCH_ONLY=api)".into()),
        Some(Only::Soak) => suite
            .notes
            .push("Only the sync soak with faults (point 8) was run (BENCH_ONLY=soak)".into()),
        Some(Only::Pages) => suite.notes.push(
            "Only the signed-in pages (My Tasks, 50 and 10 rows; the Timesheet week) were run (BENCH_ONLY=pages)"
                .into(),
        ),
        Some(Only::Hash) => suite
            .notes
            .push("Only the Argon2id settings (point 4) were run (BENCH_ONLY=hash)".into()),
    }

    suite.sqlite()?;

    match suite.cfg.postgres.clone() {
        Some(admin) => match seed::drop_stale_postgres(&admin) {
            Ok(()) => {
                machine.postgres = postgres_version(&admin);
                suite.postgres(&admin)?;
            }
            Err(e) => {
                let note = format!("PostgreSQL parts skipped: cannot reach {admin} ({e})");
                say(started, &note);
                suite.notes.push(note);
            }
        },
        None => suite
            .notes
            .push("PostgreSQL parts skipped (BENCH_PG=0)".into()),
    }

    suite.print(&machine)?;
    anyhow::ensure!(
        suite.soak_failures.is_empty(),
        "soak checks failed: {}",
        suite.soak_failures.join("; ")
    );
    Ok(())
}

fn postgres_version(admin: &str) -> Option<String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        server_version: String,
    }
    let mut conn = diesel::PgConnection::establish(admin).ok()?;
    let v: V = diesel::sql_query("SHOW server_version")
        .get_result(&mut conn)
        .ok()?;
    Some(format!(
        "PostgreSQL {}",
        v.server_version.split_whitespace().next().unwrap_or("")
    ))
}

/// What a server's My Tasks measurements gave.
struct PageRun {
    mine: Measured,
    reference: Option<Measured>,
    rss_idle: u64,
    rss_peak: u64,
}

impl Suite {
    fn say(&self, what: &str) {
        say(self.started, what);
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    fn get_spec(&self, addr: &str, path: &str, cookie: Option<&str>, seconds: f64) -> Spec {
        Spec::Get(load::GetLoad {
            addr: addr.to_owned(),
            path: path.to_owned(),
            cookie: cookie.map(str::to_owned),
            connections: self.cfg.connections,
            seconds,
            max_requests: 2_000_000,
            expect: "<li class=\"task\">".into(),
            headers: Vec::new(),
            status: 200,
        })
    }

    /// Starts the server over `db`, signs `me` in and checks My Tasks shows `rows` tasks.
    fn serve(
        &self,
        db: &Database,
        me: &Person,
        name: &str,
        rows: usize,
    ) -> anyhow::Result<(Server, String)> {
        let server = Server::start(&db.url, self.dir.path(), &self.log(name))?;
        let cookie = server.sign_in(&me.email)?;
        let (status, page) = server.get("/tasks", &cookie)?;
        let shown = page.matches("<li class=\"task\">").count();
        anyhow::ensure!(
            status == 200 && shown == rows,
            "My Tasks answered {status} with {shown} tasks, not {rows}"
        );
        Ok((server, cookie))
    }

    /// My Tasks under load, and (with `reference`) the reference page, interleaved
    /// A B B A so drift on a noisy machine falls on both alike.
    fn measure_pages(
        &self,
        db: &Database,
        me: &Person,
        name: &str,
        with_reference: bool,
    ) -> anyhow::Result<(PageRun, Server, String)> {
        self.measure_pages_of(db, me, name, with_reference, 50)
    }

    /// [`Suite::measure_pages`] for a person whose My Tasks shows `rows` tasks.
    fn measure_pages_of(
        &self,
        db: &Database,
        me: &Person,
        name: &str,
        with_reference: bool,
        rows: usize,
    ) -> anyhow::Result<(PageRun, Server, String)> {
        let (server, cookie) = self.serve(db, me, name, rows)?;
        let ref_server = if with_reference {
            let port = proc::free_port()?;
            let mut child = reference::start(&db.url, port, &self.log(&format!("{name}-ref")))?;
            let addr = format!("127.0.0.1:{port}");
            let path = format!("/reference?user={}", me.user_id);
            proc::wait_until_up(&addr, &path, &mut child, Duration::from_secs(30))?;
            let pid = child.pid();
            Some((child, addr, path, pid))
        } else {
            None
        };
        let rss_idle = proc::rss_bytes(server.pid()).unwrap_or(0);
        let mine_spec = |seconds| self.get_spec(&server.addr, "/tasks", Some(&cookie), seconds);
        let ref_spec = |seconds| {
            ref_server
                .as_ref()
                .map(|(_, addr, path, _)| self.get_spec(addr, path, None, seconds))
        };
        // Warm both up (connections, caches, prepared statements).
        load::run(&mine_spec(1.0))?;
        if let Some(spec) = ref_spec(1.0) {
            load::run(&spec)?;
        }
        let mut mine = Vec::new();
        let mut refs = Vec::new();
        let mut rss_peak = 0;
        let s = self.cfg.seconds;
        for step in ["ref", "mine", "mine", "ref"] {
            if step == "ref" {
                if let (Some(spec), Some((.., pid))) = (ref_spec(s), &ref_server) {
                    refs.push(load::run_against(&spec, *pid)?);
                }
            } else {
                let sampler = proc::RssSampler::start(server.pid());
                mine.push(load::run_against(&mine_spec(s), server.pid())?);
                rss_peak = rss_peak.max(sampler.peak());
            }
        }
        if let Some(how) = std::env::var("BENCH_PERF").ok().filter(|v| v != "0") {
            self.profile(&server, &mine_spec(s), name, &how)?;
        }
        let mine = Measured::merge(&mine);
        let reference = (!refs.is_empty()).then(|| Measured::merge(&refs));
        for m in std::iter::once(&mine).chain(reference.as_ref()) {
            anyhow::ensure!(
                m.errors == 0,
                "{} errors under load, the first: {:?}",
                m.errors,
                m.first_error
            );
        }
        drop(ref_server);
        Ok((
            PageRun {
                mine,
                reference,
                rss_idle,
                rss_peak,
            },
            server,
            cookie,
        ))
    }

    /// Records a `perf` profile of the server through one more My Tasks load.
    fn profile(&self, server: &Server, spec: &Spec, name: &str, how: &str) -> anyhow::Result<()> {
        let out = target_dir().join(format!("bench-perf-{name}.data"));
        let mut cmd = std::process::Command::new("perf");
        cmd.arg("record").arg("-F").arg("1999").arg("-o").arg(&out);
        if how == "dwarf" {
            cmd.arg("--call-graph").arg("dwarf,16384");
        } else {
            cmd.arg("-g");
        }
        // perf's own messages go beside its data, for when it records nothing.
        let (out_log, err_log) = proc::log_to(&out.with_extension("log"))?;
        cmd.arg("-p")
            .arg(server.pid().to_string())
            .stdout(out_log)
            .stderr(err_log);
        let perf = proc::Child::spawn(cmd, "perf")?;
        load::run(spec)?;
        perf.interrupt(Duration::from_secs(30));
        self.say(&format!("perf profile of the server: {}", out.display()));
        Ok(())
    }

    fn page_rows(&mut self, backend: &str, run: &PageRun) {
        self.page_rows_of(&format!("My Tasks, {backend}"), run, 0.70);
    }

    /// The rows of one page's load against its reference, `what` naming them.
    fn page_rows_of(&mut self, what: &str, run: &PageRun, target: f64) {
        let m = &run.mine;
        let Some(r) = &run.reference else { return };
        let ratio = m.per_second() / r.per_second();
        self.rows.push(row(
            "1",
            format!("{what}: throughput"),
            format!("{} req/s", thousands(m.per_second())),
            format!("reference {} req/s", thousands(r.per_second())),
            format!("≥ {target:.2} of reference"),
            Verdict::of(ratio >= target),
        ));
        self.rows.push(row(
            "1",
            format!("{what}: ratio to reference"),
            format!("{ratio:.2}"),
            "",
            format!("≥ {target:.2}"),
            Verdict::of(ratio >= target),
        ));
        self.rows.push(row(
            "1",
            format!("{what}: latency p50 / p99"),
            format!("{} / {}", ms(m.p50()), ms(m.p99())),
            format!("reference {} / {}", ms(r.p50()), ms(r.p99())),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "1",
            format!("{what}: server CPU per request"),
            format!("{:.0} µs", m.cpu_us_per_request()),
            format!("reference {:.0} µs", r.cpu_us_per_request()),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "1",
            format!("{what}: page size, server cores busy"),
            format!("{:.1} KiB, {:.2} cores", m.page_kib(), m.server_cores()),
            format!(
                "reference {:.1} KiB, {:.2} cores",
                r.page_kib(),
                r.server_cores()
            ),
            "",
            Verdict::Info,
        ));
    }

    fn anatomy_rows(&mut self, backend: &str, db: &Database, me: &Person) -> anyhow::Result<()> {
        for piece in anatomy::measure(&self.rt, db, me)? {
            self.rows.push(row(
                "1",
                format!("{backend}, one thread: {}", piece.name),
                format!("{:.0} µs", piece.micros),
                "",
                "",
                Verdict::Info,
            ));
        }
        Ok(())
    }

    /// Seeds [`SMALL`]; returns the person whose My Tasks is measured.
    fn seed_small(&self, db: &Database, backend: &str) -> anyhow::Result<Person> {
        let mut conn = db.conn()?;
        seed::bulk(&mut conn, SMALL, &self.password_hash)?;
        let me = seed::person(&mut conn, 1, 1)?;
        self.say(&format!(
            "{backend}: {} tasks seeded; My Tasks and the reference page under load",
            thousands(SMALL.total_tasks() as f64)
        ));
        Ok(me)
    }

    /// Seeds [`SMALL`] for the sync alone (`BENCH_ONLY=sync`), so that it syncs into the
    /// same database as in a full run.
    fn seed_small_quietly(&self, db: &Database) -> anyhow::Result<()> {
        let mut conn = db.conn()?;
        seed::bulk(&mut conn, SMALL, &self.password_hash)?;
        Ok(())
    }

    /// Point 2 on one database.
    fn sync_point(
        &mut self,
        db: &Database,
        backend: &str,
        label: &str,
        rate_target: f64,
    ) -> anyhow::Result<syncing::SyncFigures> {
        self.say(&format!(
            "{backend}: sync of 10,000 tasks from the fake Pivotal Tracker"
        ));
        let figures =
            syncing::measure(&self.rt, db, &self.fake, (SYNC_TASKS, SYNC_PROJECTS), label)?;
        self.sync_rows(backend, &figures, rate_target);
        Ok(figures)
    }

    /// Points 1, 4, 5, 7, 2 and 6 on SQLite.
    fn sqlite(&mut self) -> anyhow::Result<()> {
        let db = Database::sqlite(self.dir.path(), "bench")?;
        match self.cfg.only {
            None => {}
            Some(Only::Sync) => {
                self.seed_small_quietly(&db)?;
                self.sync_point(&db, "SQLite", "sqlite", 20_000.0)?;
                return Ok(());
            }
            Some(Only::Time) => {
                self.seed_small_quietly(&db)?;
                self.time_point(&db, "SQLite", "sqlite")?;
                return Ok(());
            }
            Some(Only::Api) => {
                self.seed_small_quietly(&db)?;
                return self.api_point(&db, "SQLite", "sqlite");
            }
            Some(Only::Soak) => {
                drop(db);
                let db = Database::sqlite(self.dir.path(), "soak")?;
                return self.soak(&db, "SQLite", "sqlite");
            }
            Some(Only::Pages) => return self.pages_point(&db, "SQLite", "sqlite"),
            Some(Only::Hash) => return self.hashing_point(),
        }
        let me = self.seed_small(&db, "SQLite")?;
        let (run, server, cookie) = self.measure_pages(&db, &me, "sqlite", true)?;
        self.page_rows("SQLite", &run);
        self.anatomy_rows("SQLite", &db, &me)?;

        self.say("SQLite: My Tasks while people sign in");
        self.sign_in_comparison(&server, &cookie, &me)?;
        self.hashing_point()?;
        self.rows.push(row(
            "5",
            "Server RSS idle (after start and one sign-in)",
            mib(run.rss_idle),
            "",
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "5",
            "Server RSS under the My Tasks load of point 1 (peak)",
            mib(run.rss_peak),
            format!("idle {}", mib(run.rss_idle)),
            "",
            Verdict::Info,
        ));
        drop(server);

        self.api_point(&db, "SQLite", "sqlite")?;
        self.sync_point(&db, "SQLite", "sqlite", 20_000.0)?;
        self.time_point(&db, "SQLite", "sqlite")?;
        Ok(())
    }

    fn sign_in_comparison(
        &mut self,
        server: &Server,
        cookie: &str,
        me: &Person,
    ) -> anyhow::Result<()> {
        let s = self.cfg.seconds;
        let spec = self.get_spec(&server.addr, "/tasks", Some(cookie), s);
        let emails: Vec<String> = (2..=50)
            .map(|n| me.email.replacen("p1.", &format!("p{n}."), 1))
            .collect();
        let sign_ins = Spec::SignIns(load::SignInLoad {
            addr: server.addr.clone(),
            origin: server.origin.clone(),
            cookie_name: taskbridge::SESSION_COOKIE.into(),
            emails,
            password: server::PASSWORD.into(),
            per_second: SIGN_INS_PER_SECOND,
            seconds: s,
        });
        let (mut without, mut with, mut logins) = (Vec::new(), Vec::new(), Vec::new());
        let mut rss_peak = 0;
        for step in ["without", "with", "with", "without"] {
            if step == "without" {
                without.push(load::run_against(&spec, server.pid())?);
            } else {
                let sampler = proc::RssSampler::start(server.pid());
                let signing = load::start(&sign_ins)?;
                with.push(load::run_against(&spec, server.pid())?);
                logins.push(signing.finish()?);
                rss_peak = rss_peak.max(sampler.peak());
            }
        }
        let (without, with, logins) = (
            Measured::merge(&without),
            Measured::merge(&with),
            Measured::merge(&logins),
        );
        anyhow::ensure!(
            logins.errors == 0 && with.errors == 0,
            "sign-in load errors: {:?} {:?}",
            logins.first_error,
            with.first_error
        );
        self.rows.push(row(
            "4",
            format!(
                "My Tasks p99 while {} sign-ins/s are hashed",
                thousands(logins.per_second())
            ),
            ms(with.p99()),
            format!("none: {}", ms(without.p99())),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "4",
            "My Tasks throughput while signing in",
            format!("{} req/s", thousands(with.per_second())),
            format!("none: {} req/s", thousands(without.per_second())),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "4",
            "Server cores busy while signing in",
            format!("{:.2} cores", with.server_cores()),
            format!("none: {:.2} cores", without.server_cores()),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "4",
            "Sign-in (GET form + POST) latency p50 / p99",
            format!("{} / {}", ms(logins.p50()), ms(logins.p99())),
            "",
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "5",
            "Server RSS while signing in (peak)",
            mib(rss_peak),
            "",
            "",
            Verdict::Info,
        ));
        Ok(())
    }

    fn sync_rows(&mut self, backend: &str, f: &syncing::SyncFigures, rate_target: f64) {
        let n = thousands(f.tasks as f64);
        self.rows.push(row(
            "2",
            format!("Sync {backend}: first full sync of {n} tasks"),
            secs(f.first_secs),
            "",
            "",
            Verdict::Info,
        ));
        let speedup = f.first_secs / f.again_secs;
        self.rows.push(row(
            "2",
            format!("Sync {backend}: unchanged re-sync"),
            secs(f.again_secs),
            format!("{speedup:.1}× faster than the first"),
            "≥ 3× faster",
            Verdict::of(speedup >= 3.0),
        ));
        self.rows.push(row(
            "2",
            format!("Sync {backend}: database writes, first sync"),
            format!("{} tasks/s", thousands(f.db_first_rate())),
            format!("{} for {n}", secs(f.db_first_secs)),
            format!("≥ {} tasks/s", thousands(rate_target)),
            Verdict::of(f.db_first_rate() >= rate_target),
        ));
        self.rows.push(row(
            "2",
            format!("Sync {backend}: database side, unchanged re-sync (304s)"),
            format!("{} tasks/s", thousands(f.db_again_rate())),
            format!("{} for {n}", secs(f.db_again_secs)),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "2",
            format!("Sync {backend}: database side, unchanged re-sync (pages in full)"),
            format!("{} tasks/s", thousands(f.db_again_full_rate())),
            format!("{} for {n}", secs(f.db_again_full_secs)),
            "",
            Verdict::Info,
        ));
    }

    /// Point 1, 7, 2 and 6 on PostgreSQL, then point 3 and point 6 at scale.
    fn postgres(&mut self, admin: &str) -> anyhow::Result<()> {
        match self.cfg.only {
            None => {}
            Some(Only::Sync) => {
                let db = Database::postgres(admin, "small")?;
                self.seed_small_quietly(&db)?;
                self.sync_point(&db, "PostgreSQL", "pg-small", 10_000.0)?;
                return Ok(());
            }
            Some(Only::Time) => {
                let time = {
                    let db = Database::postgres(admin, "small")?;
                    self.seed_small_quietly(&db)?;
                    self.time_point(&db, "PostgreSQL", "pg-small")?
                };
                return self.time_scale_point(admin, &time);
            }
            Some(Only::Api) => {
                let db = Database::postgres(admin, "small")?;
                self.seed_small_quietly(&db)?;
                return self.api_point(&db, "PostgreSQL", "pg-small");
            }
            Some(Only::Soak) => {
                let db = Database::postgres(admin, "soak")?;
                return self.soak(&db, "PostgreSQL", "pg-soak");
            }
            Some(Only::Pages) => {
                let db = Database::postgres(admin, "small")?;
                return self.pages_point(&db, "PostgreSQL", "pg-small");
            }
            // (The hashing does not depend on the database: measured once.)
            Some(Only::Hash) => return Ok(()),
        }
        let (small_run, small_sync, time) = {
            let db = Database::postgres(admin, "small")?;
            let me = self.seed_small(&db, "PostgreSQL")?;
            let (run, server, _) = self.measure_pages(&db, &me, "pg-small", true)?;
            drop(server);
            self.page_rows("PostgreSQL", &run);
            self.anatomy_rows("PostgreSQL", &db, &me)?;
            self.api_point(&db, "PostgreSQL", "pg-small")?;
            let figures = self.sync_point(&db, "PostgreSQL", "pg-small", 10_000.0)?;
            let time = self.time_point(&db, "PostgreSQL", "pg-small")?;
            (run, figures, time)
        };
        let Some(companies) = self.cfg.scale_companies else {
            self.notes
                .push("Scale (point 3) skipped (BENCH_SCALE=0)".into());
            return self.time_scale_point(admin, &time);
        };
        self.scale(admin, companies, &small_run, &small_sync)?;
        self.time_scale_point(admin, &time)
    }

    /// Point 6 at scale, unless skipped.
    fn time_scale_point(&mut self, admin: &str, time: &tracking::TimeSmall) -> anyhow::Result<()> {
        match self.cfg.time_scale_companies {
            Some(companies) => self.time_scale(admin, companies, time),
            None => {
                self.notes.push(
                    "Time tracking at scale (point 6) skipped (BENCH_TIME_SCALE=0 or BENCH_SCALE=0)"
                        .into(),
                );
                Ok(())
            }
        }
    }

    fn scale(
        &mut self,
        admin: &str,
        companies: i64,
        small_run: &PageRun,
        small_sync: &syncing::SyncFigures,
    ) -> anyhow::Result<()> {
        let shape = Shape {
            companies,
            people: 20,
            tasks: TASKS_PER_PERSON,
        };
        let db = Database::postgres(admin, "scale")?;
        self.say(&format!(
            "PostgreSQL: seeding {} companies × 20 people × 200 tasks ({} tasks)…",
            thousands(companies as f64),
            thousands(shape.total_tasks() as f64)
        ));
        let mut conn = db.conn()?;
        let seeding = seed::bulk(&mut conn, shape, &self.password_hash)?;
        let count = seed::task_count(&mut conn)?;
        let me = seed::person(&mut conn, (companies + 1) / 2, 7)?;
        drop(conn);
        self.say(&format!(
            "PostgreSQL: {} tasks seeded in {}; My Tasks under load",
            thousands(count as f64),
            secs(seeding)
        ));
        let big = thousands(count as f64);
        let small = thousands(SMALL.total_tasks() as f64);
        let (run, server, _) = self.measure_pages(&db, &me, "pg-scale", false)?;
        drop(server);
        let (p99, base) = (run.mine.p99(), small_run.mine.p99());
        self.rows.push(row(
            "3",
            format!("My Tasks p99 at {big} tasks (PostgreSQL)"),
            ms(p99),
            format!("{} at {small} ({:.2}×)", ms(base), p99 / base),
            "≤ 1.5×",
            Verdict::of(p99 <= 1.5 * base),
        ));
        self.rows.push(row(
            "3",
            format!("My Tasks throughput / p50 at {big}"),
            format!(
                "{} req/s / {}",
                thousands(run.mine.per_second()),
                ms(run.mine.p50())
            ),
            format!(
                "{} req/s / {} at {small}",
                thousands(small_run.mine.per_second()),
                ms(small_run.mine.p50())
            ),
            "",
            Verdict::Info,
        ));
        self.say("PostgreSQL: one connection's sync in the big database");
        let figures = syncing::measure(
            &self.rt,
            &db,
            &self.fake,
            (SYNC_TASKS, SYNC_PROJECTS),
            "pg-scale",
        )?;
        self.rows.push(row(
            "3",
            format!(
                "One connection's first sync ({} tasks) at {big}",
                thousands(figures.tasks as f64)
            ),
            secs(figures.first_secs),
            format!(
                "{} at {small} ({:.2}×)",
                secs(small_sync.first_secs),
                figures.first_secs / small_sync.first_secs
            ),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "3",
            format!("One connection's unchanged re-sync at {big}"),
            secs(figures.again_secs),
            format!(
                "{} at {small} ({:.2}×)",
                secs(small_sync.again_secs),
                figures.again_secs / small_sync.again_secs
            ),
            "",
            Verdict::Info,
        ));
        self.say("PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of the hot queries");
        let plans = explain::hot_queries(&db.url, &me, figures.connection_id)?;
        // One row per step: its statements' execution times added up, their scans.
        let steps = explain::by_step(&plans);
        for (step, total, scans, indexed) in steps {
            self.rows.push(row(
                "3",
                format!("Plan at {big}: {step}"),
                ms(total),
                scans.join("; "),
                "index scans on big tables",
                Verdict::of(indexed),
            ));
        }
        self.plans.extend(plans);
        Ok(())
    }

    fn print(&self, machine: &Machine) -> anyhow::Result<()> {
        let title = format!(
            "taskbridge benchmarks{}",
            if self.cfg.quick {
                " (BENCH_QUICK: a short trial, not figures for the record)"
            } else {
                ""
            }
        );
        let took = secs(self.started.elapsed().as_secs_f64());
        let load = format!(
            "Load: {} keep-alive connections from a separate process on loopback, {} s × 2 per figure (A B B A), after a 1 s warm-up.",
            self.cfg.connections, self.cfg.seconds
        );
        println!("\n{title}\nMachine: {}\n{load}\n", machine.describe());
        print!("{}", report::text_table(&self.rows));
        for n in &self.notes {
            println!("Note: {n}");
        }
        println!("Suite took {took}.");

        let target = target_dir();
        std::fs::create_dir_all(&target)?;
        let mut md = format!(
            "# {title}\n\nMachine: {}\n\n{load}\n\n{}",
            machine.describe(),
            report::markdown_table(&self.rows)
        );
        for n in &self.notes {
            md.push_str(&format!("\nNote: {n}\n"));
        }
        md.push_str(&format!("\nSuite took {took}.\n"));
        let results = target.join("bench-results.md");
        std::fs::write(&results, md)?;
        println!("Written to {}", results.display());
        if !self.plans.is_empty() {
            let mut text = String::new();
            for p in &self.plans {
                text.push_str(&format!("-- {}\n{}\n\n{}\n\n", p.name, p.sql, p.plan));
            }
            let plans = target.join("bench-plans.txt");
            std::fs::write(&plans, text)?;
            println!("Query plans in {}", plans.display());
        }
        Ok(())
    }
}

/// `target/` of this workspace (`CARGO_TARGET_DIR` when set).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}
