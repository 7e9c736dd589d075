//! Tests of the in-process store: exact sliding RPM/TPM windows, settle adjustments, TooLarge,
//! concurrency leases, all-or-nothing across scopes, claim_once (budgets: local_budget_tests.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::quota::{BudgetSpec, LimitSpec, period_window};
use proptest::prelude::*;

/// 2026-11-26 12:00:00 UTC.
pub(super) const NOON_MS: u64 = 1_795_694_400_000;

pub(super) fn t(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(NOON_MS + ms)
}

pub(super) fn scope(kind: ScopeKind, id: &str, limits: LimitSpec) -> Scope {
    Scope {
        kind,
        id: Arc::from(id),
        limits,
    }
}

pub(super) fn rpm(l: u64) -> LimitSpec {
    LimitSpec {
        rpm: Some(l),
        ..LimitSpec::default()
    }
}

pub(super) fn budget(daily: Option<u64>, monthly: Option<u64>, total: Option<u64>) -> LimitSpec {
    LimitSpec {
        budget: BudgetSpec {
            daily_micros: daily,
            monthly_micros: monthly,
            total_micros: total,
        },
        ..LimitSpec::default()
    }
}

pub(super) fn demand(tokens: u64, cost_micros: u64) -> Demand {
    Demand {
        tokens,
        cost_micros,
    }
}

#[test]
fn noon_constant_is_noon() {
    assert_eq!(period_window(Period::Daily, t(0)).0, "2026-11-26");
    assert_eq!(
        period_window(Period::Daily, t(0)).1,
        Some(t(12 * 3_600_000))
    );
}

#[tokio::test]
async fn rpm_is_an_exact_sliding_window() {
    let store = LocalStore::default();
    let s = [scope(ScopeKind::Key, "k1", rpm(3))];
    for i in 0..3 {
        store
            .reserve(&s, demand(0, 0), t(i * 10_000))
            .await
            .unwrap();
    }
    // 4th at 30 s: the oldest (0 s) leaves at 60 s, so retry after 30 s.
    let d = store
        .reserve(&s, demand(0, 0), t(30_000))
        .await
        .unwrap_err();
    assert_eq!(
        d,
        Denial::Rate {
            scope: ScopeKind::Key,
            id: Arc::from("k1"),
            limit: LimitName::Rpm,
            value: 3,
            retry_after: Duration::from_secs(30),
        }
    );
    // Still denied 1 ms before the oldest leaves, admitted when it does.
    assert!(store.reserve(&s, demand(0, 0), t(59_999)).await.is_err());
    store.reserve(&s, demand(0, 0), t(60_000)).await.unwrap();
    // Now the window (0 s, 60 s] holds 10 s, 20 s, 60 s: full again until 70 s.
    let d = store
        .reserve(&s, demand(0, 0), t(60_001))
        .await
        .unwrap_err();
    assert!(
        matches!(d, Denial::Rate { retry_after, .. } if retry_after == Duration::from_millis(9_999))
    );
    let u = store.usage(&s[0], t(60_001)).await.unwrap();
    assert_eq!(u.requests_in_window, 3);
}

#[tokio::test]
async fn tpm_reserves_then_settles_to_real_usage() {
    let store = LocalStore::default();
    let limits = LimitSpec {
        tpm: Some(1000),
        ..LimitSpec::default()
    };
    let s = [scope(ScopeKind::Key, "k", limits)];
    let a = store.reserve(&s, demand(600, 0), t(0)).await.unwrap();
    let d = store
        .reserve(&s, demand(600, 0), t(1_000))
        .await
        .unwrap_err();
    // Enough tokens leave when the first reservation does (at 60 s).
    assert!(
        matches!(d, Denial::Rate { limit: LimitName::Tpm, value: 1000, retry_after, .. } if retry_after == Duration::from_secs(59))
    );
    // It really used 100 tokens: 900 are free now.
    store.settle(a, 100, 0, t(2_000)).await.unwrap();
    assert_eq!(
        store.usage(&s[0], t(2_000)).await.unwrap().tokens_in_window,
        100
    );
    let b = store.reserve(&s, demand(900, 0), t(3_000)).await.unwrap();
    assert!(store.reserve(&s, demand(1, 0), t(3_000)).await.is_err());
    // After the first leaves the window only b counts; settling b after it left is a no-op.
    assert_eq!(
        store
            .usage(&s[0], t(60_000))
            .await
            .unwrap()
            .tokens_in_window,
        900
    );
    store.settle(b, 5000, 0, t(63_001)).await.unwrap();
    assert_eq!(
        store
            .usage(&s[0], t(63_001))
            .await
            .unwrap()
            .tokens_in_window,
        0
    );
    store.reserve(&s, demand(1000, 0), t(63_002)).await.unwrap();
}

#[tokio::test]
async fn too_large_requests_are_never_admissible() {
    let store = LocalStore::default();
    let limits = LimitSpec {
        tpm: Some(100),
        ..LimitSpec::default()
    };
    let s = [scope(ScopeKind::Team, "t", limits)];
    let d = store.reserve(&s, demand(101, 0), t(0)).await.unwrap_err();
    assert_eq!(
        d,
        Denial::TooLarge {
            scope: ScopeKind::Team,
            id: Arc::from("t"),
            limit: LimitName::Tpm,
            value: 100,
            requested: 101,
        }
    );
    let d = store
        .reserve(&[scope(ScopeKind::Key, "z", rpm(0))], demand(0, 0), t(0))
        .await
        .unwrap_err();
    assert!(matches!(
        d,
        Denial::TooLarge {
            limit: LimitName::Rpm,
            ..
        }
    ));
    assert_eq!(store.usage(&s[0], t(0)).await.unwrap().tokens_in_window, 0);
}

#[tokio::test]
async fn concurrency_is_released_on_settle_and_by_lease() {
    let store = LocalStore::new(Duration::from_secs(30));
    let limits = LimitSpec {
        max_concurrency: Some(2),
        ..LimitSpec::default()
    };
    let s = [scope(ScopeKind::Key, "k", limits)];
    let a = store.reserve(&s, demand(0, 0), t(0)).await.unwrap();
    let _b = store.reserve(&s, demand(0, 0), t(0)).await.unwrap();
    let d = store.reserve(&s, demand(0, 0), t(1)).await.unwrap_err();
    assert!(
        matches!(d, Denial::Rate { limit: LimitName::Concurrency, value: 2, retry_after, .. } if retry_after == Duration::from_secs(1))
    );
    assert_eq!(store.usage(&s[0], t(1)).await.unwrap().in_flight, 2);
    store.settle(a, 0, 0, t(2)).await.unwrap();
    let c = store.reserve(&s, demand(0, 0), t(3)).await.unwrap();
    assert!(store.reserve(&s, demand(0, 0), t(4)).await.is_err());
    // `_b` is never settled: its slot expires with the lease (30 s).
    assert!(store.reserve(&s, demand(0, 0), t(29_999)).await.is_err());
    let _d = store.reserve(&s, demand(0, 0), t(30_000)).await.unwrap();
    store.settle(c, 0, 0, t(30_001)).await.unwrap();
    assert_eq!(store.usage(&s[0], t(30_001)).await.unwrap().in_flight, 1);
}

#[tokio::test]
async fn a_denial_by_one_scope_takes_nothing_from_the_others() {
    let store = LocalStore::default();
    let key = scope(
        ScopeKind::Key,
        "k",
        LimitSpec {
            rpm: Some(10),
            tpm: Some(10_000),
            max_concurrency: Some(5),
            budget: BudgetSpec {
                daily_micros: Some(1_000_000),
                ..BudgetSpec::default()
            },
        },
    );
    let team = scope(ScopeKind::Team, "t", budget(Some(100), None, None));
    let global = scope(ScopeKind::Global, "global", rpm(1_000));
    let all = [key.clone(), team.clone(), global.clone()];
    let d = store
        .reserve(&all, demand(500, 200), t(0))
        .await
        .unwrap_err();
    assert!(matches!(
        d,
        Denial::Budget {
            scope: ScopeKind::Team,
            ..
        }
    ));
    for s in [&key, &global] {
        let u = store.usage(s, t(0)).await.unwrap();
        assert_eq!(
            (u.requests_in_window, u.tokens_in_window, u.in_flight),
            (0, 0, 0)
        );
    }
    // An admissible one is counted everywhere.
    let r = store.reserve(&all, demand(500, 50), t(1)).await.unwrap();
    assert_eq!(store.usage(&key, t(1)).await.unwrap().tokens_in_window, 500);
    assert_eq!(
        store.usage(&global, t(1)).await.unwrap().requests_in_window,
        1
    );
    let c = store.settle(r, 400, 40, t(2)).await.unwrap();
    assert_eq!(c.len(), 2); // key daily + team daily
    assert_eq!(store.usage(&team, t(2)).await.unwrap().spent_daily, 40);
}

#[tokio::test]
async fn unlimited_scopes_take_nothing() {
    let store = LocalStore::default();
    let s = [scope(ScopeKind::Key, "k", LimitSpec::default())];
    let r = store.reserve(&s, demand(10, 10), t(0)).await.unwrap();
    assert!(r.is_empty());
    assert!(store.settle(r, 10, 10, t(1)).await.unwrap().is_empty());
    // Nothing was created for the scope.
    assert!(store.maps[ScopeKind::Key as usize].read().is_empty());
}

#[tokio::test]
async fn claim_once_is_true_once_until_the_ttl_passes() {
    let store = LocalStore::default();
    assert!(
        store
            .claim_once("alert:k:daily:80", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_once("alert:k:daily:80", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_once("alert:k:daily:100", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_once("short", Duration::from_millis(1))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        store
            .claim_once("short", Duration::from_millis(1))
            .await
            .unwrap()
    );
}

proptest! {
    /// RPM admission matches a naive model: admit iff fewer than L admitted in (now-60s, now].
    #[test]
    fn rpm_matches_a_naive_sliding_log(limit in 1u64..8, gaps in prop::collection::vec(0u64..30_000, 1..80)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let store = LocalStore::default();
        let s = [scope(ScopeKind::Key, "p", rpm(limit))];
        let mut admitted: Vec<u64> = Vec::new();
        let mut now = 0;
        for gap in gaps {
            now += gap;
            let in_window = admitted.iter().filter(|&&a| a + 60_000 > now).count() as u64;
            let got = rt.block_on(store.reserve(&s, demand(0, 0), t(now)));
            prop_assert_eq!(got.is_ok(), in_window < limit, "at {}", now);
            match got {
                Ok(_) => admitted.push(now),
                Err(Denial::Rate { retry_after, .. }) => {
                    // After retry_after, the model admits; 1 ms before, it does not.
                    let later = now + retry_after.as_millis() as u64;
                    let n_then = |at: u64| admitted.iter().filter(|&&a| a + 60_000 > at).count() as u64;
                    prop_assert!(n_then(later) < limit);
                    prop_assert!(retry_after.is_zero() || n_then(later - 1) >= limit);
                }
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
        }
    }
}

/// Windows keep one slot per millisecond, not one entry per request: 20,000 requests in
/// 10 ms leave 10 slots per window, and settling still adjusts the right millisecond.
#[test]
fn windows_are_bounded_by_milliseconds_not_requests() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = LocalStore::default();
    let limits = LimitSpec {
        rpm: Some(1_000_000),
        tpm: Some(1_000_000_000),
        ..LimitSpec::default()
    };
    let s = [scope(ScopeKind::Key, "busy", limits)];
    let mut held = Vec::new();
    for i in 0..20_000u64 {
        held.push(
            rt.block_on(store.reserve(&s, demand(100, 0), t(i % 10)))
                .unwrap(),
        );
    }
    let cell = store.cell(ScopeKind::Key, &s[0].id);
    {
        let st = cell.lock();
        assert_eq!((st.rpm.len(), st.tpm.len()), (10, 10));
        assert_eq!((st.rpm_count, st.tpm_sum), (20_000, 2_000_000));
    }
    for r in held {
        rt.block_on(store.settle(r, 40, 0, t(20))).unwrap();
    }
    let u = rt.block_on(store.usage(&s[0], t(30))).unwrap();
    assert_eq!(
        (u.requests_in_window, u.tokens_in_window),
        (20_000, 800_000)
    );
    let u = rt.block_on(store.usage(&s[0], t(60_010))).unwrap();
    assert_eq!((u.requests_in_window, u.tokens_in_window), (0, 0));
}
