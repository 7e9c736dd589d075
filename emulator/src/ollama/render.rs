//! Ollama native responses: the final chat object and the NDJSON stream (one object per line).

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::scenario::{Finish, Plan};

/// Per-response values.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Model as reported (the part before `#`).
    pub model: &'a str,
    pub no_usage: bool,
    /// Leave out the `done: true` line (a truncated stream).
    pub no_done: bool,
}

const CREATED_AT: &str = "2025-07-07T20:22:19.184789Z";

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
}

#[derive(Serialize)]
struct ToolCall<'a> {
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    index: usize,
    name: &'a str,
    arguments: &'a Value,
}

#[derive(Serialize)]
struct Counts {
    total_duration: u64,
    load_duration: u64,
    prompt_eval_count: u64,
    prompt_eval_duration: u64,
    eval_count: u64,
    eval_duration: u64,
}

#[derive(Serialize)]
struct Object<'a> {
    model: &'a str,
    created_at: &'static str,
    message: Message<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    done_reason: Option<&'static str>,
    done: bool,
    #[serde(flatten)]
    counts: Option<Counts>,
}

fn done_reason(plan: &Plan) -> &'static str {
    match plan.finish {
        Finish::MaxTokens => "length",
        Finish::EndTurn | Finish::ToolUse | Finish::StopSequence(_) => "stop",
    }
}

fn counts(plan: &Plan) -> Counts {
    let u = &plan.usage;
    Counts {
        total_duration: 182_242_375,
        load_duration: 41_295_167,
        prompt_eval_count: u.input_tokens + u.cache_read + u.cache_write,
        prompt_eval_duration: 24_573_166,
        eval_count: u.output_tokens,
        eval_duration: 115_959_084,
    }
}

fn calls(plan: &Plan) -> Vec<ToolCall<'_>> {
    plan.tool_calls
        .iter()
        .enumerate()
        .map(|(index, c)| ToolCall {
            function: Function {
                index,
                name: &c.name,
                arguments: &c.input,
            },
        })
        .collect()
}

fn message<'a>(content: &'a str) -> Message<'a> {
    Message {
        role: "assistant",
        content,
        thinking: None,
        tool_calls: Vec::new(),
    }
}

fn line(obj: &Object) -> Bytes {
    let mut buf = serde_json::to_vec(obj).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

/// The non-streaming body (`stream: false`).
pub fn render_json(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    let text = plan.text();
    let thinking = plan.thinking_text();
    let mut msg = message(&text);
    msg.thinking = (!thinking.is_empty()).then_some(thinking.as_str());
    msg.tool_calls = calls(plan);
    let obj = Object {
        model: ctx.model,
        created_at: CREATED_AT,
        message: msg,
        done_reason: Some(done_reason(plan)),
        done: true,
        counts: (!ctx.no_usage).then(|| counts(plan)),
    };
    serde_json::to_vec(&obj).unwrap_or_default()
}

/// The NDJSON lines of a streamed answer: thinking, text, one line per whole tool call, then
/// the `done` line with the counts.
pub fn render_ndjson(plan: &Plan, ctx: &Ctx) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(plan.thinking.len() + plan.text.len() + 4);
    let partial = |msg: Message| {
        line(&Object {
            model: ctx.model,
            created_at: CREATED_AT,
            message: msg,
            done_reason: None,
            done: false,
            counts: None,
        })
    };
    for t in &plan.thinking {
        let mut msg = message("");
        msg.thinking = Some(t);
        out.push(partial(msg));
    }
    for t in &plan.text {
        out.push(partial(message(t)));
    }
    for call in calls(plan) {
        let mut msg = message("");
        msg.tool_calls = vec![call];
        out.push(partial(msg));
    }
    if !ctx.no_done {
        out.push(line(&Object {
            model: ctx.model,
            created_at: CREATED_AT,
            message: message(""),
            done_reason: Some(done_reason(plan)),
            done: true,
            counts: (!ctx.no_usage).then(|| counts(plan)),
        }));
    }
    out
}

/// The in-band error line of `error_after`.
pub fn stream_error_event() -> Bytes {
    Bytes::from_static(
        b"{\"error\":\"an error was encountered while running the model: emulated mid-stream failure\"}\n",
    )
}

#[cfg(test)]
mod tests;
