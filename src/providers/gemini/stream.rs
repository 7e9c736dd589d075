//! Gemini `streamGenerateContent?alt=sse` → OpenAI chunks (docs/wire/gemini.md §4,
//! docs/wire/streaming.md §4).
//!
//! Every event is a whole `GenerateContentResponse` carrying only new parts: text → content
//! deltas, `thought: true` text → `reasoning_content`, each `functionCall` → one tool-call
//! chunk with index, id, name and the complete arguments. `usageMetadata` is running (the
//! latest wins) and `finishReason` arrives on the last candidate chunk. Gemini sends no
//! terminator: the stream is complete when the body ends after a `finishReason`, and only then
//! are the finish chunk, the usage chunk (if asked) and `[DONE]` written; a body that ends
//! without one is a truncation. An `error` event ends the stream with that error; a first event
//! that blocks the prompt (`promptFeedback.blockReason`) is a 400 `content_filter`.

use super::response::ResponseWire;
use super::{blocked, finish_reason, ids, parse_error};
use crate::error::GatewayError;
use crate::providers::sse_driver::{SseMachine, SseTranslator};
use crate::providers::{TranslateCtx, malformed_stream, upstream_error};
use crate::translate::Usage;
use crate::translate::response::ChunkWriter;
use bytes::BytesMut;

/// The Gemini stream translator: SSE framing driving [`GeminiMachine`].
pub type GeminiStream = SseTranslator<GeminiMachine>;

/// The event state machine.
#[derive(Debug)]
pub struct GeminiMachine {
    provider: String,
    request_id: String,
    writer: ChunkWriter,
    include_usage: bool,
    next_tool: usize,
    finish_reason: Option<String>,
    usage: Usage,
    started: bool,
    has_output: bool,
    done: bool,
}

impl GeminiMachine {
    /// A translator whose chunks carry the gateway's id; `model` is used until an event names
    /// the served `modelVersion`.
    pub fn stream(ctx: &TranslateCtx<'_>, model: &str) -> GeminiStream {
        SseTranslator::new(GeminiMachine {
            provider: ctx.provider.to_string(),
            request_id: ctx.request_id.to_string(),
            writer: ChunkWriter::for_stream(ctx, &format!("chatcmpl-{}", ctx.request_id), model),
            include_usage: ctx.include_usage,
            next_tool: 0,
            finish_reason: None,
            usage: Usage::default(),
            started: false,
            has_output: false,
            done: false,
        })
    }

    fn translate(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let resp: ResponseWire<'_> = match serde_json::from_str(data) {
            Ok(r) => r,
            // An error wrapped in a one-element array.
            Err(e) => {
                return Err(match parse_error(data.as_bytes()) {
                    Some(err) => self.error(&err),
                    None => malformed_stream(e),
                });
            }
        };
        if let Some(err) = &resp.error {
            return Err(self.error(err));
        }
        if let Some(feedback) = resp.block() {
            return Err(blocked(&self.provider, feedback));
        }
        if let Some(model) = resp.model_version.as_deref().filter(|_| !self.started) {
            self.writer.set_model(model);
        }
        if let Some(u) = resp.usage_metadata {
            self.usage = u.to_usage();
        }
        let Some(candidate) = resp.first() else {
            return Ok(());
        };
        for part in candidate.content.iter().flat_map(|c| c.parts.iter()) {
            if let Some(call) = &part.function_call {
                self.writer.role_once(out, &mut self.started);
                let k = self.next_tool;
                self.next_tool += 1;
                let id = ids::call_id(&self.request_id, k, part.thought_signature.as_deref());
                let index = u32::try_from(k).unwrap_or(u32::MAX);
                self.writer
                    .tool_call_whole(out, index, &id, &call.name, &call.arguments());
                self.has_output = true;
            } else if let Some(t) = part.text.as_deref().filter(|t| !t.is_empty()) {
                self.writer.role_once(out, &mut self.started);
                if part.thought == Some(true) {
                    self.writer.reasoning(out, t);
                } else {
                    self.writer.content(out, t);
                }
                self.has_output = true;
            }
        }
        if let Some(reason) = &candidate.finish_reason {
            self.finish_reason = Some(reason.to_string());
            self.writer.role_once(out, &mut self.started);
        }
        Ok(())
    }

    /// An `error` event, mapped like the equivalent HTTP error.
    fn error(&self, e: &super::ErrorBody<'_>) -> GatewayError {
        let detail = e.describe().unwrap_or_else(|| "error event".to_string());
        upstream_error(&self.provider, e.code.unwrap_or(500), Some(&detail), None)
    }
}

impl SseMachine for GeminiMachine {
    fn event(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        self.translate(data, out)
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// Gemini ends a stream by closing the body: complete if a `finishReason` was seen.
    fn complete_at_eof(&mut self, out: &mut BytesMut) -> bool {
        let Some(reason) = self.finish_reason.as_deref() else {
            return false;
        };
        let reason = finish_reason(Some(reason), self.next_tool > 0);
        self.writer.role_once(out, &mut self.started);
        self.writer
            .end(out, reason, self.include_usage.then_some(self.usage));
        self.has_output = true;
        self.done = true;
        true
    }

    fn provider(&self) -> &str {
        &self.provider
    }

    fn has_output(&self) -> bool {
        self.has_output
    }

    /// The latest (running) `usageMetadata`.
    fn usage(&self) -> Usage {
        self.usage
    }
}

#[cfg(test)]
mod tests;
