//! Bedrock Converse responses: the `ConverseResponse` JSON and the ConverseStream binary
//! `application/vnd.amazon.eventstream` (prelude and message CRCs by `aws-smithy-eventstream`'s
//! encoder), in the order of docs/wire/bedrock.md (ConverseStream event order): text blocks have no `contentBlockStart`,
//! `metadata` (usage) follows `messageStop`. Delta payloads carry the random-length `p`
//! padding member live Bedrock adds, which clients must ignore.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::scenario::{Finish, Plan, THINKING_SIGNATURE};

/// Per-response switches.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub no_usage: bool,
}

fn stop_reason(plan: &Plan) -> &'static str {
    match plan.finish {
        Finish::EndTurn => "end_turn",
        Finish::MaxTokens => "max_tokens",
        Finish::ToolUse => "tool_use",
        Finish::StopSequence(_) => "stop_sequence",
    }
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    let mut v = json!({
        "inputTokens": u.input_tokens,
        "outputTokens": u.output_tokens,
        "totalTokens": u.input_tokens + u.output_tokens + u.cache_read + u.cache_write,
    });
    if u.cache_read > 0 || u.cache_write > 0 {
        v["cacheReadInputTokens"] = json!(u.cache_read);
        v["cacheWriteInputTokens"] = json!(u.cache_write);
    }
    v
}

fn tool_use_id(id: u64) -> String {
    format!("tooluse_emu{id}")
}

/// The non-streaming `ConverseResponse`.
pub fn render_json(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    let mut content = Vec::new();
    let thinking = plan.thinking_text();
    if !thinking.is_empty() {
        content.push(json!({"reasoningContent": {"reasoningText": {"text": thinking, "signature": THINKING_SIGNATURE}}}));
    }
    let text = plan.text();
    if !text.is_empty() {
        content.push(json!({ "text": text }));
    }
    for c in &plan.tool_calls {
        content.push(
            json!({"toolUse": {"toolUseId": tool_use_id(c.id), "name": c.name, "input": c.input}}),
        );
    }
    let mut out = json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(plan),
        "metrics": {"latencyMs": 42},
    });
    if !ctx.no_usage {
        out["usage"] = usage(plan);
    }
    serde_json::to_vec(&out).unwrap_or_default()
}

/// One event-stream frame with string headers.
pub fn frame(headers: &[(&'static str, &str)], payload: &[u8]) -> Bytes {
    let mut msg = Message::new(Bytes::copy_from_slice(payload));
    for (name, value) in headers {
        msg = msg.add_header(Header::new(
            *name,
            HeaderValue::String(value.to_string().into()),
        ));
    }
    let mut out = Vec::with_capacity(payload.len() + 100);
    match write_message_to(&msg, &mut out) {
        Ok(()) => Bytes::from(out),
        Err(_) => Bytes::new(),
    }
}

fn event(kind: &str, payload: &Value) -> Bytes {
    let body = serde_json::to_vec(payload).unwrap_or_default();
    frame(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        &body,
    )
}

/// Padding of varying length, like live Bedrock's `p` member.
fn pad(n: usize) -> String {
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[..(n * 7) % 40 + 1].to_string()
}

/// The frames of a streamed answer.
pub fn render_stream(plan: &Plan, ctx: &Ctx) -> Vec<Bytes> {
    let mut out = vec![event("messageStart", &json!({"role": "assistant"}))];
    let mut index = 0usize;
    let delta = |i: usize, d: Value, n: usize| {
        event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": i, "delta": d, "p": pad(n)}),
        )
    };
    let stop = |i: usize| event("contentBlockStop", &json!({ "contentBlockIndex": i }));
    if !plan.thinking.is_empty() {
        for (n, t) in plan.thinking.iter().enumerate() {
            out.push(delta(index, json!({"reasoningContent": {"text": t}}), n));
        }
        out.push(delta(
            index,
            json!({"reasoningContent": {"signature": THINKING_SIGNATURE}}),
            0,
        ));
        out.push(stop(index));
        index += 1;
    }
    if !plan.text.is_empty() {
        for (n, t) in plan.text.iter().enumerate() {
            out.push(delta(index, json!({ "text": t }), n));
        }
        out.push(stop(index));
        index += 1;
    }
    for c in &plan.tool_calls {
        out.push(event(
            "contentBlockStart",
            &json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool_use_id(c.id), "name": c.name}}}),
        ));
        for (n, piece) in c.fragments().into_iter().enumerate() {
            out.push(delta(index, json!({"toolUse": {"input": piece}}), n));
        }
        out.push(stop(index));
        index += 1;
    }
    out.push(event(
        "messageStop",
        &json!({"stopReason": stop_reason(plan)}),
    ));
    if !ctx.no_usage {
        out.push(event(
            "metadata",
            &json!({"usage": usage(plan), "metrics": {"latencyMs": 42}}),
        ));
    }
    out
}

/// The exception frame of `error_after`: a mid-stream model failure.
pub fn stream_error_frame() -> Bytes {
    exception_frame(
        "modelStreamErrorException",
        "The model stream was interrupted (emulated by switchyard-emulator, error_after).",
    )
}

/// A `:message-type: exception` frame.
pub fn exception_frame(kind: &str, message: &str) -> Bytes {
    let body = serde_json::to_vec(&json!({ "message": message })).unwrap_or_default();
    frame(
        &[
            (":exception-type", kind),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        &body,
    )
}
