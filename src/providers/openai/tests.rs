//! OpenAI pass-through: request splicing, usage reading, stream re-framing.

use super::*;
use crate::config::Config;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{assemble, assert_split_invariant, chunks, run};

const PARALLEL: &str = include_str!("../../../tests/fixtures/openai/parallel_tools.sse");
const TEXT: &str = include_str!("../../../tests/fixtures/openai/text.sse");
const O: ProviderKind = ProviderKind::OpenAi;

fn provider() -> std::sync::Arc<ProviderSettings> {
    let c = Config::from_yaml(
        "providers: [{name: oai, kind: openai, base_url: \"http://127.0.0.1:9/v1\", api_key: sk-test-key}]\nkeys: [{name: k, key: abcdefghijk}]",
        &|_| None,
    )
    .unwrap();
    c.providers[0].clone()
}

fn build(body: &str, model: &str) -> (String, serde_json::Value) {
    let req = ChatRequest::parse(body.as_bytes()).unwrap();
    let up = build_request(
        &provider(),
        &req,
        body.as_bytes(),
        model,
        Default::default(),
    )
    .unwrap();
    let text = String::from_utf8(up.body.to_vec()).unwrap();
    let v = serde_json::from_str(&text).unwrap();
    assert_eq!(up.path, "/v1/chat/completions");
    (text, v)
}

/// Only `model` changes in a non-streaming request; all other bytes are the client's.
#[test]
fn splices_model_only() {
    let body = r#"{ "model" : "alias", "messages":[{"role":"user","content":"hé \"model\": x"}], "custom_field": {"keep": true} }"#;
    let (text, v) = build(body, "gpt-4o-mini");
    assert_eq!(text, body.replace("\"alias\"", "\"gpt-4o-mini\""));
    assert_eq!(v["custom_field"]["keep"], true);
    let (same, _) = build(body, "alias");
    assert_eq!(same, body, "no rewrite when the model is unchanged");
}

/// The gateway's own `models` and `provider` never reach the provider; the rest is the
/// client's bytes, whatever the member order (including an insertion next to a removal).
#[test]
fn gateway_params_are_cut() {
    let body = r#"{"models":["b","c"],"model":"a","provider":{"sort":"price"},"messages":[{"role":"user","content":"x"}],"metadata":{"k":"v"}}"#;
    let (text, v) = build(body, "m2");
    assert_eq!(
        text,
        r#"{"model":"m2","messages":[{"role":"user","content":"x"}],"metadata":{"k":"v"}}"#
    );
    assert!(v.get("models").is_none());
    let body = r#"{"models":["b"],"model":"a","messages":[{"role":"user","content":"x"}],"stream":true,"provider":{"order":["x"]}}"#;
    let (_, v) = build(body, "a");
    assert!(
        v.get("models").is_none() && v.get("provider").is_none(),
        "{v}"
    );
    assert_eq!(v["stream_options"]["include_usage"], true);
    let escaped = r#"{"model":"a","models":["b"],"messages":[{"role":"user","content":"x"}]}"#;
    let (_, v) = build(escaped, "a");
    assert!(v.get("models").is_none(), "{v}");
}

/// Streams ask for usage: inserted when absent, merged when present.
#[test]
fn streams_request_usage() {
    let (_, v) = build(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}"#,
        "m2",
    );
    assert_eq!(v["stream_options"]["include_usage"], true);
    assert_eq!(v["model"], "m2");
    let (_, v) = build(
        r#"{"model":"m","stream_options":{"include_obfuscation":false,"include_usage":false},"messages":[{"role":"user","content":"x"}],"stream":true}"#,
        "m2",
    );
    assert_eq!(
        v["stream_options"],
        serde_json::json!({"include_obfuscation": false, "include_usage": true})
    );
    assert_eq!(v["model"], "m2");
}

/// The recorded parallel-tool stream passes through unchanged, at any split.
#[test]
fn parallel_tools_pass_through() {
    let out = assert_split_invariant(O, true, PARALLEL.as_bytes());
    assert_eq!(out.error, None);
    assert_eq!(out.output, PARALLEL, "pass-through must not alter events");
    let a = assemble(&chunks(&out.output).0);
    assert_eq!(a.tool_calls.len(), 2);
    let args0: serde_json::Value = serde_json::from_str(&a.tool_calls[0].2).unwrap();
    assert_eq!(
        args0,
        serde_json::json!({"city": "Edinburgh", "country": "GB", "units": "c"})
    );
    assert_eq!(a.tool_calls[1].1, "get_stock_price");
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
}

/// The usage chunk the gateway asked for is read, then dropped when the client did not ask.
#[test]
fn forced_usage_chunk_is_dropped() {
    let mut t =
        crate::providers::StreamTranslator::new(O, &crate::providers::testutil::ctx(false), "m");
    let mut out = bytes::BytesMut::new();
    t.feed(PARALLEL.as_bytes(), &mut out).unwrap();
    t.finish(&mut out).unwrap();
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(!text.contains("\"usage\""));
    assert!(text.ends_with("data: [DONE]\n\n"));
    assert_eq!(t.usage().prompt_tokens, 149);
    assert_eq!(t.usage().completion_tokens, 60);
}

/// A stream that ends after its finish chunk without `[DONE]` still completes.
#[test]
fn missing_done_is_tolerated_after_finish() {
    let body = TEXT.replace("data: [DONE]\n\n", "");
    let out = run(O, true, body.as_bytes(), &[]);
    assert_eq!(out.error, None);
    assert!(out.output.ends_with("data: [DONE]\n\n"));
}

/// A stream that ends without a finish chunk is truncated.
#[test]
fn truncation_is_an_error() {
    let cut = TEXT.find("\"finish_reason\":\"stop\"").unwrap() - 100;
    let out = run(O, true, &TEXT.as_bytes()[..cut], &[]);
    assert!(out.error.unwrap().contains("ended the stream"));
    assert!(!out.output.contains("[DONE]"));
}

/// In-band `{"error":…}` events end the stream with that error; comments are dropped.
#[test]
fn inband_error_and_comments() {
    let first_two: Vec<&str> = TEXT.split_inclusive("\n\n").take(2).collect();
    let body = format!(
        ": OPENROUTER PROCESSING\n\n{}data: {{\"error\":{{\"message\":\"quota gone\",\"type\":\"insufficient_quota\"}}}}\n\n",
        first_two.concat()
    );
    let out = run(O, false, body.as_bytes(), &[]);
    assert!(out.error.as_deref().unwrap().contains("quota gone"));
    assert!(!out.output.contains("OPENROUTER"));
    assert!(out.output.contains("Hello"));
    assert!(!out.output.contains("[DONE]"));
}

/// Usage is read from a non-streaming completion; garbage is a 502.
#[test]
fn decode_response_reads_usage() {
    let body = br#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":1}}}"#;
    let d = decode_response(body).unwrap();
    assert_eq!(&d.body[..], &body[..]);
    assert_eq!(
        (
            d.usage.prompt_tokens,
            d.usage.completion_tokens,
            d.usage.cached_tokens,
            d.usage.reasoning_tokens
        ),
        (9, 2, 3, 1)
    );
    assert_eq!(decode_response(b"<html>").unwrap_err().status, 502);
    assert_eq!(
        decode_response(br#"{"choices":5}"#).unwrap_err().status,
        502
    );
}

/// Error bodies yield their message; non-JSON yields an excerpt.
#[test]
fn error_messages() {
    assert_eq!(
        error_message(br#"{"error":{"message":"Rate limit","type":"requests"}}"#).as_deref(),
        Some("Rate limit")
    );
    assert_eq!(
        error_message(br#"{"error":"plain"}"#).as_deref(),
        Some("plain")
    );
    assert_eq!(
        error_message(b"  upstream down  ").as_deref(),
        Some("upstream down")
    );
    assert_eq!(error_message(b""), None);
}

/// Output detection ignores the role preamble.
#[test]
fn output_detection() {
    assert!(!carries_output(
        br#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#
    ));
    assert!(!carries_output(
        br#"{"choices":[{"delta":{"role":"assistant","content":null}}]}"#
    ));
    assert!(carries_output(
        br#"{"choices":[{"delta":{"content":"a"}}]}"#
    ));
    assert!(carries_output(
        br#"{"choices":[{"delta":{"reasoning_content":"a"}}]}"#
    ));
    assert!(carries_output(
        br#"{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}"#
    ));
}
