use super::*;
use proptest::prelude::*;
use std::sync::Arc;

const MS: Duration = Duration::from_millis(1);

/// Ceilings double from the base and stop at the cap; delays scale with the random draw.
#[test]
fn backoff_ceilings_and_jitter() {
    let b = Backoff {
        base: MS * 100,
        cap: MS * 1000,
    };
    let ceilings: Vec<u128> = (0..6).map(|n| b.ceiling(n).as_millis()).collect();
    assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
    assert_eq!(b.delay(2, 0.0), Duration::ZERO);
    assert_eq!(b.delay(2, 0.5), MS * 200);
    assert_eq!(b.delay(2, 1.0), MS * 400);
    assert_eq!(b.delay(2, f64::NAN), Duration::ZERO);
    assert_eq!(b.ceiling(u32::MAX), MS * 1000, "no overflow");
}

/// Full jitter spreads delays over the whole interval (mean near half the ceiling).
#[test]
fn jitter_is_spread() {
    let b = Backoff::default();
    let mut rng = fastrand::Rng::with_seed(3);
    let n = 10_000;
    let total: f64 = (0..n).map(|_| b.delay(3, rng.f64()).as_secs_f64()).sum();
    let mean = total / f64::from(n);
    assert!((mean - 0.4).abs() < 0.02, "mean {mean}, ceiling 0.8 s");
}

proptest! {
    /// Every delay lies in [0, min(cap, base·2ⁿ)] and ceilings never decrease.
    #[test]
    fn backoff_bounds(base_ms in 1u64..10_000, cap_ms in 1u64..100_000, n in 0u32..100, r in 0.0f64..1.0) {
        let b = Backoff { base: Duration::from_millis(base_ms), cap: Duration::from_millis(cap_ms) };
        let d = b.delay(n, r);
        let exp = Duration::from_millis(base_ms.saturating_mul(1u64 << n.min(40)));
        prop_assert!(d <= b.cap.min(exp));
        prop_assert!(b.ceiling(n) <= b.ceiling(n + 1));
    }
}

/// The deadline shrinks attempt timeouts and refuses delays that leave no time.
#[test]
fn deadline() {
    let t0 = Instant::now();
    let d = Deadline::new(t0, MS * 1000);
    assert_eq!(d.remaining(t0 + MS * 300), MS * 700);
    assert_eq!(d.clamp(t0, MS * 500), Some(MS * 500));
    assert_eq!(d.clamp(t0 + MS * 800, MS * 500), Some(MS * 200));
    assert_eq!(d.clamp(t0 + MS * 1000, MS * 500), None);
    assert!(d.fits(t0 + MS * 800, MS * 199));
    assert!(!d.fits(t0 + MS * 800, MS * 200));
    assert!(!d.expired(t0 + MS * 999));
    assert!(d.expired(t0 + MS * 1000));
    assert_eq!(d.remaining(t0 + MS * 5000), Duration::ZERO);
}

fn budget(ratio: f64, min_per_sec: f64) -> (RetryBudget, Instant) {
    let t0 = Instant::now();
    let cfg = RetryBudgetConfig {
        ratio,
        min_per_sec,
        window: Duration::from_secs(10),
    };
    (RetryBudget::new(cfg, t0), t0)
}

/// With no free allowance, retries stop at exactly 20% of requests.
#[test]
fn budget_exhausts_at_ratio() {
    let (b, t0) = budget(0.2, 0.0);
    assert!(!b.try_retry(t0), "no requests, no retries");
    for _ in 0..100 {
        b.record_request(t0);
    }
    let granted = (0..100).filter(|_| b.try_retry(t0 + MS)).count();
    assert_eq!(granted, 20);
    assert_eq!(b.totals(t0 + MS), (100, 20));
}

/// The per-second minimum lets a quiet gateway retry.
#[test]
fn budget_minimum_for_low_traffic() {
    let (b, t0) = budget(0.2, 0.5);
    b.record_request(t0);
    // 0.2 × 1 + 0.5 × 10 s = 5.2 retries.
    let granted = (0..10).filter(|_| b.try_retry(t0)).count();
    assert_eq!(granted, 5);
}

/// Spent retries leave the window and the budget refills; fresh traffic also refills it.
#[test]
fn budget_refills() {
    let (b, t0) = budget(0.5, 0.0);
    for _ in 0..10 {
        b.record_request(t0);
    }
    assert_eq!((0..10).filter(|_| b.try_retry(t0)).count(), 5);
    assert!(!b.try_retry(t0 + Duration::from_secs(5)));
    for _ in 0..4 {
        b.record_request(t0 + Duration::from_secs(5));
    }
    assert_eq!(
        (0..10)
            .filter(|_| b.try_retry(t0 + Duration::from_secs(5)))
            .count(),
        2,
        "0.5 × 14 = 7, 5 spent"
    );
    let later = t0 + Duration::from_secs(10);
    assert_eq!(b.totals(later), (4, 2), "t0 bucket left the window");
    let after = t0 + Duration::from_secs(16);
    assert_eq!(b.totals(after), (0, 0), "everything expired");
    for _ in 0..10 {
        b.record_request(after);
    }
    assert_eq!((0..10).filter(|_| b.try_retry(after)).count(), 5);
}

/// Threads sharing a budget never exceed it by more than the number of racing threads.
#[test]
fn budget_is_thread_safe() {
    let (b, t0) = budget(0.2, 0.0);
    let b = Arc::new(b);
    for _ in 0..1000 {
        b.record_request(t0);
    }
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || (0..200).filter(|_| b.try_retry(t0)).count())
        })
        .collect();
    let granted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!((200..=204).contains(&granted), "{granted}");
}
