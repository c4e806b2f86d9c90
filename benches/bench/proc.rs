//! Child processes that never outlive the suite: killed when dropped (on every exit
//! path, panics included), and told by the kernel to die if the suite dies first.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Child {
    inner: Option<std::process::Child>,
    name: &'static str,
}

/// Asks the kernel to end this process when its parent ends.
pub fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on the calling process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

impl Child {
    pub fn spawn(mut cmd: Command, name: &'static str) -> anyhow::Result<Self> {
        // SAFETY: only an async-signal-safe system call runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let inner = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start the {name} process: {e}"))?;
        Ok(Self {
            inner: Some(inner),
            name,
        })
    }

    pub fn pid(&self) -> u32 {
        self.inner.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Fails when the process has already ended.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(c) = self.inner.as_mut() {
            if let Some(status) = c.try_wait()? {
                anyhow::bail!("the {} process ended early: {status}", self.name);
            }
        }
        Ok(())
    }

    /// Sends SIGINT (a profiler then writes out what it recorded) and waits for the end.
    pub fn interrupt(mut self, limit: Duration) {
        if let Some(c) = self.inner.as_mut() {
            // SAFETY: kill(2) on the id of a child we started and have not reaped.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGINT);
            }
            let deadline = Instant::now() + limit;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    self.inner = None;
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Waits for the process to end by itself within `limit` and returns what it
    /// printed on standard output; kills it past the limit.
    pub fn output_within(mut self, limit: Duration) -> anyhow::Result<String> {
        let mut child = self
            .inner
            .take()
            .ok_or_else(|| anyhow::anyhow!("no process"))?;
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("stdout not captured"))?;
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the {} process took longer than {limit:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            anyhow::bail!("the {} process failed ({status})", self.name);
        }
        Ok(out)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(c) = self.inner.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Resident memory of a process, in bytes (`VmRSS`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time a process has used so far (user + system), in seconds.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / hz.max(1.0)
}

/// Samples a process's RSS every 50 ms until stopped; keeps the peak.
pub struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_bytes(pid).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        });
        Self { stop, handle }
    }

    pub fn peak(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

/// A port nobody listens on now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until `addr` answers `path` with 200.
pub fn wait_until_up(
    addr: &str,
    path: &str,
    child: &mut Child,
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        child.check_alive()?;
        let up = crate::http::block_on(crate::http::once(addr, "GET", path, &[], b""));
        if matches!(up, Ok(ref r) if r.status == 200) {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("{addr}{path} did not answer within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Standard output and error of a server, to a file (never an unread pipe).
pub fn log_to(path: &std::path::Path) -> anyhow::Result<(Stdio, Stdio)> {
    let file = std::fs::File::create(path)?;
    Ok((Stdio::from(file.try_clone()?), Stdio::from(file)))
}
