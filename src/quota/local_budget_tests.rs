//! Tests of the in-process store's budgets: reserve/settle with crossings, UTC day and month
//! rollover, seeding from the ledger, and many tasks racing for one budget.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{budget, demand, scope, t};
use super::*;
use crate::quota::period::{parse_window, window_end};

#[tokio::test]
async fn budgets_reserve_max_cost_and_report_settled_crossings() {
    let store = LocalStore::default();
    let s = [scope(
        ScopeKind::Key,
        "k",
        budget(Some(1_000), None, Some(10_000)),
    )];
    let a = store.reserve(&s, demand(0, 600), t(0)).await.unwrap();
    // 600 reserved: another 600 does not fit, 400 does.
    let d = store.reserve(&s, demand(0, 600), t(1)).await.unwrap_err();
    assert_eq!(
        d,
        Denial::Budget {
            scope: ScopeKind::Key,
            id: Arc::from("k"),
            period: Period::Daily,
            limit_micros: 1_000,
            spent_micros: 600,
            resets_at: Some(t(12 * 3_600_000)),
        }
    );
    let b = store.reserve(&s, demand(0, 400), t(2)).await.unwrap();
    let crossings = store.settle(a, 0, 500, t(3)).await.unwrap();
    assert_eq!(crossings.len(), 2);
    let daily = &crossings[0];
    assert_eq!(
        (
            daily.period,
            daily.window.as_str(),
            daily.before_micros,
            daily.after_micros
        ),
        (Period::Daily, "2026-11-26", 0, 500)
    );
    assert!(daily.crossed(50) && !daily.crossed(80));
    assert_eq!(
        (
            crossings[1].period,
            crossings[1].window.as_str(),
            crossings[1].after_micros
        ),
        (Period::Total, "total", 500)
    );
    // 100 freed by a's settle: 100 fits, 101 does not.
    assert!(store.reserve(&s, demand(0, 101), t(4)).await.is_err());
    let c = store.reserve(&s, demand(0, 100), t(5)).await.unwrap();
    let crossings = store.settle(b, 0, 400, t(6)).await.unwrap();
    assert_eq!(
        (crossings[0].before_micros, crossings[0].after_micros),
        (500, 900)
    );
    assert!(crossings[0].crossed(80) && !crossings[0].crossed(100));
    store.settle(c, 0, 0, t(7)).await.unwrap();
    let u = store.usage(&s[0], t(8)).await.unwrap();
    assert_eq!(
        (u.spent_daily, u.spent_monthly, u.spent_total),
        (900, 0, 900)
    );
    assert_eq!(u.daily_resets_at, t(12 * 3_600_000));
}

#[tokio::test]
async fn daily_budget_rolls_over_at_midnight_but_total_does_not() {
    let store = LocalStore::default();
    let s = [scope(
        ScopeKind::Key,
        "k",
        budget(Some(1_000), Some(1_500), Some(2_500)),
    )];
    let a = store.reserve(&s, demand(0, 1_000), t(0)).await.unwrap();
    store.settle(a, 0, 1_000, t(1)).await.unwrap();
    let before_midnight = t(12 * 3_600_000 - 1);
    let d = store
        .reserve(&s, demand(0, 1), before_midnight)
        .await
        .unwrap_err();
    assert!(matches!(
        d,
        Denial::Budget {
            period: Period::Daily,
            ..
        }
    ));
    // Next day: the daily budget is fresh, the monthly one still holds 1 000.
    let midnight = t(12 * 3_600_000);
    let b = store.reserve(&s, demand(0, 500), midnight).await.unwrap();
    let d = store.reserve(&s, demand(0, 1), midnight).await.unwrap_err();
    assert!(matches!(
        d,
        Denial::Budget {
            period: Period::Monthly,
            spent_micros: 1_500,
            ..
        }
    ));
    let crossings = store.settle(b, 0, 500, midnight).await.unwrap();
    assert_eq!(crossings[0].window, "2026-11-27");
    assert_eq!(crossings[1].window, "2026-11");
    let u = store.usage(&s[0], midnight).await.unwrap();
    assert_eq!(
        (u.spent_daily, u.spent_monthly, u.spent_total),
        (500, 1_500, 1_500)
    );
}

#[tokio::test]
async fn monthly_budget_resets_on_the_first_in_leap_february_and_december() {
    let store = LocalStore::default();
    let s = [scope(ScopeKind::Team, "t", budget(None, Some(100), None))];
    let at = |d: &str| {
        let days = parse_window(Period::Daily, d).unwrap();
        // Start of the day after `d` minus 1 ms (the last instant of `d`).
        window_end(Period::Daily, days).unwrap() - Duration::from_millis(1)
    };
    for (last_day, next_month) in [("2028-02-29", "2028-03"), ("2026-12-31", "2027-01")] {
        let end = at(last_day);
        let r = store.reserve(&s, demand(0, 100), end).await.unwrap();
        store.settle(r, 0, 100, end).await.unwrap();
        assert!(store.reserve(&s, demand(0, 1), end).await.is_err());
        let u = store.usage(&s[0], end).await.unwrap();
        assert_eq!(u.monthly_resets_at, end + Duration::from_millis(1));
        let first = end + Duration::from_millis(1);
        let r = store.reserve(&s, demand(0, 100), first).await.unwrap();
        let c = store.settle(r, 0, 0, first).await.unwrap();
        assert_eq!(c[0].window, next_month);
    }
}

#[tokio::test]
async fn seed_spend_fills_an_absent_counter_only() {
    let store = LocalStore::default();
    let s = scope(ScopeKind::Key, "k", budget(Some(1_000), None, None));
    store
        .seed_spend(ScopeKind::Key, "k", Period::Daily, "2026-11-26", 700)
        .await
        .unwrap();
    // A second seed does not overwrite.
    store
        .seed_spend(ScopeKind::Key, "k", Period::Daily, "2026-11-26", 5)
        .await
        .unwrap();
    assert_eq!(store.usage(&s, t(0)).await.unwrap().spent_daily, 700);
    assert!(
        store
            .reserve(std::slice::from_ref(&s), demand(0, 301), t(0))
            .await
            .is_err()
    );
    let r = store
        .reserve(std::slice::from_ref(&s), demand(0, 300), t(0))
        .await
        .unwrap();
    let c = store.settle(r, 0, 300, t(1)).await.unwrap();
    assert_eq!((c[0].before_micros, c[0].after_micros), (700, 1_000));
    assert!(c[0].crossed(100));
    assert!(
        store
            .seed_spend(ScopeKind::Key, "k", Period::Daily, "2026-11", 1)
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_never_overspend_a_budget() {
    let store = Arc::new(LocalStore::default());
    let s = Arc::new([
        scope(ScopeKind::Key, "k", budget(Some(10_000), None, None)),
        scope(
            ScopeKind::Global,
            "global",
            budget(None, None, Some(1_000_000)),
        ),
    ]);
    let mut tasks = Vec::new();
    for i in 0..400u64 {
        let (store, s) = (Arc::clone(&store), Arc::clone(&s));
        tasks.push(tokio::spawn(async move {
            let max = 100 + i % 200;
            match store.reserve(&s[..], demand(0, max), t(i)).await {
                Ok(r) => {
                    tokio::task::yield_now().await;
                    // Settled at the full reservation: the spend only grows, so any overspend shows.
                    let actual = max;
                    store.settle(r, 0, actual, t(i + 1)).await.unwrap();
                    actual
                }
                Err(Denial::Budget { .. }) => 0,
                Err(e) => panic!("unexpected {e:?}"),
            }
        }));
    }
    let mut settled = 0;
    for task in tasks {
        settled += task.await.unwrap();
    }
    let u = store.usage(&s[0], t(1_000)).await.unwrap();
    assert_eq!(u.spent_daily, settled);
    assert!(settled <= 10_000, "{settled}");
    assert!(
        settled > 9_700,
        "every denial saw spend + cost > limit: {settled}"
    );
    assert_eq!(
        store.usage(&s[1], t(1_000)).await.unwrap().spent_total,
        settled
    );
}
