//! Gemini stream translation against transcripts, split at every byte.

use crate::providers::gemini::ids;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{
    assemble, assert_framing, assert_split_invariant, chunks, run, translate_ok,
};
use serde_json::json;

const TEXT: &str = include_str!("../../../../tests/fixtures/gemini/text.sse");
const TOOL_CALL: &str = include_str!("../../../../tests/fixtures/gemini/tool_call.sse");
const THINKING: &str = include_str!("../../../../tests/fixtures/gemini/thinking.sse");
const BLOCKED: &str = include_str!("../../../../tests/fixtures/gemini/blocked.sse");

const G: ProviderKind = ProviderKind::Gemini;

/// Text: role chunk first, content deltas, finish `stop` at EOF, usage with thoughts counted
/// as completion, `[DONE]` last.
#[test]
fn text_transcript() {
    let c = translate_ok(G, true, TEXT.as_bytes());
    assert_framing(&c, "gemini-2.5-flash");
    let a = assemble(&c);
    assert_eq!(a.content, "Hello there! héllo ✓ 🚀");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    let u = a.usage.unwrap();
    assert_eq!(
        (
            u["prompt_tokens"].as_u64(),
            u["completion_tokens"].as_u64(),
            u["total_tokens"].as_u64(),
            u["completion_tokens_details"]["reasoning_tokens"].as_u64()
        ),
        (Some(9), Some(24), Some(33), Some(21))
    );
    assert_eq!(c.last().unwrap()["choices"], json!([]));
    // Without include_usage there is no usage chunk; the finish chunk is last.
    let plain = run_plain(TEXT);
    assert!(plain.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(plain.last().unwrap()["choices"][0]["finish_reason"], "stop");
}

fn run_plain(t: &str) -> Vec<serde_json::Value> {
    let r = run(G, false, t.as_bytes(), &[]);
    assert_eq!(r.error, None);
    chunks(&r.output).0
}

/// Parallel function calls (CRLF framing): each whole in one chunk, ids carry the signature
/// of the part that had one, finish `tool_calls` although Gemini said `STOP`.
#[test]
fn tool_call_transcript() {
    let c = translate_ok(G, true, TOOL_CALL.as_bytes());
    let first = &c[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["function"]["arguments"], r#"{"city": "Paris"}"#);
    assert_eq!(first["index"], 0);
    let a = assemble(&c);
    assert_eq!(a.tool_calls.len(), 2);
    let (id0, name0, args0) = &a.tool_calls[0];
    assert_eq!(name0, "get_weather");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(args0).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(ids::signature(id0).as_deref(), Some("CiUBVKhc7+/sig=="));
    let (id1, name1, args1) = &a.tool_calls[1];
    assert_eq!((id1.as_str(), name1.as_str()), ("call_req1_1", "get_time"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(args1).unwrap(),
        json!({"tz": "Europe/Paris", "precise": true})
    );
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
    let u = a.usage.unwrap();
    assert_eq!(
        (
            u["prompt_tokens"].as_u64(),
            u["completion_tokens"].as_u64(),
            u["prompt_tokens_details"]["cached_tokens"].as_u64()
        ),
        (Some(60), Some(5), Some(32))
    );
}

/// Thought parts become reasoning; MAX_TOKENS becomes `length`.
#[test]
fn thinking_transcript() {
    let run = assert_split_invariant(G, true, THINKING.as_bytes());
    assert_eq!(run.error, None);
    let a = assemble(&chunks(&run.output).0);
    assert_eq!(a.reasoning, "**Weighing** the question");
    assert_eq!(a.content, "The answer is 42.");
    assert_eq!(a.finish_reason.as_deref(), Some("length"));
    assert_eq!(a.usage.unwrap()["completion_tokens"], 36);
}

/// A blocked prompt is an error before any output (so it can become an HTTP 400).
#[test]
fn blocked_prompt_is_an_error() {
    let run = assert_split_invariant(G, true, BLOCKED.as_bytes());
    assert_eq!(run.output, "");
    let e = run.error.unwrap();
    assert!(e.contains("PROHIBITED_CONTENT"), "{e}");
}

/// A body that ends before a finishReason is truncated; every prefix of a transcript is.
#[test]
fn truncation_is_an_error() {
    let cut = TEXT.rfind("data:").unwrap();
    let r = run(G, true, &TEXT.as_bytes()[..cut], &[]);
    assert!(r.error.unwrap().contains("ended the stream"));
    let (c, done) = chunks(&r.output);
    assert!(!done);
    assert!(c.iter().all(|c| c["choices"][0]["finish_reason"].is_null()));
    for end in 0..TOOL_CALL.len() - 4 {
        let r = run(G, true, &TOOL_CALL.as_bytes()[..end], &[]);
        assert!(r.error.is_some(), "prefix of {end} bytes must not complete");
    }
}

/// An in-band error (also in the array form) ends the stream with a mapped status.
#[test]
fn error_events() {
    let e = "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded.\", \"status\": \"UNAVAILABLE\"}}\n\n";
    let r = run(
        G,
        true,
        format!("{}{e}", &TEXT[..TEXT.find("\n\n").unwrap() + 2]).as_bytes(),
        &[],
    );
    let err = r.error.unwrap();
    assert!(
        err.contains("overloaded") && err.contains("UNAVAILABLE"),
        "{err}"
    );
    let arr = "data: [{\"error\": {\"code\": 429, \"message\": \"Quota\", \"status\": \"RESOURCE_EXHAUSTED\"}}]\n\n";
    let r = run(G, true, arr.as_bytes(), &[]);
    assert!(r.error.unwrap().contains("RESOURCE_EXHAUSTED"));
    let r = run(G, true, b"data: {not json\n\n", &[]);
    assert!(r.error.unwrap().contains("malformed"));
}

/// Unknown fields and events without candidates are tolerated.
#[test]
fn tolerates_unknown_fields() {
    let t = "data: {\"usageMetadata\": {\"promptTokenCount\": 2}, \"newField\": [1]}\n\ndata: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"ok\", \"videoMetadata\": {}}, {\"executableCode\": {\"code\": \"x\"}}]}, \"finishReason\": \"STOP\", \"safetyRatings\": []}]}\n\n";
    let r = run(G, true, t.as_bytes(), &[]);
    assert_eq!(r.error, None);
    let a = assemble(&chunks(&r.output).0);
    assert_eq!(a.content, "ok");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
}
