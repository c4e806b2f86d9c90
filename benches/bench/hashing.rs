//! Point 4's other half: the Argon2id parameters. OWASP's password storage cheat sheet
//! gives five settings of equal strength against a GPU guesser (memory × passes about
//! the same); they differ in the memory each hash holds and in the time it takes. Each
//! is measured here in this process, side by side: the time of one hash alone, and the
//! hashes a second with one per core at once (what a burst of sign-ins can get through
//! with no gate), so the choice in `src/auth/password.rs` is made with figures.

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::report::{row, Verdict};
use crate::Suite;

/// OWASP's equal-strength Argon2id settings: memory in KiB, passes.
const SETTINGS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

/// The setting `src/auth/password.rs` uses.
const IN_USE: (u32, u32) = (12_288, 3);

fn hasher(m: u32, t: u32) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(m, t, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// One hash of a sign-in's password, as the server makes it.
fn hash_once(argon: &Argon2<'_>) -> anyhow::Result<Duration> {
    let salt =
        SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    argon
        .hash_password(b"correct horse battery staple", &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(started.elapsed())
}

/// The median time of `n` hashes in a row on one thread.
fn median_alone(m: u32, t: u32, n: usize) -> anyhow::Result<Duration> {
    let argon = hasher(m, t)?;
    hash_once(&argon)?;
    let mut times = (0..n)
        .map(|_| hash_once(&argon))
        .collect::<anyhow::Result<Vec<_>>>()?;
    times.sort();
    Ok(times[n / 2])
}

/// Hashes a second with `threads` hashing at once for `seconds`.
fn rate_together(m: u32, t: u32, threads: usize, seconds: f64) -> anyhow::Result<f64> {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let counts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || -> anyhow::Result<u32> {
                    let argon = hasher(m, t)?;
                    let mut n = 0;
                    while Instant::now() < until {
                        hash_once(&argon)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<u32>>>()
    })?;
    let total: u32 = counts.iter().sum();
    Ok(f64::from(total) / started.elapsed().as_secs_f64())
}

impl Suite {
    /// The Argon2id settings side by side (`BENCH_ONLY=hash`, and in a full run).
    pub(crate) fn hashing_point(&mut self) -> anyhow::Result<()> {
        self.say("Argon2id: OWASP's equal-strength settings side by side");
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (n, seconds) = if self.cfg.quick { (5, 1.0) } else { (11, 3.0) };
        // Interleaved rounds: each setting measured once a round, the best round kept,
        // so a burst of other work on the machine does not fall on one setting alone.
        let mut figures = vec![(Duration::MAX, 0.0_f64); SETTINGS.len()];
        for _ in 0..2 {
            for (i, &(m, t)) in SETTINGS.iter().enumerate() {
                let alone = median_alone(m, t, n)?;
                let together = rate_together(m, t, cores, seconds)?;
                figures[i].0 = figures[i].0.min(alone);
                figures[i].1 = figures[i].1.max(together);
            }
        }
        let in_use = SETTINGS
            .iter()
            .position(|s| *s == IN_USE)
            .map_or(Duration::MAX, |i| figures[i].0);
        for (&(m, t), (alone, together)) in SETTINGS.iter().zip(figures) {
            let mark = if (m, t) == IN_USE { " (in use)" } else { "" };
            self.rows.push(row(
                "4",
                format!("Argon2id m={} MiB, t={t}{mark}: one hash alone", m / 1024),
                format!("{:.1} ms", alone.as_secs_f64() * 1000.0),
                format!(
                    "{:.2}× the setting in use; {together:.1} hashes/s with {cores} at once, {} MiB held",
                    alone.as_secs_f64() / in_use.as_secs_f64(),
                    m as usize * cores / 1024
                ),
                "",
                Verdict::Info,
            ));
        }
        Ok(())
    }
}
