//! Point 7, the JSON API for desktop clients (issue 9): `GET /api/v1/tasks` with a
//! personal token (50 tasks an answer) against the bare reference page in the same
//! run; the same with `If-None-Match` set to the list's `ETag` (the 304 path); and the
//! timer's start + stop round trip through the API, alone and under the task-list load.

use std::time::Duration;

use diesel::prelude::*;

use crate::load::{self, Measured, Spec};
use crate::report::{ms, row, thousands, Verdict};
use crate::seed::{self, Database, Person};
use crate::server::Server;
use crate::{proc, reference, Suite};

/// Start + stop round trips a second asked of the API timer client.
const TIMER_PER_SECOND: f64 = 20.0;
const TASKS_PATH: &str = "/api/v1/tasks";

/// Makes a personal API token for `person` (see [`seed::api_token`]).
fn token_for(db: &Database, person: &Person, name: &str) -> anyhow::Result<String> {
    let mut conn = db.conn()?;
    seed::api_token(&mut conn, person.company_id, person.user_id, name)
}

pub fn bearer(token: &str) -> (String, String) {
    ("Authorization".into(), format!("Bearer {token}"))
}

impl Suite {
    fn api_spec(&self, addr: &str, headers: Vec<(String, String)>, status: u16, s: f64) -> Spec {
        Spec::Get(load::GetLoad {
            addr: addr.to_owned(),
            path: TASKS_PATH.to_owned(),
            cookie: None,
            connections: self.cfg.connections,
            seconds: s,
            max_requests: 2_000_000,
            expect: if status == 304 {
                String::new()
            } else {
                "\"tasks\":[{".into()
            },
            headers,
            status,
        })
    }

    /// Point 7 on a database seeded with [`crate::SMALL`] (before any time is seeded).
    pub(crate) fn api_point(
        &mut self,
        db: &Database,
        backend: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let (me, timer_person) = {
            let mut conn = db.conn()?;
            (
                seed::person(&mut conn, 1, 1)?,
                seed::person(&mut conn, 1, 2)?,
            )
        };
        let token = token_for(db, &me, "bench laptop")?;
        let timer_token = token_for(db, &timer_person, "bench timer")?;
        let server = Server::start(&db.url, self.dir.path(), &self.log(&format!("{name}-api")))?;

        // One request first: 50 tasks, and the ETag the 304 load sends back.
        let first = crate::http::block_on(crate::http::once(
            &server.addr,
            "GET",
            TASKS_PATH,
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        ))?;
        let listed: serde_json::Value = serde_json::from_slice(&first.body)?;
        let shown = listed["tasks"].as_array().map_or(0, Vec::len);
        let etag = first.header("etag").unwrap_or("").to_owned();
        anyhow::ensure!(
            first.status == 200 && shown == 50 && !etag.is_empty(),
            "GET {TASKS_PATH} answered {} with {shown} tasks and ETag {etag:?}",
            first.status
        );
        let again = crate::http::block_on(crate::http::once(
            &server.addr,
            "GET",
            TASKS_PATH,
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("If-None-Match", &etag),
            ],
            b"",
        ))?;
        anyhow::ensure!(
            again.status == 304,
            "GET {TASKS_PATH} with If-None-Match answered {}",
            again.status
        );

        let port = proc::free_port()?;
        let mut ref_child = reference::start(&db.url, port, &self.log(&format!("{name}-api-ref")))?;
        let ref_addr = format!("127.0.0.1:{port}");
        let ref_path = format!("/reference?user={}", me.user_id);
        proc::wait_until_up(
            &ref_addr,
            &ref_path,
            &mut ref_child,
            Duration::from_secs(30),
        )?;
        let ref_pid = ref_child.pid();
        self.say(&format!(
            "{backend}: API task list (200 and 304) and the reference page under load"
        ));

        let full = |s| self.api_spec(&server.addr, vec![bearer(&token)], 200, s);
        let cached = |s| {
            self.api_spec(
                &server.addr,
                vec![bearer(&token), ("If-None-Match".into(), etag.clone())],
                304,
                s,
            )
        };
        let reference = |s| self.get_spec(&ref_addr, &ref_path, None, s);
        for spec in [full(1.0), cached(1.0), reference(1.0)] {
            load::run(&spec)?;
        }
        // A B C C B A: the reference, the full list, the 304s, and back.
        let s = self.cfg.seconds;
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for step in ["ref", "full", "304", "304", "full", "ref"] {
            match step {
                "ref" => a.push(load::run_against(&reference(s), ref_pid)?),
                "full" => b.push(load::run_against(&full(s), server.pid())?),
                _ => c.push(load::run_against(&cached(s), server.pid())?),
            }
        }
        drop(ref_child);
        if let Some(how) = std::env::var("BENCH_PERF").ok().filter(|v| v != "0") {
            self.profile(&server, &full(s), &format!("{name}-api"), &how)?;
        }
        let (r, full_run, cached_run) = (
            Measured::merge(&a),
            Measured::merge(&b),
            Measured::merge(&c),
        );
        for m in [&r, &full_run, &cached_run] {
            anyhow::ensure!(
                m.errors == 0,
                "{} errors under load, the first: {:?}",
                m.errors,
                m.first_error
            );
        }
        self.api_rows(backend, "GET /api/v1/tasks (50 tasks)", &full_run, &r);
        self.api_rows(
            backend,
            "GET /api/v1/tasks with If-None-Match (304)",
            &cached_run,
            &r,
        );

        for piece in crate::anatomy::measure_api(db, &me, &token)? {
            self.rows.push(row(
                "7",
                format!("{backend}, one thread: {}", piece.name),
                format!("{:.0} µs", piece.micros),
                "",
                "",
                Verdict::Info,
            ));
        }
        self.api_timer(&server, db, backend, &timer_person, &timer_token, &token)?;
        Ok(())
    }

    fn api_rows(&mut self, backend: &str, what: &str, m: &Measured, r: &Measured) {
        let ratio = m.per_second() / r.per_second();
        self.rows.push(row(
            "7",
            format!("{what}, {backend}: throughput"),
            format!("{} req/s", thousands(m.per_second())),
            format!("reference page {} req/s", thousands(r.per_second())),
            "≥ 0.70 of reference",
            Verdict::of(ratio >= 0.70),
        ));
        self.rows.push(row(
            "7",
            format!("{what}, {backend}: ratio to reference"),
            format!("{ratio:.2}"),
            "",
            "≥ 0.70",
            Verdict::of(ratio >= 0.70),
        ));
        self.rows.push(row(
            "7",
            format!("{what}, {backend}: latency p50 / p99"),
            format!("{} / {}", ms(m.p50()), ms(m.p99())),
            format!("reference {} / {}", ms(r.p50()), ms(r.p99())),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "7",
            format!("{what}, {backend}: server CPU per request, body"),
            format!("{:.0} µs, {:.1} KiB", m.cpu_us_per_request(), m.page_kib()),
            format!(
                "reference {:.0} µs, {:.1} KiB",
                r.cpu_us_per_request(),
                r.page_kib()
            ),
            "",
            Verdict::Info,
        ));
    }

    /// The API timer's start + stop round trips of another person, alone and while the
    /// full task-list load runs (A B B A); then checks every round trip left one
    /// finished entry and nothing runs.
    fn api_timer(
        &mut self,
        server: &Server,
        db: &Database,
        backend: &str,
        person: &Person,
        token: &str,
        list_token: &str,
    ) -> anyhow::Result<()> {
        let task_ids: Vec<i64> = {
            use taskbridge::schema::tasks;
            let mut conn = db.conn()?;
            tasks::table
                .filter(tasks::user_id.eq(person.user_id))
                .filter(tasks::archived.eq(false))
                .order(tasks::id)
                .limit(10)
                .select(tasks::id)
                .load(&mut *conn)?
        };
        let s = self.cfg.seconds;
        let timer = Spec::ApiTimer(load::ApiTimerLoad {
            addr: server.addr.clone(),
            token: token.to_owned(),
            task_ids,
            per_second: TIMER_PER_SECOND,
            seconds: s,
        });
        let list = self.api_spec(&server.addr, vec![bearer(list_token)], 200, s);
        self.say(&format!(
            "{backend}: API timer start + stop, {TIMER_PER_SECOND} a second, alone and under the API task-list load"
        ));
        let since = taskbridge::db::now();
        let (mut alone, mut loaded, mut lists) = (Vec::new(), Vec::new(), Vec::new());
        for step in ["alone", "loaded", "loaded", "alone"] {
            if step == "alone" {
                alone.push(load::run_against(&timer, server.pid())?);
            } else {
                let clicks = load::start(&timer)?;
                lists.push(load::run_against(&list, server.pid())?);
                loaded.push(clicks.finish()?);
            }
        }
        let (alone, loaded, lists) = (
            Measured::merge(&alone),
            Measured::merge(&loaded),
            Measured::merge(&lists),
        );
        for m in [&alone, &loaded, &lists] {
            anyhow::ensure!(
                m.errors == 0,
                "API timer load errors: {} (first {:?})",
                m.errors,
                m.first_error
            );
        }
        let (made, running) = {
            use taskbridge::schema::time_entries;
            let mut conn = db.conn()?;
            let mine = time_entries::table
                .filter(time_entries::user_id.eq(person.user_id))
                .filter(time_entries::created_at.ge(since));
            (
                mine.count().get_result::<i64>(&mut *conn)?,
                mine.filter(time_entries::ended_at.is_null())
                    .count()
                    .get_result::<i64>(&mut *conn)?,
            )
        };
        let round_trips = alone.ok + loaded.ok;
        anyhow::ensure!(
            made as u64 == round_trips && running == 0,
            "{round_trips} API round trips made {made} entries, {running} left running"
        );
        self.rows.push(row(
            "7",
            format!(
                "API timer start + stop, {backend}: round trip p50 / p99 under the task-list load"
            ),
            format!("{} / {}", ms(loaded.p50()), ms(loaded.p99())),
            format!(
                "alone {} / {} ({} round trips, each one finished entry)",
                ms(alone.p50()),
                ms(alone.p99()),
                thousands(round_trips as f64)
            ),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "7",
            format!("API timer, {backend}: task list meanwhile"),
            format!(
                "{} req/s, p99 {}",
                thousands(lists.per_second()),
                ms(lists.p99())
            ),
            format!(
                "{} round trips/s asked, {:.1} done",
                TIMER_PER_SECOND,
                loaded.per_second()
            ),
            "",
            Verdict::Info,
        ));
        Ok(())
    }
}
