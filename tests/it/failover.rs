//! Failover before the first byte, and honest failure after it.

use crate::common::{Emulator, Gateway};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn msgs() -> Value {
    json!([{"role": "user", "content": "Hi"}])
}

const ROUTES: &str = r#"
  - name: refused
    match: { model: "refused" }
    targets: [ { provider: dead, model: "x" } ]
    fallback: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
  - name: r429
    match: { model: "r429" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#status=429;retry_after=7" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: r500
    match: { model: "r500" }
    targets: [ { provider: emu-openai, model: "gpt-4o-mini#status=500" } ]
    fallback: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
  - name: r529
    match: { model: "r529" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#status=529" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: slow
    match: { model: "slow" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#ttfb_ms=4000" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: bad-request
    match: { model: "bad-request" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#status=400" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: all-429
    match: { model: "all-429" }
    targets: [ { provider: emu-anthropic, model: "a#status=429;retry_after=9" } ]
    fallback: [ { provider: emu-openai, model: "b#status=429;retry_after=4" } ]
  - name: all-529
    match: { model: "all-529" }
    targets: [ { provider: emu-anthropic, model: "a#status=529" } ]
  - name: first-event-error
    match: { model: "first-event-error" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#error_after=0" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: preamble-error
    match: { model: "preamble-error" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#error_after=1" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: midstream-drop
    match: { model: "midstream-drop" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#drop_after=5" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: midstream-error
    match: { model: "midstream-error" }
    targets: [ { provider: emu-openai, model: "gpt-4o-mini#error_after=4" } ]
    fallback: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
  - name: midstream-stall
    match: { model: "midstream-stall" }
    targets: [ { provider: emu-patient, model: "claude-haiku-4-5#chunk_ms=700" } ]
  - name: translator-refuses
    match: { model: "translator-refuses" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
    fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ]
  - name: only-anthropic
    match: { model: "only-anthropic" }
    targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
  - name: nonstream-drop
    match: { model: "nonstream-drop" }
    targets: [ { provider: emu-openai, model: "gpt-4o-mini#drop_after=20" } ]
    fallback: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
"#;

fn setup() -> (Emulator, Gateway) {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, ROUTES);
    (emu, gw)
}

/// Each pre-first-byte failure fails over, streaming or not; exactly one call per target.
#[test]
fn fails_over_before_first_byte() {
    let (emu, gw) = setup();
    let cases = [
        ("refused", "emu-anthropic", None),
        (
            "r429",
            "emu-openai",
            Some("claude-haiku-4-5#status=429;retry_after=7"),
        ),
        ("r500", "emu-anthropic", Some("gpt-4o-mini#status=500")),
        ("r529", "emu-openai", Some("claude-haiku-4-5#status=529")),
        (
            "first-event-error",
            "emu-openai",
            Some("claude-haiku-4-5#error_after=0"),
        ),
        (
            "preamble-error",
            "emu-openai",
            Some("claude-haiku-4-5#error_after=1"),
        ),
        (
            "nonstream-drop",
            "emu-anthropic",
            Some("gpt-4o-mini#drop_after=20"),
        ),
    ];
    for (model, served_by, failing) in cases {
        for stream in [false, true] {
            let stream_only = model.ends_with("-error");
            if (model == "nonstream-drop" && stream) || (stream_only && !stream) {
                continue;
            }
            let before = failing.map(|f| emu.count(f)).unwrap_or(0);
            let r = gw.chat(&json!({"model": model, "messages": msgs(), "stream": stream}));
            assert_eq!(r.status, 200, "{model} stream={stream}: {}", r.body);
            assert_eq!(
                r.header("x-switchyard-provider"),
                Some(served_by),
                "{model} stream={stream}"
            );
            // The 429 carried Retry-After: 7, so the second request skips that target.
            let blocked = model == "r429" && stream;
            assert_eq!(
                r.header("x-switchyard-attempts"),
                Some(if blocked { "1" } else { "2" }),
                "{model} stream={stream}"
            );
            if stream {
                assert_eq!(
                    r.events().last().map(String::as_str),
                    Some("[DONE]"),
                    "{model}"
                );
                assert!(!r.body.contains("\"error\""), "{model}: {}", r.body);
            }
            if let Some(f) = failing {
                assert_eq!(
                    emu.count(f) - before,
                    u64::from(!blocked),
                    "{model} stream={stream}: one attempt at the failing target"
                );
            }
        }
    }
}

/// No first byte within the target's timeout: the next target answers, and quickly.
#[test]
fn first_byte_timeout_fails_over() {
    let (_emu, gw) = setup();
    let started = Instant::now();
    let r = gw.chat(&json!({"model": "slow", "messages": msgs()}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "took {took:?}"
    );
}

/// A client error from the provider is returned as is, without failover.
#[test]
fn client_errors_do_not_fail_over() {
    let (emu, gw) = setup();
    let r = gw.chat(&json!({"model": "bad-request", "messages": msgs()}));
    assert_eq!(r.status, 400, "{}", r.body);
    let e = r.error();
    assert_eq!(e["type"], "invalid_request_error");
    assert!(
        e["message"].as_str().unwrap().contains("emu-anthropic"),
        "{e}"
    );
    assert_eq!(r.header("x-switchyard-attempts"), Some("1"));
    assert_eq!(emu.count("gpt-4o-mini"), 0);
}

/// When every target fails, the last error is mapped (429 keeps Retry-After, 529 becomes 503)
/// and SDKs are told not to retry on top of the gateway's own retries.
#[test]
fn final_errors_are_mapped() {
    let (_emu, gw) = setup();
    let r = gw.chat(&json!({"model": "all-429", "messages": msgs()}));
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.error()["type"], "rate_limit_error");
    assert_eq!(r.header("retry-after"), Some("4"));
    assert_eq!(r.header("x-should-retry"), Some("false"));
    assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
    let r = gw.chat(&json!({"model": "all-529", "messages": msgs(), "stream": true}));
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(
        r.error()["message"]
            .as_str()
            .unwrap()
            .contains("overloaded")
    );
    // The only target was re-tried with backoff up to `max_attempts` (no Retry-After to
    // honour), so SDKs are told not to retry on top.
    assert_eq!(r.header("x-switchyard-attempts"), Some("4"));
    assert_eq!(r.header("x-should-retry"), Some("false"));
}

/// After the first byte: a dropped, erroring or stalled upstream ends the stream with an
/// in-band error event and never `[DONE]`; there is no second attempt.
#[test]
fn mid_stream_failures_end_with_error_event() {
    let (emu, gw) = setup();
    for model in ["midstream-drop", "midstream-error", "midstream-stall"] {
        let r = gw.chat(&json!({"model": model, "messages": msgs(), "stream": true}));
        assert_eq!(r.status, 200, "{model}");
        let events = r.events();
        assert!(!events.iter().any(|e| e == "[DONE]"), "{model}: {}", r.body);
        let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
        assert!(
            last["error"]["message"].is_string(),
            "{model}: last event {last}"
        );
        assert!(events.len() >= 2, "{model}: some content came first");
        assert_eq!(r.header("x-switchyard-attempts"), Some("1"), "{model}");
    }
    assert_eq!(
        emu.count("claude-haiku-4-5"),
        0,
        "no fallback after the stream started"
    );
    assert_eq!(
        emu.count("gpt-4o-mini"),
        0,
        "no fallback after the stream started"
    );
    let m = gw.metrics();
    assert!(m.contains("switchyard_stream_errors_total"), "{m}");
}

/// A target whose translator refuses the request (Anthropic cannot return `n` > 1 choices) is
/// skipped, not answered: the route's fallback serves it, and nothing was sent to the refusing
/// target. With no target able to serve it, the refusal names the parameter.
#[test]
fn translator_refusal_skips_to_the_next_target() {
    let (emu, gw) = setup();
    for stream in [false, true] {
        let before = emu.count("claude-haiku-4-5");
        let r = gw.chat(
            &json!({"model": "translator-refuses", "messages": msgs(), "n": 2, "stream": stream}),
        );
        assert_eq!(r.status, 200, "stream={stream}: {}", r.body);
        assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
        assert_eq!(r.header("x-switchyard-attempts"), Some("1"));
        assert_eq!(
            emu.count("claude-haiku-4-5"),
            before,
            "nothing sent to the refusing target"
        );
    }
    let r = gw.chat(&json!({"model": "only-anthropic", "messages": msgs(), "n": 2}));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"]["param"], "n");
}
