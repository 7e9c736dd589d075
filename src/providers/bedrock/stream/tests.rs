use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{assemble, assert_split_invariant, chunks, run, translate_ok};

const TEXT: &[u8] = include_bytes!("../../../../tests/fixtures/bedrock/text.eventstream");
const TOOL_USE: &[u8] = include_bytes!("../../../../tests/fixtures/bedrock/tool_use.eventstream");
const THROTTLED: &[u8] = include_bytes!("../../../../tests/fixtures/bedrock/throttled.eventstream");

/// Text transcript: same output at every split; content, finish and usage (prompt includes
/// cache reads and writes) as a client assembles them; padding members are not text.
#[test]
fn text_transcript_split_everywhere() {
    let c = translate_ok(ProviderKind::Bedrock, true, TEXT);
    let a = assemble(&c);
    assert_eq!(a.content, "Hello there — héllo ✓ 🚀!");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    let u = a.usage.unwrap();
    assert_eq!(
        (u["prompt_tokens"].as_u64(), u["completion_tokens"].as_u64()),
        (Some(18), Some(3))
    );
    assert_eq!(u["prompt_tokens_details"]["cached_tokens"], 4);
    assert_eq!(c[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(c[0]["model"], "requested-model");
    // Without include_usage there is no usage chunk.
    let plain = run(ProviderKind::Bedrock, false, TEXT, &[]);
    assert!(assemble(&chunks(&plain.output).0).usage.is_none());
}

/// Tool transcript: reasoning, preamble text and two calls; OpenAI tool indexes are counted
/// per call (0, 1), not per content block (2, 3); the first fragment carries id and name.
#[test]
fn tool_transcript_split_everywhere() {
    let c = translate_ok(ProviderKind::Bedrock, false, TOOL_USE);
    let a = assemble(&c);
    assert_eq!(a.reasoning, "Need weather.");
    assert_eq!(a.content, "Let me check.");
    assert_eq!(
        a.tool_calls,
        vec![
            (
                "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q".to_string(),
                "get_weather".to_string(),
                r#"{"city": "Paris"}"#.to_string()
            ),
            (
                "tooluse_second".to_string(),
                "get_time".to_string(),
                r#"{"tz":"CET"}"#.to_string()
            ),
        ]
    );
    assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
}

/// An exception frame ends the stream with the modeled status (throttling → 429), after the
/// content already translated; the split point does not matter.
#[test]
fn exception_frame_is_an_error() {
    let r = assert_split_invariant(ProviderKind::Bedrock, false, THROTTLED);
    let e = r.error.expect("error");
    assert!(
        e.contains("Too many requests") && e.contains("throttlingException"),
        "{e}"
    );
    let t = {
        let mut t = crate::providers::StreamTranslator::new(
            ProviderKind::Bedrock,
            &crate::providers::testutil::ctx(false),
            "m",
        );
        let mut out = bytes::BytesMut::new();
        let e = t.feed(THROTTLED, &mut out).unwrap_err();
        assert_eq!(e.status, 429);
        t
    };
    assert!(t.has_output());
}

/// A flipped bit in a payload fails the message CRC; in a prelude, the prelude CRC, detected
/// as soon as the 12 prelude bytes are in.
#[test]
fn corrupted_crc_is_rejected() {
    let mut bad = TEXT.to_vec();
    bad[100] ^= 0x01; // inside the first frame's JSON payload
    let r = run(ProviderKind::Bedrock, false, &bad, &[]);
    let e = r.error.expect("error");
    assert!(
        e.contains("malformed upstream stream") && e.contains("hecksum"),
        "{e}"
    );
    let mut bad = TEXT.to_vec();
    bad[2] ^= 0x01;
    let mut t = crate::providers::StreamTranslator::new(
        ProviderKind::Bedrock,
        &crate::providers::testutil::ctx(false),
        "m",
    );
    let mut out = bytes::BytesMut::new();
    let e = t.feed(&bad[..12], &mut out).unwrap_err();
    assert!(e.message.contains("prelude CRC"), "{}", e.message);
}

/// A body cut before `messageStop` is a truncation; one cut after it (no `metadata`) completes.
#[test]
fn truncation_rules() {
    let frames = frame_ends(TEXT);
    let r = run(ProviderKind::Bedrock, false, &TEXT[..frames[3]], &[]);
    assert!(r.error.unwrap().contains("ended the stream"));
    let r = run(ProviderKind::Bedrock, false, &TEXT[..frames[3] + 5], &[]);
    assert!(r.error.unwrap().contains("ended the stream"));
    let r = run(ProviderKind::Bedrock, true, &TEXT[..frames[4]], &[]);
    assert_eq!(r.error, None);
    let (c, done) = chunks(&r.output);
    assert!(done);
    assert_eq!(assemble(&c).finish_reason.as_deref(), Some("stop"));
}

/// Offsets where each frame ends.
fn frame_ends(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        at += len;
        out.push(at);
    }
    out
}

/// One AWS event-stream frame: string headers, JSON payload, both CRCs.
fn frame(event: &str, payload: &str) -> Vec<u8> {
    let mut headers = Vec::new();
    for (name, value) in [
        (":event-type", event),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ] {
        headers.push(name.len() as u8);
        headers.extend_from_slice(name.as_bytes());
        headers.push(7);
        headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(payload.as_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A ConverseStream answer through the answer tool, input in three fragments.
fn answer_transcript() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(frame("messageStart", r#"{"role":"assistant"}"#));
    b.extend(frame(
        "contentBlockStart",
        r#"{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"tooluse_a","name":"json_answer"}}}"#,
    ));
    for piece in [r#"{\"name\""#, r#": \"Ada ✓\""#, "}"] {
        b.extend(frame(
            "contentBlockDelta",
            &format!(r#"{{"contentBlockIndex":0,"delta":{{"toolUse":{{"input":"{piece}"}}}}}}"#),
        ));
    }
    b.extend(frame("contentBlockStop", r#"{"contentBlockIndex":0}"#));
    b.extend(frame("messageStop", r#"{"stopReason":"tool_use"}"#));
    b.extend(frame(
        "metadata",
        r#"{"usage":{"inputTokens":5,"outputTokens":6,"totalTokens":11},"metrics":{"latencyMs":10}}"#,
    ));
    b
}

/// Structured output by answer tool, split at every byte: the input fragments are content,
/// no tool call, finish `stop`.
#[test]
fn answer_tool_stream_is_content() {
    let input = answer_transcript();
    let ctx = crate::providers::testutil::answer_ctx();
    let whole =
        crate::providers::testutil::assert_split_invariant_ctx(ProviderKind::Bedrock, &ctx, &input);
    assert_eq!(whole.error, None);
    let (c, done) = chunks(&whole.output);
    assert!(done);
    let a = assemble(&c);
    assert_eq!(a.content, "{\"name\": \"Ada ✓\"}");
    assert!(a.tool_calls.is_empty());
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    let plain = run(ProviderKind::Bedrock, false, &input, &[]);
    assert_eq!(assemble(&chunks(&plain.output).0).tool_calls.len(), 1);
}
