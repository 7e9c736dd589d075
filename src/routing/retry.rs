//! Retry pacing: exponential backoff with full jitter, a retry budget and a total deadline.
//!
//! # Use from the attempt loop
//! ```text
//! budget.record_request(now)                    once per client request
//! deadline = Deadline::new(start, total)        once per client request
//! before each retry (attempt n ≥ 1):
//!   budget.try_retry(now)        false -> stop, answer with the last error (x-should-retry: false)
//!   delay = backoff.delay(n - 1, rand())        only when re-trying a target already tried, or
//!                                               when every target failed and the loop starts over
//!   deadline.fits(now, delay)    false -> stop
//!   per-attempt timeout = deadline.clamp(now, target first-byte timeout)
//! ```
//!
//! # Budget
//! Retries may not exceed `ratio` × requests over the sliding `window`, plus `min_per_sec` ×
//! window seconds so a quiet gateway can still retry (Linkerd's 20 % + 10/s, Envoy's 20 % +
//! 3). Counts live in 10 time buckets of atomics: recording is two `fetch_add`s, checking sums
//! 20 relaxed loads; no lock. Two approximations, both bounded and documented: a bucket being
//! recycled can lose increments made in the same instant by other threads, and concurrent
//! `try_retry` calls can overshoot the allowance by at most the number of threads racing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
/// Jitter"): retry `n` (0-based) waits a uniform random time in `[0, min(cap, base · 2ⁿ)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The upper bound of retry `attempt`'s delay: `min(cap, base · 2^attempt)`, overflow-free.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The delay before retry `attempt`, with `rand` uniform in `[0, 1)` (clamped).
    pub fn delay(&self, attempt: u32, rand: f64) -> Duration {
        let r = if rand.is_finite() {
            rand.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.ceiling(attempt).mul_f64(r)
    }
}

/// A deadline for all attempts of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// `total` after `start`.
    pub fn new(start: Instant, total: Duration) -> Self {
        Self { at: start + total }
    }

    /// When it expires.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// Time left (zero once expired).
    pub fn remaining(&self, now: Instant) -> Duration {
        self.at.saturating_duration_since(now)
    }

    pub fn expired(&self, now: Instant) -> bool {
        now >= self.at
    }

    /// Whether waiting `delay` still leaves time for an attempt.
    pub fn fits(&self, now: Instant, delay: Duration) -> bool {
        delay < self.remaining(now)
    }

    /// A per-attempt timeout cut to the time left; `None` once expired.
    pub fn clamp(&self, now: Instant, per_attempt: Duration) -> Option<Duration> {
        let left = self.remaining(now);
        (!left.is_zero()).then(|| per_attempt.min(left))
    }
}

/// Thresholds of a [`RetryBudget`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudgetConfig {
    /// Retries allowed per request over the window (0.2 = 20 %).
    pub ratio: f64,
    /// Retries per second allowed regardless of traffic.
    pub min_per_sec: f64,
    /// Sliding window length (10 buckets).
    pub window: Duration,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        Self {
            ratio: 0.2,
            min_per_sec: 3.0,
            window: Duration::from_secs(10),
        }
    }
}

const BUCKETS: usize = 10;

#[derive(Debug, Default)]
struct Bucket {
    seq: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
}

/// A gateway-wide (or per-route) retry budget shared by all worker threads.
#[derive(Debug)]
pub struct RetryBudget {
    cfg: RetryBudgetConfig,
    epoch: Instant,
    bucket_nanos: u128,
    buckets: [Bucket; BUCKETS],
}

impl RetryBudget {
    /// A budget whose time buckets count from `epoch` (any instant not after the first use).
    pub fn new(cfg: RetryBudgetConfig, epoch: Instant) -> Self {
        Self {
            cfg,
            epoch,
            bucket_nanos: (cfg.window.as_nanos() / BUCKETS as u128).max(1),
            buckets: Default::default(),
        }
    }

    pub fn config(&self) -> RetryBudgetConfig {
        self.cfg
    }

    /// Counts one client request.
    pub fn record_request(&self, now: Instant) {
        self.current(now).requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one retry from the budget if it has room.
    pub fn try_retry(&self, now: Instant) -> bool {
        if self.remaining(now) < 1.0 {
            return false;
        }
        self.current(now).retries.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Retries still allowed in the current window (may be fractional).
    pub fn remaining(&self, now: Instant) -> f64 {
        let (requests, retries) = self.totals(now);
        let window_secs = self.cfg.window.as_secs_f64();
        let allowance =
            self.cfg.ratio.max(0.0) * requests as f64 + self.cfg.min_per_sec.max(0.0) * window_secs;
        allowance - retries as f64
    }

    /// (requests, retries) over the window ending at `now`.
    pub fn totals(&self, now: Instant) -> (u64, u64) {
        let seq = self.seq(now);
        self.buckets
            .iter()
            .filter(|b| {
                let s = b.seq.load(Ordering::Acquire);
                s != 0 && s <= seq && s + BUCKETS as u64 > seq
            })
            .fold((0, 0), |(q, r), b| {
                (
                    q + b.requests.load(Ordering::Relaxed),
                    r + b.retries.load(Ordering::Relaxed),
                )
            })
    }

    /// 1-based bucket sequence number of `now`.
    fn seq(&self, now: Instant) -> u64 {
        let n = now.saturating_duration_since(self.epoch).as_nanos() / self.bucket_nanos;
        u64::try_from(n).unwrap_or(u64::MAX - 1) + 1
    }

    /// The bucket of `now`, recycled first if it still holds an older window's counts.
    fn current(&self, now: Instant) -> &Bucket {
        let seq = self.seq(now);
        let b = &self.buckets[(seq % BUCKETS as u64) as usize];
        let cur = b.seq.load(Ordering::Acquire);
        if cur < seq
            && b.seq
                .compare_exchange(cur, seq, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            b.requests.store(0, Ordering::Relaxed);
            b.retries.store(0, Ordering::Relaxed);
        }
        b
    }
}

#[cfg(test)]
mod tests;
