//! Ollama NDJSON stream translation against transcripts, split at every byte.

use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{
    assemble, assert_framing, assert_split_invariant, chunks, run, translate_ok,
};

const TEXT: &str = include_str!("../../../../tests/fixtures/ollama/text.ndjson");
const TOOL_CALL: &str = include_str!("../../../../tests/fixtures/ollama/tool_call.ndjson");
const THINKING: &str = include_str!("../../../../tests/fixtures/ollama/thinking.ndjson");
const ERROR: &str = include_str!("../../../../tests/fixtures/ollama/error.ndjson");

const O: ProviderKind = ProviderKind::Ollama;

/// Text lines become content deltas; the done line gives finish, usage and `[DONE]`.
#[test]
fn text_transcript() {
    let c = translate_ok(O, true, TEXT.as_bytes());
    assert_framing(&c, "llama3.2");
    let a = assemble(&c);
    assert_eq!(a.content, "The sky is blue — ✓ 🚀");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    let u = a.usage.unwrap();
    assert_eq!(
        (
            u["prompt_tokens"].as_u64(),
            u["completion_tokens"].as_u64(),
            u["total_tokens"].as_u64()
        ),
        (Some(26), Some(282), Some(308))
    );
    let quiet = run_quiet(TEXT);
    assert!(chunks(&quiet).0.iter().all(|c| c.get("usage").is_none()));
}

fn run_quiet(input: &str) -> String {
    run(O, false, input.as_bytes(), &[]).output
}

/// Whole tool calls with object arguments: generated ids, JSON-string arguments, finish
/// `tool_calls` although `done_reason` is `stop`.
#[test]
fn tool_call_transcript() {
    let run = assert_split_invariant(O, true, TOOL_CALL.as_bytes());
    assert_eq!(run.error, None);
    let a = assemble(&chunks(&run.output).0);
    assert_eq!(a.tool_calls.len(), 2);
    assert_eq!(a.tool_calls[0].0, "call_req1_0");
    assert_eq!(a.tool_calls[1].0, "call_req1_1");
    assert_eq!(a.tool_calls[0].1, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&a.tool_calls[1].2).unwrap();
    assert_eq!(args, serde_json::json!({"zone": "Asia/Tokyo", "24h": true}));
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(a.content, "");
    assert_eq!(a.usage.unwrap()["prompt_tokens"], 169);
}

/// Thinking → reasoning_content; CRLF lines; a done line without a final newline; `length`.
#[test]
fn thinking_transcript() {
    let c = translate_ok(O, false, THINKING.as_bytes());
    let a = assemble(&c);
    assert_eq!(a.reasoning, "Let me count.");
    assert_eq!(a.content, "Three");
    assert_eq!(a.finish_reason.as_deref(), Some("length"));
}

/// A mid-stream `{"error":…}` line ends the stream with that error and no `[DONE]`.
#[test]
fn error_line_mid_stream() {
    let run = assert_split_invariant(O, false, ERROR.as_bytes());
    let err = run.error.expect("error expected");
    assert!(err.contains("unexpected EOF"), "{err}");
    assert!(run.output.contains("Partial"));
    assert!(!run.output.contains("[DONE]"));
}

/// EOF before the done line is a truncation; malformed lines are malformed; unknown fields pass.
#[test]
fn truncation_and_tolerance() {
    let cut = TEXT.rfind("{\"model\"").unwrap();
    for end in [cut, cut + 40, 10] {
        let r = run(O, false, &TEXT.as_bytes()[..end], &[]);
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("ended the stream")),
            "cut at {end}: {:?}",
            r.error
        );
        assert!(!r.output.contains("[DONE]"));
    }
    let bad = run(O, false, b"{not json\n", &[]);
    assert!(bad.error.unwrap().contains("malformed upstream stream"));
    let extra = TEXT.replace("\"done\":false", "\"done\":false,\"shiny\":[1,{\"x\":2}]");
    let ok = run(O, false, extra.as_bytes(), &[]);
    assert_eq!(ok.error, None);
    assert_eq!(
        assemble(&chunks(&ok.output).0).content,
        "The sky is blue — ✓ 🚀"
    );
}
