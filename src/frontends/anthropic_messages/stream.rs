//! OpenAI chat chunks → Anthropic Messages events (docs/wire/streaming.md §9).
//!
//! Every non-Anthropic provider's stream is first translated to OpenAI chunks by its own
//! [`StreamTranslator`]; [`ToAnthropic`] feeds that output through [`ChunkMachine`]:
//!
//! * first chunk → `message_start` (usage zero: OpenAI reports usage only at the end) + `ping`;
//! * `content` → a `text` block (`text_delta`), `reasoning_content`/`reasoning` → a `thinking`
//!   block (`thinking_delta`), `refusal` → text;
//! * a new `tool_calls[].index` → a `tool_use` block (id, name) whose `arguments` fragments are
//!   `input_json_delta`s; one block per tool call index;
//! * a block is closed (`content_block_stop`) when a block of another kind or tool index opens,
//!   so blocks are opened and closed strictly in order (fragments for an already closed tool
//!   call, which no known provider sends, are dropped with a warning);
//! * `finish_reason` → the `stop_reason` of `message_delta`; the usage chunk → its usage
//!   (cumulative `input_tokens`, cache fields and `output_tokens`);
//! * `[DONE]` → close the open block, `message_delta`, `message_stop`.
//!
//! Errors (in-band or truncation) come from the inner translator as `Err` and are written by
//! the relay as an Anthropic `event: error`, never followed by `message_stop`.

use super::events;
use super::response::{input_tokens, stop_reason};
use crate::error::GatewayError;
use crate::providers::sse_driver::{SseMachine, SseTranslator};
use crate::providers::{StreamState, StreamTranslator, TranslateCtx, malformed_stream};
use crate::translate::events::ChunkSink;
use crate::translate::{FinishReason, Usage};
use bytes::BytesMut;
use serde::Deserialize;
use std::borrow::Cow;

/// A provider's stream translated to OpenAI, then to Anthropic events.
#[derive(Debug)]
pub struct ToAnthropic {
    inner: StreamTranslator,
    stage: SseTranslator<ChunkMachine>,
    /// The inner translator's OpenAI output, reused between feeds.
    scratch: BytesMut,
}

impl ToAnthropic {
    /// Wraps `inner` (a translator producing OpenAI chunks).
    pub fn new(inner: StreamTranslator, ctx: &TranslateCtx<'_>, model: &str) -> Self {
        Self {
            inner,
            stage: SseTranslator::new(ChunkMachine::new(ctx, model)),
            scratch: BytesMut::with_capacity(1024),
        }
    }

    /// Feeds provider bytes, appending Anthropic events to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<StreamState, GatewayError> {
        let state = self.inner.feed(chunk, &mut self.scratch)?;
        self.drain(out)?;
        Ok(state)
    }

    /// End of the provider body.
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        self.inner.finish(&mut self.scratch)?;
        self.drain(out)?;
        self.stage.finish(out)
    }

    fn drain(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        if !self.scratch.is_empty() {
            self.stage.feed(&self.scratch, out)?;
            self.scratch.clear();
        }
        Ok(())
    }

    /// Output reached the client side of the inner translator.
    pub fn has_output(&self) -> bool {
        self.inner.has_output()
    }

    /// Usage read by the inner translator.
    pub fn usage(&self) -> Usage {
        self.inner.usage()
    }
}

/// The block currently open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool(u32),
}

/// Renders stream events as Anthropic Messages events: the [`ChunkSink`] of the
/// `/v1/messages` client format.
#[derive(Debug)]
pub struct AnthropicEvents {
    provider: String,
    id: String,
    model: String,
    started: bool,
    open: Option<Open>,
    /// Index of the open block (valid while `open` is set); the next block gets `next`.
    index: u32,
    next: u32,
    /// Tool indices that already had their block.
    tools_seen: Vec<u32>,
    done: bool,
}

/// The sink of `/v1/messages` streams ([`crate::translate::events::SinkFactory`]).
pub fn sink(ctx: &TranslateCtx<'_>, model: &str) -> Box<dyn ChunkSink> {
    Box::new(AnthropicEvents::new(ctx, model))
}

/// OpenAI chat chunks (from an OpenAI-format provider) → Anthropic events: parses each chunk
/// and drives [`AnthropicEvents`].
#[derive(Debug)]
pub struct ChunkMachine {
    events: AnthropicEvents,
    finish: Option<String>,
    usage: Usage,
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    usage: Option<UsageWire>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Vec<ToolDelta<'a>>,
    /// Signatures and redacted thoughts (the text also comes as `reasoning`).
    #[serde(borrow, default)]
    reasoning_details: Vec<DetailDelta<'a>>,
}

#[derive(Deserialize)]
struct DetailDelta<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default)]
    index: Option<u32>,
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

#[derive(Deserialize)]
struct UsageWire {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

impl AnthropicEvents {
    /// Events whose message id derives from the gateway request id.
    pub fn new(ctx: &TranslateCtx<'_>, model: &str) -> Self {
        Self {
            provider: ctx.provider.to_string(),
            id: format!("msg_{}", ctx.request_id),
            model: model.to_string(),
            started: false,
            open: None,
            index: 0,
            next: 0,
            tools_seen: Vec::new(),
            done: false,
        }
    }

    fn start(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        events::open(out, "message_start");
        out.extend_from_slice(br#"{"type":"message_start","message":{"id":"#);
        events::push_str(out, &self.id);
        out.extend_from_slice(br#","type":"message","role":"assistant","model":"#);
        events::push_str(out, &self.model);
        out.extend_from_slice(br#","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}"#);
        events::close(out);
        events::event(out, "ping", br#"{"type":"ping"}"#);
    }

    /// Makes `want` the open block, closing the current one first if it differs.
    /// Returns false when `want` is a tool block that was already closed.
    fn ensure(&mut self, want: Open, out: &mut BytesMut) -> bool {
        if self.open == Some(want) {
            return true;
        }
        if let Open::Tool(k) = want {
            if self.tools_seen.contains(&k) {
                log::warn!(
                    "provider {}: tool call {k} continued after another block started; fragment dropped",
                    self.provider
                );
                return false;
            }
        }
        self.close_block(out);
        self.index = self.next;
        self.next += 1;
        self.open = Some(want);
        true
    }

    fn close_block(&mut self, out: &mut BytesMut) {
        if self.open.take().is_some() {
            events::block_stop(out, self.index);
        }
    }

    fn text(&mut self, kind: Open, text: &str, out: &mut BytesMut) {
        if text.is_empty() {
            return;
        }
        let fresh = self.open != Some(kind);
        self.ensure(kind, out);
        match kind {
            Open::Thinking => {
                if fresh {
                    events::block_start(
                        out,
                        self.index,
                        br#"{"type":"thinking","thinking":"","signature":""}"#,
                    );
                }
                events::delta(out, self.index, "thinking_delta", "thinking", text);
            }
            _ => {
                if fresh {
                    events::block_start(out, self.index, br#"{"type":"text","text":""}"#);
                }
                events::delta(out, self.index, "text_delta", "text", text);
            }
        }
    }

    /// A tool call fragment: `id` and `name` when it starts, `args` a piece of its arguments.
    fn tool(
        &mut self,
        k: u32,
        id: Option<&str>,
        name: Option<&str>,
        args: Option<&str>,
        out: &mut BytesMut,
    ) {
        let fresh = self.open != Some(Open::Tool(k));
        if !self.ensure(Open::Tool(k), out) {
            return;
        }
        if fresh {
            self.tools_seen.push(k);
            let mut block = BytesMut::with_capacity(96);
            block.extend_from_slice(br#"{"type":"tool_use","id":"#);
            match id {
                Some(id) => events::push_str(&mut block, id),
                None => events::push_str(&mut block, &format!("toolu_{}_{k}", self.id)),
            }
            block.extend_from_slice(br#","name":"#);
            events::push_str(&mut block, name.unwrap_or(""));
            block.extend_from_slice(br#","input":{}}"#);
            events::block_start(out, self.index, &block);
        }
        if let Some(a) = args.filter(|a| !a.is_empty()) {
            events::delta(out, self.index, "input_json_delta", "partial_json", a);
        }
    }

    /// `message_delta` (stop reason from the OpenAI `finish` name, usage) and `message_stop`.
    fn end(&mut self, out: &mut BytesMut, finish: Option<&str>, u: Usage) {
        self.start(out);
        self.close_block(out);
        let has_tools = !self.tools_seen.is_empty();
        let reason = match stop_reason(finish) {
            "end_turn" if has_tools => "tool_use",
            r => r,
        };
        events::open(out, "message_delta");
        out.extend_from_slice(br#"{"type":"message_delta","delta":{"stop_reason":""#);
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(br#"","stop_sequence":null},"usage":{"input_tokens":"#);
        out.extend_from_slice(input_tokens(u).to_string().as_bytes());
        out.extend_from_slice(br#","cache_creation_input_tokens":"#);
        out.extend_from_slice(u.cache_write_tokens.to_string().as_bytes());
        out.extend_from_slice(br#","cache_read_input_tokens":"#);
        out.extend_from_slice(u.cached_tokens.to_string().as_bytes());
        out.extend_from_slice(br#","output_tokens":"#);
        out.extend_from_slice(u.completion_tokens.to_string().as_bytes());
        out.extend_from_slice(b"}}");
        events::close(out);
        events::event(out, "message_stop", br#"{"type":"message_stop"}"#);
        self.done = true;
    }
}

impl ChunkSink for AnthropicEvents {
    fn set_model(&mut self, model: &str) {
        if !self.started && !model.is_empty() {
            self.model = model.to_string();
        }
    }

    fn role(&mut self, out: &mut BytesMut) {
        self.start(out);
    }

    fn content(&mut self, out: &mut BytesMut, text: &str) {
        self.start(out);
        self.text(Open::Text, text, out);
    }

    fn reasoning(&mut self, out: &mut BytesMut, text: &str) {
        self.start(out);
        self.text(Open::Thinking, text, out);
    }

    fn reasoning_signature(&mut self, out: &mut BytesMut, signature: &str) {
        self.start(out);
        if self.open != Some(Open::Thinking) {
            self.ensure(Open::Thinking, out);
            events::block_start(
                out,
                self.index,
                br#"{"type":"thinking","thinking":"","signature":""}"#,
            );
        }
        events::delta(out, self.index, "signature_delta", "signature", signature);
        // A signature ends its thought: later reasoning opens a new thinking block.
        self.close_block(out);
    }

    fn reasoning_redacted(&mut self, out: &mut BytesMut, data: &str) {
        self.start(out);
        self.close_block(out);
        self.index = self.next;
        self.next += 1;
        let mut block = BytesMut::with_capacity(data.len() + 40);
        block.extend_from_slice(br#"{"type":"redacted_thinking","data":"#);
        events::push_str(&mut block, data);
        block.extend_from_slice(b"}");
        events::block_start(out, self.index, &block);
        events::block_stop(out, self.index);
    }

    fn tool_call_start(&mut self, out: &mut BytesMut, index: u32, id: &str, name: &str) {
        self.start(out);
        self.tool(index, Some(id), Some(name), None, out);
    }

    fn tool_call_args(&mut self, out: &mut BytesMut, index: u32, fragment: &str) {
        self.start(out);
        self.tool(index, None, None, Some(fragment), out);
    }

    fn tool_call_whole(
        &mut self,
        out: &mut BytesMut,
        index: u32,
        id: &str,
        name: &str,
        args: &str,
    ) {
        self.start(out);
        self.tool(index, Some(id), Some(name), Some(args), out);
    }

    fn end(&mut self, out: &mut BytesMut, reason: FinishReason, usage: Option<Usage>) {
        AnthropicEvents::end(self, out, Some(reason.as_str()), usage.unwrap_or_default());
    }
}

impl ChunkMachine {
    /// A machine whose message id derives from the gateway request id.
    pub fn new(ctx: &TranslateCtx<'_>, model: &str) -> Self {
        Self {
            events: AnthropicEvents::new(ctx, model),
            finish: None,
            usage: Usage::default(),
        }
    }
}

impl SseMachine for ChunkMachine {
    fn event(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.events.end(out, self.finish.as_deref(), self.usage);
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk: Chunk<'_> = serde_json::from_str(data).map_err(malformed_stream)?;
        if let Some(m) = chunk.model.as_deref() {
            self.events.set_model(m);
        }
        self.events.start(out);
        if let Some(u) = chunk.usage {
            let d = u.prompt_tokens_details.as_ref();
            self.usage = Usage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
                cached_tokens: d.and_then(|d| d.cached_tokens).unwrap_or(0),
                cache_write_tokens: d.and_then(|d| d.cache_write_tokens).unwrap_or(0),
                reasoning_tokens: 0,
            };
        }
        for choice in chunk.choices {
            if let Some(d) = choice.delta {
                let e = &mut self.events;
                if let Some(t) = d.reasoning_content.or(d.reasoning) {
                    e.text(Open::Thinking, &t, out);
                }
                for detail in d.reasoning_details {
                    match (detail.kind.as_deref(), detail.signature, detail.data) {
                        (Some("reasoning.encrypted"), _, Some(data)) => {
                            e.reasoning_redacted(out, &data)
                        }
                        (_, Some(sig), _) if !sig.is_empty() => e.reasoning_signature(out, &sig),
                        _ => {}
                    }
                }
                if let Some(t) = d.content {
                    e.text(Open::Text, &t, out);
                }
                if let Some(t) = d.refusal {
                    e.text(Open::Text, &t, out);
                }
                for t in d.tool_calls {
                    let (name, args) = match t.function {
                        Some(f) => (f.name, f.arguments),
                        None => (None, None),
                    };
                    let k = t.index.unwrap_or(0);
                    e.tool(k, t.id.as_deref(), name.as_deref(), args.as_deref(), out);
                }
            }
            if let Some(f) = choice.finish_reason {
                self.finish = Some(f.into_owned());
            }
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.events.done
    }

    fn provider(&self) -> &str {
        &self.events.provider
    }

    fn has_output(&self) -> bool {
        self.events.started
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}

#[cfg(test)]
mod tests;
