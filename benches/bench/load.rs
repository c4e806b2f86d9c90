//! The load process: this same executable started again with `__load <spec>`, so the
//! requests come from another process over loopback, as from a browser. It runs on
//! one thread, for a fixed time and a bounded number of requests, and prints what it
//! measured as one line of JSON.

use std::cell::RefCell;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::http::{self, Conn};
use crate::proc::Child;

/// What to ask for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Spec {
    Get(GetLoad),
    SignIns(SignInLoad),
    Timer(TimerLoad),
    ApiTimer(ApiTimerLoad),
}

/// `connections` keep-alive connections asking for `path` back to back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetLoad {
    pub addr: String,
    pub path: String,
    pub cookie: Option<String>,
    pub connections: usize,
    pub seconds: f64,
    pub max_requests: u64,
    /// Text every answer must contain (checked on the first answer of each connection).
    pub expect: String,
    /// More request headers (`Authorization`, `If-None-Match`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The status every answer must have.
    #[serde(default = "ok_status")]
    pub status: u16,
}

fn ok_status() -> u16 {
    200
}

/// Sign-ins at a steady rate, each a GET of the form and a POST of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInLoad {
    pub addr: String,
    pub origin: String,
    pub cookie_name: String,
    pub emails: Vec<String>,
    pub password: String,
    pub per_second: f64,
    pub seconds: f64,
}

/// One signed-in person pressing Start on a task and then Stop, over and over, on
/// one keep-alive connection, as the forms post them (CSRF token, `Origin`); a round
/// trip is the two answers (303s). At most `per_second` round trips a second.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimerLoad {
    pub addr: String,
    pub origin: String,
    pub cookie_name: String,
    pub cookie: String,
    pub csrf_token: String,
    /// The person's open tasks, started in turn.
    pub task_ids: Vec<i64>,
    pub per_second: f64,
    pub seconds: f64,
}

/// A desktop client of the API starting the timer on a task and stopping it, over and
/// over, on one keep-alive connection (`POST /api/v1/timer/start` with
/// `{"task_id": …}`, then `POST /api/v1/timer/stop`, each a 200); a round trip is the
/// two answers. At most `per_second` round trips a second.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiTimerLoad {
    pub addr: String,
    /// The bearer token.
    pub token: String,
    /// The person's open tasks, started in turn.
    pub task_ids: Vec<i64>,
    pub per_second: f64,
    pub seconds: f64,
}

/// What one load run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Measured {
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Latency of every successful request, in microseconds.
    pub latencies_us: Vec<u32>,
    pub first_error: Option<String>,
    /// Bytes of the answers' bodies.
    #[serde(default)]
    pub bytes: u64,
    /// CPU seconds the server used meanwhile (filled in by the suite).
    #[serde(default)]
    pub server_cpu: f64,
}

impl Measured {
    pub fn merge(runs: &[Measured]) -> Measured {
        let mut all = Measured::default();
        for r in runs {
            all.ok += r.ok;
            all.errors += r.errors;
            all.seconds += r.seconds;
            all.latencies_us.extend_from_slice(&r.latencies_us);
            all.server_cpu += r.server_cpu;
            all.bytes += r.bytes;
            if all.first_error.is_none() {
                all.first_error = r.first_error.clone();
            }
        }
        all
    }

    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Server CPU time per successful request, in microseconds.
    pub fn cpu_us_per_request(&self) -> f64 {
        self.server_cpu * 1e6 / self.ok.max(1) as f64
    }

    /// Cores the server kept busy on average.
    pub fn server_cores(&self) -> f64 {
        self.server_cpu / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// Average body size, in KiB.
    pub fn page_kib(&self) -> f64 {
        self.bytes as f64 / self.ok.max(1) as f64 / 1024.0
    }

    /// The `q` quantile of latency, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 1000.0
    }

    pub fn p50(&self) -> f64 {
        self.quantile_ms(0.50)
    }

    pub fn p99(&self) -> f64 {
        self.quantile_ms(0.99)
    }
}

/// A load process that has been started.
pub struct Running {
    child: Child,
    limit: Duration,
}

/// Starts the load process for `spec`.
pub fn start(spec: &Spec) -> anyhow::Result<Running> {
    let seconds = match spec {
        Spec::Get(g) => g.seconds,
        Spec::SignIns(s) => s.seconds,
        Spec::Timer(t) => t.seconds,
        Spec::ApiTimer(t) => t.seconds,
    };
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("__load")
        .arg(serde_json::to_string(spec)?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    Ok(Running {
        child: Child::spawn(cmd, "load")?,
        limit: Duration::from_secs_f64(seconds + 30.0),
    })
}

impl Running {
    pub fn finish(self) -> anyhow::Result<Measured> {
        let out = self.child.output_within(self.limit)?;
        let line = out.lines().last().unwrap_or("");
        serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("the load process printed no result ({e}): {out:.200}"))
    }
}

/// Runs one load and waits for its figures.
pub fn run(spec: &Spec) -> anyhow::Result<Measured> {
    start(spec)?.finish()
}

/// Runs one load against the server process `pid` and notes the CPU it used.
pub fn run_against(spec: &Spec, pid: u32) -> anyhow::Result<Measured> {
    let before = crate::proc::cpu_secs(pid);
    let mut measured = run(spec)?;
    measured.server_cpu = crate::proc::cpu_secs(pid) - before;
    Ok(measured)
}

/// The load process's `main`.
pub fn child_main(spec: &str) -> anyhow::Result<()> {
    crate::proc::die_with_parent();
    let spec: Spec = serde_json::from_str(spec)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let measured = rt.block_on(tokio::task::LocalSet::new().run_until(async {
        match spec {
            Spec::Get(load) => get_load(load).await,
            Spec::SignIns(load) => sign_in_load(load).await,
            Spec::Timer(load) => timer_load(load).await,
            Spec::ApiTimer(load) => api_timer_load(load).await,
        }
    }));
    println!("{}", serde_json::to_string(&measured)?);
    Ok(())
}

struct Shared {
    measured: Measured,
    started: u64,
}

async fn get_load(load: GetLoad) -> Measured {
    let GetLoad {
        addr,
        path,
        cookie,
        connections,
        seconds,
        max_requests,
        expect,
        headers: extra,
        status,
    } = load;
    let shared = Rc::new(RefCell::new(Shared {
        measured: Measured::default(),
        started: 0,
    }));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (shared, addr, path, cookie, expect, extra) = (
            shared.clone(),
            addr.clone(),
            path.clone(),
            cookie.clone(),
            expect.clone(),
            extra.clone(),
        );
        tasks.push(tokio::task::spawn_local(async move {
            let mut conn: Option<Conn> = None;
            let mut checked = false;
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                {
                    let mut s = shared.borrow_mut();
                    if s.started >= max_requests {
                        break;
                    }
                    s.started += 1;
                }
                let headers: Vec<(&str, &str)> = cookie
                    .as_deref()
                    .map(|c| ("Cookie", c))
                    .into_iter()
                    .chain(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .collect();
                let began = Instant::now();
                let result = async {
                    if conn.is_none() {
                        conn = Some(Conn::open(&addr).await?);
                    }
                    match conn.as_mut() {
                        Some(c) => c.send("GET", &path, &headers, b"").await,
                        None => Err(std::io::Error::other("no connection")),
                    }
                }
                .await;
                let took = began.elapsed();
                let mut s = shared.borrow_mut();
                match result {
                    Ok(r) if r.status == status && (checked || r.text().contains(&expect)) => {
                        checked = true;
                        s.measured.ok += 1;
                        s.measured.bytes += r.body.len() as u64;
                        s.measured.latencies_us.push(took.as_micros() as u32);
                        if r.closes {
                            conn = None;
                        }
                    }
                    Ok(r) => {
                        s.measured.errors += 1;
                        s.measured.first_error.get_or_insert_with(|| {
                            format!("{path} answered {} without {expect:?}", r.status)
                        });
                        conn = None;
                    }
                    Err(e) => {
                        s.measured.errors += 1;
                        s.measured
                            .first_error
                            .get_or_insert_with(|| format!("{path}: {e}"));
                        conn = None;
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut measured = std::mem::take(&mut shared.borrow_mut().measured);
    measured.seconds = start.elapsed().as_secs_f64();
    measured
}

async fn sign_in_load(load: SignInLoad) -> Measured {
    let SignInLoad {
        addr,
        origin,
        cookie_name,
        emails,
        password,
        per_second,
        seconds,
    } = load;
    let shared = Rc::new(RefCell::new(Measured::default()));
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    let mut n = 0usize;
    while start.elapsed().as_secs_f64() < seconds {
        ticker.tick().await;
        let email = emails[n % emails.len()].clone();
        n += 1;
        let (shared, addr, origin, cookie_name, password) = (
            shared.clone(),
            addr.clone(),
            origin.clone(),
            cookie_name.clone(),
            password.clone(),
        );
        tasks.push(tokio::task::spawn_local(async move {
            let began = Instant::now();
            let result = http::sign_in(&addr, &origin, &cookie_name, &email, &password).await;
            let mut s = shared.borrow_mut();
            match result {
                Ok(_) => {
                    s.ok += 1;
                    s.latencies_us.push(began.elapsed().as_micros() as u32);
                }
                Err(e) => {
                    s.errors += 1;
                    s.first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut measured = std::mem::take(&mut *shared.borrow_mut());
    measured.seconds = start.elapsed().as_secs_f64();
    measured
}

async fn timer_load(load: TimerLoad) -> Measured {
    let TimerLoad {
        addr,
        origin,
        cookie_name,
        mut cookie,
        csrf_token,
        task_ids,
        per_second,
        seconds,
    } = load;
    let mut measured = Measured::default();
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<Conn> = None;
    let mut n = 0usize;
    while start.elapsed().as_secs_f64() < seconds {
        ticker.tick().await;
        let task = task_ids
            .get(n % task_ids.len().max(1))
            .copied()
            .unwrap_or(0);
        n += 1;
        let began = Instant::now();
        let result = async {
            for (path, body) in [
                (
                    "/timer/start",
                    format!("task_id={task}&csrf_token={csrf_token}&back=%2Ftasks"),
                ),
                (
                    "/timer/stop",
                    format!("csrf_token={csrf_token}&back=%2Ftasks"),
                ),
            ] {
                if conn.is_none() {
                    conn = Some(Conn::open(&addr).await?);
                }
                let Some(c) = conn.as_mut() else {
                    return Err(std::io::Error::other("no connection"));
                };
                let r = c
                    .send(
                        "POST",
                        path,
                        &[
                            ("Cookie", &cookie),
                            ("Origin", &origin),
                            ("Content-Type", "application/x-www-form-urlencoded"),
                        ],
                        body.as_bytes(),
                    )
                    .await?;
                if r.status != 303 || r.header("location") != Some("/tasks") {
                    return Err(std::io::Error::other(format!(
                        "{path} answered {} (location {:?})",
                        r.status,
                        r.header("location")
                    )));
                }
                if let Some(fresh) = r.cookie(&cookie_name) {
                    cookie = fresh;
                }
                if r.closes {
                    conn = None;
                }
            }
            Ok::<_, std::io::Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                measured.ok += 1;
                measured
                    .latencies_us
                    .push(began.elapsed().as_micros() as u32);
            }
            Err(e) => {
                measured.errors += 1;
                measured.first_error.get_or_insert_with(|| e.to_string());
                conn = None;
            }
        }
    }
    measured.seconds = start.elapsed().as_secs_f64();
    measured
}

async fn api_timer_load(load: ApiTimerLoad) -> Measured {
    let ApiTimerLoad {
        addr,
        token,
        task_ids,
        per_second,
        seconds,
    } = load;
    let bearer = format!("Bearer {token}");
    let mut measured = Measured::default();
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<Conn> = None;
    let mut n = 0usize;
    while start.elapsed().as_secs_f64() < seconds {
        ticker.tick().await;
        let task = task_ids
            .get(n % task_ids.len().max(1))
            .copied()
            .unwrap_or(0);
        n += 1;
        let began = Instant::now();
        let result = async {
            for (path, body) in [
                ("/api/v1/timer/start", format!("{{\"task_id\":{task}}}")),
                ("/api/v1/timer/stop", String::new()),
            ] {
                if conn.is_none() {
                    conn = Some(Conn::open(&addr).await?);
                }
                let Some(c) = conn.as_mut() else {
                    return Err(std::io::Error::other("no connection"));
                };
                let mut headers = vec![("Authorization", bearer.as_str())];
                if !body.is_empty() {
                    headers.push(("Content-Type", "application/json"));
                }
                let r = c.send("POST", path, &headers, body.as_bytes()).await?;
                if r.status != 200 {
                    return Err(std::io::Error::other(format!(
                        "{path} answered {}: {:.200}",
                        r.status,
                        r.text()
                    )));
                }
                if r.closes {
                    conn = None;
                }
            }
            Ok::<_, std::io::Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                measured.ok += 1;
                measured
                    .latencies_us
                    .push(began.elapsed().as_micros() as u32);
            }
            Err(e) => {
                measured.errors += 1;
                measured.first_error.get_or_insert_with(|| e.to_string());
                conn = None;
            }
        }
    }
    measured.seconds = start.elapsed().as_secs_f64();
    measured
}
