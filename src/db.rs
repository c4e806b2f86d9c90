//! One connection type over SQLite and PostgreSQL, a pool, and migrations.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool as R2d2Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::is_postgres;
use crate::error::{AppError, Unexpected};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Taken while migrating so that instances starting together migrate one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x7461_736b_6272_6467;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = R2d2Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

/// Opens the backend the URL names; never guesses.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    postgres: bool,
}

impl Manager {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
            postgres: is_postgres(url),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        if self.postgres {
            return PgConnection::establish(&self.url)
                .map(DbConn::Pg)
                .map_err(diesel::r2d2::Error::ConnectionError);
        }
        let mut conn =
            SqliteConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(DbConn::Sqlite(conn))
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// Builds the pool; fails fast when the database cannot be reached.
pub fn connect(url: &str) -> Result<Pool, AppError> {
    let manager = Manager::new(url);
    if !manager.postgres {
        create_private(&manager.url).unexpected("creating the SQLite database file")?;
    }
    let size = if manager.postgres { 16 } else { 8 };
    R2d2Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(manager)
        .unexpected("cannot open the database")
}

/// Creates a new SQLite database file readable by its owner only (0600), like the key
/// beside it; SQLite gives its `-wal` and `-shm` files the database file's mode. An
/// existing file is left as its operator set it.
fn create_private(path: &str) -> std::io::Result<()> {
    if path.is_empty() || path.starts_with(':') || path.starts_with("file:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs pending migrations for whichever backend the connection is.
pub fn migrate(conn: &mut DbConn) -> Result<usize, AppError> {
    let internal = |e: Box<dyn std::error::Error + Send + Sync>| {
        AppError::Unexpected(anyhow::anyhow!("migration failed: {e}"))
    };
    match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(internal),
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(internal);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            result
        }
    }
}

/// Runs the pending migrations named before `version` (`2026-12-03-095000`) only, so
/// a test of a migration can start from the schema just before it, with rows of the
/// old shape. [`migrate`] runs the rest.
pub fn migrate_before(conn: &mut DbConn, version: &str) -> Result<usize, AppError> {
    fn before<C, B>(
        conn: &mut C,
        source: EmbeddedMigrations,
        version: &str,
    ) -> Result<usize, AppError>
    where
        B: diesel::backend::Backend,
        C: MigrationHarness<B>,
        EmbeddedMigrations: diesel::migration::MigrationSource<B>,
    {
        let internal = |e: Box<dyn std::error::Error + Send + Sync>| {
            AppError::Unexpected(anyhow::anyhow!("migration failed: {e}"))
        };
        let mut ran = 0;
        for migration in conn.pending_migrations(source).map_err(internal)? {
            if migration.name().to_string().as_str() >= version {
                break;
            }
            conn.run_migration(&*migration).map_err(internal)?;
            ran += 1;
        }
        Ok(ran)
    }
    match conn {
        DbConn::Sqlite(c) => before(c, SQLITE_MIGRATIONS, version),
        DbConn::Pg(c) => before(c, POSTGRES_MIGRATIONS, version),
    }
}

pub fn is_sqlite(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Sqlite(_))
}

/// A write transaction. On SQLite it begins IMMEDIATE, taking the write lock up front
/// so concurrent writers wait on `busy_timeout` instead of failing mid-transaction.
pub fn write<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The original error is the one worth reporting.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// A raw SQL statement (`diesel::sql_query`) that the connection keeps prepared, as
/// diesel keeps its fixed queries: left alone, `sql_query` is parsed and planned by
/// PostgreSQL at every call, which for a sync page's write was about 0.9 ms of its
/// time. Kept by its text, so only for SQL that is a constant (a text built per call
/// would fill the cache).
#[derive(Debug, Clone)]
pub struct Prepared<Q>(pub Q);

impl<Q> diesel::query_builder::QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Prepared<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, C> RunQueryDsl<C> for Prepared<Q> {}

/// Runs database work on the blocking pool, never on the async executor.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        f(&mut conn)
    })
    .await
    .unexpected("running database work on the blocking pool")?
}

/// The database's clock, in seconds since the Unix epoch: lease times are taken from
/// it, so that instances whose clocks disagree still agree on when a lease runs out.
/// (On PostgreSQL `now()` is the start of the transaction.)
pub fn clock(conn: &mut DbConn) -> diesel::QueryResult<i64> {
    let expression = match conn {
        DbConn::Sqlite(_) => "CAST(strftime('%s', 'now') AS BIGINT)",
        DbConn::Pg(_) => "CAST(FLOOR(EXTRACT(EPOCH FROM now())) AS BIGINT)",
    };
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(expression)).get_result(conn)
}

/// Seconds since the Unix epoch: every timestamp in the database is one of these.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
