//! A per-token rate limit, in memory in each instance: a token bucket per API token
//! that holds a minute's worth of requests and refills evenly. Several instances each
//! allow the rate (the limit is per instance, not global); a restart forgets it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Past this many tokens tracked, full buckets are forgotten (they hold no state).
const PRUNE_AT: usize = 10_000;

impl RateLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the token's bucket; `Err(secs)`: retry after that long.
    pub fn check(&self, token_id: i64) -> Result<(), u64> {
        self.check_at(token_id, Instant::now())
    }

    fn check_at(&self, token_id: i64, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        // A poisoned lock only means another request panicked mid-update: the
        // buckets are still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < capacity
            });
        }
        let bucket = buckets.entry(token_id).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * per_sec;
        bucket.tokens = (bucket.tokens + refilled).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_sec).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_token_gets_a_minutes_worth_then_waits_and_others_are_unaffected() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for _ in 0..60 {
            assert!(limiter.check_at(1, start).is_ok());
        }
        assert_eq!(limiter.check_at(1, start), Err(1));
        assert!(limiter.check_at(2, start).is_ok(), "per token");
        assert!(limiter.check_at(1, start + Duration::from_secs(1)).is_ok());
        assert!(RateLimiter::new(0).check_at(1, start).is_ok(), "0 is off");
    }
}
