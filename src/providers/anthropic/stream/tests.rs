//! Anthropic stream translation against the real SDK transcripts, split at every byte.

use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{
    answer_ctx, assemble, assert_framing, assert_split_invariant, assert_split_invariant_ctx,
    chunks, run, run_ctx, translate_ok,
};
use proptest::prelude::*;

const TEXT: &str = include_str!("../../../../tests/fixtures/anthropic/text.sse");
const TOOL_USE: &str = include_str!("../../../../tests/fixtures/anthropic/tool_use.sse");
const THINKING: &str = include_str!("../../../../tests/fixtures/anthropic/thinking_fragment.sse");

const A: ProviderKind = ProviderKind::Anthropic;

/// Transcript A: text, role chunk first, finish `stop`, usage on request, `[DONE]` last.
#[test]
fn text_transcript() {
    let c = translate_ok(A, true, TEXT.as_bytes());
    // The model comes from message_start.
    assert_framing(&c, "claude-3-opus-latest");
    let a = assemble(&c);
    assert_eq!(a.content, "Hello there!");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    let u = a.usage.unwrap();
    assert_eq!(
        (
            u["prompt_tokens"].as_u64(),
            u["completion_tokens"].as_u64(),
            u["total_tokens"].as_u64()
        ),
        (Some(11), Some(6), Some(17))
    );
    assert_eq!(c.last().unwrap()["choices"], serde_json::json!([]));
}

/// Without include_usage there is no usage chunk.
#[test]
fn no_usage_chunk_unless_asked() {
    let run = run(A, false, TEXT.as_bytes(), &[]);
    let (c, done) = chunks(&run.output);
    assert!(done);
    assert!(c.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(c.last().unwrap()["choices"][0]["finish_reason"], "stop");
}

/// Transcript B: text then a tool call; index 0, id on the first fragment, arguments assemble.
#[test]
fn tool_use_transcript() {
    let run = assert_split_invariant(A, true, TOOL_USE.as_bytes());
    assert_eq!(run.error, None);
    let (c, done) = chunks(&run.output);
    assert!(done);
    let a = assemble(&c);
    assert_eq!(
        a.content,
        "I'll check the current weather in Paris for you."
    );
    assert_eq!(a.tool_calls.len(), 1);
    let (id, name, args) = &a.tool_calls[0];
    assert_eq!(
        (id.as_str(), name.as_str()),
        ("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather")
    );
    let args: serde_json::Value = serde_json::from_str(args).unwrap();
    assert_eq!(args, serde_json::json!({"location": "Paris"}));
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
    let u = a.usage.unwrap();
    assert_eq!(
        (u["prompt_tokens"].as_u64(), u["completion_tokens"].as_u64()),
        (Some(377), Some(65))
    );
    // The empty first partial_json produces no chunk.
    assert!(
        !run.output.contains(r#""arguments":""}}]},"logprobs""#)
            || run.output.matches(r#""arguments":"""#).count() == 1
    );
}

fn with_message(inner: &str, stop_reason: &str) -> String {
    format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":5,\"cache_creation_input_tokens\":7,\"cache_read_input_tokens\":100,\"output_tokens\":1}}}}}}\n\n{inner}\nevent: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{stop_reason}\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":42}}}}\n\nevent: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
    )
}

// conformance: chat cache_tokens anthropic translated
// conformance: chat reasoning anthropic translated
/// Thinking deltas become reasoning_content; cache tokens count into prompt_tokens.
#[test]
fn thinking_and_cache_usage() {
    let input = with_message(THINKING, "max_tokens");
    let run = assert_split_invariant(A, true, input.as_bytes());
    let c = chunks(&run.output).0;
    let a = assemble(&c);
    assert_eq!(a.reasoning, "Simple educ");
    // The signature closes the thought as a `reasoning_details` entry, after its text.
    let sig: Vec<&serde_json::Value> = c
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["reasoning_details"].get(0))
        .collect();
    assert_eq!(sig.len(), 1);
    assert_eq!(sig[0]["type"], "reasoning.text");
    assert_eq!(sig[0]["format"], "anthropic-claude-v1");
    assert!(
        sig[0]["signature"]
            .as_str()
            .unwrap()
            .starts_with("c3ludGhldGlj")
    );
    assert_eq!(a.finish_reason.as_deref(), Some("length"));
    let u = a.usage.unwrap();
    assert_eq!(u["prompt_tokens"], 112);
    assert_eq!(u["prompt_tokens_details"]["cached_tokens"], 100);
    assert_eq!(u["prompt_tokens_details"]["cache_write_tokens"], 7);
    assert_eq!(u["completion_tokens"], 42);
}

// conformance: chat parallel_tools anthropic translated
/// Two tool_use blocks after a text block get OpenAI indexes 0 and 1, not block indexes.
#[test]
fn parallel_tool_indexes() {
    let block = |i: u32, id: &str, json: &str| {
        format!(
            "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":{i},\"content_block\":{{\"type\":\"tool_use\",\"id\":\"{id}\",\"name\":\"f{i}\",\"input\":{{}}}}}}\n\nevent: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":{i},\"delta\":{{\"type\":\"input_json_delta\",\"partial_json\":{json}}}}}\n\nevent: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":{i}}}\n\n"
        )
    };
    let inner = format!(
        "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}}}\n\nevent: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"ok\"}}}}\n\n{}{}",
        block(1, "toolu_a", r#""{\"x\":1}""#),
        block(2, "toolu_b", r#""{\"y\":2}""#)
    );
    let run = assert_split_invariant(A, false, with_message(&inner, "tool_use").as_bytes());
    let a = assemble(&chunks(&run.output).0);
    assert_eq!(
        a.tool_calls,
        vec![
            ("toolu_a".into(), "f1".into(), "{\"x\":1}".into()),
            ("toolu_b".into(), "f2".into(), "{\"y\":2}".into())
        ]
    );
}

// conformance: chat stream_errors anthropic translated
/// An `error` event ends the stream with the mapped error and never `[DONE]`.
#[test]
fn error_event_mid_stream() {
    let cut = TEXT.find("event: content_block_stop").unwrap();
    let input = format!(
        "{}event: error\ndata: {{\"type\": \"error\", \"error\": {{\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}}}\n\n",
        &TEXT[..cut]
    );
    let run = run(A, false, input.as_bytes(), &[]);
    let err = run.error.expect("error expected");
    assert!(err.starts_with("503 overloaded"), "{err}");
    assert!(err.contains("Overloaded"), "{err}");
    assert!(!run.output.contains("[DONE]"));
    assert!(run.output.contains("Hello"));
}

/// A stream cut before message_stop is reported as truncated, never completed.
#[test]
fn truncated_stream_is_an_error() {
    for end in [
        TEXT.find("event: message_delta").unwrap(),
        TEXT.len() - 10,
        30,
    ] {
        let run = run(A, false, &TEXT.as_bytes()[..end], &[]);
        assert!(
            run.error
                .as_deref()
                .is_some_and(|e| e.contains("ended the stream")),
            "cut at {end}: {:?}",
            run.error
        );
        assert!(!run.output.contains("[DONE]"));
    }
}

/// Unknown events and fields are ignored; malformed JSON is an error.
#[test]
fn tolerance_and_malformed() {
    let input = TEXT.replace(
        "event: ping\ndata: {\"type\": \"ping\"}",
        "event: shiny_new\ndata: {\"type\":\"shiny_new\",\"x\":[1,2]}",
    );
    let ok = run(A, false, input.as_bytes(), &[]);
    assert_eq!(ok.error, None);
    assert_eq!(assemble(&chunks(&ok.output).0).content, "Hello there!");
    let bad = run(A, false, b"event: message_start\ndata: {not json\n\n", &[]);
    assert!(bad.error.unwrap().contains("malformed upstream stream"));
}

proptest! {
    /// Random multi-cut partitions of the tool transcript give identical output.
    #[test]
    fn random_partitions(mut cuts in proptest::collection::vec(0usize..2002, 0..20)) {
        cuts.sort_unstable();
        prop_assert_eq!(run(A, true, TOOL_USE.as_bytes(), &cuts), run(A, true, TOOL_USE.as_bytes(), &[]));
    }
}

const ANSWER_TOOL: &str = include_str!("../../../../tests/fixtures/anthropic/answer_tool.sse");

/// Structured output by answer tool: its input_json_delta fragments are the content, split
/// anywhere; no tool call reaches the client and the finish is `stop`.
#[test]
fn answer_tool_stream_is_content() {
    let ctx = answer_ctx();
    let run = assert_split_invariant_ctx(A, &ctx, ANSWER_TOOL.as_bytes());
    assert_eq!(run.error, None);
    let (c, done) = chunks(&run.output);
    assert!(done);
    let a = assemble(&c);
    assert_eq!(a.content, "{\"name\": \"Ada ✓\", \"age\": 36}");
    assert!(a.tool_calls.is_empty());
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    // Without the flag (a client that never asked) it stays a tool call.
    let plain = run_ctx(
        A,
        &crate::providers::testutil::ctx(false),
        ANSWER_TOOL.as_bytes(),
        &[],
    );
    let a = assemble(&chunks(&plain.output).0);
    assert_eq!(a.tool_calls.len(), 1);
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
}

/// A client tool call next to the answer tool stays a tool call (index 0), and the finish
/// is `tool_calls`.
#[test]
fn answer_tool_with_a_client_call() {
    let extra = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_f\",\"name\":\"f\",\"input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n";
    let input = ANSWER_TOOL.replace(
        "event: message_delta",
        &format!("{extra}event: message_delta"),
    );
    let run = run_ctx(A, &answer_ctx(), input.as_bytes(), &[]);
    let a = assemble(&chunks(&run.output).0);
    assert_eq!(a.content, "{\"name\": \"Ada ✓\", \"age\": 36}");
    assert_eq!(
        a.tool_calls,
        vec![("toolu_f".into(), "f".into(), "{}".into())]
    );
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
}
