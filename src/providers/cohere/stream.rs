//! Cohere v2 chat stream → OpenAI chunks.
//!
//! `message-start` → role chunk; `content-delta` text → content, thinking → `reasoning_content`;
//! `tool-plan-delta` → `reasoning_content`; `tool-call-start` → the tool call's first fragment
//! (index, id, name); `tool-call-delta` → argument fragments; `message-end` → finish chunk,
//! usage chunk (if asked) and `[DONE]`, or the stream's error for `finish_reason: ERROR`.
//! `content-start/end`, `tool-call-end`, `citation-*` and unknown events are ignored.

use super::{UsageWire, finish_reason};
use crate::error::GatewayError;
use crate::providers::sse_driver::{SseMachine, SseTranslator};
use crate::providers::{TranslateCtx, malformed_stream, upstream_error};
use crate::translate::Usage;
use crate::translate::response::ChunkWriter;
use bytes::BytesMut;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The Cohere stream translator: SSE framing driving [`CohereMachine`].
pub type CohereStream = SseTranslator<CohereMachine>;

/// The event state machine.
#[derive(Debug)]
pub struct CohereMachine {
    provider: String,
    request_id: String,
    writer: ChunkWriter,
    include_usage: bool,
    /// OpenAI tool index for each Cohere tool-call index.
    tool_index: Vec<Option<u32>>,
    next_tool: u32,
    usage: Usage,
    started: bool,
    has_output: bool,
    done: bool,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<usize>,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    /// Error bodies (`{"message": …}`) sent in the stream.
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    message: Option<DeltaMessage<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<UsageWire>,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
}

/// `content` and `tool_calls` are objects in deltas but arrays in `message-start`, so they
/// stay raw until the event type says which.
#[derive(Deserialize)]
struct DeltaMessage<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_plan: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ContentDelta<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

/// Parses a raw delta member that must be an object for this event.
fn object<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<Option<T>, GatewayError> {
    match raw {
        Some(r) if r.get().starts_with('{') => serde_json::from_str(r.get())
            .map(Some)
            .map_err(malformed_stream),
        _ => Ok(None),
    }
}

impl CohereMachine {
    /// A translator whose chunks carry the gateway's id and `model` (Cohere names none).
    pub fn stream(ctx: &TranslateCtx<'_>, model: &str) -> CohereStream {
        SseTranslator::new(CohereMachine {
            provider: ctx.provider.to_string(),
            request_id: ctx.request_id.to_string(),
            writer: ChunkWriter::for_stream(ctx, &format!("chatcmpl-{}", ctx.request_id), model),
            include_usage: ctx.include_usage,
            tool_index: Vec::new(),
            next_tool: 0,
            usage: Usage::default(),
            started: false,
            has_output: false,
            done: false,
        })
    }

    fn text(&mut self, out: &mut BytesMut, text: Option<Cow<'_, str>>, reasoning: bool) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.writer.role_once(out, &mut self.started);
            if reasoning {
                self.writer.reasoning(out, &t);
            } else {
                self.writer.content(out, &t);
            }
            self.has_output = true;
        }
    }

    fn translate(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        let trimmed = data.trim();
        if trimmed.is_empty() || trimmed == "[DONE]" {
            return Ok(());
        }
        let ev: Event<'_> = serde_json::from_str(data).map_err(malformed_stream)?;
        let Some(kind) = ev.kind else {
            // No event type: an error body sent in the stream.
            return match ev.message {
                Some(m) => Err(self.error(&m)),
                None => Ok(()),
            };
        };
        let (message, end) = match ev.delta {
            Some(d) => (d.message, Some((d.finish_reason, d.usage, d.error))),
            None => (None, None),
        };
        match kind.as_ref() {
            "message-start" => self.writer.role_once(out, &mut self.started),
            "content-start" | "content-delta" => {
                if let Some(c) = object::<ContentDelta<'_>>(message.and_then(|m| m.content))? {
                    self.text(out, c.thinking, true);
                    self.text(out, c.text, false);
                }
            }
            "tool-plan-delta" => self.text(out, message.and_then(|m| m.tool_plan), true),
            "tool-call-start" => {
                let call = object::<ToolCallDelta<'_>>(message.and_then(|m| m.tool_calls))?;
                let Some(call) = call else { return Ok(()) };
                let index = ev.index.unwrap_or(self.tool_index.len());
                let k = self.next_tool;
                self.next_tool += 1;
                if self.tool_index.len() <= index {
                    self.tool_index.resize(index + 1, None);
                }
                self.tool_index[index] = Some(k);
                let (name, args) = call
                    .function
                    .map(|f| (f.name, f.arguments))
                    .unwrap_or((None, None));
                let id = match call.id.as_deref().filter(|id| !id.is_empty()) {
                    Some(id) => id.to_string(),
                    None => format!("call_{}_{k}", self.request_id),
                };
                self.writer.role_once(out, &mut self.started);
                self.writer
                    .tool_call_start(out, k, &id, name.as_deref().unwrap_or(""));
                if let Some(a) = args.filter(|a| !a.is_empty()) {
                    self.writer.tool_call_args(out, k, &a);
                }
                self.has_output = true;
            }
            "tool-call-delta" => {
                let call = object::<ToolCallDelta<'_>>(message.and_then(|m| m.tool_calls))?;
                let k = ev
                    .index
                    .and_then(|i| self.tool_index.get(i).copied().flatten());
                let args = call.and_then(|c| c.function).and_then(|f| f.arguments);
                if let (Some(k), Some(a)) = (k, args.filter(|a| !a.is_empty())) {
                    self.writer.tool_call_args(out, k, &a);
                }
            }
            "message-end" => {
                let (reason, usage, error) = end.unwrap_or((None, None, None));
                if let Some(u) = usage {
                    self.usage = u.to_usage();
                }
                if reason.as_deref() == Some("ERROR") || error.is_some() {
                    let detail = error.as_deref().unwrap_or("generation ended with ERROR");
                    return Err(self.error(detail));
                }
                self.writer.role_once(out, &mut self.started);
                let reason = finish_reason(reason.as_deref(), self.next_tool > 0);
                self.writer
                    .end(out, reason, self.include_usage.then_some(self.usage));
                self.has_output = true;
                self.done = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn error(&self, detail: &str) -> GatewayError {
        upstream_error(&self.provider, 502, Some(detail), None).with_code("upstream_stream_error")
    }
}

impl SseMachine for CohereMachine {
    fn event(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        self.translate(data, out)
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn provider(&self) -> &str {
        &self.provider
    }

    fn has_output(&self) -> bool {
        self.has_output
    }

    /// Counts arrive with `message-end`.
    fn usage(&self) -> Usage {
        self.usage
    }
}

#[cfg(test)]
mod tests;
