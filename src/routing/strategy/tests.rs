use super::*;
use proptest::prelude::{Just, any, prop_assert_eq, prop_oneof, proptest};
use serde_json::{Value, json};

fn cand(provider: &'static str) -> Candidate<'static> {
    Candidate {
        provider,
        model: "m",
        ..Candidate::default()
    }
}

fn first_share(
    strategy: &Strategy,
    cands: &[Candidate<'_>],
    want: usize,
    n: u32,
    seed: u64,
) -> f64 {
    let mut rng = fastrand::Rng::with_seed(seed);
    let hits = (0..n)
        .filter(|_| order(strategy, cands, &mut || rng.f64())[0] == want)
        .count();
    hits as f64 / f64::from(n)
}

/// 60/40 weights put the first target first in 60% ± 5% of 2,000 seeded draws.
#[test]
fn weighted_sixty_forty() {
    let cands = [
        Candidate {
            weight: 60.0,
            ..cand("a")
        },
        Candidate {
            weight: 40.0,
            ..cand("b")
        },
    ];
    for seed in [1, 2, 3, 42] {
        let share = first_share(&Strategy::Weighted, &cands, 0, 2_000, seed);
        assert!((share - 0.6).abs() <= 0.05, "seed {seed}: {share}");
    }
}

/// The health factor scales the weight: 60 × 0.5 vs 40 gives 30/70.
#[test]
fn weighted_scales_by_health() {
    let cands = [
        Candidate {
            weight: 60.0,
            health_factor: 0.5,
            ..cand("a")
        },
        Candidate {
            weight: 40.0,
            ..cand("b")
        },
    ];
    let share = first_share(&Strategy::Weighted, &cands, 0, 20_000, 9);
    assert!((share - 30.0 / 70.0).abs() < 0.015, "{share}");
}

/// Unavailable targets are dropped; zero weights go last in config order.
#[test]
fn weighted_drops_denied_and_sinks_zero_weight() {
    let cands = [
        Candidate {
            weight: 0.0,
            ..cand("zero")
        },
        Candidate {
            available: false,
            ..cand("denied")
        },
        cand("a"),
        Candidate {
            weight: 0.0,
            ..cand("zero2")
        },
    ];
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..100 {
        assert_eq!(
            order(&Strategy::Weighted, &cands, &mut || rng.f64()),
            vec![2, 0, 3]
        );
    }
}

/// Priority keeps config order, skipping denied targets, and consumes no randomness when
/// everything is healthy.
#[test]
fn priority_order() {
    let cands = [
        cand("a"),
        Candidate {
            available: false,
            ..cand("b")
        },
        cand("c"),
    ];
    let mut calls = 0;
    let got = order(&Strategy::Priority, &cands, &mut || {
        calls += 1;
        0.5
    });
    assert_eq!((got, calls), (vec![0, 2], 0));
}

/// A degraded target at the 5% floor leads in about 5% of priority orders, and is still
/// in every order (behind the healthy ones otherwise).
#[test]
fn degraded_target_keeps_canary_share() {
    let cands = [
        Candidate {
            health_factor: 0.05,
            ..cand("primary")
        },
        cand("backup"),
    ];
    let share = first_share(&Strategy::Priority, &cands, 0, 20_000, 11);
    assert!((share - 0.05).abs() < 0.01, "{share}");
    let mut rng = fastrand::Rng::with_seed(1);
    assert_eq!(
        order(&Strategy::Priority, &cands, &mut || rng.f64()).len(),
        2
    );
    let half = [
        Candidate {
            health_factor: 0.5,
            ..cand("primary")
        },
        cand("backup"),
    ];
    let share = first_share(&Strategy::Priority, &half, 0, 20_000, 12);
    assert!((share - 0.5).abs() < 0.015, "recovering: {share}");
}

/// Untried first, then ascending EWMA.
#[test]
fn least_latency() {
    let cands = [
        Candidate {
            ewma_ttfb_ms: Some(300.0),
            ..cand("slow")
        },
        Candidate {
            ewma_ttfb_ms: Some(80.0),
            ..cand("fast")
        },
        cand("new"),
        Candidate {
            ewma_ttfb_ms: Some(120.0),
            ..cand("mid")
        },
    ];
    assert_eq!(
        order(&Strategy::LeastLatency, &cands, &mut || 0.5),
        vec![2, 1, 3, 0]
    );
}

/// Cheapest first; unknown cost last; ties keep config order.
#[test]
fn cheapest() {
    let cands = [
        cand("unknown"),
        Candidate {
            cost: Some(3e-6),
            ..cand("pricey")
        },
        Candidate {
            cost: Some(1e-7),
            ..cand("cheap")
        },
        Candidate {
            cost: Some(3e-6),
            ..cand("pricey2")
        },
    ];
    assert_eq!(
        order(&Strategy::Cheapest, &cands, &mut || 0.5),
        vec![2, 1, 3, 0]
    );
}

/// Highest throughput first; unknown throughput after, ordered by latency.
#[test]
fn throughput() {
    let cands = [
        Candidate {
            ewma_ttfb_ms: Some(50.0),
            ..cand("fast-unknown")
        },
        Candidate {
            throughput: Some(90.0),
            ..cand("t90")
        },
        Candidate {
            throughput: Some(200.0),
            ..cand("t200")
        },
        Candidate {
            ewma_ttfb_ms: Some(10.0),
            ..cand("faster-unknown")
        },
    ];
    assert_eq!(
        order(&Strategy::Throughput, &cands, &mut || 0.5),
        vec![2, 1, 3, 0]
    );
}

fn trio() -> [Candidate<'static>; 3] {
    [
        Candidate {
            ewma_ttfb_ms: Some(900.0),
            cost: Some(1e-7),
            success_rate: Some(0.97),
            score: Some(0.3),
            ..cand("cheap-slow")
        },
        Candidate {
            ewma_ttfb_ms: Some(150.0),
            cost: Some(5e-6),
            success_rate: Some(0.98),
            score: Some(0.5),
            ..cand("fast-pricey")
        },
        Candidate {
            ewma_ttfb_ms: Some(600.0),
            cost: Some(1.5e-5),
            success_rate: Some(0.999),
            score: Some(1.0),
            ..cand("best")
        },
    ]
}

/// The presets pick what their names promise on the same three targets.
#[test]
fn scored_presets() {
    let c = trio();
    let first = |name: &str| order(&Strategy::parse(name).unwrap(), &c, &mut || 0.5)[0];
    assert_eq!(first("cost"), 0);
    assert_eq!(first("speed"), 1);
    assert_eq!(first("quality"), 2);
}

/// Scores follow the documented normalisation.
#[test]
fn score_values() {
    let c = trio();
    let only = |w: ScoreWeights| scores(&w, &c);
    let lat = ScoreWeights {
        latency: 1.0,
        cost: 0.0,
        success: 0.0,
        custom: 0.0,
    };
    let s = only(lat);
    assert_eq!(s[1], 1.0);
    assert_eq!(s[0], 0.0);
    assert!((s[2] - 300.0 / 750.0).abs() < 1e-12);
    let unknown = [cand("x"), cand("y")];
    let w = ScoreWeights::BALANCED;
    // latency 0.5, cost 0, success 1, custom 0.5, each × 0.25.
    assert_eq!(scores(&w, &unknown), vec![0.5, 0.5]);
    let equal = [
        Candidate {
            cost: Some(1.0),
            ..cand("x")
        },
        Candidate {
            cost: Some(1.0),
            ..cand("y")
        },
    ];
    let cost_only = ScoreWeights {
        latency: 0.0,
        cost: 1.0,
        success: 0.0,
        custom: 0.0,
    };
    assert_eq!(scores(&cost_only, &equal), vec![1.0, 1.0]);
}

/// Every config name parses; unknown names do not.
#[test]
fn strategy_names() {
    for n in [
        "weighted",
        "priority",
        "least-latency",
        "cheapest",
        "throughput",
        "scored",
        "cost",
        "speed",
        "quality",
    ] {
        assert!(Strategy::parse(n).is_some(), "{n}");
    }
    assert_eq!(Strategy::parse("fastest"), None);
    assert_eq!(
        Strategy::parse("cost"),
        Some(Strategy::Scored(ScoreWeights::COST))
    );
}

/// `:floor` and `:nitro` are split off; other colons stay in the model name.
#[test]
fn model_suffixes() {
    assert_eq!(
        split_model_suffix("gpt-4o:floor"),
        ("gpt-4o", Some(ModelSuffix::Floor))
    );
    assert_eq!(
        split_model_suffix("meta/llama-3:nitro"),
        ("meta/llama-3", Some(ModelSuffix::Nitro))
    );
    assert_eq!(split_model_suffix("llama3:8b"), ("llama3:8b", None));
    assert_eq!(split_model_suffix(":floor"), (":floor", None));
    assert_eq!(split_model_suffix("gpt-4o"), ("gpt-4o", None));
}

/// `provider` parses OpenRouter's fields, ignores unknown ones and names bad ones.
#[test]
fn provider_prefs_parse() {
    let p = ProviderPrefs::from_json(&json!({
        "order": ["openai", "anthropic"], "sort": "latency", "allow_fallbacks": false,
        "data_collection": "deny"
    }))
    .unwrap();
    assert_eq!(p.order, vec!["openai", "anthropic"]);
    assert_eq!(p.sort, Some(ProviderSort::Latency));
    assert!(!p.allow_fallbacks);
    assert_eq!(
        ProviderPrefs::from_json(&Value::Null).unwrap(),
        ProviderPrefs::default()
    );
    for (v, param) in [
        (json!("openai"), "provider"),
        (json!({"order": "openai"}), "provider.order"),
        (json!({"order": [1]}), "provider.order"),
        (json!({"sort": "fastest"}), "provider.sort"),
        (json!({"allow_fallbacks": "no"}), "provider.allow_fallbacks"),
    ] {
        let e = ProviderPrefs::from_json(&v).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some(param)), "{v}");
    }
}

/// `provider.sort` beats the suffix, which beats the route's strategy.
#[test]
fn override_precedence() {
    let route = Strategy::Weighted;
    assert_eq!(effective_strategy(&route, None, None), Strategy::Weighted);
    assert_eq!(
        effective_strategy(&route, None, Some(ModelSuffix::Floor)),
        Strategy::Cheapest
    );
    assert_eq!(
        effective_strategy(&route, None, Some(ModelSuffix::Nitro)),
        Strategy::Throughput
    );
    let prefs = ProviderPrefs {
        sort: Some(ProviderSort::Latency),
        ..ProviderPrefs::default()
    };
    assert_eq!(
        effective_strategy(&route, Some(&prefs), Some(ModelSuffix::Floor)),
        Strategy::LeastLatency
    );
    let no_sort = ProviderPrefs::default();
    assert_eq!(
        effective_strategy(&route, Some(&no_sort), Some(ModelSuffix::Floor)),
        Strategy::Cheapest
    );
}

/// `provider.order` moves listed providers first; `allow_fallbacks: false` drops the rest.
#[test]
fn provider_order_and_fallbacks() {
    let cands = [cand("a"), cand("b"), cand("c"), cand("b")];
    let base = vec![0, 3, 1, 2];
    let prefs = |order: &[&str], allow| ProviderPrefs {
        order: order.iter().map(|s| s.to_string()).collect(),
        sort: None,
        allow_fallbacks: allow,
    };
    assert_eq!(
        apply_provider_prefs(base.clone(), &cands, Some(&prefs(&["c", "b"], true))),
        vec![2, 3, 1, 0]
    );
    assert_eq!(
        apply_provider_prefs(base.clone(), &cands, Some(&prefs(&["c", "b"], false))),
        vec![2, 3, 1]
    );
    assert_eq!(
        apply_provider_prefs(base.clone(), &cands, Some(&prefs(&[], false))),
        vec![0]
    );
    assert_eq!(
        apply_provider_prefs(base.clone(), &cands, Some(&prefs(&["zzz"], true))),
        base
    );
    assert_eq!(apply_provider_prefs(base.clone(), &cands, None), base);
}

fn any_strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![
        Just(Strategy::Weighted),
        Just(Strategy::Priority),
        Just(Strategy::LeastLatency),
        Just(Strategy::Cheapest),
        Just(Strategy::Throughput),
        Just(Strategy::Scored(ScoreWeights::BALANCED)),
        Just(Strategy::Scored(ScoreWeights::QUALITY)),
    ]
}

proptest! {
    /// Every strategy returns each available candidate exactly once and no denied one.
    #[test]
    fn order_is_a_permutation_of_available(
        s in any_strategy(),
        facts in proptest::collection::vec(
            (any::<bool>(), 0.0f64..100.0, 0.0f64..=1.0, proptest::option::of(0.0f64..1e4),
             proptest::option::of(0.0f64..1.0), proptest::option::of(0.0f64..500.0)),
            0..8),
        seed in any::<u64>(),
    ) {
        let cands: Vec<Candidate<'_>> = facts.iter().map(|&(available, weight, health_factor, ewma_ttfb_ms, cost, throughput)| Candidate {
            available, weight, health_factor, ewma_ttfb_ms, cost, throughput, ..Candidate::default()
        }).collect();
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut got = order(&s, &cands, &mut || rng.f64());
        got.sort_unstable();
        let want: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].available).collect();
        prop_assert_eq!(got, want);
    }
}
