//! Router::plan over a real config: rules in order, strategies, overrides, context windows,
//! health denial and the last resort.

use super::health::{FailureKind, HealthRegistry};
use super::strategy::ProviderPrefs;
use super::*;
use crate::config::Config;
use std::time::{Duration, Instant};

const YAML: &str = r#"
providers:
  - { name: anthropic, kind: anthropic, base_url: "https://api.anthropic.com", api_key: x }
  - { name: openai, kind: openai, base_url: "https://api.openai.com/v1", api_key: y }
  - { name: local, kind: openai, base_url: "http://127.0.0.1:9/v1", api_key: z }
routes:
  - name: big
    match: { model: "gpt-4o-mini", prompt_tokens: { above: 1000 } }
    targets: [ { provider: openai, model: "gpt-4.1" } ]
  - name: mid-tier
    match: { model: "gpt-4o-mini" }
    targets:
      - { provider: anthropic, model: "claude-haiku-4-5", weight: 60 }
      - { provider: openai, model: "gpt-4o-mini", weight: 40 }
    fallback: [ { provider: openai, model: "gpt-4o-mini" }, { provider: openai, model: "gpt-4.1" } ]
  - name: cheap
    match: { model: "cheap*" }
    strategy: cheapest
    targets:
      - { provider: local, model: "a", cost: 5 }
      - { provider: local, model: "b", cost: 1 }
      - { provider: local, model: "c" }
  - name: ordered
    match: { model: ordered, team: research }
    strategy: priority
    targets:
      - { provider: local, model: "p1", context_window: 100 }
      - { provider: local, model: "p2", max_latency_ms: 250 }
keys: [ { name: k, key: abcdefghijk } ]
"#;

fn router() -> Router {
    Router::new(Arc::new(Config::from_yaml(YAML, &|_| None).unwrap()))
}

fn plan_with<'a>(
    r: &'a Router,
    input: &PlanInput<'a, '_>,
    tokens: u64,
    health: &HealthRegistry,
    seed: u64,
) -> Result<Plan<'a>, crate::error::GatewayError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut count = || tokens;
    let mut t = PromptTokens::new(&mut count);
    r.plan(input, &mut t, health, Instant::now(), &mut || rng.f64())
}

fn names(p: &Plan<'_>) -> Vec<String> {
    p.targets
        .iter()
        .map(|t| format!("{}:{}", t.provider, t.model))
        .collect()
}

fn input(model: &str) -> PlanInput<'_, '_> {
    PlanInput {
        model,
        body_len: 100,
        ..PlanInput::default()
    }
}

/// The first pick follows the weights; fallbacks follow, without duplicates.
#[test]
fn weighted_order_and_fallback() {
    let r = router();
    let h = HealthRegistry::default();
    let mut first_anthropic = 0;
    let n = 5_000;
    for seed in 0..n {
        let plan = plan_with(&r, &input("gpt-4o-mini"), 10, &h, seed).unwrap();
        assert_eq!(plan.route, Some("mid-tier"));
        assert_eq!(plan.targets.len(), 3, "duplicate fallback removed");
        assert!(plan.targets[2].same(1, "gpt-4.1"));
        if plan.targets[0].provider == 0 {
            first_anthropic += 1;
        }
    }
    let share = f64::from(first_anthropic) / f64::from(n as u32);
    assert!((share - 0.6).abs() < 0.03, "anthropic first in {share}");
}

/// Rules are tried in order: the token rule wins only above its threshold.
#[test]
fn first_matching_rule_wins() {
    let r = router();
    assert!(r.needs_prompt_tokens());
    let h = HealthRegistry::default();
    let big = plan_with(&r, &input("gpt-4o-mini"), 5000, &h, 1).unwrap();
    assert_eq!(big.route, Some("big"));
    let small = plan_with(&r, &input("gpt-4o-mini"), 50, &h, 1).unwrap();
    assert_eq!(small.route, Some("mid-tier"));
    let glob = plan_with(&r, &input("cheap-anything"), 5, &h, 1).unwrap();
    assert_eq!(glob.route, Some("cheap"));
    assert_eq!(
        names(&glob),
        ["2:b", "2:a", "2:c"],
        "cheapest, unknown cost last"
    );
    let mut i = input("ordered");
    assert_eq!(
        plan_with(&r, &i, 5, &h, 1).unwrap_err().status,
        404,
        "team rule without a team"
    );
    let team = "research";
    i.team = Some(team);
    let p = plan_with(&r, &i, 5, &h, 1).unwrap();
    assert_eq!(names(&p), ["2:p1", "2:p2"]);
    assert_eq!(p.targets[1].max_latency, Some(Duration::from_millis(250)));
}

/// `provider/model` goes direct; unknown models and providers are 404.
#[test]
fn direct_and_unknown() {
    let r = router();
    let h = HealthRegistry::default();
    let plan = plan_with(&r, &input("anthropic/claude-opus-4-1"), 1, &h, 1).unwrap();
    assert_eq!(plan.route, None);
    assert!(plan.targets[0].same(0, "claude-opus-4-1"));
    assert!(plan.targets[0].health.is_none());
    for m in ["gpt-5", "nope/x", "anthropic/", "/x"] {
        assert_eq!(
            plan_with(&r, &input(m), 1, &h, 1).unwrap_err().status,
            404,
            "{m}"
        );
    }
}

/// Context windows: a target that cannot hold prompt + output is skipped; none left is 400.
/// The tokenizer runs only when the cheap bound does not fit.
#[test]
fn context_window_skip() {
    let r = router();
    let h = HealthRegistry::default();
    let mut i = input("ordered");
    i.team = Some("research");
    i.body_len = 100; // cheap bound 50 + 40 < 100: no tokenizing
    i.max_output_tokens = 40;
    let mut calls = 0;
    let mut count = || {
        calls += 1;
        1_000_000
    };
    let mut t = PromptTokens::new(&mut count);
    let p = r.plan(&i, &mut t, &h, Instant::now(), &mut || 0.5).unwrap();
    assert_eq!(names(&p), ["2:p1", "2:p2"]);
    assert_eq!(calls, 0, "small request: no tokenizer");
    i.body_len = 400;
    let p = plan_with(&r, &i, 90, &h, 1).unwrap();
    assert_eq!(names(&p), ["2:p2"], "90 + 40 > 100");
    assert_eq!(p.skipped_context, vec![(2, "p1")]);
    let p = plan_with(&r, &i, 50, &h, 1).unwrap();
    assert_eq!(names(&p), ["2:p1", "2:p2"], "the estimate fits");
}

/// `models`, `provider.order`, `allow_fallbacks: false` and `:floor`.
#[test]
fn overrides() {
    let r = router();
    let h = HealthRegistry::default();
    let models = vec!["cheap".to_string(), "local/zz".to_string()];
    let mut i = input("ordered");
    i.team = Some("research");
    i.models = &models;
    let p = plan_with(&r, &i, 5, &h, 1).unwrap();
    assert_eq!(names(&p), ["2:p1", "2:p2", "2:b", "2:a", "2:c", "2:zz"]);
    assert_eq!(p.route, Some("ordered"));
    let bad = vec!["nope".to_string()];
    i.models = &bad;
    assert_eq!(
        plan_with(&r, &i, 5, &h, 1).unwrap_err().param.as_deref(),
        Some("models")
    );
    let prefs = ProviderPrefs {
        order: vec!["openai".into()],
        sort: None,
        allow_fallbacks: false,
    };
    let mut i = input("gpt-4o-mini");
    i.prefs = Some(&prefs);
    for seed in 0..20 {
        let p = plan_with(&r, &i, 5, &h, seed).unwrap();
        assert_eq!(names(&p), ["1:gpt-4o-mini"], "order + no fallbacks");
    }
    // `:floor` sorts the weighted route by price (catalog prices: haiku > 4o-mini).
    for seed in 0..20 {
        let p = plan_with(&r, &input("gpt-4o-mini:floor"), 5, &h, seed).unwrap();
        assert_eq!(p.targets[0].model, "gpt-4o-mini", "cheaper first");
    }
}

/// Denied targets are left out; all denied: tried anyway (breaker), or 503 (Retry-After).
#[test]
fn health_denial_and_last_resort() {
    let r = router();
    let h = HealthRegistry::default();
    let now = Instant::now();
    for _ in 0..5 {
        h.get("local", "b").record_failure(now, FailureKind::Server);
    }
    let p = plan_with(&r, &input("cheap"), 5, &h, 1).unwrap();
    assert_eq!(names(&p), ["2:a", "2:c"], "open breaker skipped");
    for m in ["a", "c"] {
        for _ in 0..5 {
            h.get("local", m).record_failure(now, FailureKind::Server);
        }
    }
    let p = plan_with(&r, &input("cheap"), 5, &h, 1).unwrap();
    assert_eq!(
        names(&p),
        ["2:a", "2:b", "2:c"],
        "last resort, config order"
    );
    assert!(p.targets.iter().all(|t| t.last_resort));
    for m in ["a", "b", "c"] {
        h.get("local", m).retry_after(now, Duration::from_secs(5));
    }
    let e = plan_with(&r, &input("cheap"), 5, &h, 1).unwrap_err();
    assert_eq!(e.status, 503);
    assert!(e.retry_after.is_some_and(|s| (1..=5).contains(&s)), "{e:?}");
}

/// /v1/models lists exact route models and provider-qualified targets.
#[test]
fn model_names() {
    let names: Vec<String> = router().model_names().into_iter().map(|(n, _)| n).collect();
    assert_eq!(&names[..2], ["gpt-4o-mini", "ordered"]);
    assert!(names.contains(&"anthropic/claude-haiku-4-5".to_string()));
    assert!(!names.iter().any(|n| n.contains('*')));
}
