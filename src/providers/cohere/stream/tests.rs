//! Cohere v2 stream translation against transcripts, split at every byte.

use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{
    assemble, assert_framing, assert_split_invariant, chunks, run, translate_ok,
};

const TEXT: &str = include_str!("../../../../tests/fixtures/cohere/text.sse");
const TOOL_CALLS: &str = include_str!("../../../../tests/fixtures/cohere/tool_calls.sse");
const ERROR: &str = include_str!("../../../../tests/fixtures/cohere/error.sse");

const C: ProviderKind = ProviderKind::Cohere;

/// Text deltas, finish `stop`, usage from `tokens` with cached tokens, `[DONE]` last.
#[test]
fn text_transcript() {
    let c = translate_ok(C, true, TEXT.as_bytes());
    assert_framing(&c, "requested-model");
    let a = assemble(&c);
    assert_eq!(a.content, "Hello there — ✓");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    let u = a.usage.unwrap();
    assert_eq!(
        (
            u["prompt_tokens"].as_u64(),
            u["completion_tokens"].as_u64(),
            u["prompt_tokens_details"]["cached_tokens"].as_u64()
        ),
        (Some(69), Some(3), Some(64))
    );
    let quiet = run_body(TEXT);
    assert!(
        chunks(&quiet.output)
            .0
            .iter()
            .all(|c| c.get("usage").is_none())
    );
}

/// Tool plan → reasoning_content; two streamed calls get indexes 0 and 1 with Cohere's ids.
#[test]
fn tool_calls_transcript() {
    let run = assert_split_invariant(C, true, TOOL_CALLS.as_bytes());
    assert_eq!(run.error, None);
    let a = assemble(&chunks(&run.output).0);
    assert_eq!(a.reasoning, "I will look up the weather.");
    assert_eq!(a.content, "");
    assert_eq!(a.tool_calls.len(), 2);
    assert_eq!(a.tool_calls[0].0, "get_weather_nsz5zm3w56q3");
    assert_eq!(a.tool_calls[1].0, "get_weather_0kd2s1t8yc4e");
    let first: serde_json::Value = serde_json::from_str(&a.tool_calls[0].2).unwrap();
    assert_eq!(first, serde_json::json!({"location": "Toronto"}));
    let second: serde_json::Value = serde_json::from_str(&a.tool_calls[1].2).unwrap();
    assert_eq!(second, serde_json::json!({"location": "Paris"}));
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(a.usage.unwrap()["prompt_tokens"], 913);
}

/// `finish_reason: ERROR` ends the stream with Cohere's error message and no `[DONE]`.
#[test]
fn error_transcript() {
    let run = assert_split_invariant(C, false, ERROR.as_bytes());
    let err = run.error.expect("error expected");
    assert!(err.contains("internal server error"), "{err}");
    assert!(run.output.contains("Partial"));
    assert!(!run.output.contains("[DONE]"));
    let body = run_body("data: {\"id\":\"x\",\"message\":\"too many tokens\"}\n\n");
    assert!(body.error.unwrap().contains("too many tokens"));
}

fn run_body(s: &str) -> crate::providers::testutil::Run {
    run(C, false, s.as_bytes(), &[])
}

/// A stream cut before message-end is truncated; unknown events and citations are ignored.
#[test]
fn truncation_and_tolerance() {
    let cut = TEXT.find("event: message-end").unwrap();
    for end in [cut, TEXT.len() - 10, 20] {
        let r = run(C, false, &TEXT.as_bytes()[..end], &[]);
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("ended the stream")),
            "cut at {end}: {:?}",
            r.error
        );
    }
    let extra = TEXT.replace(
        "event: content-end",
        "event: citation-start\ndata: {\"type\":\"citation-start\",\"index\":0,\"delta\":{\"message\":{\"citations\":{\"start\":0,\"end\":5,\"text\":\"Hello\",\"sources\":[]}}}}\n\nevent: shiny-new\ndata: {\"type\":\"shiny-new\",\"x\":[1]}\n\nevent: content-end",
    );
    let ok = run_body(&extra);
    assert_eq!(ok.error, None);
    assert_eq!(assemble(&chunks(&ok.output).0).content, "Hello there — ✓");
    assert!(
        run_body("data: {oops\n\n")
            .error
            .unwrap()
            .contains("malformed")
    );
}
