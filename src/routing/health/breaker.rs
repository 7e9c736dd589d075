//! The circuit breaker of one target: a plain state machine over explicit instants. It has no
//! synchronisation of its own; [`super::TargetHealth`] keeps it behind its per-target lock.
//!
//! ```text
//!            N consecutive failures, or failures/requests >= ratio
//!            over the window with >= min_requests
//!   Closed ───────────────────────────────────────────────► Open { until = now + cooldown }
//!     ▲                                                        │ admit() at or after `until`
//!     │ `close_after` canary successes                         ▼
//!     └──────────────────────────────────────────────────── HalfOpen (≤ `half_open_canaries`
//!                                                              │      canaries in flight)
//!                 canary failure: Open again, cooldown × multiplier (capped) ◄┘
//! ```

use super::{Admission, DenyReason};
use std::time::{Duration, Instant};

/// Breaker thresholds of a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive health failures that open the breaker.
    pub consecutive_failures: u32,
    /// Failure share over `window` (with at least `min_requests` outcomes) that opens it.
    pub error_ratio: f64,
    /// Outcomes needed in the window before `error_ratio` applies.
    pub min_requests: u32,
    /// Length of the sliding error-ratio window (kept as 10 buckets of `window / 10`).
    pub window: Duration,
    /// How long the breaker stays open the first time.
    pub cooldown: Duration,
    /// Each failed half-open probe multiplies the cooldown by this (1.0 = constant).
    pub cooldown_multiplier: f64,
    /// Upper bound of a grown cooldown.
    pub max_cooldown: Duration,
    /// Canary requests admitted at once while half-open.
    pub half_open_canaries: u32,
    /// Canary successes that close the breaker.
    pub close_after: u32,
    /// A canary slot whose outcome was never reported is freed after this long.
    pub canary_timeout: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            error_ratio: 0.5,
            min_requests: 10,
            window: Duration::from_secs(30),
            cooldown: Duration::from_secs(30),
            cooldown_multiplier: 2.0,
            max_cooldown: Duration::from_secs(300),
            half_open_canaries: 1,
            close_after: 2,
            canary_timeout: Duration::from_secs(60),
        }
    }
}

/// The breaker state, as reported in snapshots and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// Metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        in_flight: u32,
        successes: u32,
        last_admit: Option<Instant>,
    },
}

const BUCKETS: usize = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    seq: u64,
    ok: u32,
    failed: u32,
}

/// Outcome counts over a sliding window of [`BUCKETS`] time buckets.
#[derive(Debug)]
struct Window {
    epoch: Option<Instant>,
    buckets: [Bucket; BUCKETS],
}

impl Window {
    fn new() -> Self {
        Self {
            epoch: None,
            buckets: [Bucket::default(); BUCKETS],
        }
    }

    /// The bucket sequence number of `now` (1-based so a zeroed bucket is never current).
    fn seq(&mut self, now: Instant, window: Duration) -> u64 {
        let epoch = *self.epoch.get_or_insert(now);
        let len = (window.as_nanos() / BUCKETS as u128).max(1);
        let seq = now.saturating_duration_since(epoch).as_nanos() / len;
        u64::try_from(seq).unwrap_or(u64::MAX - 1) + 1
    }

    fn add(&mut self, now: Instant, window: Duration, failed: bool) {
        let seq = self.seq(now, window);
        let b = &mut self.buckets[(seq % BUCKETS as u64) as usize];
        if b.seq != seq {
            *b = Bucket {
                seq,
                ok: 0,
                failed: 0,
            };
        }
        if failed {
            b.failed = b.failed.saturating_add(1);
        } else {
            b.ok = b.ok.saturating_add(1);
        }
    }

    /// (outcomes, failures) in the buckets of the last `window`.
    fn totals(&mut self, now: Instant, window: Duration) -> (u32, u32) {
        let seq = self.seq(now, window);
        self.buckets
            .iter()
            .filter(|b| b.seq != 0 && b.seq + (BUCKETS as u64) > seq && b.seq <= seq)
            .fold((0, 0), |(n, f), b| (n + b.ok + b.failed, f + b.failed))
    }

    fn clear(&mut self) {
        self.buckets = [Bucket::default(); BUCKETS];
    }
}

/// One target's breaker.
#[derive(Debug)]
pub(super) struct Breaker {
    state: State,
    consecutive: u32,
    window: Window,
    cooldown: Duration,
    opened: u64,
}

impl Breaker {
    pub(super) fn new(cfg: &BreakerConfig) -> Self {
        Self {
            state: State::Closed,
            consecutive: 0,
            window: Window::new(),
            cooldown: cfg.cooldown,
            opened: 0,
        }
    }

    pub(super) fn state(&self) -> BreakerState {
        match self.state {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    pub(super) fn consecutive_failures(&self) -> u32 {
        self.consecutive
    }

    /// How many times the breaker opened.
    pub(super) fn times_opened(&self) -> u64 {
        self.opened
    }

    /// When an open breaker will admit a canary.
    pub(super) fn open_until(&self) -> Option<Instant> {
        match self.state {
            State::Open { until } => Some(until),
            _ => None,
        }
    }

    /// What [`Self::admit`] would answer, without taking a canary slot.
    pub(super) fn peek(&self, now: Instant, cfg: &BreakerConfig) -> Admission {
        match self.state {
            State::Closed => Admission::Allow,
            State::Open { until } if now < until => Admission::Deny(DenyReason::Open { until }),
            State::Open { .. } => Admission::Canary,
            State::HalfOpen {
                in_flight,
                last_admit,
                ..
            } => {
                if in_flight < cfg.half_open_canaries || stale(last_admit, now, cfg) {
                    Admission::Canary
                } else {
                    Admission::Deny(DenyReason::HalfOpenBusy)
                }
            }
        }
    }

    /// Admits a request, moving Open to HalfOpen once the cooldown is over and taking a
    /// canary slot while half-open.
    pub(super) fn admit(&mut self, now: Instant, cfg: &BreakerConfig) -> Admission {
        if let State::Open { until } = self.state {
            if now < until {
                return Admission::Deny(DenyReason::Open { until });
            }
            self.state = State::HalfOpen {
                in_flight: 0,
                successes: 0,
                last_admit: None,
            };
        }
        match &mut self.state {
            State::Closed => Admission::Allow,
            State::Open { until } => Admission::Deny(DenyReason::Open { until: *until }),
            State::HalfOpen {
                in_flight,
                last_admit,
                ..
            } => {
                if stale(*last_admit, now, cfg) {
                    *in_flight = 0;
                }
                if *in_flight < cfg.half_open_canaries {
                    *in_flight += 1;
                    *last_admit = Some(now);
                    Admission::Canary
                } else {
                    Admission::Deny(DenyReason::HalfOpenBusy)
                }
            }
        }
    }

    pub(super) fn on_success(&mut self, now: Instant, cfg: &BreakerConfig) {
        match &mut self.state {
            State::Closed => {
                self.consecutive = 0;
                self.window.add(now, cfg.window, false);
            }
            State::HalfOpen {
                in_flight,
                successes,
                ..
            } => {
                *in_flight = in_flight.saturating_sub(1);
                *successes += 1;
                if *successes >= cfg.close_after.max(1) {
                    self.state = State::Closed;
                    self.consecutive = 0;
                    self.cooldown = cfg.cooldown;
                    self.window.clear();
                }
            }
            // A request admitted before the breaker opened: it changes nothing.
            State::Open { .. } => {}
        }
    }

    /// A failure that counts against health.
    pub(super) fn on_failure(&mut self, now: Instant, cfg: &BreakerConfig) {
        match self.state {
            State::Closed => {
                self.consecutive = self.consecutive.saturating_add(1);
                self.window.add(now, cfg.window, true);
                let (n, failed) = self.window.totals(now, cfg.window);
                let ratio_trips = n >= cfg.min_requests.max(1)
                    && f64::from(failed) >= cfg.error_ratio * f64::from(n);
                if self.consecutive >= cfg.consecutive_failures.max(1) || ratio_trips {
                    self.cooldown = cfg.cooldown;
                    self.open(now);
                }
            }
            State::HalfOpen { .. } => {
                self.consecutive = self.consecutive.saturating_add(1);
                let grown = self.cooldown.mul_f64(cfg.cooldown_multiplier.max(1.0));
                self.cooldown = grown.min(cfg.max_cooldown.max(cfg.cooldown));
                self.open(now);
            }
            State::Open { .. } => {}
        }
    }

    /// An admitted request ended without a health verdict (client error, abandoned): frees
    /// its canary slot.
    pub(super) fn on_neutral(&mut self) {
        if let State::HalfOpen { in_flight, .. } = &mut self.state {
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    fn open(&mut self, now: Instant) {
        self.state = State::Open {
            until: now + self.cooldown,
        };
        self.opened += 1;
        self.window.clear();
    }
}

fn stale(last_admit: Option<Instant>, now: Instant, cfg: &BreakerConfig) -> bool {
    last_admit.is_some_and(|t| now.saturating_duration_since(t) >= cfg.canary_timeout)
}
