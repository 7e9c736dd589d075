//! Bedrock ConverseStream → OpenAI chunks (docs/wire/bedrock.md §4–§5,
//! docs/wire/streaming.md §5).
//!
//! The body is a binary `application/vnd.amazon.eventstream`: frames are cut from a byte
//! buffer independently of how the body arrives (prelude CRC checked as soon as 12 bytes are
//! in, message CRC and headers by `aws-smithy-eventstream`). Events by `:event-type`:
//! `messageStart` → role chunk; `contentBlockStart` with a `toolUse` → the tool call's first
//! fragment (index, id, name); `contentBlockDelta` → content, argument fragments or
//! `reasoning_content`; `messageStop` → the finish reason, held until `metadata` (usage), which
//! ends the stream with finish chunk, usage chunk (if asked) and `[DONE]`. A body ending after
//! `messageStop` without `metadata` completes without usage. `:message-type: exception` frames
//! end the stream with the mapped error. Unknown events and members are ignored.

use super::{UsageWire, exception_status, finish_reason};
use crate::error::GatewayError;
use crate::providers::structured::{ANSWER_TOOL, answer_stop};
use crate::providers::{StreamState, TranslateCtx, malformed_stream, truncated_stream};
use crate::translate::Usage;
use crate::translate::response::ChunkWriter;
use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use bytes::BytesMut;
use serde::Deserialize;
use std::borrow::Cow;

/// Largest frame accepted (botocore: 16 MiB payload plus 128 KiB of headers).
const MAX_FRAME: usize = 16 * 1024 * 1024 + 128 * 1024 + 16;
const PRELUDE: usize = 12;

/// The ConverseStream translator: event-stream framing plus the event state machine.
#[derive(Debug)]
pub struct BedrockStream {
    provider: String,
    buf: BytesMut,
    writer: ChunkWriter,
    include_usage: bool,
    /// OpenAI tool index per Bedrock `contentBlockIndex` (None: not a tool block).
    tool_index: Vec<Option<u32>>,
    /// Calls of the answer tool are the answer's content (`TranslateCtx::tool_answer`).
    tool_answer: bool,
    /// The `contentBlockIndex` of the answer tool's call, once it started.
    answer_block: Option<usize>,
    next_tool: u32,
    stop_reason: Option<String>,
    usage: Usage,
    started: bool,
    stopped: bool,
    has_output: bool,
    done: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(default)]
    content_block_index: Option<usize>,
    #[serde(borrow, default)]
    start: Option<Start<'a>>,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<UsageWire>,
    #[serde(borrow, default, alias = "Message")]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start<'a> {
    #[serde(borrow, default)]
    tool_use: Option<ToolStart<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolStart<'a> {
    #[serde(borrow, default)]
    tool_use_id: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delta<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_use: Option<ToolDelta<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<ReasoningDelta<'a>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(borrow, default)]
    input: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningDelta<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    redacted_content: Option<Cow<'a, str>>,
}

impl BedrockStream {
    /// A translator whose chunks carry the gateway's id and `model` (Bedrock names none).
    pub fn new(ctx: &TranslateCtx<'_>, model: &str) -> Self {
        Self {
            provider: ctx.provider.to_string(),
            buf: BytesMut::new(),
            writer: ChunkWriter::for_stream(ctx, &format!("chatcmpl-{}", ctx.request_id), model),
            include_usage: ctx.include_usage,
            tool_index: Vec::new(),
            tool_answer: ctx.tool_answer,
            answer_block: None,
            next_tool: 0,
            stop_reason: None,
            usage: Usage::default(),
            started: false,
            stopped: false,
            has_output: false,
            done: false,
        }
    }

    /// A reasoning delta: text, the signature that closes it, or a redacted block.
    fn reasoning(&mut self, r: ReasoningDelta<'_>, out: &mut BytesMut) {
        if let Some(t) = r.text.filter(|t| !t.is_empty()) {
            self.writer.role_once(out, &mut self.started);
            self.writer.reasoning(out, &t);
            self.has_output = true;
        }
        if let Some(sig) = r.signature.filter(|s| !s.is_empty()) {
            self.writer.role_once(out, &mut self.started);
            self.writer.reasoning_signature(out, &sig);
        }
        if let Some(data) = r.redacted_content.filter(|d| !d.is_empty()) {
            self.writer.role_once(out, &mut self.started);
            self.writer.reasoning_redacted(out, &data);
            self.has_output = true;
        }
    }

    /// Feeds upstream bytes, appending complete OpenAI SSE events to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<StreamState, GatewayError> {
        if self.done {
            return Ok(StreamState::Complete);
        }
        self.buf.extend_from_slice(chunk);
        while let Some(msg) = self.next_frame()? {
            self.message(&msg, out)?;
            if self.done {
                return Ok(StreamState::Complete);
            }
        }
        Ok(StreamState::Open)
    }

    /// End of the upstream body: complete after `messageStop`, else a truncation.
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        if self.done {
            return Ok(());
        }
        if self.stopped && self.buf.is_empty() {
            self.complete(out);
            return Ok(());
        }
        Err(truncated_stream(&self.provider))
    }

    /// Real output (content, tool call, reasoning, finish) went out.
    pub fn has_output(&self) -> bool {
        self.has_output
    }

    /// Usage so far (from `metadata`).
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Cuts the next complete frame off the buffer.
    fn next_frame(&mut self) -> Result<Option<Message>, GatewayError> {
        let Some(prelude) = self.buf.get(..PRELUDE) else {
            return Ok(None);
        };
        let word = |i: usize| {
            u32::from_be_bytes([prelude[i], prelude[i + 1], prelude[i + 2], prelude[i + 3]])
        };
        let (total, crc) = (word(0) as usize, word(8));
        if crc32fast::hash(&prelude[..8]) != crc {
            return Err(malformed_stream("event-stream prelude CRC mismatch"));
        }
        if !(PRELUDE + 4..=MAX_FRAME).contains(&total) {
            return Err(malformed_stream(format!(
                "event-stream frame length {total} out of range"
            )));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        read_message_from(frame)
            .map(Some)
            .map_err(|e| malformed_stream(format!("invalid event-stream frame: {e}")))
    }

    fn message(&mut self, msg: &Message, out: &mut BytesMut) -> Result<(), GatewayError> {
        let header = |name: &str| {
            msg.headers()
                .iter()
                .find(|h| h.name().as_str() == name)
                .and_then(|h| h.value().as_string().ok())
                .map(|s| s.as_str().to_owned())
        };
        match header(":message-type").as_deref() {
            Some("event") | None => {
                let Some(kind) = header(":event-type") else {
                    return Ok(());
                };
                let ev: Event<'_> =
                    serde_json::from_slice(msg.payload()).map_err(malformed_stream)?;
                self.event(&kind, ev, out);
                Ok(())
            }
            Some("exception") => {
                let kind = header(":exception-type").unwrap_or_else(|| "exception".into());
                let ev: Option<Event<'_>> = serde_json::from_slice(msg.payload()).ok();
                let message = ev.and_then(|e| e.message).map(Cow::into_owned);
                Err(self.exception(&kind, message))
            }
            Some("error") => {
                let kind = header(":error-code").unwrap_or_else(|| "error".into());
                Err(self.exception(&kind, header(":error-message")))
            }
            Some(_) => Ok(()),
        }
    }

    fn event(&mut self, kind: &str, ev: Event<'_>, out: &mut BytesMut) {
        match kind {
            "messageStart" => self.writer.role_once(out, &mut self.started),
            "contentBlockStart" => {
                let (Some(index), Some(tool)) =
                    (ev.content_block_index, ev.start.and_then(|s| s.tool_use))
                else {
                    return;
                };
                if self.tool_answer && tool.name == ANSWER_TOOL {
                    // Its input fragments become content.
                    self.answer_block = Some(index);
                    self.writer.role_once(out, &mut self.started);
                    self.has_output = true;
                    return;
                }
                let k = self.next_tool;
                self.next_tool += 1;
                if self.tool_index.len() <= index {
                    self.tool_index.resize(index + 1, None);
                }
                self.tool_index[index] = Some(k);
                self.writer.role_once(out, &mut self.started);
                self.writer
                    .tool_call_start(out, k, &tool.tool_use_id, &tool.name);
                self.has_output = true;
            }
            "contentBlockDelta" => {
                let Some(d) = ev.delta else { return };
                if let Some(t) = d.text.filter(|t| !t.is_empty()) {
                    self.writer.role_once(out, &mut self.started);
                    self.writer.content(out, &t);
                    self.has_output = true;
                }
                if let Some(p) = d.tool_use.and_then(|t| t.input).filter(|p| !p.is_empty()) {
                    let index = ev.content_block_index;
                    if index.is_some() && index == self.answer_block {
                        self.writer.content(out, &p);
                    } else if let Some(k) =
                        index.and_then(|i| self.tool_index.get(i).copied().flatten())
                    {
                        self.writer.tool_call_args(out, k, &p);
                    }
                }
                if let Some(r) = d.reasoning_content {
                    self.reasoning(r, out);
                }
            }
            "messageStop" => {
                self.stop_reason = ev.stop_reason.map(Cow::into_owned);
                self.stopped = true;
            }
            "metadata" => {
                if let Some(u) = ev.usage {
                    self.usage = u.to_usage();
                }
                if self.stopped {
                    self.complete(out);
                }
            }
            _ => {}
        }
    }

    /// Finish chunk, usage chunk (if asked) and `[DONE]`.
    fn complete(&mut self, out: &mut BytesMut) {
        self.writer.role_once(out, &mut self.started);
        let answer_only = self.answer_block.is_some() && self.next_tool == 0;
        let stop = answer_stop(self.stop_reason.as_deref(), answer_only);
        let reason = finish_reason(stop, self.next_tool > 0);
        self.writer
            .end(out, reason, self.include_usage.then_some(self.usage));
        self.has_output = true;
        self.done = true;
    }

    /// An exception frame, mapped like the equivalent HTTP error (a model failure is a 502).
    fn exception(&self, kind: &str, message: Option<String>) -> GatewayError {
        let status = match exception_status(kind) {
            424 => 502,
            s => s,
        };
        let detail = match message {
            Some(m) => format!("{m} ({kind})"),
            None => kind.to_string(),
        };
        crate::providers::upstream_error(&self.provider, status, Some(&detail), None)
    }
}

#[cfg(test)]
mod tests;
