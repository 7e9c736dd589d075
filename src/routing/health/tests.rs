use super::*;
use std::sync::Arc;

const MS: Duration = Duration::from_millis(1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn target() -> TargetHealth {
    TargetHealth::new(HealthConfig::default())
}

/// Closed → Open after exactly N consecutive failures; a success in between resets the count.
#[test]
fn opens_after_consecutive_failures() {
    let h = target();
    let t0 = Instant::now();
    for i in 0..4 {
        h.record_failure(t0 + MS * i, FailureKind::Server);
    }
    h.record_success(t0 + MS * 5, MS * 100);
    for i in 0..4 {
        h.record_failure(t0 + MS * (10 + i), FailureKind::Timeout);
        assert_eq!(
            h.admit(t0 + MS * 20),
            Admission::Allow,
            "after {} failures",
            i + 1
        );
    }
    h.record_failure(t0 + MS * 30, FailureKind::Connect);
    let until = t0 + MS * 30 + secs(30);
    assert_eq!(
        h.admit(t0 + MS * 31),
        Admission::Deny(DenyReason::Open { until })
    );
    let s = h.snapshot(t0 + MS * 31);
    assert_eq!((s.state, s.times_opened), (BreakerState::Open, 1));
    assert_eq!(s.failures_of(FailureKind::Server), 4);
    assert_eq!(s.failures_of(FailureKind::Timeout), 4);
    assert_eq!(s.failures_of(FailureKind::Connect), 1);
}

/// Open → HalfOpen after the cooldown with one canary; M canary successes close it.
#[test]
fn half_open_canary_then_close() {
    let h = target();
    let t0 = Instant::now();
    for _ in 0..5 {
        h.record_failure(t0, FailureKind::Server);
    }
    assert!(!h.admit(t0 + secs(29)).is_allowed());
    let t1 = t0 + secs(30);
    assert_eq!(
        h.peek(t1),
        Admission::Canary,
        "peek shows a canary is possible"
    );
    assert_eq!(
        h.snapshot(t1).state,
        BreakerState::Open,
        "peek changed nothing"
    );
    assert_eq!(h.admit(t1), Admission::Canary);
    assert_eq!(h.snapshot(t1).state, BreakerState::HalfOpen);
    assert_eq!(
        h.admit(t1),
        Admission::Deny(DenyReason::HalfOpenBusy),
        "one canary at a time"
    );
    assert_eq!(h.peek(t1), Admission::Deny(DenyReason::HalfOpenBusy));
    h.record_success(t1 + MS, MS * 50);
    assert_eq!(
        h.snapshot(t1).state,
        BreakerState::HalfOpen,
        "1 of 2 successes"
    );
    assert_eq!(h.admit(t1 + MS * 2), Admission::Canary, "slot freed");
    h.record_success(t1 + MS * 3, MS * 50);
    assert_eq!(h.snapshot(t1).state, BreakerState::Closed);
    assert_eq!(h.admit(t1 + MS * 4), Admission::Allow);
    assert_eq!(h.snapshot(t1).consecutive_failures, 0);
}

/// A failed canary re-opens with a doubled cooldown, capped at max_cooldown; closing resets it.
#[test]
fn failed_canary_grows_cooldown_to_cap() {
    let mut cfg = HealthConfig::default();
    cfg.breaker.cooldown = secs(30);
    cfg.breaker.max_cooldown = secs(100);
    cfg.breaker.close_after = 1;
    let h = TargetHealth::new(cfg);
    let mut now = Instant::now();
    for _ in 0..5 {
        h.record_failure(now, FailureKind::Server);
    }
    for expected in [60, 100, 100] {
        now = h.snapshot(now).open_until.unwrap();
        assert_eq!(h.admit(now), Admission::Canary);
        h.record_failure(now, FailureKind::RateLimited);
        let until = h.snapshot(now).open_until.unwrap();
        assert_eq!(until - now, secs(expected));
    }
    now += secs(100);
    assert_eq!(h.admit(now), Admission::Canary);
    h.record_success(now, MS);
    for _ in 0..5 {
        h.record_failure(now, FailureKind::Server);
    }
    assert_eq!(
        h.snapshot(now).open_until.unwrap() - now,
        secs(30),
        "cooldown back to base after closing"
    );
}

/// The error ratio opens the breaker only with enough requests in the window.
#[test]
fn error_ratio_over_window() {
    let h = target();
    let t0 = Instant::now();
    // Alternate: never 5 in a row, 50% failures.
    for i in 0..8u32 {
        let t = t0 + MS * i;
        if i % 2 == 0 {
            h.record_failure(t, FailureKind::Server);
        } else {
            h.record_success(t, MS);
        }
    }
    assert_eq!(
        h.snapshot(t0).state,
        BreakerState::Closed,
        "8 < min_requests"
    );
    h.record_success(t0 + MS * 8, MS);
    assert_eq!(h.snapshot(t0).state, BreakerState::Closed, "4/9 < 50%");
    h.record_failure(t0 + MS * 9, FailureKind::Server);
    assert_eq!(h.snapshot(t0).state, BreakerState::Open, "5/10 = 50%");
}

/// Outcomes older than the window no longer count toward the ratio.
#[test]
fn window_forgets_old_outcomes() {
    let h = target();
    let t0 = Instant::now();
    for i in 0..4u32 {
        h.record_failure(t0 + MS * i, FailureKind::Server);
        h.record_success(t0 + MS * i, MS);
    }
    let later = t0 + secs(31);
    for i in 0..4u32 {
        h.record_success(later + MS * i, MS);
    }
    h.record_failure(later + MS * 5, FailureKind::Server);
    h.record_success(later + MS * 6, MS);
    h.record_failure(later + MS * 7, FailureKind::Server);
    // In window: 2 failures of 7 (old 8 outcomes expired); with them it would be 6/15.
    h.record_failure(later + MS * 8, FailureKind::Server);
    h.record_success(later + MS * 9, MS);
    assert_eq!(
        h.snapshot(later).state,
        BreakerState::Closed,
        "3/9 in window"
    );
}

/// Client and context-window errors are counted but never open the breaker.
#[test]
fn client_errors_are_neutral() {
    let h = target();
    let t0 = Instant::now();
    for _ in 0..50 {
        h.record_failure(t0, FailureKind::Client);
        h.record_failure(t0, FailureKind::ContextWindow);
    }
    let s = h.snapshot(t0);
    assert_eq!(s.state, BreakerState::Closed);
    assert_eq!(s.failures_of(FailureKind::Client), 50);
    assert_eq!(s.failures_of(FailureKind::ContextWindow), 50);
    assert_eq!(FailureKind::from_status(400), Some(FailureKind::Client));
    assert_eq!(
        FailureKind::from_status(429),
        Some(FailureKind::RateLimited)
    );
    assert_eq!(FailureKind::from_status(529), Some(FailureKind::Server));
    assert_eq!(FailureKind::from_status(200), None);
}

/// A neutral outcome or an abandoned canary frees the slot; a lost canary times out.
#[test]
fn canary_slot_release_and_timeout() {
    let h = target();
    let t0 = Instant::now();
    for _ in 0..5 {
        h.record_failure(t0, FailureKind::Server);
    }
    let t1 = t0 + secs(30);
    assert_eq!(h.admit(t1), Admission::Canary);
    h.record_failure(t1, FailureKind::Client);
    assert_eq!(
        h.admit(t1),
        Admission::Canary,
        "client error freed the slot"
    );
    h.record_abandoned(t1);
    assert_eq!(h.admit(t1), Admission::Canary, "abandoned freed the slot");
    assert_eq!(
        h.admit(t1 + secs(59)),
        Admission::Deny(DenyReason::HalfOpenBusy)
    );
    assert_eq!(
        h.admit(t1 + secs(60)),
        Admission::Canary,
        "lost canary timed out"
    );
}

/// No admission inside a Retry-After window; windows only grow; the cap applies.
#[test]
fn retry_after_window() {
    let h = target();
    let t0 = Instant::now();
    h.retry_after(t0, secs(2));
    let until = t0 + secs(2);
    for ms in [0u32, 1, 1000, 1999] {
        assert_eq!(
            h.admit(t0 + MS * ms),
            Admission::Deny(DenyReason::RetryAfter { until }),
            "at +{ms} ms"
        );
    }
    h.block_until(t0 + secs(1));
    assert_eq!(h.snapshot(t0).blocked_until, Some(until), "not shortened");
    assert_eq!(h.admit(t0 + secs(2)), Admission::Allow);
    assert_eq!(h.snapshot(t0 + secs(2)).blocked_until, None);
    h.retry_after(t0, secs(10_000));
    assert!(!h.admit(t0 + secs(299)).is_allowed());
    assert_eq!(h.admit(t0 + secs(300)), Admission::Allow, "capped at 300 s");
}

fn warm(h: &TargetHealth, t0: Instant, n: u32, ms: u32) -> Instant {
    for i in 0..n {
        h.record_success(t0 + MS * i, MS * ms);
    }
    t0 + MS * n
}

/// Five consecutive samples above the p95 baseline make the target degraded; four do not.
#[test]
fn degraded_after_five_slow_requests() {
    let h = target();
    let mut now = warm(&h, Instant::now(), 30, 100);
    assert_eq!(h.snapshot(now).p95_baseline_ms, Some(100.0));
    for _ in 0..4 {
        h.record_success(now, MS * 300);
    }
    h.record_success(now, MS * 90);
    let s = h.snapshot(now);
    assert!(!s.degraded, "a broken streak is ordinary tail latency");
    assert_eq!(s.weight_factor, 1.0);
    assert_eq!(s.p95_baseline_ms, Some(300.0), "and joins the baseline");
    for i in 1..=5 {
        now += MS;
        h.record_success(now, MS * 400);
        assert_eq!(h.snapshot(now).degraded, i == 5, "after {i} slow samples");
    }
    assert_eq!(h.weight_factor(), 0.5);
    assert_eq!(
        h.snapshot(now).p95_baseline_ms,
        Some(300.0),
        "degraded samples stay out of the baseline"
    );
}

/// The weight factor halves per degraded observation to the 5% floor, then recovers by 0.1
/// per fast observation once latency is back under the baseline.
#[test]
fn degraded_weight_decays_to_floor_and_recovers() {
    let h = target();
    let mut now = warm(&h, Instant::now(), 30, 100);
    let mut seen = Vec::new();
    for _ in 0..10 {
        now += MS;
        h.record_success(now, MS * 500);
        seen.push(h.weight_factor());
    }
    assert_eq!(
        seen,
        vec![1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.05, 0.05]
    );
    h.record_success(now, MS * 80);
    let s = h.snapshot(now);
    assert!(
        !s.degraded,
        "cleared when latency returns below the baseline"
    );
    assert!((s.weight_factor - 0.15).abs() < 1e-9, "{}", s.weight_factor);
    for _ in 0..20 {
        h.record_success(now, MS * 80);
    }
    assert_eq!(h.weight_factor(), 1.0);
}

/// A target degraded for longer than rebaseline_after accepts its new latency as normal.
#[test]
fn long_degradation_rebaselines() {
    let h = target();
    let mut now = warm(&h, Instant::now(), 30, 100);
    for _ in 0..5 {
        h.record_success(now, MS * 500);
    }
    assert!(h.snapshot(now).degraded);
    now += secs(601);
    h.record_success(now, MS * 500);
    let s = h.snapshot(now);
    assert!(!s.degraded);
    assert_eq!(s.p95_baseline_ms, None, "re-learning");
    warm(&h, now, 25, 500);
    assert_eq!(h.snapshot(now).p95_baseline_ms, Some(500.0));
    assert!(!h.snapshot(now).degraded);
}

/// EWMA of TTFB follows alpha = 0.2 and is published lock-free.
#[test]
fn ewma_of_ttfb() {
    let h = target();
    let t0 = Instant::now();
    assert_eq!(h.ewma_ttfb_ms(), None);
    h.record_success(t0, MS * 100);
    assert_eq!(h.ewma_ttfb_ms(), Some(100.0));
    h.record_success(t0, MS * 200);
    assert!((h.ewma_ttfb_ms().unwrap() - 120.0).abs() < 1e-9);
    assert_eq!(h.snapshot(t0).ewma_ttfb_ms, h.ewma_ttfb_ms());
}

/// Concurrent recording from many threads loses no count and opens the breaker once.
#[test]
fn concurrent_updates() {
    let h = Arc::new(target());
    let t0 = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let h = h.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    h.record_failure(t0, FailureKind::Server);
                    h.record_success(t0, MS);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = h.snapshot(t0);
    assert_eq!(s.failures_of(FailureKind::Server), 8000);
    assert_eq!(s.successes, 8000);
}

/// The registry hands out one shared state per (provider, model), keeps it across lookups,
/// prunes what is no longer configured and applies new thresholds to existing targets.
#[test]
fn registry_survives_reload_and_prunes() {
    let reg = HealthRegistry::default();
    let t0 = Instant::now();
    let a = reg.get("openai", "gpt-4o");
    a.record_failure(t0, FailureKind::Server);
    assert!(Arc::ptr_eq(&a, &reg.get("openai", "gpt-4o")));
    assert!(reg.lookup("openai", "gpt-4.1").is_none());
    let b = reg.get("anthropic", "claude");
    assert!(!Arc::ptr_eq(&a, &b));
    assert_eq!(reg.snapshots(t0).len(), 2);
    assert_eq!(reg.snapshots(t0)[0].0, "anthropic");

    let mut cfg = HealthConfig::default();
    cfg.breaker.consecutive_failures = 2;
    reg.reconfigure(cfg);
    a.record_failure(t0, FailureKind::Server);
    assert_eq!(
        a.snapshot(t0).state,
        BreakerState::Open,
        "new threshold applied"
    );

    assert_eq!(reg.retain(|p, _| p == "openai"), 1);
    assert!(reg.lookup("anthropic", "claude").is_none());
    let again = reg.get("openai", "gpt-4o");
    assert_eq!(again.snapshot(t0).state, BreakerState::Open, "state kept");
    let fresh = reg.get("anthropic", "claude");
    assert_eq!(fresh.snapshot(t0).failures, [0; 7], "new key, fresh state");
}
