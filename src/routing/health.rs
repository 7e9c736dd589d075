//! Passive health of routing targets (a target is a provider + model), shared by all worker
//! threads: a circuit breaker, Retry-After blocking, failure counters by kind and latency
//! tracking with "degraded" detection. Pure bookkeeping over instants the caller passes in,
//! so every transition is testable without sleeping.
//!
//! # Use from the request path
//! ```text
//! registry.get(provider, model)          -> Arc<TargetHealth>   once per candidate
//! health.peek(now), weight_factor(),      -> facts for strategy::order (no side effects)
//!   ewma_ttfb_ms()
//! health.admit(now)                       -> Allow | Canary | Deny(reason), right before the
//!                                            attempt; Canary takes a half-open probe slot
//! then exactly one of
//!   health.record_success(now, ttfb)      first byte arrived and the answer is usable
//!   health.record_failure(now, kind)      a failover trigger (or a client error: neutral)
//!   health.record_abandoned(now)          the attempt was dropped without a verdict
//! health.block_until(until)               after a 429/503 carrying Retry-After
//! ```
//!
//! # Concurrency
//! Each [`TargetHealth`] keeps its state machine behind one `parking_lot::Mutex`, held for a
//! few dozen nanoseconds per call (no allocation, no I/O, no syscalls inside; the p95 refresh
//! is a selection over ≤ 256 integers). A transition touches several fields together (state,
//! consecutive count, window buckets, canary slots, latency ring); doing that with independent
//! atomics would need CAS loops and still admit torn states such as two threads both taking
//! the last canary slot. Contention is per target only. The two values strategies read for
//! every candidate of every request, the weight factor and the EWMA, are also published in
//! atomics after each update so ordering candidates takes no lock at all.
//!
//! [`HealthRegistry`] maps (provider name, model) to targets behind an `RwLock` taken for
//! reading on lookups; it is independent of the config, so it survives reloads: unknown keys
//! get fresh state, [`HealthRegistry::retain`] prunes keys that left the config.

mod breaker;
mod latency;
mod registry;
#[cfg(test)]
mod tests;

pub use breaker::{BreakerConfig, BreakerState};
pub use latency::LatencyConfig;
pub use registry::HealthRegistry;

use breaker::Breaker;
use latency::Latency;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// All health thresholds (one set for every target of a registry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthConfig {
    pub breaker: BreakerConfig,
    pub latency: LatencyConfig,
    /// Longest Retry-After window honoured by [`TargetHealth::retry_after`].
    pub max_retry_after: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            breaker: BreakerConfig::default(),
            latency: LatencyConfig::default(),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// Why an attempt failed. Every kind is counted; only [`FailureKind::counts_against_health`]
/// kinds move the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// Connect or TLS error: nothing was sent.
    Connect,
    /// No first byte within the target's deadline.
    Timeout,
    /// 429.
    RateLimited,
    /// 5xx, including 529 (overloaded).
    Server,
    /// The upstream stream's first event was an error, or it broke before any output.
    Stream,
    /// The prompt did not fit the model's context window: a property of the request.
    ContextWindow,
    /// Any other 4xx: the client's mistake.
    Client,
}

impl FailureKind {
    /// Every kind, in snapshot order.
    pub const ALL: [FailureKind; 7] = [
        Self::Connect,
        Self::Timeout,
        Self::RateLimited,
        Self::Server,
        Self::Stream,
        Self::ContextWindow,
        Self::Client,
    ];

    /// Whether this failure says something about the target's health.
    pub fn counts_against_health(self) -> bool {
        !matches!(self, Self::ContextWindow | Self::Client)
    }

    /// Classifies an upstream HTTP status; `None` for success statuses.
    pub fn from_status(status: u16) -> Option<Self> {
        match status {
            429 => Some(Self::RateLimited),
            500..=599 => Some(Self::Server),
            400..=499 => Some(Self::Client),
            _ => None,
        }
    }

    /// Metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::RateLimited => "rate_limited",
            Self::Server => "server_error",
            Self::Stream => "stream_error",
            Self::ContextWindow => "context_window",
            Self::Client => "client_error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The answer of [`TargetHealth::admit`] and [`TargetHealth::peek`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Healthy: send.
    Allow,
    /// Half-open: send as a probe; its outcome decides the breaker.
    Canary,
    /// Do not send.
    Deny(DenyReason),
}

impl Admission {
    /// Allow or Canary.
    pub fn is_allowed(self) -> bool {
        !matches!(self, Self::Deny(_))
    }
}

/// Why a target refuses requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The breaker is open until then.
    Open { until: Instant },
    /// Half-open and every canary slot is taken.
    HalfOpenBusy,
    /// Inside a Retry-After window.
    RetryAfter { until: Instant },
}

impl DenyReason {
    /// Metric / log label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open { .. } => "breaker_open",
            Self::HalfOpenBusy => "half_open_busy",
            Self::RetryAfter { .. } => "retry_after",
        }
    }
}

/// A point-in-time view of one target for metrics and the admin API.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    pub state: BreakerState,
    /// Until when an open breaker refuses requests.
    pub open_until: Option<Instant>,
    /// Until when a Retry-After window refuses requests (only if still in the future).
    pub blocked_until: Option<Instant>,
    pub consecutive_failures: u32,
    pub times_opened: u64,
    pub successes: u64,
    /// Failure counts, indexed like [`FailureKind::ALL`].
    pub failures: [u64; 7],
    pub ewma_ttfb_ms: Option<f64>,
    pub p95_baseline_ms: Option<f64>,
    pub degraded: bool,
    pub weight_factor: f64,
}

impl HealthSnapshot {
    /// The count of one failure kind.
    pub fn failures_of(&self, kind: FailureKind) -> u64 {
        self.failures[kind.index()]
    }
}

#[derive(Debug)]
struct Inner {
    cfg: HealthConfig,
    breaker: Breaker,
    latency: Latency,
    blocked_until: Option<Instant>,
    successes: u64,
    failures: [u64; 7],
}

/// The health of one target. Shared as `Arc<TargetHealth>` by every worker thread.
#[derive(Debug)]
pub struct TargetHealth {
    inner: Mutex<Inner>,
    /// `f64` bits of the weight factor.
    weight: AtomicU64,
    /// `f64` bits of the EWMA in ms; NaN until the first success.
    ewma_ms: AtomicU64,
}

impl TargetHealth {
    /// Fresh state: closed, no samples, weight factor 1.
    pub fn new(cfg: HealthConfig) -> Self {
        Self {
            inner: Mutex::new(Inner {
                cfg,
                breaker: Breaker::new(&cfg.breaker),
                latency: Latency::new(),
                blocked_until: None,
                successes: 0,
                failures: [0; 7],
            }),
            weight: AtomicU64::new(1.0_f64.to_bits()),
            ewma_ms: AtomicU64::new(f64::NAN.to_bits()),
        }
    }

    /// Takes the decision for an attempt about to be sent; a `Canary` holds a half-open probe
    /// slot until the outcome is recorded (or `canary_timeout` passes).
    pub fn admit(&self, now: Instant) -> Admission {
        let mut g = self.inner.lock();
        if let Some(until) = g.blocked_until.filter(|u| now < *u) {
            return Admission::Deny(DenyReason::RetryAfter { until });
        }
        let cfg = g.cfg.breaker;
        g.breaker.admit(now, &cfg)
    }

    /// What [`Self::admit`] would answer now, without side effects: for ordering candidates.
    pub fn peek(&self, now: Instant) -> Admission {
        let g = self.inner.lock();
        if let Some(until) = g.blocked_until.filter(|u| now < *u) {
            return Admission::Deny(DenyReason::RetryAfter { until });
        }
        g.breaker.peek(now, &g.cfg.breaker)
    }

    /// The attempt got a usable first byte after `ttfb`.
    pub fn record_success(&self, now: Instant, ttfb: Duration) {
        let mut g = self.inner.lock();
        let cfg = g.cfg;
        g.successes += 1;
        g.breaker.on_success(now, &cfg.breaker);
        g.latency.on_sample(now, ttfb, &cfg.latency);
        self.publish(&g);
    }

    /// The attempt failed with `kind`.
    pub fn record_failure(&self, now: Instant, kind: FailureKind) {
        let mut g = self.inner.lock();
        let cfg = g.cfg.breaker;
        g.failures[kind.index()] += 1;
        if kind.counts_against_health() {
            g.breaker.on_failure(now, &cfg);
        } else {
            g.breaker.on_neutral();
        }
    }

    /// An admitted attempt was dropped without an outcome (client went away, deadline hit
    /// before sending): frees its canary slot.
    pub fn record_abandoned(&self, _now: Instant) {
        self.inner.lock().breaker.on_neutral();
    }

    /// Refuses the target until `until` (extends, never shortens, a current window).
    pub fn block_until(&self, until: Instant) {
        let mut g = self.inner.lock();
        g.blocked_until = Some(g.blocked_until.map_or(until, |u| u.max(until)));
    }

    /// Honours a provider's Retry-After of `after`, capped at `max_retry_after`.
    pub fn retry_after(&self, now: Instant, after: Duration) {
        let cap = self.inner.lock().cfg.max_retry_after;
        self.block_until(now + after.min(cap));
    }

    /// Traffic multiplier in `[weight_floor, 1]`: below 1 while degraded or recovering.
    pub fn weight_factor(&self) -> f64 {
        f64::from_bits(self.weight.load(Ordering::Relaxed))
    }

    /// EWMA of time to first byte in ms; `None` before the first success.
    pub fn ewma_ttfb_ms(&self) -> Option<f64> {
        let v = f64::from_bits(self.ewma_ms.load(Ordering::Relaxed));
        (!v.is_nan()).then_some(v)
    }

    /// Replaces the thresholds (config reload); the state is kept.
    pub fn reconfigure(&self, cfg: HealthConfig) {
        self.inner.lock().cfg = cfg;
    }

    /// A consistent view of the whole state.
    pub fn snapshot(&self, now: Instant) -> HealthSnapshot {
        let g = self.inner.lock();
        HealthSnapshot {
            state: g.breaker.state(),
            open_until: g.breaker.open_until(),
            blocked_until: g.blocked_until.filter(|u| now < *u),
            consecutive_failures: g.breaker.consecutive_failures(),
            times_opened: g.breaker.times_opened(),
            successes: g.successes,
            failures: g.failures,
            ewma_ttfb_ms: g.latency.ewma_ms(),
            p95_baseline_ms: g.latency.p95_ms(),
            degraded: g.latency.degraded(),
            weight_factor: g.latency.factor(),
        }
    }

    fn publish(&self, g: &Inner) {
        self.weight
            .store(g.latency.factor().to_bits(), Ordering::Relaxed);
        let ewma = g.latency.ewma_ms().unwrap_or(f64::NAN);
        self.ewma_ms.store(ewma.to_bits(), Ordering::Relaxed);
    }
}
