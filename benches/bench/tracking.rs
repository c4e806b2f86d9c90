//! Point 6, time tracking: a year of time for the small company (about 100,000
//! entries), then on the real server the Timesheet week and a month's company report
//! against reference pages of the same rows, the timer's Start + Stop round trip
//! under the My Tasks load, the CSV export of a month and of the year with the
//! server's memory, and on PostgreSQL the same report in a database of millions of
//! entries, with the plans of the hot statements.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use jiff::civil::Date;
use jiff::Span;

use crate::explain::{self, TimeCase};
use crate::load::{self, Measured, Spec};
use crate::report::{mib, ms, row, secs, thousands, Verdict};
use crate::seed::{self, Database, Person, Shape};
use crate::server::Server;
use crate::{proc, reference, Suite, SMALL};

/// Tasks per person in the time scale database (the entries use 18 of them).
const SCALE_TASKS: i64 = 20;
/// Start + Stop round trips a second asked of the timer client.
const TIMER_PER_SECOND: f64 = 20.0;

/// The weeks and months measured, in UTC days (the seeded companies' zone).
struct Dates {
    /// Monday two weeks back: a full week of entries.
    week: Date,
    /// Last calendar month.
    month: (Date, Date),
    /// The seeded year: its first day and yesterday.
    year: (Date, Date),
}

impl Dates {
    fn now() -> Self {
        let today = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        let days = |d: Date, n: i64| d.checked_add(Span::new().days(n)).unwrap_or(d);
        let monday = days(today, -i64::from(today.weekday().to_monday_zero_offset()));
        let month_end = days(today.first_of_month(), -1);
        Self {
            week: days(monday, -14),
            month: (month_end.first_of_month(), month_end),
            year: (seed::time_first_day(), days(today, -1)),
        }
    }

    fn utc(first: Date, last: Date) -> (i64, i64) {
        let secs = |d: Date| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp().as_second())
                .unwrap_or(0)
        };
        (
            secs(first),
            secs(last.checked_add(Span::new().days(1)).unwrap_or(last)),
        )
    }
}

fn report_path(csv: bool, (from, to): (Date, Date)) -> String {
    format!(
        "/reports{}?range=custom&from={from}&to={to}",
        if csv { ".csv" } else { "" }
    )
}

/// What the small database's time figures were, for the scale comparison.
pub struct TimeSmall {
    pub report: Measured,
    pub week: Measured,
}

/// The people of the small company the time parts act as.
struct Cast {
    /// Person 1, the owner: the company report and the CSV, and the My Tasks load.
    owner: Person,
    /// Person 2 starts and stops timers.
    timer: Person,
    /// Person 3's week is read.
    week: Person,
}

fn cast(db: &Database, company: i64) -> anyhow::Result<Cast> {
    let mut conn = db.conn()?;
    Ok(Cast {
        owner: seed::person(&mut conn, company, 1)?,
        timer: seed::person(&mut conn, company, 2)?,
        week: seed::person(&mut conn, company, 3)?,
    })
}

/// Counts `needle` in an answer's body.
fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

impl Suite {
    fn spec_expecting(
        &self,
        addr: &str,
        path: &str,
        cookie: Option<&str>,
        seconds: f64,
        expect: &str,
    ) -> Spec {
        Spec::Get(load::GetLoad {
            addr: addr.to_owned(),
            path: path.to_owned(),
            cookie: cookie.map(str::to_owned),
            connections: self.cfg.connections,
            seconds,
            max_requests: 2_000_000,
            expect: expect.into(),
            headers: Vec::new(),
            status: 200,
        })
    }

    /// Two loads interleaved A B B A after a warm-up of each: the page and its
    /// reference (or, without one, the page alone twice).
    fn side_by_side(
        &self,
        (mine, mine_pid): (&dyn Fn(f64) -> Spec, u32),
        reference: Option<(&dyn Fn(f64) -> Spec, u32)>,
    ) -> anyhow::Result<(Measured, Option<Measured>)> {
        load::run(&mine(1.0))?;
        if let Some((r, _)) = &reference {
            load::run(&r(1.0))?;
        }
        let s = self.cfg.seconds;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for step in ["ref", "mine", "mine", "ref"] {
            match (step, &reference) {
                ("ref", Some((r, pid))) => b.push(load::run_against(&r(s), *pid)?),
                ("ref", None) => {}
                _ => a.push(load::run_against(&mine(s), mine_pid)?),
            }
        }
        let (a, b) = (
            Measured::merge(&a),
            (!b.is_empty()).then(|| Measured::merge(&b)),
        );
        for m in std::iter::once(&a).chain(b.as_ref()) {
            anyhow::ensure!(
                m.errors == 0,
                "{} errors under load, the first: {:?}",
                m.errors,
                m.first_error
            );
        }
        Ok((a, b))
    }

    fn versus_rows(&mut self, what: &str, mine: &Measured, r: &Measured, rows: String) {
        let ratio = mine.per_second() / r.per_second();
        self.rows.push(row(
            "6",
            format!("{what}: throughput"),
            format!("{} req/s", thousands(mine.per_second())),
            format!("reference {} req/s", thousands(r.per_second())),
            "≥ 0.70 of reference",
            Verdict::of(ratio >= 0.70),
        ));
        self.rows.push(row(
            "6",
            format!("{what}: ratio to reference"),
            format!("{ratio:.2}"),
            rows,
            "≥ 0.70",
            Verdict::of(ratio >= 0.70),
        ));
        self.rows.push(row(
            "6",
            format!("{what}: latency p50 / p99"),
            format!("{} / {}", ms(mine.p50()), ms(mine.p99())),
            format!("reference {} / {}", ms(r.p50()), ms(r.p99())),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "6",
            format!("{what}: server CPU per request, page size"),
            format!(
                "{:.0} µs, {:.1} KiB",
                mine.cpu_us_per_request(),
                mine.page_kib()
            ),
            format!(
                "reference {:.0} µs, {:.1} KiB",
                r.cpu_us_per_request(),
                r.page_kib()
            ),
            "",
            Verdict::Info,
        ));
    }

    /// The Timesheet week of `person` (signed in with `cookie`) against its reference
    /// page, side by side; adds its rows and answers the page's measurement.
    pub(crate) fn week_point(
        &mut self,
        server: &Server,
        cookie: &str,
        person: &Person,
        (ref_addr, ref_pid): (&str, u32),
        backend: &str,
    ) -> anyhow::Result<Measured> {
        let dates = Dates::now();
        let week_path = format!("/timesheet?week={}", dates.week);
        let week_ref = format!(
            "/reference/timesheet?user={}&week={}",
            person.user_id, dates.week
        );
        let (status, page) = server.get(&week_path, cookie)?;
        let ref_page =
            crate::http::block_on(crate::http::once(ref_addr, "GET", &week_ref, &[], b""))?.text();
        let (rows, ref_rows) = (
            count(&page, "class=\"task-cell\""),
            count(&ref_page, "<tr>"),
        );
        anyhow::ensure!(
            status == 200 && rows > 0 && rows == ref_rows,
            "the Timesheet answered {status} with {rows} rows (the reference {ref_rows})"
        );
        let day_entries = count(&page, "<li class=\"entry");
        self.say(&format!(
            "{backend}: Timesheet week of {} ({rows} rows, {day_entries} entries on its first day) under load",
            dates.week
        ));
        let mine = |s| self.spec_expecting(&server.addr, &week_path, Some(cookie), s, "week-grid");
        let reference = |s| self.spec_expecting(ref_addr, &week_ref, None, s, "reference-week");
        let (week_run, week_ref_run) =
            self.side_by_side((&mine, server.pid()), Some((&reference, ref_pid)))?;
        let week_ref_run = week_ref_run.unwrap_or_default();
        self.versus_rows(
            &format!("Timesheet week, {backend}"),
            &week_run,
            &week_ref_run,
            format!("{rows} rows + {day_entries} entries of the day, both"),
        );
        Ok(week_run)
    }

    /// Point 6 on a database seeded with [`SMALL`]: seeds the year of time first.
    pub(crate) fn time_point(
        &mut self,
        db: &Database,
        backend: &str,
        name: &str,
    ) -> anyhow::Result<TimeSmall> {
        let (took, entries) = {
            let mut conn = db.conn()?;
            seed::time_entries(&mut conn)?
        };
        self.say(&format!(
            "{backend}: {} time entries seeded in {}; Timesheet, Reports and the timer",
            thousands(entries as f64),
            secs(took)
        ));
        self.rows.push(row(
            "6",
            format!("Time, {backend}: seeding a year for 50 people"),
            format!("{} entries", thousands(entries as f64)),
            format!("in {} (one INSERT … SELECT)", secs(took)),
            "seconds",
            Verdict::of(took < 30.0),
        ));
        let cast = cast(db, 1)?;
        let dates = Dates::now();
        let server = Server::start(&db.url, self.dir.path(), &self.log(&format!("{name}-time")))?;
        let owner = server.sign_in(&cast.owner.email)?;
        let timer = server.sign_in(&cast.timer.email)?;
        let week = server.sign_in(&cast.week.email)?;
        let port = proc::free_port()?;
        let mut ref_child =
            reference::start(&db.url, port, &self.log(&format!("{name}-time-ref")))?;
        let ref_addr = format!("127.0.0.1:{port}");
        proc::wait_until_up(
            &ref_addr,
            &format!("/reference?user={}", cast.owner.user_id),
            &mut ref_child,
            Duration::from_secs(30),
        )?;
        let ref_pid = ref_child.pid();

        // The Timesheet week.
        let week_run =
            self.week_point(&server, &week, &cast.week, (&ref_addr, ref_pid), backend)?;

        // The company report for last month, as the owner.
        let month_path = report_path(false, dates.month);
        let month_ref = format!(
            "/reference/report?user={}&from={}&to={}",
            cast.owner.user_id, dates.month.0, dates.month.1
        );
        let (status, page) = server.get(&month_path, &owner)?;
        let ref_page =
            crate::http::block_on(crate::http::once(&ref_addr, "GET", &month_ref, &[], b""))?
                .text();
        anyhow::ensure!(
            status == 200 && page.contains("By person") && !page.contains("class=\"empty-state\""),
            "the report answered {status}"
        );
        let (rows, ref_rows) = (count(&page, "<tr"), count(&ref_page, "<tr>"));
        let month_entries = {
            use taskbridge::schema::time_entries;
            let (from, to) = Dates::utc(dates.month.0, dates.month.1);
            let mut conn = db.conn()?;
            time_entries::table
                .filter(time_entries::company_id.eq(cast.owner.company_id))
                .filter(time_entries::started_at.ge(from))
                .filter(time_entries::started_at.lt(to))
                .count()
                .get_result::<i64>(&mut *conn)?
        };
        self.say(&format!(
            "{backend}: report {} to {} ({} entries; {rows} table rows, the reference {ref_rows}) under load",
            dates.month.0,
            dates.month.1,
            thousands(month_entries as f64)
        ));
        let mine = |s| self.spec_expecting(&server.addr, &month_path, Some(&owner), s, "By person");
        let reference = |s| self.spec_expecting(&ref_addr, &month_ref, None, s, "reference-report");
        let (report_run, report_ref_run) =
            self.side_by_side((&mine, server.pid()), Some((&reference, ref_pid)))?;
        let report_ref_run = report_ref_run.unwrap_or_default();
        self.versus_rows(
            &format!("Month's company report, {backend}"),
            &report_run,
            &report_ref_run,
            format!(
                "{} entries; table rows {rows}, reference {ref_rows}",
                thousands(month_entries as f64)
            ),
        );
        drop(ref_child);

        self.timer_round_trips(&server, &owner, &timer, &cast, backend, db)?;
        self.csv_exports(&server, &owner, &dates, backend)?;
        Ok(TimeSmall {
            report: report_run,
            week: week_run,
        })
    }

    /// Start + Stop round trips of one person, alone and while the My Tasks load of
    /// point 1 runs (A B B A).
    fn timer_round_trips(
        &mut self,
        server: &Server,
        owner_cookie: &str,
        timer_cookie: &str,
        cast: &Cast,
        backend: &str,
        db: &Database,
    ) -> anyhow::Result<()> {
        let (status, page) = server.get("/tasks", timer_cookie)?;
        let marker = "name=\"csrf_token\" value=\"";
        let token = page
            .find(marker)
            .map(|i| &page[i + marker.len()..])
            .and_then(|rest| rest.split('"').next())
            .filter(|_| status == 200)
            .ok_or_else(|| anyhow::anyhow!("My Tasks answered {status} without a CSRF token"))?
            .to_owned();
        let task_ids: Vec<i64> = {
            use taskbridge::schema::tasks;
            let mut conn = db.conn()?;
            tasks::table
                .filter(tasks::user_id.eq(cast.timer.user_id))
                .filter(tasks::archived.eq(false))
                .order(tasks::id)
                .limit(10)
                .select(tasks::id)
                .load(&mut *conn)?
        };
        let s = self.cfg.seconds;
        let timer = Spec::Timer(load::TimerLoad {
            addr: server.addr.clone(),
            origin: server.origin.clone(),
            cookie_name: taskbridge::SESSION_COOKIE.into(),
            cookie: timer_cookie.to_owned(),
            csrf_token: token,
            task_ids,
            per_second: TIMER_PER_SECOND,
            seconds: s,
        });
        let my_tasks = self.spec_expecting(
            &server.addr,
            "/tasks",
            Some(owner_cookie),
            s,
            "<li class=\"task\">",
        );
        self.say(&format!(
            "{backend}: timer Start + Stop, {TIMER_PER_SECOND} a second, alone and under the My Tasks load"
        ));
        let since = taskbridge::db::now();
        load::run(&my_tasks)?;
        let (mut alone, mut loaded, mut pages) = (Vec::new(), Vec::new(), Vec::new());
        for step in ["alone", "loaded", "loaded", "alone"] {
            if step == "alone" {
                alone.push(load::run_against(&timer, server.pid())?);
            } else {
                let clicks = load::start(&timer)?;
                pages.push(load::run_against(&my_tasks, server.pid())?);
                loaded.push(clicks.finish()?);
            }
        }
        let (alone, loaded, pages) = (
            Measured::merge(&alone),
            Measured::merge(&loaded),
            Measured::merge(&pages),
        );
        for m in [&alone, &loaded, &pages] {
            anyhow::ensure!(
                m.errors == 0,
                "timer load errors: {} (first {:?})",
                m.errors,
                m.first_error
            );
        }
        // Every round trip left one finished entry, and nothing runs.
        let (made, running) = {
            use taskbridge::schema::time_entries;
            let mut conn = db.conn()?;
            let mine = time_entries::table
                .filter(time_entries::user_id.eq(cast.timer.user_id))
                .filter(time_entries::created_at.ge(since));
            (
                mine.count().get_result::<i64>(&mut *conn)?,
                mine.filter(time_entries::ended_at.is_null())
                    .count()
                    .get_result::<i64>(&mut *conn)?,
            )
        };
        anyhow::ensure!(
            made as u64 == alone.ok + loaded.ok && running == 0,
            "{} round trips made {made} entries, {running} left running",
            alone.ok + loaded.ok
        );
        self.rows.push(row(
            "6",
            format!("Timer Start + Stop, {backend}: round trip p50 / p99 under the My Tasks load"),
            format!("{} / {}", ms(loaded.p50()), ms(loaded.p99())),
            format!(
                "alone {} / {} ({} round trips)",
                ms(alone.p50()),
                ms(alone.p99()),
                thousands((alone.ok + loaded.ok) as f64)
            ),
            "",
            Verdict::Info,
        ));
        self.rows.push(row(
            "6",
            format!("Timer, {backend}: My Tasks meanwhile"),
            format!(
                "{} req/s, p99 {}",
                thousands(pages.per_second()),
                ms(pages.p99())
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

    /// The CSV of last month, then of the whole year (twice), as the owner: the
    /// time to the last byte, the bytes, and the server's peak RSS meanwhile.
    fn csv_exports(
        &mut self,
        server: &Server,
        owner_cookie: &str,
        dates: &Dates,
        backend: &str,
    ) -> anyhow::Result<()> {
        self.say(&format!(
            "{backend}: CSV exports of a month and of the year"
        ));
        let export = |range: (Date, Date)| -> anyhow::Result<(f64, usize, usize, u64, u64, f64)> {
            let before = proc::rss_bytes(server.pid()).unwrap_or(0);
            let cpu = proc::cpu_secs(server.pid());
            let sampler = proc::RssSampler::start(server.pid());
            let started = Instant::now();
            let r = crate::http::block_on(crate::http::once(
                &server.addr,
                "GET",
                &report_path(true, range),
                &[("Cookie", owner_cookie)],
                b"",
            ))?;
            let took = started.elapsed().as_secs_f64();
            let peak = sampler.peak().max(before);
            let cpu = proc::cpu_secs(server.pid()) - cpu;
            anyhow::ensure!(
                r.status == 200 && r.body.starts_with(b"Date,Start,End,Person"),
                "the CSV answered {}",
                r.status
            );
            let lines = r.body.iter().filter(|b| **b == b'\n').count();
            Ok((
                took,
                r.body.len(),
                lines.saturating_sub(1),
                before,
                peak,
                cpu,
            ))
        };
        let month = export(dates.month)?;
        let year = export(dates.year)?;
        let again = export(dates.year)?;
        for (what, (took, bytes, rows, _, _, cpu)) in [
            ("a month", month),
            ("the year", year),
            ("the year again", again),
        ] {
            self.rows.push(row(
                "6",
                format!(
                    "CSV export, {backend}: {what} ({} rows)",
                    thousands(rows as f64)
                ),
                format!("{}, {:.1} MiB", secs(took), bytes as f64 / 1048576.0),
                format!(
                    "{} rows/s, server CPU {}",
                    thousands(rows as f64 / took),
                    secs(cpu)
                ),
                "",
                Verdict::Info,
            ));
        }
        let grew = |(_, _, _, before, peak, _): (f64, usize, usize, u64, u64, f64)| {
            peak.saturating_sub(before)
        };
        let slack = 4 * 1024 * 1024;
        let flat = grew(year) <= grew(month) + slack && grew(again) <= grew(month) + slack;
        self.rows.push(row(
            "6",
            format!("CSV export, {backend}: server peak RSS, the year"),
            format!("{} (before {})", mib(year.4), mib(year.3)),
            format!(
                "a month: {} (before {}); the year again: {}",
                mib(month.4),
                mib(month.3),
                mib(again.4)
            ),
            "growth ≤ a month's + 4 MiB",
            Verdict::of(flat),
        ));
        Ok(())
    }

    /// Point 6 at scale, on PostgreSQL: the small company (50 people, the same year
    /// of time) among `companies` companies of 20 people with a year each; its month's
    /// report and week against the small database's, and the plans.
    pub(crate) fn time_scale(
        &mut self,
        admin: &str,
        companies: i64,
        small: &TimeSmall,
    ) -> anyhow::Result<()> {
        let db = Database::postgres(admin, "timescale")?;
        self.say(&format!(
            "PostgreSQL: seeding the small company and {} companies × 20 people with a year of time…",
            thousands(companies as f64)
        ));
        let started = Instant::now();
        let entries = {
            let mut conn = db.conn()?;
            seed::bulk(&mut conn, SMALL, &self.password_hash)?;
            seed::bulk(
                &mut conn,
                Shape {
                    companies,
                    people: 20,
                    tasks: SCALE_TASKS,
                },
                &self.password_hash,
            )?;
            seed::time_entries(&mut conn)?.1
        };
        let seeding = started.elapsed().as_secs_f64();
        let big = thousands(entries as f64);
        self.say(&format!(
            "PostgreSQL: {big} time entries seeded in {}; the report and the week under load",
            secs(seeding)
        ));
        self.rows.push(row(
            "6",
            format!("Time scale: seeding {big} entries (PostgreSQL)"),
            secs(seeding),
            format!(
                "1 company × 50 people and {} × 20, a year each",
                thousands(companies as f64)
            ),
            "",
            Verdict::Info,
        ));
        let cast = cast(&db, 1)?;
        let dates = Dates::now();
        let server = Server::start(&db.url, self.dir.path(), &self.log("pg-timescale"))?;
        let owner = server.sign_in(&cast.owner.email)?;
        let week = server.sign_in(&cast.week.email)?;
        let month_path = report_path(false, dates.month);
        let week_path = format!("/timesheet?week={}", dates.week);
        let report_spec =
            |s| self.spec_expecting(&server.addr, &month_path, Some(&owner), s, "By person");
        let week_spec =
            |s| self.spec_expecting(&server.addr, &week_path, Some(&week), s, "week-grid");
        let (report_run, _) = self.side_by_side((&report_spec, server.pid()), None)?;
        let (week_run, _) = self.side_by_side((&week_spec, server.pid()), None)?;
        drop(server);
        for (what, run, base, target) in [
            ("Month's company report", &report_run, &small.report, true),
            ("Timesheet week", &week_run, &small.week, false),
        ] {
            let (p99, base_p99) = (run.p99(), base.p99());
            self.rows.push(row(
                "6",
                format!("{what} p99 at {big} entries (PostgreSQL)"),
                ms(p99),
                format!(
                    "{} in the small database ({:.2}×); {} req/s against {}",
                    ms(base_p99),
                    p99 / base_p99,
                    thousands(run.per_second()),
                    thousands(base.per_second())
                ),
                if target { "≤ 1.5×" } else { "" },
                if target {
                    Verdict::of(p99 <= 1.5 * base_p99)
                } else {
                    Verdict::Info
                },
            ));
        }
        self.say("PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of the time-tracking statements");
        let week_range = Dates::utc(
            dates.week,
            dates
                .week
                .checked_add(Span::new().days(6))
                .unwrap_or(dates.week),
        );
        let plans = explain::time_queries(
            &db.url,
            &TimeCase {
                person: cast.week.clone(),
                owner: cast.owner.clone(),
                week: week_range,
                month: Dates::utc(dates.month.0, dates.month.1),
            },
        )?;
        for (step, total, scans, indexed) in explain::by_step(&plans) {
            self.rows.push(row(
                "6",
                format!("Plan at {big} entries: {step}"),
                ms(total),
                scans.join("; "),
                "index scans on big tables",
                Verdict::of(indexed),
            ));
        }
        self.plans.extend(plans);
        Ok(())
    }
}
