//! Anthropic Messages stream → OpenAI chunks (docs/wire/anthropic.md §4,
//! docs/wire/streaming.md §3).
//!
//! `message_start` → role chunk; `content_block_start` of a `tool_use` → the tool call's first
//! fragment (index, id, name); `text_delta` → content; `input_json_delta` → argument fragments;
//! `thinking_delta` → `reasoning_content`; `message_delta` → finish reason and cumulative usage;
//! `message_stop` → finish chunk, usage chunk (if asked) and `[DONE]`. `ping` and unknown events
//! are ignored; `error` ends the stream with that error.

use super::{ErrorBody, UsageWire, finish_reason};
use crate::error::GatewayError;
use crate::providers::sse_driver::{SseMachine, SseTranslator};
use crate::providers::structured::{ANSWER_TOOL, answer_stop};
use crate::providers::{TranslateCtx, malformed_stream};
use crate::translate::Usage;
use crate::translate::borrow::opt_cow;
use crate::translate::response::ChunkWriter;
use bytes::BytesMut;
use serde::Deserialize;
use std::borrow::Cow;

/// The Anthropic stream translator: SSE framing driving [`AnthropicMachine`].
pub type AnthropicStream = SseTranslator<AnthropicMachine>;

/// The event state machine.
#[derive(Debug)]
pub struct AnthropicMachine {
    provider: String,
    writer: ChunkWriter,
    include_usage: bool,
    /// OpenAI tool index for each Anthropic content block index (None: not a tool block).
    tool_index: Vec<Option<u32>>,
    /// Calls of the answer tool are the answer's content (`TranslateCtx::tool_answer`).
    tool_answer: bool,
    /// The content block index of the answer tool's call, once it started.
    answer_block: Option<usize>,
    next_tool: u32,
    stop_reason: Option<String>,
    usage: Usage,
    input_tokens: u64,
    started: bool,
    has_output: bool,
    done: bool,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    index: Option<usize>,
    #[serde(borrow, default)]
    message: Option<StartMessage<'a>>,
    #[serde(borrow, default)]
    content_block: Option<StartBlock<'a>>,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(default)]
    usage: Option<UsageWire>,
    #[serde(borrow, default)]
    error: Option<ErrorBody<'a>>,
}

#[derive(Deserialize)]
struct StartMessage<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<UsageWire>,
}

#[derive(Deserialize)]
struct StartBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    /// `redacted_thinking` data.
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_cow")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    stop_reason: Option<Cow<'a, str>>,
}

impl AnthropicMachine {
    /// A translator whose chunks carry the gateway's id; `model` is used until
    /// `message_start` names the served model.
    pub fn stream(ctx: &TranslateCtx<'_>, model: &str) -> AnthropicStream {
        SseTranslator::new(AnthropicMachine {
            provider: ctx.provider.to_string(),
            writer: ChunkWriter::for_stream(ctx, &format!("chatcmpl-{}", ctx.request_id), model),
            include_usage: ctx.include_usage,
            tool_index: Vec::new(),
            tool_answer: ctx.tool_answer,
            answer_block: None,
            next_tool: 0,
            stop_reason: None,
            usage: Usage::default(),
            input_tokens: 0,
            started: false,
            has_output: false,
            done: false,
        })
    }
}

impl SseMachine for AnthropicMachine {
    /// Translates one event's `data`.
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

    /// Input from `message_start`, cumulative output from `message_delta`.
    fn usage(&self) -> Usage {
        self.usage
    }
}

impl AnthropicMachine {
    fn translate(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        let ev: Event<'_> = serde_json::from_str(data).map_err(malformed_stream)?;
        match ev.kind.as_ref() {
            "message_start" => {
                if let Some(m) = ev.message {
                    if let Some(u) = m.usage {
                        u.merge_into(&mut self.usage, &mut self.input_tokens);
                    }
                    if let Some(model) = m.model {
                        self.writer.set_model(&model);
                    }
                }
                self.writer.role_once(out, &mut self.started);
            }
            "content_block_start" => {
                let (Some(index), Some(block)) = (ev.index, ev.content_block) else {
                    return Ok(());
                };
                match block.kind.as_ref() {
                    "tool_use"
                        if self.tool_answer && block.name.as_deref() == Some(ANSWER_TOOL) =>
                    {
                        // Its input_json_delta fragments become content.
                        self.answer_block = Some(index);
                        self.writer.role_once(out, &mut self.started);
                        self.has_output = true;
                    }
                    "tool_use" => {
                        let k = self.next_tool;
                        self.next_tool += 1;
                        if self.tool_index.len() <= index {
                            self.tool_index.resize(index + 1, None);
                        }
                        self.tool_index[index] = Some(k);
                        self.writer.role_once(out, &mut self.started);
                        self.writer.tool_call_start(
                            out,
                            k,
                            block.id.as_deref().unwrap_or(""),
                            block.name.as_deref().unwrap_or(""),
                        );
                        self.has_output = true;
                    }
                    "text" => {
                        if let Some(t) = block.text.filter(|t| !t.is_empty()) {
                            self.writer.role_once(out, &mut self.started);
                            self.writer.content(out, &t);
                            self.has_output = true;
                        }
                    }
                    "redacted_thinking" => {
                        if let Some(d) = block.data.filter(|d| !d.is_empty()) {
                            self.writer.role_once(out, &mut self.started);
                            self.writer.reasoning_redacted(out, &d);
                            self.has_output = true;
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => self.delta(ev.index, ev.delta, out),
            "message_delta" => {
                if let Some(reason) = ev.delta.and_then(|d| d.stop_reason) {
                    self.stop_reason = Some(reason.into_owned());
                }
                if let Some(u) = ev.usage {
                    u.merge_into(&mut self.usage, &mut self.input_tokens);
                }
            }
            "message_stop" => {
                self.writer.role_once(out, &mut self.started);
                let answer_only = self.answer_block.is_some() && self.next_tool == 0;
                let stop = answer_stop(self.stop_reason.as_deref(), answer_only);
                let reason = finish_reason(stop, self.next_tool > 0);
                self.writer
                    .end(out, reason, self.include_usage.then_some(self.usage));
                self.has_output = true;
                self.done = true;
            }
            "error" => return Err(self.error(ev.error)),
            _ => {}
        }
        Ok(())
    }

    fn delta(&mut self, index: Option<usize>, delta: Option<Delta<'_>>, out: &mut BytesMut) {
        let Some(d) = delta else { return };
        match d.kind.as_deref() {
            Some("text_delta") => {
                if let Some(t) = d.text.filter(|t| !t.is_empty()) {
                    self.writer.role_once(out, &mut self.started);
                    self.writer.content(out, &t);
                    self.has_output = true;
                }
            }
            Some("input_json_delta") if index.is_some() && index == self.answer_block => {
                if let Some(p) = d.partial_json.filter(|p| !p.is_empty()) {
                    self.writer.content(out, &p);
                }
            }
            Some("input_json_delta") => {
                let k = index.and_then(|i| self.tool_index.get(i).copied().flatten());
                if let (Some(k), Some(p)) = (k, d.partial_json.filter(|p| !p.is_empty())) {
                    self.writer.tool_call_args(out, k, &p);
                }
            }
            Some("thinking_delta") => {
                if let Some(t) = d.thinking.filter(|t| !t.is_empty()) {
                    self.writer.role_once(out, &mut self.started);
                    self.writer.reasoning(out, &t);
                    self.has_output = true;
                }
            }
            Some("signature_delta") => {
                if let Some(sig) = d.signature.filter(|s| !s.is_empty()) {
                    self.writer.role_once(out, &mut self.started);
                    self.writer.reasoning_signature(out, &sig);
                }
            }
            _ => {}
        }
    }

    /// An `error` event, mapped like the equivalent HTTP error.
    fn error(&self, body: Option<ErrorBody<'_>>) -> GatewayError {
        let (kind, message) = body.map(|e| (e.kind, e.message)).unwrap_or((None, None));
        let status = match kind.as_deref() {
            Some("overloaded_error") => 529,
            Some("rate_limit_error") => 429,
            Some("invalid_request_error") => 400,
            Some("timeout_error") => 504,
            _ => 500,
        };
        let detail = match (kind, message) {
            (Some(k), Some(m)) => format!("{m} ({k})"),
            (_, Some(m)) => m.into_owned(),
            (Some(k), None) => k.into_owned(),
            (None, None) => "error event".to_string(),
        };
        crate::providers::upstream_error(&self.provider, status, Some(&detail), None)
    }
}

#[cfg(test)]
mod tests;
