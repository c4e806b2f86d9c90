//! taskbridge: bring the tasks people are assigned in their task tools into the
//! time tracker. `build` makes the whole application from `Settings`; the binary
//! and the tests start the same thing.

#[macro_use]
mod macros;

pub mod api;
pub mod auth;
pub mod catalogue;
pub mod client_addr;
pub mod config;
pub mod connectors;
pub mod crypto;
pub mod days;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod models;
pub mod sandbox;
pub mod schema;
pub mod services;
pub mod sync;
pub mod urls;
pub mod web;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{PersistentSession, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders, Next};
use actix_web::web::{self as actix, Data};
use actix_web::{App, HttpServer};

use crate::auth::session_store::DbSessionStore;
use crate::config::Settings;
use crate::db::Pool;
use crate::error::{AppError, Unexpected};

/// The session cookie's name; `__Host-` in front when served over https.
pub const SESSION_COOKIE: &str = "taskbridge_session";

/// A built application, listening, not yet running.
pub struct Application {
    server: Server,
    port: u16,
    pool: Pool,
}

impl Application {
    /// Opens the database, migrates it, binds the listener and builds the server.
    pub async fn build(settings: Settings) -> Result<Self, AppError> {
        let pool = open_database(&settings).await?;
        check_secret_key(&settings, &pool).await?;
        Self::build_with_pool(settings, pool)
    }

    /// Builds on a pool the caller opened. When `TASKBRIDGE_BASE_URL` names port 0
    /// (tests bind port 0), it is rewritten to the port actually bound.
    pub fn build_with_pool(mut settings: Settings, pool: Pool) -> Result<Self, AppError> {
        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            anyhow::Error::new(e).context(format!("cannot listen on {}", settings.bind))
        })?;
        let port = listener
            .local_addr()
            .unexpected("reading the bound address")?
            .port();
        if settings.base_url.port() == Some(0) {
            let _ = settings.base_url.set_port(Some(port));
        }
        let server = serve(listener, settings, pool.clone())?;
        Ok(Self { server, port, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Connects and runs pending migrations.
pub async fn open_database(settings: &Settings) -> Result<Pool, AppError> {
    let url = settings.database_url.clone();
    let pool = actix::block(move || db::connect(&url))
        .await
        .unexpected("opening the database")??;
    let applied = db::run(&pool, db::migrate).await?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(pool)
}

/// Refuses to start with another secret key than the one the database's tokens are
/// sealed with: every sync would fail, and a generated key would never be the right
/// one. The database keeps a known value sealed with the key (`key_check`); a database
/// without one yet (new, or set up before there were checks) gets it now, provided its
/// stored tokens, if any, open with the key. A key file generated at this start for a
/// database sealed with another key is removed again.
pub async fn check_secret_key(settings: &Settings, pool: &Pool) -> Result<(), AppError> {
    let cipher = crypto::Cipher::new(&settings.secret_key);
    let fits = db::run(pool, move |conn| {
        use models::{connection, key_check};
        if key_check::load(conn)?.is_none() {
            let sealed = connection::some_sealed(conn, 50)?;
            let opens = |(company, user, kind, bytes): &connection::SealedFor| {
                let binding = services::credentials::credentials_binding(*company, *user, *kind);
                cipher.open(bytes, &binding).is_ok()
            };
            if !sealed.is_empty() && !sealed.iter().any(opens) {
                return Ok(false);
            }
            // Another instance starting at the same time may keep its check first.
            key_check::store(conn, &cipher.seal_key_check())?;
        }
        Ok(key_check::load(conn)?.is_some_and(|check| cipher.opens_key_check(&check)))
    })
    .await?;
    if fits {
        return Ok(());
    }
    let generated = match &settings.generated_key_file {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            format!(
                " ({} was missing, so a new key was made for this start and removed again)",
                path.display()
            )
        }
        None => String::new(),
    };
    Err(AppError::Startup(format!(
        "TASKBRIDGE_SECRET_KEY does not match this database: its stored tokens were sealed with another key{generated}. Start with the key the database was set up with (the same TASKBRIDGE_SECRET_KEY, or the key file kept beside the SQLite database)."
    )))
}

/// The CSP: forms post to this app, which may send the browser on to a tool's sign-in
/// page (`form-action` covers that redirect), so the OAuth tools' own origins too.
fn content_security_policy(tools: &services::tools::Tools) -> String {
    let mut form_action = vec!["'self'".to_owned()];
    form_action.extend(tools.sign_in_origins());
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action {}",
        form_action.join(" ")
    )
}

/// One line a request, `GET /tasks 200 1.234ms` (target `taskbridge::http`), once its
/// response is ready: the path only, since query strings can carry OAuth codes and
/// state. Straight to `tracing`, with nothing built when the line is filtered out.
async fn request_log(
    req: actix_web::dev::ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.path() == urls::HEALTHZ
        || !tracing::enabled!(target: "taskbridge::http", tracing::Level::INFO)
    {
        return next.call(req).await;
    }
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let response = next.call(req).await;
    let status = match &response {
        Ok(r) => r.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "taskbridge::http", "{method} {path} {} {ms:.3}ms", status.as_u16());
    response
}

fn security_headers(settings: &Settings, csp: &str) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", csp.to_owned()))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if settings.served_over_tls() {
        headers.add((
            "Strict-Transport-Security",
            "max-age=63072000; includeSubDomains",
        ))
    } else {
        headers
    }
}

/// The tools this deployment reaches: with the sandbox on, a tool nobody configured
/// talks to its emulation in this server.
pub fn tools(settings: &Settings) -> Result<services::tools::Tools, AppError> {
    let base = &settings.base_url;
    let emulation = |kind| sandbox::provider_config(kind, base);
    let stand_in: Option<services::tools::StandIn<'_>> = settings.sandbox.then_some(&emulation);
    services::tools::Tools::new(settings, stand_in)
}

fn serve(listener: TcpListener, settings: Settings, pool: Pool) -> Result<Server, AppError> {
    let session_key = Key::from(&settings.secret_key.derive("session-cookie"));
    let tls = settings.served_over_tls();
    let settings = Data::new(settings);
    let pool_data = Data::new(pool.clone());
    let tools = Data::new(tools(&settings)?);
    let csp = content_security_policy(&tools);
    let engine = Arc::new(
        sync::SyncEngine::new(
            pool.clone(),
            tools.clone().into_inner(),
            settings.sync_interval,
        )
        .with_sync_now_cooldown(settings.sync_now_cooldown_secs),
    );
    let waker = Data::new(engine.waker().clone());
    engine.spawn();
    // One sandbox for the whole server, shared by every worker.
    let sandbox = settings
        .sandbox
        .then(|| Data::new(sandbox::SandboxState::new(settings.base_url.clone())));
    let api_limiter = Data::new(api::rate::RateLimiter::new(settings.api_rate_per_minute));
    let kept = Data::new(services::kept::Kept::default());
    let mailer = Arc::new(mail::Mailer::new(&settings, pool.clone())?);
    mailer.clone().spawn();
    let mailer = Data::from(mailer);
    spawn_housekeeping(pool);
    // Each worker's blocking threads, where the database work runs: no more than the
    // pool has connections (a thread beyond them would only wait for one), instead of
    // actix's 512 shared out. Every such thread keeps its own allocator heap.
    let blocking_threads = pool_data.max_size() as usize;
    let server = HttpServer::new(move || {
        let sessions = session_middleware(pool_data.get_ref().clone(), session_key.clone(), tls);
        App::new()
            .app_data(settings.clone())
            .app_data(pool_data.clone())
            .app_data(tools.clone())
            .app_data(waker.clone())
            .app_data(api_limiter.clone())
            .app_data(kept.clone())
            .app_data(mailer.clone())
            .app_data(
                actix::FormConfig::default()
                    .limit(64 * 1024)
                    .error_handler(web::form_error),
            )
            .app_data(actix::QueryConfig::default().error_handler(web::query_error))
            .configure(web::routes)
            .configure(api::configure)
            .configure(|cfg| {
                if let Some(state) = &sandbox {
                    cfg.app_data(state.clone());
                    sandbox::configure(cfg);
                }
            })
            .default_service(actix::to(error::not_found))
            .wrap(from_fn(auth::csrf::guard))
            // Outside the guard, so that its refusals are shown in the layout too.
            .wrap(from_fn(web::shell::errors_in_app_layout))
            .wrap(sessions)
            .wrap(security_headers(&settings, &csp))
            .wrap(from_fn(request_log))
    })
    .worker_max_blocking_threads(blocking_threads)
    .listen(listener)
    .unexpected("starting the HTTP server")?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

/// Sessions in the database, in a cookie named `__Host-…` under https.
fn session_middleware(pool: Pool, key: Key, tls: bool) -> SessionMiddleware<DbSessionStore> {
    SessionMiddleware::builder(DbSessionStore::new(pool), key)
        .cookie_name(auth::device::cookie_name(SESSION_COOKIE, tls))
        .cookie_secure(tls)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(actix_web::cookie::time::Duration::seconds(
                    auth::IDLE_TIMEOUT_SECS,
                ))
                // Written back only when changed: `SignedIn` notes activity once a
                // minute, which moves the expiry (row and cookie) without a write
                // on every request.
                .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .build()
}

/// Removes expired sessions now and then.
fn spawn_housekeeping(pool: Pool) {
    tokio::spawn(async move {
        loop {
            if let Err(e) =
                db::run(&pool, |conn| Ok(auth::session_store::purge_expired(conn)?)).await
            {
                tracing::warn!(error = %e, "session clean-up failed");
            }
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
    });
}
