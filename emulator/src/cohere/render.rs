//! Cohere v2 chat responses: the chat JSON object and the typed SSE event stream.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::scenario::{Finish, Plan};

/// Per-response values.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub id: u64,
    pub no_usage: bool,
}

/// Plan text Cohere models write before calling tools (sent as `tool_plan`).
pub const TOOL_PLAN: &str = "I will call the tool to answer this.";

fn finish_reason(plan: &Plan) -> &'static str {
    match plan.finish {
        Finish::EndTurn => "COMPLETE",
        Finish::StopSequence(_) => "STOP_SEQUENCE",
        Finish::MaxTokens => "MAX_TOKENS",
        Finish::ToolUse => "TOOL_CALL",
    }
}

fn usage(plan: &Plan) -> Value {
    let u = &plan.usage;
    let input = u.input_tokens + u.cache_read + u.cache_write;
    json!({
        "billed_units": {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens},
        "tokens": {"input_tokens": input, "output_tokens": u.output_tokens},
        "cached_tokens": u.cache_read,
    })
}

fn call_id(name: &str, id: u64) -> String {
    format!("{name}_emu{id}")
}

/// With tool calls the planned text is the `tool_plan`, otherwise it is the content.
fn split_text(plan: &Plan) -> (String, String) {
    if plan.tool_calls.is_empty() {
        (plan.text(), String::new())
    } else {
        (String::new(), plan.text())
    }
}

/// The non-streaming chat body.
pub fn render_json(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    let (text, tool_plan) = split_text(plan);
    let mut content = Vec::new();
    let thinking = plan.thinking_text();
    if !thinking.is_empty() {
        content.push(json!({"type": "thinking", "thinking": thinking}));
    }
    if !text.is_empty() {
        content.push(json!({"type": "text", "text": text}));
    }
    let mut message = json!({"role": "assistant", "content": content});
    if !plan.tool_calls.is_empty() {
        message["tool_plan"] = json!(tool_plan);
        message["tool_calls"] = plan
            .tool_calls
            .iter()
            .map(|c| json!({"id": call_id(&c.name, c.id), "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
    }
    let mut body = json!({
        "id": format!("emu-{}", ctx.id),
        "message": message,
        "finish_reason": finish_reason(plan),
    });
    if !ctx.no_usage {
        body["usage"] = usage(plan);
    }
    serde_json::to_vec(&body).unwrap_or_default()
}

fn event(v: &Value) -> Bytes {
    let kind = v["type"].as_str().unwrap_or("unknown");
    Bytes::from(format!("event: {kind}\ndata: {v}\n\n"))
}

/// The SSE events of a streamed answer, in the order of Cohere's documented streams.
pub fn render_sse(plan: &Plan, ctx: &Ctx) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(plan.text.len() + plan.thinking.len() + 16);
    out.push(event(&json!({
        "id": format!("emu-{}", ctx.id),
        "type": "message-start",
        "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}},
    })));
    let mut index = 0;
    if !plan.thinking.is_empty() {
        out.push(event(&json!({"type": "content-start", "index": index, "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}})));
        for t in &plan.thinking {
            out.push(event(&json!({"type": "content-delta", "index": index, "delta": {"message": {"content": {"thinking": t}}}})));
        }
        out.push(event(&json!({"type": "content-end", "index": index})));
        index += 1;
    }
    if plan.tool_calls.is_empty() {
        if !plan.text.is_empty() {
            out.push(event(&json!({"type": "content-start", "index": index, "delta": {"message": {"content": {"type": "text", "text": ""}}}})));
            for t in &plan.text {
                out.push(event(&json!({"type": "content-delta", "index": index, "delta": {"message": {"content": {"text": t}}}})));
            }
            out.push(event(&json!({"type": "content-end", "index": index})));
        }
    } else {
        for t in &plan.text {
            out.push(event(
                &json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": t}}}),
            ));
        }
        for (i, c) in plan.tool_calls.iter().enumerate() {
            out.push(event(&json!({"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls": {"id": call_id(&c.name, c.id), "type": "function", "function": {"name": c.name, "arguments": ""}}}}})));
            for piece in c.fragments() {
                out.push(event(&json!({"type": "tool-call-delta", "index": i, "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}}})));
            }
            out.push(event(&json!({"type": "tool-call-end", "index": i})));
        }
    }
    let mut delta = json!({"finish_reason": finish_reason(plan)});
    if !ctx.no_usage {
        delta["usage"] = usage(plan);
    }
    out.push(event(&json!({"type": "message-end", "delta": delta})));
    out
}

/// The in-band error of `error_after`: a `message-end` with `finish_reason: ERROR`.
pub fn stream_error_event() -> Bytes {
    event(&json!({
        "type": "message-end",
        "delta": {"error": "internal server error, this has been reported to our developers (emulated mid-stream failure)", "finish_reason": "ERROR"},
    }))
}

#[cfg(test)]
mod tests;
