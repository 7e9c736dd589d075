//! Routing decision cost per request: `Router::plan` over a config of ten routes whose rules
//! match on model globs, the key's team and tools, with weighted, least-latency, priority and
//! cheapest strategies and fallbacks. Passive health is warm (latency samples recorded) so
//! least-latency orders by measured EWMA rather than "untried first".
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup: a failed step aborts the run

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::config::Config;
use switchyard::routing::health::HealthRegistry;
use switchyard::routing::{PlanInput, PromptTokens, Router};

const CONFIG: &str = r#"
providers:
  - { name: openai, kind: openai, base_url: "https://api.openai.com/v1", api_key: "sk-bench-openai" }
  - { name: azure-eu, kind: openai, base_url: "https://eu.example.com/v1", api_key: "sk-bench-eu" }
  - { name: anthropic, kind: anthropic, base_url: "https://api.anthropic.com", api_key: "sk-ant-bench" }
  - { name: gemini, kind: gemini, api_key: "gemini-bench-key" }
  - { name: bedrock, kind: bedrock, region: us-east-1, aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
routes:
  - name: research-frontier
    match: { model: ["gpt-5*", "o3*", "o4-*"], team: research }
    strategy: least-latency
    targets:
      - { provider: openai, model: gpt-5 }
      - { provider: azure-eu, model: gpt-5 }
      - { provider: anthropic, model: claude-opus-4-1 }
    fallback: [ { provider: gemini, model: gemini-2.5-pro } ]
  - name: frontier
    match: { model: ["gpt-5*", "o3*", "o4-*"] }
    strategy: weighted
    targets:
      - { provider: openai, model: gpt-5, weight: 70 }
      - { provider: azure-eu, model: gpt-5, weight: 30 }
  - name: claude-platform
    match: { model: "claude-*", team: [platform, research] }
    strategy: least-latency
    targets:
      - { provider: anthropic, model: claude-sonnet-4-5 }
      - { provider: bedrock, model: "anthropic.claude-sonnet-4-5-20250929-v1:0" }
  - name: claude
    match: { model: "claude-*" }
    targets:
      - { provider: anthropic, model: claude-sonnet-4-5, weight: 80 }
      - { provider: bedrock, model: "anthropic.claude-sonnet-4-5-20250929-v1:0", weight: 20 }
  - name: gemini
    match: { model: "gemini-*" }
    strategy: least-latency
    targets:
      - { provider: gemini, model: gemini-2.5-flash }
      - { provider: gemini, model: gemini-2.5-flash-lite }
  - name: mini-tools
    match: { model: ["gpt-4o-mini", "gpt-4.1-mini"], tools: true }
    strategy: priority
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: azure-eu, model: gpt-4o-mini }
  - name: mini
    match: { model: ["gpt-4o-mini", "gpt-4.1-mini"] }
    strategy: weighted
    targets:
      - { provider: anthropic, model: claude-haiku-4-5, weight: 60 }
      - { provider: openai, model: gpt-4o-mini, weight: 30 }
      - { provider: gemini, model: gemini-2.5-flash-lite, weight: 10 }
    fallback: [ { provider: azure-eu, model: gpt-4o-mini } ]
  - name: llama
    match: { model: ["llama-*", "meta-*"] }
    targets: [ { provider: bedrock, model: "meta.llama3-70b-instruct-v1:0" } ]
  - name: cheap
    match: { model: ["cheap", "cheap-*"] }
    strategy: cheapest
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: gemini, model: gemini-2.5-flash-lite }
      - { provider: anthropic, model: claude-haiku-4-5 }
  - name: default
    match: {}
    strategy: weighted
    targets:
      - { provider: openai, model: gpt-4o, weight: 50 }
      - { provider: anthropic, model: claude-sonnet-4-5, weight: 50 }
    fallback: [ { provider: gemini, model: gemini-2.5-flash } ]
keys: [ { name: bench, key: sk-bench-client-key } ]
"#;

/// (benchmark id, requested model, team, tools, route expected)
const CASES: &[(&str, &str, Option<&str>, bool, &str)] = &[
    (
        "weighted/7th-route",
        "gpt-4o-mini",
        Some("marketing"),
        false,
        "mini",
    ),
    (
        "least-latency/team-rule",
        "gpt-5",
        Some("research"),
        true,
        "research-frontier",
    ),
    (
        "least-latency/glob",
        "gemini-2.5-flash",
        None,
        false,
        "gemini",
    ),
    (
        "weighted/catch-all",
        "mistral-large-latest",
        None,
        false,
        "default",
    ),
];

/// Records latency samples for every configured target, as traffic would have.
fn warm(config: &Config, health: &HealthRegistry, now: Instant) {
    for route in &config.routes {
        for (i, t) in route.targets.iter().chain(&route.fallback).enumerate() {
            let name = &config.providers[t.provider].name;
            let h = health.get(name, &t.model);
            for _ in 0..8 {
                h.record_success(now, Duration::from_millis(180 + 40 * i as u64));
            }
        }
    }
}

fn routing(c: &mut Criterion) {
    let config = Arc::new(Config::from_yaml(CONFIG, &|_| None).expect("bench config loads"));
    let router = Router::new(config.clone());
    let health = HealthRegistry::default();
    let now = Instant::now();
    warm(&config, &health, now);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut rand = move || rng.f64();

    let mut g = c.benchmark_group("plan");
    for &(id, model, team, has_tools, route) in CASES {
        let input = PlanInput {
            model,
            team,
            has_tools,
            max_output_tokens: 400,
            body_len: 1_300,
            ..PlanInput::default()
        };
        let plan = |rand: &mut dyn FnMut() -> f64| {
            let mut count = || 350;
            let mut tokens = PromptTokens::new(&mut count);
            router
                .plan(black_box(&input), &mut tokens, &health, now, rand)
                .map(|p| (p.route, p.targets.len()))
        };
        let (matched, targets) = plan(&mut rand).expect("request is routable");
        assert_eq!(matched, Some(route), "{id}");
        assert!(targets > 0, "{id}");
        g.bench_function(id, |b| b.iter(|| plan(&mut rand)));
    }
    g.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
