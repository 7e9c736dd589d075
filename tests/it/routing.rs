//! Routing engine against the emulator: rules, strategies, per-request overrides, context
//! windows, circuit breakers, Retry-After windows, per-target deadlines and the retry budget.

use crate::common;

use crate::common::{Emulator, Gateway, KEY, Reply};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A second client key, with a team and a tag.
const KEY2: &str = "sk-research-key-0123456789";

const PROVIDERS: &str = r#"
providers:
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "sk-oai-upstream", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: emu-anthropic, kind: anthropic, base_url: "http://{EMU}", api_key: "sk-ant-upstream", first_byte_timeout: 2s, stream_idle_timeout: 2s }
routes:
"#;

/// A gateway over `emu` with `routes` (YAML list items), `server_extra` in `server:` and two
/// keys: `tester` (no team) and `researcher` (team `research`, tag `premium`).
fn start(emu: &Emulator, server_extra: &str, routes: &str) -> Gateway {
    let (yaml, port, admin) = common::config(emu, &format!("{PROVIDERS}{routes}"), server_extra);
    let one = format!("keys: [ {{ name: tester, key: \"{KEY}\" }} ]");
    assert!(yaml.contains(&one));
    let two = format!(
        "keys: [ {{ name: tester, key: \"{KEY}\" }}, {{ name: researcher, key: \"{KEY2}\", team: research, tags: [premium] }} ]"
    );
    Gateway::start(&yaml.replace(&one, &two), port, admin)
}

fn msgs() -> Value {
    json!([{"role": "user", "content": "Hi"}])
}

fn ask(gw: &Gateway, model: &str) -> Reply {
    gw.chat(&json!({"model": model, "messages": msgs()}))
}

fn post_as(gw: &Gateway, key: &str, body: &Value, extra: &[(&str, &str)]) -> Reply {
    let auth = format!("Bearer {key}");
    let mut headers = vec![("authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    common::post(&gw.url("/v1/chat/completions"), &body.to_string(), &headers)
}

/// Access log records of chat completions (the harness' readiness probes left out).
fn chat_log(gw: &Gateway, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let lines: Vec<Value> = gw
            .access_log(0)
            .into_iter()
            .filter(|l| l["path"] == "/v1/chat/completions")
            .collect();
        if lines.len() >= at_least || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of the metric line starting with `prefix` (labels in Prometheus' sorted order).
fn metric(m: &str, prefix: &str) -> Option<f64> {
    m.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A weighted 60/40 split lands within ±5 % over 2,000 requests.
#[test]
fn weighted_split_60_40() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: split
    match: { model: split }
    targets:
      - { provider: emu-openai, model: w-sixty, weight: 60 }
      - { provider: emu-openai, model: w-forty, weight: 40 }
"#,
    );
    let n = 2_000;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..n / 4 {
                    assert_eq!(ask(&gw, "split").status, 200);
                }
            });
        }
    });
    let (a, b) = (emu.count("w-sixty"), emu.count("w-forty"));
    assert_eq!(a + b, n);
    let share = a as f64 / n as f64;
    assert!((0.55..=0.65).contains(&share), "60% target got {share}");
}

/// N consecutive failures open the breaker (the target is skipped, no request reaches it);
/// after the cooldown a canary half-opens it and a success closes it again.
#[test]
fn breaker_opens_and_recovers() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        ", health: { breaker: { consecutive_failures: 3, cooldown: 1s, close_after: 1 } }",
        r#"
  - name: br
    match: { model: br }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "br-flaky#fail_first=3" }
      - { provider: emu-openai, model: br-steady }
"#,
    );
    let flaky = "br-flaky#fail_first=3";
    for _ in 0..3 {
        let r = ask(&gw, "br");
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
    }
    assert_eq!(emu.count(flaky), 3);
    let state =
        r#"switchyard_target_breaker_state{model="br-flaky#fail_first=3",provider="emu-openai"}"#;
    assert_eq!(metric(&gw.metrics(), state), Some(2.0), "open");
    for _ in 0..5 {
        let r = ask(&gw, "br");
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-switchyard-attempts"),
            Some("1"),
            "open: skipped"
        );
    }
    assert_eq!(emu.count(flaky), 3, "no request while open");
    let skipped = r#"switchyard_target_attempts_total{model="br-flaky#fail_first=3",outcome="skipped_breaker",provider="emu-openai"}"#;
    assert_eq!(metric(&gw.metrics(), skipped), Some(5.0));
    std::thread::sleep(Duration::from_millis(1_200));
    let r = ask(&gw, "br");
    assert_eq!(r.status, 200);
    assert_eq!(
        emu.count(flaky),
        4,
        "the canary reached the recovered target"
    );
    assert_eq!(metric(&gw.metrics(), state), Some(0.0), "closed again");
    for _ in 0..3 {
        assert_eq!(ask(&gw, "br").header("x-switchyard-attempts"), Some("1"));
    }
    assert_eq!(emu.count(flaky), 7, "back in first place");
    assert_eq!(emu.count("br-steady"), 3 + 5);
}

/// A 429 with Retry-After: 2 keeps every request away from that target for the window.
#[test]
fn no_request_inside_retry_after_window() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: ra
    match: { model: ra }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "ra-limited#status=429;retry_after=2" }
      - { provider: emu-openai, model: ra-ok }
"#,
    );
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < Duration::from_millis(1_500) {
        let r = ask(&gw, "ra");
        assert_eq!(r.status, 200, "{}", r.body);
        sent += 1;
    }
    assert!(sent > 5, "{sent} requests");
    assert_eq!(emu.count("ra-limited#status=429;retry_after=2"), 1);
    let log = chat_log(&gw, sent);
    assert_eq!(
        log[0]["tried"],
        json!([
            "emu-openai/ra-limited#status=429;retry_after=2:status_429",
            "emu-openai/ra-ok:ok"
        ]),
        "{}",
        log[0]
    );
    assert!(
        log[1]["tried"][0]
            .as_str()
            .unwrap()
            .ends_with(":skipped_retry_after"),
        "{}",
        log[1]
    );
}

/// Every target inside a Retry-After window: 503 with Retry-After, nothing sent.
#[test]
fn all_targets_rate_limited_is_503() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: ra2
    match: { model: ra2 }
    targets: [ { provider: emu-openai, model: "ra2#status=429;retry_after=30" } ]
"#,
    );
    let r = ask(&gw, "ra2");
    assert_eq!(r.status, 429);
    let r = ask(&gw, "ra2");
    assert_eq!(r.status, 503, "{}", r.body);
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((25..=30).contains(&secs), "{secs}");
    assert_eq!(emu.count("ra2#status=429;retry_after=30"), 1);
}

/// `max_latency_ms` is the target's first-byte deadline: a slower answer fails over.
#[test]
fn max_latency_fails_over() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: ml
    match: { model: ml }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "ml-slow#ttfb_ms=1500", max_latency_ms: 300 }
      - { provider: emu-anthropic, model: ml-fast }
"#,
    );
    for stream in [false, true] {
        let started = Instant::now();
        let r = gw.chat(&json!({"model": "ml", "messages": msgs(), "stream": stream}));
        let took = started.elapsed();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-switchyard-provider"), Some("emu-anthropic"));
        assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
        assert!(took < Duration::from_millis(1_200), "took {took:?}");
    }
    let m = gw.metrics();
    let timeouts = r#"switchyard_target_failures_total{kind="timeout",model="ml-slow#ttfb_ms=1500",provider="emu-openai"}"#;
    assert_eq!(metric(&m, timeouts), Some(2.0), "{m}");
}

/// A provider's context-window error fails over (OpenAI and Anthropic wordings); with no
/// other target the client gets a 400 `context_length_exceeded`.
#[test]
fn context_window_error_fails_over() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: cw-openai
    match: { model: cw-openai }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "cw-small#context_exceeded" }
      - { provider: emu-anthropic, model: cw-big }
  - name: cw-anthropic
    match: { model: cw-anthropic }
    strategy: priority
    targets:
      - { provider: emu-anthropic, model: "cw-small#context_exceeded" }
      - { provider: emu-openai, model: cw-big }
  - name: cw-only
    match: { model: cw-only }
    targets: [ { provider: emu-anthropic, model: "cw-small#context_exceeded" } ]
"#,
    );
    for (model, served) in [
        ("cw-openai", "emu-anthropic"),
        ("cw-anthropic", "emu-openai"),
    ] {
        let r = ask(&gw, model);
        assert_eq!(r.status, 200, "{model}: {}", r.body);
        assert_eq!(r.header("x-switchyard-provider"), Some(served), "{model}");
        assert_eq!(r.header("x-switchyard-attempts"), Some("2"), "{model}");
    }
    let r = ask(&gw, "cw-only");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error()["code"], "context_length_exceeded");
    let m = gw.metrics();
    assert!(m.contains(r#"kind="context_window""#), "{m}");
    // Context-window errors are the request's fault: the breaker stays closed, and the
    // target is not re-tried within a request.
    for _ in 0..6 {
        let r = ask(&gw, "cw-only");
        assert_eq!(r.status, 400);
        assert_eq!(r.header("x-switchyard-attempts"), Some("1"));
    }
    assert_eq!(emu.count("cw-small#context_exceeded"), 2 + 7);
}

/// A target whose context window cannot hold the prompt is skipped before trying; nothing
/// left is a 400 naming the estimate.
#[test]
fn context_window_skip() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: cs
    match: { model: cs }
    strategy: priority
    targets:
      - { provider: emu-openai, model: cs-tiny, context_window: 60 }
      - { provider: emu-openai, model: cs-roomy }
  - name: cs-only
    match: { model: cs-only }
    targets: [ { provider: emu-openai, model: cs-tiny, context_window: 60 } ]
"#,
    );
    let long = "the quick brown fox jumps over the lazy dog ".repeat(20);
    let body = |model: &str, text: &str| json!({"model": model, "messages": [{"role": "user", "content": text}]});
    let r = gw.chat(&body("cs", &long));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(emu.count("cs-tiny"), 0);
    assert_eq!(emu.count("cs-roomy"), 1);
    let r = gw.chat(&body("cs", "Hi"));
    assert_eq!(r.status, 200);
    assert_eq!(emu.count("cs-tiny"), 1, "a short prompt fits");
    let r = gw.chat(&body("cs-only", &long));
    assert_eq!(r.status, 400, "{}", r.body);
    let e = r.error();
    assert_eq!(e["code"], "context_length_exceeded");
    assert!(
        e["message"].as_str().unwrap().contains("prompt tokens"),
        "{e}"
    );
    assert!(gw.metrics().contains(r#"outcome="skipped_context_window""#));
    let log = chat_log(&gw, 3);
    assert_eq!(
        log[0]["tried"][0],
        "emu-openai/cs-tiny:skipped_context_window"
    );
}

/// Every rule kind, first match wins, in file order.
#[test]
fn rule_kinds() {
    let emu = Emulator::start();
    let routes = [
        ("glob-hit", r#"{ model: "code-*" }"#),
        ("team-hit", "{ model: team, team: research }"),
        ("team-miss", "{ model: team }"),
        ("tags-hit", "{ model: tags, tags: premium }"),
        ("tags-miss", "{ model: tags }"),
        ("tools-hit", "{ model: tools, tools: true }"),
        ("tools-miss", "{ model: tools }"),
        ("long-hit", "{ model: long, prompt_tokens: { above: 200 } }"),
        ("long-miss", "{ model: long }"),
        ("lum-hit", r#"{ model: lum, last_user_message: '(?i)\brust\b' }"#),
        ("lum-miss", "{ model: lum }"),
        ("hdr-hit", "{ model: hdr, headers: { x-tier: premium } }"),
        ("hdr-miss", "{ model: hdr }"),
        ("meta-hit", "{ model: meta, metadata: { task: summarize } }"),
        ("meta-miss", "{ model: meta }"),
    ]
    .iter()
    .map(|(name, m)| {
        format!(
            "  - name: {name}\n    match: {m}\n    targets: [ {{ provider: emu-openai, model: {name} }} ]\n"
        )
    })
    .collect::<String>();
    let gw = start(&emu, "", &routes);
    let route = |r: Reply| {
        assert_eq!(r.status, 200, "{}", r.body);
        r.header("x-switchyard-route").unwrap().to_string()
    };
    let plain = |model: &str| json!({"model": model, "messages": msgs()});
    assert_eq!(route(ask(&gw, "code-review")), "glob-hit");
    assert_eq!(ask(&gw, "codex").status, 404, "glob is anchored");
    for (model, hit) in [("team", "team-hit"), ("tags", "tags-hit")] {
        assert_eq!(route(post_as(&gw, KEY2, &plain(model), &[])), hit);
        assert_eq!(
            route(post_as(&gw, KEY, &plain(model), &[])),
            hit.replace("hit", "miss")
        );
    }
    let tools = json!({"model": "tools", "messages": msgs(), "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]});
    assert_eq!(route(gw.chat(&tools)), "tools-hit");
    assert_eq!(route(ask(&gw, "tools")), "tools-miss");
    let long = "word ".repeat(400);
    let long_body = json!({"model": "long", "messages": [{"role": "user", "content": long}]});
    assert_eq!(route(gw.chat(&long_body)), "long-hit");
    assert_eq!(route(ask(&gw, "long")), "long-miss");
    let lum = json!({"model": "lum", "messages": [
        {"role": "user", "content": "about go"},
        {"role": "assistant", "content": "yes"},
        {"role": "user", "content": [{"type": "text", "text": "Why does RUST borrow?"}]}
    ]});
    assert_eq!(route(gw.chat(&lum)), "lum-hit");
    let lum_old = json!({"model": "lum", "messages": [
        {"role": "user", "content": "about Rust"},
        {"role": "assistant", "content": "yes"},
        {"role": "user", "content": "and python?"}
    ]});
    assert_eq!(
        route(gw.chat(&lum_old)),
        "lum-miss",
        "only the last user message"
    );
    assert_eq!(
        route(post_as(&gw, KEY, &plain("hdr"), &[("x-tier", "premium")])),
        "hdr-hit"
    );
    assert_eq!(
        route(post_as(&gw, KEY, &plain("hdr"), &[("x-tier", "free")])),
        "hdr-miss"
    );
    let meta = json!({"model": "meta", "messages": msgs(), "metadata": {"task": "summarize"}});
    assert_eq!(route(gw.chat(&meta)), "meta-hit");
    assert_eq!(route(ask(&gw, "meta")), "meta-miss");
    let log = gw.access_log(4);
    assert!(
        log.iter().any(|l| l["team"] == "research"),
        "team in the access log"
    );
}

/// `priority`, `cheapest` and `least-latency` orderings.
#[test]
fn strategies_order_targets() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: prio
    match: { model: prio }
    strategy: priority
    targets:
      - { provider: emu-openai, model: prio-first, weight: 1 }
      - { provider: emu-openai, model: prio-second, weight: 1000 }
  - name: cheap
    match: { model: cheap }
    strategy: cheapest
    targets:
      - { provider: emu-openai, model: cheap-pricey, cost: 10 }
      - { provider: emu-openai, model: cheap-bargain, cost: 0.5 }
      - { provider: emu-openai, model: cheap-unknown }
  - name: fast
    match: { model: fast }
    strategy: least-latency
    targets:
      - { provider: emu-openai, model: "ll-slow#ttfb_ms=150" }
      - { provider: emu-openai, model: ll-fast }
"#,
    );
    for _ in 0..5 {
        assert_eq!(ask(&gw, "prio").status, 200);
        assert_eq!(ask(&gw, "cheap").status, 200);
    }
    assert_eq!((emu.count("prio-first"), emu.count("prio-second")), (5, 0));
    assert_eq!(emu.count("cheap-bargain"), 5);
    assert_eq!(emu.count("cheap-pricey") + emu.count("cheap-unknown"), 0);
    for _ in 0..10 {
        assert_eq!(ask(&gw, "fast").status, 200);
    }
    // Each untried target is measured once, then the lower EWMA wins.
    assert_eq!(emu.count("ll-slow#ttfb_ms=150"), 1);
    assert_eq!(emu.count("ll-fast"), 9);
    let m = gw.metrics();
    let ewma = metric(
        &m,
        r#"switchyard_target_ttfb_ewma_ms{model="ll-slow#ttfb_ms=150",provider="emu-openai"}"#,
    )
    .unwrap();
    assert!(ewma >= 150.0, "{ewma}");
}

/// OpenRouter-style overrides: `models`, `provider.order`/`sort`/`allow_fallbacks`,
/// `:floor` and `:nitro`; none of them reaches the provider.
#[test]
fn per_request_overrides() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        "",
        r#"
  - name: down
    match: { model: down }
    targets: [ { provider: emu-openai, model: "down#status=500" } ]
  - name: up
    match: { model: up }
    targets: [ { provider: emu-anthropic, model: up-target } ]
  - name: mixed
    match: { model: mixed }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "mx-fast-pricey", cost: 10 }
      - { provider: emu-anthropic, model: "mx-slow-cheap#ttfb_ms=120", cost: 1 }
  - name: nofb
    match: { model: nofb }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "nofb-bad#status=503" }
      - { provider: emu-anthropic, model: nofb-good }
"#,
    );
    let r = gw.chat(&json!({"model": "down", "models": ["up"], "messages": msgs()}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-anthropic"));
    assert_eq!(r.header("x-switchyard-route"), Some("down"));
    let r = gw.chat(&json!({"model": "down", "models": "up", "messages": msgs()}));
    assert_eq!(r.status, 400);
    assert_eq!(r.error()["param"], "models");
    let order =
        json!({"model": "mixed", "provider": {"order": ["emu-anthropic"]}, "messages": msgs()});
    assert_eq!(
        gw.chat(&order).header("x-switchyard-provider"),
        Some("emu-anthropic")
    );
    let price = json!({"model": "mixed", "provider": {"sort": "price"}, "messages": msgs()});
    assert_eq!(
        gw.chat(&price).header("x-switchyard-provider"),
        Some("emu-anthropic")
    );
    let bad = json!({"model": "mixed", "provider": {"sort": "fastest"}, "messages": msgs()});
    let r = gw.chat(&bad);
    assert_eq!(r.status, 400);
    assert_eq!(r.error()["param"], "provider.sort");
    let r = ask(&gw, "mixed:floor");
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-anthropic"));
    // `:nitro`: both measured (untried first), then the faster one.
    for _ in 0..2 {
        assert_eq!(ask(&gw, "mixed:nitro").status, 200);
    }
    for _ in 0..4 {
        assert_eq!(
            ask(&gw, "mixed:nitro").header("x-switchyard-provider"),
            Some("emu-openai")
        );
    }
    let nofb = json!({"model": "nofb", "provider": {"allow_fallbacks": false}, "messages": msgs()});
    let r = gw.chat(&nofb);
    assert_eq!(r.status, 503, "{}", r.body);
    let attempts: u64 = r.header("x-switchyard-attempts").unwrap().parse().unwrap();
    assert_eq!(
        emu.count("nofb-bad#status=503"),
        attempts,
        "only the first choice"
    );
    assert_eq!(emu.count("nofb-good"), 0);
    assert_eq!(ask(&gw, "nofb").status, 200, "fallbacks allowed by default");
    for req in emu.requests() {
        let body = &req["body"];
        assert!(
            body.get("models").is_none() && body.get("provider").is_none(),
            "forwarded: {body}"
        );
    }
}

/// The retry budget caps retries: once spent, a failure is final after one attempt.
#[test]
fn retry_budget_exhaustion() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        ", retry: { budget_ratio: 0, budget_min_per_sec: 0.1, budget_window: 10s }",
        r#"
  - name: rb
    match: { model: rb }
    strategy: priority
    targets:
      - { provider: emu-openai, model: "rb-bad#status=500" }
      - { provider: emu-openai, model: rb-good }
"#,
    );
    let r = ask(&gw, "rb");
    assert_eq!(r.status, 200, "one retry in the budget");
    assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
    let r = ask(&gw, "rb");
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.header("x-switchyard-attempts"), Some("1"));
    assert_eq!(emu.count("rb-good"), 1);
    let denied = r#"switchyard_retries_denied_total{model="rb-good",provider="emu-openai"}"#;
    assert_eq!(metric(&gw.metrics(), denied), Some(1.0));
}

/// Re-trying the only target waits a backoff; the final error says `x-should-retry: false`.
#[test]
fn same_target_retries_back_off() {
    let emu = Emulator::start();
    let gw = start(
        &emu,
        ", max_attempts: 3, retry: { backoff_base: 50ms, backoff_cap: 200ms }",
        r#"
  - name: one
    match: { model: one }
    targets: [ { provider: emu-openai, model: "one#fail_first=2" } ]
  - name: two
    match: { model: two }
    targets: [ { provider: emu-openai, model: "two#status=502" } ]
"#,
    );
    let r = ask(&gw, "one");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-attempts"), Some("3"));
    let r = ask(&gw, "two");
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-should-retry"), Some("false"));
    assert_eq!(emu.count("two#status=502"), 3);
}

/// An invalid rule stops the gateway at start with the rule's path.
#[test]
fn invalid_rule_is_a_startup_error() {
    let emu = Emulator::start();
    let routes = "  - { name: ok, match: { model: a }, targets: [ { provider: emu-openai, model: a } ] }\n  - { name: bad, match: { model: b, last_user_message: '(unclosed' }, targets: [ { provider: emu-openai, model: b } ] }\n";
    let (yaml, _, _) = common::config(&emu, &format!("{PROVIDERS}{routes}"), "");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, yaml.replace("{LOG}", "off")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("routes[1].match.last_user_message"),
        "stderr: {err}"
    );
}
