//! Anthropic Messages responses: the `message` JSON object and the named-event SSE stream.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::scenario::{Finish, Plan, THINKING_SIGNATURE};

/// Per-response values.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub id: u64,
    /// Model as reported (the part before `#`).
    pub model: &'a str,
    pub no_usage: bool,
}

/// Text block placed before tool calls, like real Claude answers do.
pub const TOOL_PREAMBLE: &str = "I'll use the tool.";

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    Text {
        text: &'a str,
    },
    ToolUse {
        id: String,
        name: &'a str,
        input: &'a Value,
    },
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Delta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
}

#[derive(Serialize)]
struct UsageOut {
    input_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    output_tokens: u64,
    service_tier: &'static str,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: Option<&'static str>,
    stop_sequence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct StopDelta<'a> {
    stop_reason: &'static str,
    stop_sequence: Option<&'a str>,
}

#[derive(Serialize)]
struct DeltaUsage {
    output_tokens: u64,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event<'a> {
    MessageStart {
        message: MessageOut<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block<'a>,
    },
    ContentBlockDelta {
        index: usize,
        delta: Delta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: StopDelta<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        usage: Option<DeltaUsage>,
    },
    MessageStop,
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
        }
    }

    /// `event: NAME\ndata: JSON\n\n`.
    fn sse(&self) -> Bytes {
        let name = self.name();
        let mut buf = Vec::with_capacity(160);
        buf.extend_from_slice(b"event: ");
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(b"\ndata: ");
        if serde_json::to_writer(&mut buf, self).is_err() {
            buf.extend_from_slice(b"{}");
        }
        buf.extend_from_slice(b"\n\n");
        Bytes::from(buf)
    }
}

const PING: &[u8] = b"event: ping\ndata: {\"type\": \"ping\"}\n\n";

fn stop(plan: &Plan) -> (&'static str, Option<&str>) {
    match &plan.finish {
        Finish::EndTurn => ("end_turn", None),
        Finish::MaxTokens => ("max_tokens", None),
        Finish::ToolUse => ("tool_use", None),
        Finish::StopSequence(s) => ("stop_sequence", Some(s.as_str())),
    }
}

fn usage(plan: &Plan, output_tokens: u64) -> UsageOut {
    UsageOut {
        input_tokens: plan.usage.input_tokens,
        cache_creation_input_tokens: plan.usage.cache_write,
        cache_read_input_tokens: plan.usage.cache_read,
        output_tokens,
        service_tier: "standard",
    }
}

/// The non-streaming `message` body.
pub fn render_json(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    let id = format!("msg_emu{}", ctx.id);
    let thinking = plan.thinking_text();
    let text = plan.text();
    let mut content = Vec::with_capacity(2 + plan.tool_calls.len());
    if !thinking.is_empty() {
        content.push(Block::Thinking {
            thinking: &thinking,
            signature: THINKING_SIGNATURE,
        });
    }
    if !text.is_empty() {
        content.push(Block::Text { text: &text });
    }
    for c in &plan.tool_calls {
        content.push(Block::ToolUse {
            id: format!("toolu_emu{}", c.id),
            name: &c.name,
            input: &c.input,
        });
    }
    let (stop_reason, stop_sequence) = stop(plan);
    let msg = MessageOut {
        id: &id,
        kind: "message",
        role: "assistant",
        model: ctx.model,
        content,
        stop_reason: Some(stop_reason),
        stop_sequence,
        usage: (!ctx.no_usage).then(|| usage(plan, plan.usage.output_tokens)),
    };
    serde_json::to_vec(&msg).unwrap_or_default()
}

/// The SSE events of a streamed answer, in the order of the real API's transcripts.
pub fn render_sse(plan: &Plan, ctx: &Ctx) -> Vec<Bytes> {
    let id = format!("msg_emu{}", ctx.id);
    let mut out = Vec::with_capacity(plan.text.len() + plan.thinking.len() + 16);
    let start = Event::MessageStart {
        message: MessageOut {
            id: &id,
            kind: "message",
            role: "assistant",
            model: ctx.model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: (!ctx.no_usage).then(|| usage(plan, 1)),
        },
    };
    out.push(start.sse());
    let mut index = 0;
    let mut open = |out: &mut Vec<Bytes>, block: Block| {
        out.push(
            Event::ContentBlockStart {
                index,
                content_block: block,
            }
            .sse(),
        );
        if index == 0 {
            out.push(Bytes::from_static(PING));
        }
        index += 1;
        index - 1
    };
    let delta = |index, delta| Event::ContentBlockDelta { index, delta }.sse();
    let close = |index| Event::ContentBlockStop { index }.sse();
    if !plan.thinking.is_empty() {
        let i = open(
            &mut out,
            Block::Thinking {
                thinking: "",
                signature: "",
            },
        );
        for t in &plan.thinking {
            out.push(delta(i, Delta::Thinking { thinking: t }));
        }
        let sig = Delta::Signature {
            signature: THINKING_SIGNATURE,
        };
        out.push(delta(i, sig));
        out.push(close(i));
    }
    if !plan.text.is_empty() {
        let i = open(&mut out, Block::Text { text: "" });
        for t in &plan.text {
            out.push(delta(i, Delta::Text { text: t }));
        }
        out.push(close(i));
    }
    let empty = Value::Object(Map::new());
    for c in &plan.tool_calls {
        let block = Block::ToolUse {
            id: format!("toolu_emu{}", c.id),
            name: &c.name,
            input: &empty,
        };
        let i = open(&mut out, block);
        out.push(delta(i, Delta::InputJson { partial_json: "" }));
        for piece in c.fragments() {
            out.push(delta(
                i,
                Delta::InputJson {
                    partial_json: piece,
                },
            ));
        }
        out.push(close(i));
    }
    if index == 0 {
        out.push(Bytes::from_static(PING));
    }
    let (stop_reason, stop_sequence) = stop(plan);
    let end = Event::MessageDelta {
        delta: StopDelta {
            stop_reason,
            stop_sequence,
        },
        usage: (!ctx.no_usage).then_some(DeltaUsage {
            output_tokens: plan.usage.output_tokens,
        }),
    };
    out.push(end.sse());
    out.push(Event::MessageStop.sse());
    out
}

/// The in-band error event of `error_after`.
pub fn stream_error_event() -> Bytes {
    Bytes::from_static(
        b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    )
}

#[cfg(test)]
mod tests;
