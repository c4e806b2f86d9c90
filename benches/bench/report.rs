//! The results table (plain text on standard output, Markdown in
//! `target/bench-results.md`) and the machine it was measured on.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Miss,
    /// A check (not a target) that failed.
    Fail,
    /// A figure with no target.
    Info,
}

impl Verdict {
    pub fn of(pass: bool) -> Self {
        if pass {
            Verdict::Pass
        } else {
            Verdict::Miss
        }
    }

    /// PASS or FAIL, for a check.
    pub fn check(pass: bool) -> Self {
        if pass {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Miss => "MISS",
            Verdict::Fail => "FAIL",
            Verdict::Info => "",
        }
    }
}

pub struct Row {
    pub point: &'static str,
    pub what: String,
    pub value: String,
    pub against: String,
    pub target: String,
    pub verdict: Verdict,
}

pub fn row(
    point: &'static str,
    what: impl Into<String>,
    value: impl Into<String>,
    against: impl Into<String>,
    target: impl Into<String>,
    verdict: Verdict,
) -> Row {
    Row {
        point,
        what: what.into(),
        value: value.into(),
        against: against.into(),
        target: target.into(),
        verdict,
    }
}

pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

pub fn secs(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1} s")
    } else {
        format!("{v:.2} s")
    }
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// 12345.6 → "12,346".
pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub postgres: Option<String>,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_else(|| "unknown CPU".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kb| format!("{:.1} GiB", kb / (1024.0 * 1024.0)))
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.into());
        Self {
            cpu,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory,
            kernel,
            postgres: None,
        }
    }

    pub fn describe(&self) -> String {
        let mut s = format!(
            "{}, {} cores, {} memory, {}",
            self.cpu, self.cores, self.memory, self.kernel
        );
        if let Some(pg) = &self.postgres {
            let _ = write!(s, ", {pg}");
        }
        s
    }
}

const HEADERS: [&str; 6] = ["#", "measure", "value", "compared with", "target", "result"];

fn cells(r: &Row) -> [String; 6] {
    [
        r.point.to_owned(),
        r.what.clone(),
        r.value.clone(),
        r.against.clone(),
        r.target.clone(),
        r.verdict.label().to_owned(),
    ]
}

pub fn text_table(rows: &[Row]) -> String {
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(cells(r)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [String; 6]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i > 0 {
                s.push_str(" | ");
            }
            let _ = write!(s, "{c:<w$}");
        }
        s.trim_end().to_owned()
    };
    let mut out = line(HEADERS.map(str::to_owned));
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(cells(r)));
        out.push('\n');
    }
    out
}

pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n", HEADERS.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADERS.len())));
    for r in rows {
        let c = cells(r).map(|c| c.replace('|', "\\|"));
        let _ = writeln!(out, "| {} |", c.join(" | "));
    }
    out
}
