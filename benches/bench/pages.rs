//! The signed-in pages alone (`BENCH_ONLY=pages`): My Tasks with 50 rows and with 10,
//! each against the reference page of the same rows, the page bytes a task row costs,
//! and the Timesheet week against its reference, on the database of point 1 (with the
//! year of time of point 6 for the week).

use std::time::Duration;

use crate::report::{row, Verdict};
use crate::seed::{self, Database, Person, Shape};
use crate::{proc, reference, Suite};

/// A company of one person with 11 tasks, one of them archived: 10 on My Tasks.
const FEW: Shape = Shape {
    companies: 1,
    people: 1,
    tasks: 11,
};

/// The bytes of a page beyond its rows: (the 50-row page − the 10-row page) / 40.
fn bytes_per_row(fifty_kib: f64, ten_kib: f64) -> f64 {
    (fifty_kib - ten_kib) * 1024.0 / 40.0
}

impl Suite {
    pub(crate) fn pages_point(
        &mut self,
        db: &Database,
        backend: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let me = self.seed_small(db, backend)?;
        let few: Person = {
            let mut conn = db.conn()?;
            seed::bulk(&mut conn, FEW, &self.password_hash)?;
            seed::person(&mut conn, 2, 1)?
        };
        let target = if backend == "SQLite" { 0.70 } else { 0.60 };
        let (fifty, server, _) = self.measure_pages(db, &me, name, true)?;
        drop(server);
        self.page_rows_of(&format!("My Tasks (50 rows), {backend}"), &fifty, target);

        self.say(&format!("{backend}: My Tasks of 10 rows and its reference"));
        let (ten, server, _) = self.measure_pages_of(db, &few, &format!("{name}-10"), true, 10)?;
        drop(server);
        // Issue 12 names 0.5 with 10 rows on SQLite; PostgreSQL is held to the same.
        let ten_target = 0.50;
        self.page_rows_of(&format!("My Tasks (10 rows), {backend}"), &ten, ten_target);

        if let (Some(r50), Some(r10)) = (&fifty.reference, &ten.reference) {
            self.rows.push(row(
                "1",
                format!("My Tasks, {backend}: page bytes per task row"),
                format!(
                    "{:.0} B",
                    bytes_per_row(fifty.mine.page_kib(), ten.mine.page_kib())
                ),
                format!(
                    "reference {:.0} B (the 50-row page less the 10-row one, over 40)",
                    bytes_per_row(r50.page_kib(), r10.page_kib())
                ),
                "",
                Verdict::Info,
            ));
        }

        let (took, entries) = {
            let mut conn = db.conn()?;
            seed::time_entries(&mut conn)?
        };
        self.say(&format!(
            "{backend}: {entries} time entries seeded in {took:.1} s; the Timesheet week"
        ));
        let week_person = {
            let mut conn = db.conn()?;
            seed::person(&mut conn, 1, 3)?
        };
        let server = crate::server::Server::start(
            &db.url,
            self.dir.path(),
            &self.log(&format!("{name}-week")),
        )?;
        let cookie = server.sign_in(&week_person.email)?;
        let port = proc::free_port()?;
        let mut ref_child =
            reference::start(&db.url, port, &self.log(&format!("{name}-week-ref")))?;
        let ref_addr = format!("127.0.0.1:{port}");
        proc::wait_until_up(
            &ref_addr,
            &format!("/reference?user={}", week_person.user_id),
            &mut ref_child,
            Duration::from_secs(30),
        )?;
        let ref_pid = ref_child.pid();
        self.week_point(
            &server,
            &cookie,
            &week_person,
            (&ref_addr, ref_pid),
            backend,
        )?;
        Ok(())
    }
}
