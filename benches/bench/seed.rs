//! Databases for the suite (a temporary SQLite file, or a PostgreSQL database created
//! for the run and dropped after it) and the people and tasks in them.

use std::path::Path;
use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::Text;
use taskbridge::db::{self, DbConn, Pool};

pub struct Database {
    pub url: String,
    pub pool: Pool,
    pg: Option<(String, String)>,
}

impl Database {
    pub fn sqlite(dir: &Path, name: &str) -> anyhow::Result<Self> {
        let url = dir.join(format!("{name}.db")).display().to_string();
        Self::open(url, None)
    }

    /// A new database on the PostgreSQL server `admin_url` points at.
    pub fn postgres(admin_url: &str, name: &str) -> anyhow::Result<Self> {
        let db_name = format!("tb_bench_{}_{name}", std::process::id());
        let mut admin = PgConnection::establish(admin_url)?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {db_name}")).execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE {db_name}")).execute(&mut admin)?;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&db_name);
        Self::open(url.to_string(), Some((admin_url.to_owned(), db_name)))
    }

    fn open(url: String, pg: Option<(String, String)>) -> anyhow::Result<Self> {
        let pool = db::connect(&url).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut conn = pool.get()?;
        db::migrate(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
        drop(conn);
        Ok(Self { url, pool, pg })
    }

    pub fn conn(&self) -> anyhow::Result<db::PooledConn> {
        Ok(self.pool.get()?)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Drops databases left by earlier runs that were killed before they could clean up
/// (their process is gone).
pub fn drop_stale_postgres(admin_url: &str) -> anyhow::Result<()> {
    let mut admin = PgConnection::establish(admin_url)?;
    let names: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'tb\\_bench\\_%'")
            .load(&mut admin)?;
    for Name { datname } in names {
        let pid = datname.split('_').nth(2).unwrap_or("");
        if !pid.is_empty() && !Path::new(&format!("/proc/{pid}")).exists() {
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"))
                .execute(&mut admin)?;
        }
    }
    Ok(())
}

/// How many companies, people in each, tasks for each person.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub companies: i64,
    pub people: i64,
    pub tasks: i64,
}

impl Shape {
    pub fn total_tasks(&self) -> i64 {
        self.companies * self.people * self.tasks
    }
}

/// A seeded person.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: i64,
    pub company_id: i64,
    pub email: String,
}

/// Far enough that no seeded connection ever comes due during a run.
pub const FAR_FUTURE: i64 = 4_000_000_000;

fn numbers(upto: i64) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {upto})")
}

/// Past sync runs kept for each connection, as the sync history would hold them.
const RUNS_PER_CONNECTION: i64 = 10;

/// Seeds `shape` in bulk, in set-based SQL: companies with Pivotal Tracker ON, people
/// (the first of each company its owner) who all share `password_hash`, a connection
/// each with its past sync runs, and their tasks (one in ten already archived, a
/// third without a due date). It may be called again on the same database: each call
/// touches only the companies it creates, numbered on after those seeded before.
pub fn bulk(conn: &mut DbConn, shape: Shape, password_hash: &str) -> anyhow::Result<f64> {
    anyhow::ensure!(password_hash.chars().all(|c| c != '\''), "unexpected hash");
    let started = Instant::now();
    let now = db::now();
    let postgres = !db::is_sqlite(conn);
    let (after_id, seeded) = {
        use taskbridge::schema::companies;
        let after_id: Option<i64> = companies::table
            .select(diesel::dsl::max(companies::id))
            .first(conn)?;
        let seeded: i64 = companies::table
            .filter(companies::name.like("Bench company %"))
            .count()
            .get_result(conn)?;
        (after_id.unwrap_or(0), seeded)
    };
    let base = time::OffsetDateTime::now_utc()
        .date()
        .saturating_sub(time::Duration::days(45));
    let due = if postgres {
        format!("to_char(DATE '{base}' + (n.i % 90), 'YYYY-MM-DD')")
    } else {
        format!("date('{base}', '+' || (n.i % 90) || ' days')")
    };
    let statements = [
        format!(
            "{} INSERT INTO companies (name, created_at) \
             SELECT 'Bench company ' || (n.i + {seeded}), {now} FROM n",
            numbers(shape.companies)
        ),
        format!(
            "INSERT INTO company_integrations (company_id, provider, enabled, changed_by, changed_at) \
             SELECT id, 'pivotal', TRUE, NULL, {now} FROM companies WHERE id > {after_id}"
        ),
        format!(
            "{} INSERT INTO logins (email, password_hash, email_verified_at, created_at) \
             SELECT 'p' || n.i || '.c' || c.id || '@bench.test', '{password_hash}', {now}, {now} \
             FROM companies c CROSS JOIN n WHERE c.id > {after_id}",
            numbers(shape.people)
        ),
        format!(
            "{} INSERT INTO users (company_id, login_id, name, role, disabled, created_at) \
             SELECT c.id, l.id, 'Person ' || n.i || ' of ' || c.name, \
                    CASE WHEN n.i = 1 THEN 'owner' ELSE 'user' END, FALSE, {now} \
             FROM companies c CROSS JOIN n \
             JOIN logins l ON l.email = 'p' || n.i || '.c' || c.id || '@bench.test' \
             WHERE c.id > {after_id}",
            numbers(shape.people)
        ),
        format!(
            "INSERT INTO connections (company_id, user_id, provider, status, external_user_id, \
                external_account_id, account_name, display_name, email, created_at, updated_at, \
                next_sync_at, last_sync_at) \
             SELECT u.company_id, u.id, 'pivotal', 'active', 'tracker-' || u.id, 'tracker-' || u.id, \
                    'p' || u.id, u.name, l.email, {now}, {now}, {FAR_FUTURE}, {now} \
             FROM users u JOIN logins l ON l.id = u.login_id WHERE u.company_id > {after_id}"
        ),
        format!(
            "{} INSERT INTO sync_runs (connection_id, trigger, status, started_at, finished_at, \
                fetched, added, updated, archived) \
             SELECT c.id, 'schedule', 'ok', {now} - n.i * 300, {now} - n.i * 300 + 2, {}, 0, 0, 0 \
             FROM connections c CROSS JOIN n WHERE c.company_id > {after_id}",
            numbers(RUNS_PER_CONNECTION),
            shape.tasks
        ),
        format!(
            "{} INSERT INTO tasks (connection_id, user_id, provider, external_id, title, status, project, \
                due_on, url, content_hash, archived, seen_pass, created_at, updated_at) \
             SELECT c.id, c.user_id, 'pivotal', 's' || c.id || '-' || n.i, \
                    'Story ' || n.i || ': check the figures for ' || c.display_name, \
                    CASE n.i % 4 WHEN 0 THEN 'started' WHEN 1 THEN 'unstarted' WHEN 2 THEN 'finished' ELSE 'rejected' END, \
                    'Project ' || (n.i % 5 + 1), \
                    CASE WHEN n.i % 3 = 0 THEN NULL ELSE {due} END, \
                    'https://www.pivotaltracker.com/story/show/' || (c.id * 1000 + n.i), \
                    'seeded', (n.i % 10 = 0), 0, {now}, {now} \
             FROM connections c CROSS JOIN n WHERE c.company_id > {after_id}",
            numbers(shape.tasks)
        ),
    ];
    db::write(conn, |conn| {
        for sql in &statements {
            diesel::sql_query(sql).execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    if postgres {
        diesel::sql_query("VACUUM ANALYZE").execute(conn)?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Person `n` (from 1) of the `c`-th company (from 1) seeded by [`bulk`].
pub fn person(conn: &mut DbConn, c: i64, n: i64) -> anyhow::Result<Person> {
    use taskbridge::schema::{companies, logins, users};
    let company_id: i64 = companies::table
        .filter(companies::name.eq(format!("Bench company {c}")))
        .select(companies::id)
        .first(conn)?;
    let email = format!("p{n}.c{company_id}@bench.test");
    let user_id: i64 = users::table
        .inner_join(logins::table)
        .filter(logins::email.eq(&email))
        .select(users::id)
        .first(conn)?;
    Ok(Person {
        user_id,
        company_id,
        email,
    })
}

/// How many tasks the database holds.
pub fn task_count(conn: &mut DbConn) -> anyhow::Result<i64> {
    use taskbridge::schema::tasks;
    Ok(tasks::table.count().get_result(conn)?)
}

/// Time entries a seeded person has on each working day.
pub const ENTRIES_PER_DAY: i64 = 8;
/// The tasks (of each person's first) that time is tracked on: every seeded person
/// has at least this many, so the small company's time is the same in every database.
pub const TASKS_WITH_TIME: i64 = 18;
/// Days of time seeded: the year up to yesterday.
pub const TIME_DAYS: i64 = 365;

/// The first day of seeded time (UTC), `TIME_DAYS` before today.
pub fn time_first_day() -> jiff::civil::Date {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    today
        .checked_sub(jiff::Span::new().days(TIME_DAYS))
        .unwrap_or(today)
}

/// Seeds a year of time for every person of the companies [`bulk`] seeded, in one
/// set-based `INSERT … SELECT` in one transaction: on each working day (Monday to
/// Friday, UTC, the companies' default zone) [`ENTRIES_PER_DAY`] entries an hour apart
/// from 08:00, 25 to 49 minutes long. Three in four are on one of the person's tasks
/// (three of their first [`TASKS_WITH_TIME`] tasks each two days, the task's tool, project, title and link copied as the
/// timer copies them; some of them with a note, some on tasks closed since), the
/// fourth is a note alone (planning, review, support, a meeting). Nothing is left
/// running. Answers the seconds it took and the entries written.
pub fn time_entries(conn: &mut DbConn) -> anyhow::Result<(f64, i64)> {
    use taskbridge::schema::time_entries;
    let started = Instant::now();
    let before: i64 = time_entries::table.count().get_result(conn)?;
    let postgres = !db::is_sqlite(conn);
    let now = db::now();
    let first_day = time_first_day()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .timestamp()
        .as_second()
        / 86_400;
    // Days since 1970-01-01 (a Thursday): Monday is 0 of `(day + 3) % 7`.
    let sql = format!(
        "{} INSERT INTO time_entries (company_id, user_id, task_id, provider, project, task_title, \
            task_url, note, started_at, ended_at, created_at, updated_at) \
         SELECT c.company_id, c.user_id, t.id, t.provider, t.project, t.title, t.url, \
                CASE WHEN k.s % 4 = 3 THEN \
                       CASE (k.d + k.s + c.user_id) % 4 WHEN 0 THEN 'Planning' WHEN 1 THEN 'Code review' \
                            WHEN 2 THEN 'Support' ELSE 'Team meeting' END \
                     WHEN (k.d + c.user_id) % 5 = 0 THEN 'Paired on it' ELSE '' END, \
                k.at, k.at + 1500 + ((k.d * 13 + k.s * 7 + c.user_id) % 25) * 60, \
                {now}, {now} \
         FROM connections c \
         JOIN companies co ON co.id = c.company_id AND co.name LIKE 'Bench company %' \
         CROSS JOIN (SELECT (n.i - 1) / {per_day} AS d, (n.i - 1) % {per_day} AS s, \
                            ({first_day} + (n.i - 1) / {per_day}) * 86400 + 28800 \
                              + ((n.i - 1) % {per_day}) * 3600 + (((n.i - 1) / {per_day}) * 7 % 4) * 150 AS at \
                     FROM n WHERE ({first_day} + (n.i - 1) / {per_day} + 3) % 7 < 5) k \
         LEFT JOIN tasks t ON k.s % 4 <> 3 AND t.connection_id = c.id \
              AND t.external_id = 's' || c.id || '-' || (((k.d / 2) * 3 + k.s % 4) % {TASKS_WITH_TIME} + 1)",
        numbers(TIME_DAYS * ENTRIES_PER_DAY),
        per_day = ENTRIES_PER_DAY,
    );
    db::write(conn, |conn| {
        diesel::sql_query(&sql).execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    if postgres {
        diesel::sql_query("VACUUM ANALYZE time_entries").execute(conn)?;
    }
    let after: i64 = time_entries::table.count().get_result(conn)?;
    Ok((started.elapsed().as_secs_f64(), after - before))
}

/// A personal API token for a person, made as the API tokens page makes one (the
/// service's prefix and randomness, kept only as its SHA-256 hash); answers the token.
pub fn api_token(
    conn: &mut DbConn,
    company_id: i64,
    user_id: i64,
    name: &str,
) -> anyhow::Result<String> {
    use taskbridge::services::api_tokens::PREFIX;
    let token = format!("{PREFIX}{}", taskbridge::crypto::random_token());
    let hash = taskbridge::crypto::sha256_hex(&token);
    taskbridge::models::api_token::insert(conn, company_id, user_id, name, &hash, db::now())?;
    Ok(token)
}

/// A signed-in session's row for `user_id`, as logging in writes one, and the claim
/// that names it: for timing the signed-in person's statement (which checks the row)
/// outside the server.
pub fn session_claim(conn: &mut DbConn, user_id: i64) -> anyhow::Result<taskbridge::auth::Claim> {
    use taskbridge::schema::sessions;
    let row = taskbridge::crypto::sha256_hex(&format!("bench-session-{user_id}"));
    let now = db::now();
    let state = format!(r#"{{"user_id":"{user_id}","signed_in_at":"{now}","seen":"{now}"}}"#);
    diesel::delete(sessions::table.filter(sessions::id.eq(&row))).execute(conn)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&row),
            sessions::user_id.eq(user_id),
            sessions::state.eq(state),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(FAR_FUTURE),
        ))
        .execute(conn)?;
    Ok(taskbridge::auth::Claim::new(user_id, row))
}
