//! The Redis quota store against a real Redis (127.0.0.1:6379, or `SWITCHYARD_TEST_REDIS`):
//! the same semantics as the in-process store, two instances sharing counters, lease expiry
//! and failure handling. Each test uses its own key prefix and deletes its keys at the end;
//! without Redis each test prints a SKIPPED line and passes.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use switchyard::quota::{
    BudgetSpec, CounterStore, Demand, Denial, LimitName, LimitSpec, Period, RedisConfig,
    RedisStore, Scope, ScopeKind,
};

const REDIS: &str = "redis://127.0.0.1:6379/";

fn redis_url() -> String {
    std::env::var("SWITCHYARD_TEST_REDIS").unwrap_or_else(|_| REDIS.to_string())
}

/// 2026-11-26 12:00:00 UTC plus `ms`.
fn t(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_694_400_000 + ms)
}

/// Owns a test's key prefix; `cleanup` deletes every key under it.
struct Prefix(String);

impl Prefix {
    async fn cleanup(self) {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query_async(&mut con)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut con)
                .await
                .unwrap();
        }
    }

    async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query_async(&mut con)
            .await
            .unwrap()
    }
}

/// A store on a fresh prefix, or `None` (with the SKIPPED line) when Redis is unreachable.
async fn store(test: &str, lease: Duration) -> Option<(RedisStore, Prefix)> {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("switchyard_test:{test}:{}:{nanos}:", std::process::id());
    let cfg = RedisConfig {
        lease,
        timeout: Duration::from_secs(2),
    };
    match RedisStore::connect_with(&redis_url(), &prefix, cfg).await {
        Ok(s) => Some((s, Prefix(prefix))),
        Err(_) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: redis not reachable at 127.0.0.1:6379"
            );
            None
        }
    }
}

/// A second store (own connection) on the same prefix.
async fn twin(p: &Prefix) -> RedisStore {
    let cfg = RedisConfig {
        lease: Duration::from_secs(600),
        timeout: Duration::from_secs(2),
    };
    RedisStore::connect_with(&redis_url(), &p.0, cfg)
        .await
        .unwrap()
}

fn scope(kind: ScopeKind, id: &str, limits: LimitSpec) -> Scope {
    Scope {
        kind,
        id: Arc::from(id),
        limits,
    }
}

fn budget(daily: Option<u64>, monthly: Option<u64>, total: Option<u64>) -> LimitSpec {
    LimitSpec {
        budget: BudgetSpec {
            daily_micros: daily,
            monthly_micros: monthly,
            total_micros: total,
        },
        ..LimitSpec::default()
    }
}

fn rpm(l: u64) -> LimitSpec {
    LimitSpec {
        rpm: Some(l),
        ..LimitSpec::default()
    }
}

fn demand(tokens: u64, cost_micros: u64) -> Demand {
    Demand {
        tokens,
        cost_micros,
    }
}

const LEASE: Duration = Duration::from_secs(600);

#[tokio::test]
async fn rpm_is_an_exact_sliding_window() {
    let Some((store, prefix)) = store("rpm_is_an_exact_sliding_window", LEASE).await else {
        return;
    };
    // An id with the key separator in it is escaped, not split.
    let s = [scope(ScopeKind::Key, "k:1", rpm(3))];
    for i in 0..3 {
        store
            .reserve(&s, demand(0, 0), t(i * 10_000))
            .await
            .unwrap();
    }
    let d = store
        .reserve(&s, demand(0, 0), t(30_000))
        .await
        .unwrap_err();
    assert_eq!(
        d,
        Denial::Rate {
            scope: ScopeKind::Key,
            id: Arc::from("k:1"),
            limit: LimitName::Rpm,
            value: 3,
            retry_after: Duration::from_secs(30),
        }
    );
    assert!(store.reserve(&s, demand(0, 0), t(59_999)).await.is_err());
    store.reserve(&s, demand(0, 0), t(60_000)).await.unwrap();
    let d = store
        .reserve(&s, demand(0, 0), t(60_001))
        .await
        .unwrap_err();
    assert!(
        matches!(d, Denial::Rate { retry_after, .. } if retry_after == Duration::from_millis(9_999))
    );
    assert_eq!(
        store
            .usage(&s[0], t(60_001))
            .await
            .unwrap()
            .requests_in_window,
        3
    );
    let keys = prefix.keys().await;
    assert!(
        keys.contains(&format!("{}key:k%3A1:rpm", prefix.0)),
        "{keys:?}"
    );
    prefix.cleanup().await;
}

#[tokio::test]
async fn tpm_settles_to_real_usage_and_skips_pruned_entries() {
    let Some((store, prefix)) =
        store("tpm_settles_to_real_usage_and_skips_pruned_entries", LEASE).await
    else {
        return;
    };
    let limits = LimitSpec {
        tpm: Some(1000),
        ..LimitSpec::default()
    };
    let s = [scope(ScopeKind::Team, "t", limits)];
    let d = store.reserve(&s, demand(1001, 0), t(0)).await.unwrap_err();
    assert!(matches!(
        d,
        Denial::TooLarge {
            limit: LimitName::Tpm,
            value: 1000,
            requested: 1001,
            ..
        }
    ));
    let a = store.reserve(&s, demand(600, 0), t(0)).await.unwrap();
    let d = store
        .reserve(&s, demand(600, 0), t(1_000))
        .await
        .unwrap_err();
    assert!(
        matches!(d, Denial::Rate { limit: LimitName::Tpm, retry_after, .. } if retry_after == Duration::from_secs(59))
    );
    store.settle(a, 100, 0, t(2_000)).await.unwrap();
    assert_eq!(
        store.usage(&s[0], t(2_000)).await.unwrap().tokens_in_window,
        100
    );
    let b = store.reserve(&s, demand(900, 0), t(3_000)).await.unwrap();
    assert!(store.reserve(&s, demand(1, 0), t(3_000)).await.is_err());
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
    prefix.cleanup().await;
}

#[tokio::test]
async fn concurrency_is_released_on_settle_and_a_lost_slot_expires_with_its_lease() {
    let Some((store, prefix)) = store(
        "concurrency_is_released_on_settle_and_a_lost_slot_expires_with_its_lease",
        Duration::from_secs(30),
    )
    .await
    else {
        return;
    };
    let limits = LimitSpec {
        max_concurrency: Some(2),
        ..LimitSpec::default()
    };
    let s = [scope(ScopeKind::Key, "k", limits)];
    let a = store.reserve(&s, demand(0, 0), t(0)).await.unwrap();
    // This one is never settled, as if its instance crashed.
    let lost = store.reserve(&s, demand(0, 0), t(0)).await.unwrap();
    std::mem::forget(lost);
    let d = store.reserve(&s, demand(0, 0), t(1)).await.unwrap_err();
    assert!(
        matches!(d, Denial::Rate { limit: LimitName::Concurrency, value: 2, retry_after, .. } if retry_after == Duration::from_secs(1))
    );
    store.settle(a, 0, 0, t(2)).await.unwrap();
    let c = store.reserve(&s, demand(0, 0), t(3)).await.unwrap();
    assert!(store.reserve(&s, demand(0, 0), t(29_999)).await.is_err());
    let d2 = store.reserve(&s, demand(0, 0), t(30_000)).await.unwrap();
    assert_eq!(store.usage(&s[0], t(30_000)).await.unwrap().in_flight, 2);
    store.settle(c, 0, 0, t(30_001)).await.unwrap();
    store.settle(d2, 0, 0, t(30_001)).await.unwrap();
    assert_eq!(store.usage(&s[0], t(30_001)).await.unwrap().in_flight, 0);
    prefix.cleanup().await;
}

#[tokio::test]
async fn budgets_report_crossings_and_a_denial_takes_nothing() {
    let Some((store, prefix)) =
        store("budgets_report_crossings_and_a_denial_takes_nothing", LEASE).await
    else {
        return;
    };
    let key = scope(
        ScopeKind::Key,
        "k",
        LimitSpec {
            rpm: Some(10),
            tpm: Some(10_000),
            max_concurrency: Some(5),
            budget: BudgetSpec {
                daily_micros: Some(1_000),
                total_micros: Some(10_000),
                ..BudgetSpec::default()
            },
        },
    );
    let team = scope(ScopeKind::Team, "t", budget(None, Some(700), None));
    let all = [key.clone(), team.clone()];
    let d = store
        .reserve(&all, demand(500, 800), t(0))
        .await
        .unwrap_err();
    assert!(matches!(
        d,
        Denial::Budget {
            scope: ScopeKind::Team,
            period: Period::Monthly,
            limit_micros: 700,
            spent_micros: 0,
            ..
        }
    ));
    let u = store.usage(&key, t(0)).await.unwrap();
    assert_eq!(
        (u.requests_in_window, u.tokens_in_window, u.in_flight),
        (0, 0, 0)
    );

    let a = store.reserve(&all, demand(500, 600), t(1)).await.unwrap();
    let d = store.reserve(&all, demand(0, 600), t(2)).await.unwrap_err();
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
    let c = store.settle(a, 400, 500, t(3)).await.unwrap();
    let got: Vec<_> = c
        .iter()
        .map(|c| {
            (
                c.scope,
                c.period,
                c.window.as_str(),
                c.before_micros,
                c.after_micros,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ScopeKind::Key, Period::Daily, "2026-11-26", 0, 500),
            (ScopeKind::Key, Period::Total, "total", 0, 500),
            (ScopeKind::Team, Period::Monthly, "2026-11", 0, 500),
        ]
    );
    assert!(c[0].crossed(50) && !c[0].crossed(80));
    // 100 freed by the settle: 200 fits the team's month (500 + 200 = 700), 201 does not.
    assert!(store.reserve(&all, demand(0, 201), t(4)).await.is_err());
    let b = store.reserve(&all, demand(0, 200), t(5)).await.unwrap();
    store.settle(b, 0, 200, t(6)).await.unwrap();
    let u = store.usage(&key, t(7)).await.unwrap();
    assert_eq!(
        (u.spent_daily, u.spent_monthly, u.spent_total),
        (700, 0, 700)
    );
    assert_eq!(u.tokens_in_window, 400);
    assert_eq!(store.usage(&team, t(7)).await.unwrap().spent_monthly, 700);
    // The next day the daily budget is fresh.
    let next_day = t(12 * 3_600_000);
    let r = store
        .reserve(std::slice::from_ref(&key), demand(0, 1_000), next_day)
        .await
        .unwrap();
    let c = store.settle(r, 0, 1, next_day).await.unwrap();
    assert_eq!((c[0].window.as_str(), c[0].after_micros), ("2026-11-27", 1));
    prefix.cleanup().await;
}

#[tokio::test]
async fn claim_once_and_seed_spend_are_shared_between_instances() {
    let Some((a, prefix)) = store(
        "claim_once_and_seed_spend_are_shared_between_instances",
        LEASE,
    )
    .await
    else {
        return;
    };
    let b = twin(&prefix).await;
    let ttl = Duration::from_secs(60);
    assert!(
        a.claim_once("alert key:k daily 2026-11-26 80%", ttl)
            .await
            .unwrap()
    );
    assert!(
        !b.claim_once("alert key:k daily 2026-11-26 80%", ttl)
            .await
            .unwrap()
    );
    assert!(
        b.claim_once("alert key:k daily 2026-11-26 100%", ttl)
            .await
            .unwrap()
    );

    a.seed_spend(ScopeKind::Key, "k", Period::Daily, "2026-11-26", 700)
        .await
        .unwrap();
    b.seed_spend(ScopeKind::Key, "k", Period::Daily, "2026-11-26", 5)
        .await
        .unwrap();
    let s = scope(ScopeKind::Key, "k", budget(Some(1_000), None, None));
    assert_eq!(b.usage(&s, t(0)).await.unwrap().spent_daily, 700);
    assert!(
        b.reserve(std::slice::from_ref(&s), demand(0, 301), t(0))
            .await
            .is_err()
    );
    let r = b
        .reserve(std::slice::from_ref(&s), demand(0, 300), t(0))
        .await
        .unwrap();
    let c = a.settle(r, 0, 300, t(1)).await.unwrap();
    assert_eq!((c[0].before_micros, c[0].after_micros), (700, 1_000));
    assert!(
        a.seed_spend(ScopeKind::Key, "k", Period::Monthly, "2026-11-26", 1)
            .await
            .is_err()
    );
    prefix.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_overspend_a_small_budget() {
    let Some((a, prefix)) = store("two_instances_never_overspend_a_small_budget", LEASE).await
    else {
        return;
    };
    let stores = [Arc::new(a), Arc::new(twin(&prefix).await)];
    let s = Arc::new([
        scope(ScopeKind::Key, "k", budget(Some(20_000), None, None)),
        scope(
            ScopeKind::Global,
            "global",
            budget(None, Some(1_000_000), None),
        ),
    ]);
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let (store, s) = (Arc::clone(&stores[(i % 2) as usize]), Arc::clone(&s));
        tasks.push(tokio::spawn(async move {
            let max = 200 + i % 300;
            match store.reserve(&s[..], demand(0, max), t(i)).await {
                Ok(r) => {
                    tokio::time::sleep(Duration::from_millis(i % 5)).await;
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
    let u = stores[0].usage(&s[0], t(1_000)).await.unwrap();
    assert_eq!(u.spent_daily, settled);
    assert!(settled <= 20_000, "{settled}");
    assert!(
        settled > 19_500,
        "every denial saw spend + cost > limit: {settled}"
    );
    assert_eq!(
        stores[1]
            .usage(&s[1], t(1_000))
            .await
            .unwrap()
            .spent_monthly,
        settled
    );
    prefix.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_admit_exactly_the_rpm_limit() {
    let Some((a, prefix)) = store("two_instances_admit_exactly_the_rpm_limit", LEASE).await else {
        return;
    };
    let stores = [Arc::new(a), Arc::new(twin(&prefix).await)];
    let s = Arc::new([scope(ScopeKind::Global, "global", rpm(100))]);
    let mut tasks = Vec::new();
    for i in 0..300u64 {
        let (store, s) = (Arc::clone(&stores[(i % 2) as usize]), Arc::clone(&s));
        // 300 attempts within 30 s: 3x the limit inside one window.
        tasks.push(tokio::spawn(async move {
            store
                .reserve(&s[..], demand(0, 0), t(i * 100))
                .await
                .is_ok()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        admitted += u64::from(task.await.unwrap());
    }
    assert_eq!(admitted, 100);
    // Once the first minute passed, the next window admits again.
    assert!(
        stores[1]
            .reserve(&s[..], demand(0, 0), t(120_000))
            .await
            .is_ok()
    );
    prefix.cleanup().await;
}

#[tokio::test]
async fn a_dead_store_is_unavailable_quickly() {
    // A port nobody listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/");
    let cfg = RedisConfig {
        lease: LEASE,
        timeout: Duration::from_millis(250),
    };
    let started = Instant::now();
    assert!(RedisStore::connect_with(&url, "x:", cfg).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let store = RedisStore::open(&url, "x:", cfg).unwrap();
    let s = [scope(ScopeKind::Key, "k", rpm(10))];
    let started = Instant::now();
    let d = store.reserve(&s, demand(0, 0), t(0)).await.unwrap_err();
    assert!(matches!(d, Denial::Unavailable(_)), "{d:?}");
    assert!(store.usage(&s[0], t(0)).await.is_err());
    assert!(store.claim_once("f", Duration::from_secs(1)).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // With no limit there is no I/O, so no failure either.
    let free = [scope(ScopeKind::Key, "k", LimitSpec::default())];
    let r = store.reserve(&free, demand(1, 1), t(0)).await.unwrap();
    assert!(store.settle(r, 1, 1, t(1)).await.unwrap().is_empty());
    // A malformed URL is refused without echoing it (it may hold a password).
    let err = RedisStore::open("nope://secret@host", "x:", cfg)
        .err()
        .unwrap();
    assert!(!err.contains("secret"), "{err}");
}
