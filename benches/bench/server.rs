//! The real server: the release `taskbridge` binary, started with `serve` as it is
//! deployed (its own process, so its memory can be read from /proc).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::proc::{self, Child};

pub const SECRET_KEY: &str = "bench-secret-key-0123456789abcdef0123456789abcdef";
pub const PASSWORD: &str = "bench-password-7d41";

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub origin: String,
}

impl Server {
    /// Starts `taskbridge serve` on a free port over `database_url`, with the sandbox
    /// off and automatic sync far away (nothing syncs by itself during a measurement),
    /// in `dir` (so no `.env` of the caller's is read), logging to `log`.
    pub fn start(database_url: &str, dir: &Path, log: &Path) -> anyhow::Result<Self> {
        Self::start_with(database_url, dir, log, &[])
    }

    /// [`Server::start`] with more (or other) environment variables, set last.
    pub fn start_with(
        database_url: &str,
        dir: &Path,
        log: &Path,
        env: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let port = proc::free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let origin = format!("http://{addr}");
        let (out, err) = proc::log_to(log)?;
        // `BENCH_SERVER_BIN` runs another build of the server (a kept "before" binary,
        // for before/after runs interleaved on a noisy machine).
        let bin = std::env::var_os("BENCH_SERVER_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_taskbridge").into());
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .current_dir(dir)
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("TASKBRIDGE_BIND", &addr)
            .env("TASKBRIDGE_BASE_URL", &origin)
            .env("TASKBRIDGE_SECRET_KEY", SECRET_KEY)
            .env("TASKBRIDGE_SANDBOX", "off")
            .env("TASKBRIDGE_SYNC_INTERVAL_SECS", "86400")
            // Nothing listens there: a connection that did come due would fail fast.
            .env(
                "TASKBRIDGE_PIVOTAL_API_URL",
                "http://127.0.0.1:9/services/v5",
            )
            // The API's per-token rate limit is off: one token asks thousands of
            // times a second here (the limit's own cost is a map lookup under a lock).
            .env("TASKBRIDGE_API_RATE_PER_MINUTE", "0")
            .stdout(out)
            .stderr(err);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Ok(filter) = std::env::var("BENCH_SERVER_LOG") {
            cmd.env("RUST_LOG", filter);
        }
        // glibc's allocator settings reach the server as they would in a deployment.
        for (k, v) in
            std::env::vars().filter(|(k, _)| k.starts_with("MALLOC_") || k.starts_with("MIMALLOC_"))
        {
            cmd.env(k, v);
        }
        let mut child = Child::spawn(cmd, "taskbridge server")?;
        proc::wait_until_up(&addr, "/healthz", &mut child, Duration::from_secs(120))?;
        Ok(Self {
            child,
            addr,
            origin,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Signs in as `email`; returns the session cookie.
    pub fn sign_in(&self, email: &str) -> anyhow::Result<String> {
        Ok(crate::http::block_on(crate::http::sign_in(
            &self.addr,
            &self.origin,
            taskbridge::SESSION_COOKIE,
            email,
            PASSWORD,
        ))?)
    }

    /// GETs `path` once with `cookie`; returns the status and the page.
    pub fn get(&self, path: &str, cookie: &str) -> anyhow::Result<(u16, String)> {
        let r = crate::http::block_on(crate::http::once(
            &self.addr,
            "GET",
            path,
            &[("Cookie", cookie)],
            b"",
        ))?;
        Ok((r.status, r.text()))
    }
}
