//! Admission cost per request: authenticating the `Authorization: Bearer` header against the
//! key directory (HMAC digest, lookup, constant-time compare), and authentication followed by
//! a `LocalStore` reservation and its settlement for a key with RPM, TPM and budget limits
//! (alone, and together with team and global limits).
//!
//! The quota store is async; the timed loop runs inside one `block_on` of a current-thread
//! Tokio runtime per sample (`iter_custom`), so the runtime's entry cost is not measured.
//! The clock advances 20 ms per request, so the sliding RPM/TPM windows hold a steady
//! 3,000 entries, as a key running at 50 requests per second would.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup: a failed step aborts the run

use criterion::{Criterion, criterion_group, criterion_main};
use pingora::http::RequestHeader;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use switchyard::config::Config;
use switchyard::keys::KeyDirectory;
use switchyard::keys::Principal;
use switchyard::quota::{CounterStore, Demand, LocalStore, Scope, ScopeKind};

const KEY: &str = "sk-bench-0123456789abcdefghijklmnopqrstuvwxyz";

const CONFIG: &str = r#"
keys:
  - { name: other-1, key: sk-bench-other-key-0001 }
  - { name: other-2, key: sk-bench-other-key-0002, team: research }
  - name: bench
    key: "sk-bench-0123456789abcdefghijklmnopqrstuvwxyz"
    team: research
    rpm: 1000000
    tpm: 1000000000
    budget: { daily: 100000, monthly: 1000000 }
limits:
  global: { rpm: 10000000, budget: { monthly: 10000000 } }
  teams: { research: { tpm: 10000000000, budget: { daily: 1000000 } } }
"#;

/// Simulated time between two requests of the key.
const STEP: Duration = Duration::from_millis(20);
/// What a request reserves (prompt estimate + max output, and its price) and really used.
const DEMAND: Demand = Demand {
    tokens: 1_400,
    cost_micros: 2_100,
};
const USED_TOKENS: u64 = 900;
const USED_MICROS: u64 = 1_350;

fn request() -> RequestHeader {
    let mut h = RequestHeader::build("POST", b"/v1/chat/completions", None).expect("header");
    h.insert_header("authorization", format!("Bearer {KEY}"))
        .expect("header");
    h.insert_header("content-type", "application/json")
        .expect("header");
    h
}

/// The scopes `proxy::admit` builds per request: the key's, then (with `all`) its
/// team's and the global ones.
fn scopes(config: &Config, principal: &Principal, all: bool) -> Vec<Scope> {
    let key = &principal.key;
    let mut scopes = Vec::with_capacity(3);
    scopes.push(Scope {
        kind: ScopeKind::Key,
        id: key.id.clone(),
        limits: key.limits.clone(),
    });
    if all {
        if let Some(team) = principal.team()
            && let Some(spec) = config.limits.teams.get(team)
        {
            scopes.push(Scope {
                kind: ScopeKind::Team,
                id: Arc::from(team),
                limits: spec.clone(),
            });
        }
        scopes.push(Scope {
            kind: ScopeKind::Global,
            id: Arc::from("global"),
            limits: config.limits.global.clone(),
        });
    }
    scopes
}

fn admission(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, &|_| None).expect("bench config loads");
    let keys = KeyDirectory::new(b"bench-directory-secret-0123456789");
    keys.set_config_keys(switchyard::reload::config_keys(&config));
    let header = request();
    let principal = keys.authenticate(&header).expect("bench key authenticates");
    assert!(principal.key.limits.rpm.is_some() && principal.key.limits.tpm.is_some());
    assert_eq!(scopes(&config, &principal, true).len(), 3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    let mut g = c.benchmark_group("admission");
    g.bench_function("auth", |b| {
        b.iter(|| {
            keys.authenticate(black_box(&header))
                .map(|p| p.key.id.len())
        })
    });
    for (id, all) in [
        ("auth+reserve+settle/key", false),
        ("auth+reserve+settle/key+team+global", true),
    ] {
        let store = LocalStore::new(config.limits.lease);
        let mut now = SystemTime::now();
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        now += STEP;
                        let principal = keys.authenticate(black_box(&header)).expect("auth");
                        let scopes = scopes(&config, &principal, all);
                        let r = store
                            .reserve(&scopes, DEMAND, now)
                            .await
                            .expect("within limits");
                        let crossings = store
                            .settle(r, USED_TOKENS, USED_MICROS, now)
                            .await
                            .expect("settles");
                        black_box(crossings);
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, admission);
criterion_main!(benches);
