//! Time-to-first-byte tracking of one target: an EWMA, a p95 baseline of the target's own
//! recent latencies, "degraded" detection and the traffic weight multiplier that follows it.
//!
//! **Baseline.** A fixed ring of the last `baseline_samples` TTFBs (default 64) and its exact
//! p95, recomputed when a sample enters the ring (a `select_nth_unstable` over ≤ 256 `u32`s in a
//! reused scratch buffer: a few hundred nanoseconds, no allocation after warm-up). A ring was
//! chosen over a streaming estimator (P², t-digest) because it is exact, forgets old traffic by
//! construction and is trivially testable. It only applies once `min_baseline_samples` are in.
//!
//! **Keeping the baseline honest.** Samples above the p95 are held back while a streak of them
//! builds: if the streak breaks before `degraded_after`, they were ordinary tail latency and
//! join the ring; if it reaches `degraded_after` the target is *degraded* and they are dropped,
//! as is every sample taken while degraded. Otherwise five slow samples in a ring of 64 would
//! raise the p95 to the slow level and hide the very slowdown they signal.
//!
//! **Weight.** Each slow observation that starts or continues a degraded period multiplies the
//! weight factor by `weight_decay` (default 0.5), down to `weight_floor` (default 0.05, the
//! canary share); each observation at or below the baseline adds `weight_recovery` (default
//! 0.1), up to 1. A target degraded for longer than `rebaseline_after` is taken to have a new
//! normal: the ring is cleared and re-learned.

use std::time::{Duration, Instant};

/// Latency thresholds of a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyConfig {
    /// EWMA smoothing: weight of the newest sample (0 < alpha ≤ 1).
    pub ewma_alpha: f64,
    /// Ring size of the p95 baseline (clamped to 8..=256).
    pub baseline_samples: usize,
    /// Samples needed before the baseline is used.
    pub min_baseline_samples: usize,
    /// Consecutive samples above the baseline p95 that make the target degraded.
    pub degraded_after: u32,
    /// Weight multiplier applied per degraded observation.
    pub weight_decay: f64,
    /// Lowest weight factor: the canary share a degraded target keeps.
    pub weight_floor: f64,
    /// Weight factor regained per observation at or below the baseline.
    pub weight_recovery: f64,
    /// A target degraded this long re-learns its baseline.
    pub rebaseline_after: Duration,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            ewma_alpha: 0.2,
            baseline_samples: 64,
            min_baseline_samples: 20,
            degraded_after: 5,
            weight_decay: 0.5,
            weight_floor: 0.05,
            weight_recovery: 0.1,
            rebaseline_after: Duration::from_secs(600),
        }
    }
}

/// One target's latency state.
#[derive(Debug)]
pub(super) struct Latency {
    ewma_us: Option<f64>,
    ring: Vec<u32>,
    next: usize,
    scratch: Vec<u32>,
    p95_us: Option<u32>,
    pending: Vec<u32>,
    degraded_since: Option<Instant>,
    factor: f64,
}

impl Latency {
    pub(super) fn new() -> Self {
        Self {
            ewma_us: None,
            ring: Vec::new(),
            next: 0,
            scratch: Vec::new(),
            p95_us: None,
            pending: Vec::new(),
            degraded_since: None,
            factor: 1.0,
        }
    }

    pub(super) fn ewma_ms(&self) -> Option<f64> {
        self.ewma_us.map(|us| us / 1000.0)
    }

    pub(super) fn p95_ms(&self) -> Option<f64> {
        self.p95_us.map(|us| f64::from(us) / 1000.0)
    }

    pub(super) fn degraded(&self) -> bool {
        self.degraded_since.is_some()
    }

    pub(super) fn factor(&self) -> f64 {
        self.factor
    }

    /// Records the time to first byte of a successful attempt.
    pub(super) fn on_sample(&mut self, now: Instant, ttfb: Duration, cfg: &LatencyConfig) {
        let us = u32::try_from(ttfb.as_micros()).unwrap_or(u32::MAX);
        let alpha = cfg.ewma_alpha.clamp(f64::MIN_POSITIVE, 1.0);
        self.ewma_us = Some(match self.ewma_us {
            Some(e) => e + alpha * (f64::from(us) - e),
            None => f64::from(us),
        });
        let Some(p95) = self.p95_us else {
            self.commit(us, cfg);
            self.recover(cfg);
            return;
        };
        if us <= p95 {
            self.degraded_since = None;
            for s in std::mem::take(&mut self.pending) {
                self.commit(s, cfg);
            }
            self.commit(us, cfg);
            self.recover(cfg);
            return;
        }
        if let Some(since) = self.degraded_since {
            self.decay(cfg);
            if now.saturating_duration_since(since) >= cfg.rebaseline_after {
                self.rebaseline(us);
            }
            return;
        }
        self.pending.push(us);
        if self.pending.len() >= cfg.degraded_after.max(1) as usize {
            self.pending.clear();
            self.degraded_since = Some(now);
            self.decay(cfg);
        }
    }

    fn decay(&mut self, cfg: &LatencyConfig) {
        let floor = cfg.weight_floor.clamp(0.0, 1.0);
        self.factor = (self.factor * cfg.weight_decay.clamp(0.0, 1.0)).max(floor);
    }

    fn recover(&mut self, cfg: &LatencyConfig) {
        self.factor = (self.factor + cfg.weight_recovery.max(0.0)).min(1.0);
    }

    /// Forgets the old baseline: `us` is the first sample of the new one.
    fn rebaseline(&mut self, us: u32) {
        self.ring.clear();
        self.next = 0;
        self.p95_us = None;
        self.pending.clear();
        self.degraded_since = None;
        self.ring.push(us);
    }

    fn commit(&mut self, us: u32, cfg: &LatencyConfig) {
        let cap = cfg.baseline_samples.clamp(8, 256);
        if self.ring.len() < cap {
            self.ring.push(us);
        } else {
            self.ring.truncate(cap);
            self.ring[self.next % cap] = us;
        }
        self.next = (self.next + 1) % cap;
        if self.ring.len() >= cfg.min_baseline_samples.clamp(1, cap) {
            self.p95_us = Some(p95(&self.ring, &mut self.scratch));
        }
    }
}

/// The nearest-rank 95th percentile of `samples` (non-empty).
fn p95(samples: &[u32], scratch: &mut Vec<u32>) -> u32 {
    scratch.clear();
    scratch.extend_from_slice(samples);
    let rank = (samples.len() * 95).div_ceil(100).max(1) - 1;
    *scratch.select_nth_unstable(rank).1
}

#[cfg(test)]
mod tests {
    use super::p95;

    /// Nearest rank: 95th of 1..=100 is 95, of 1..=20 is 19, of one sample is itself.
    #[test]
    fn nearest_rank_p95() {
        let mut s = Vec::new();
        let hundred: Vec<u32> = (1..=100).rev().collect();
        assert_eq!(p95(&hundred, &mut s), 95);
        let twenty: Vec<u32> = (1..=20).collect();
        assert_eq!(p95(&twenty, &mut s), 19);
        assert_eq!(p95(&[7], &mut s), 7);
    }
}
