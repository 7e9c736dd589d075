//! Ollama NDJSON chat stream → OpenAI chunks (docs/wire/ollama.md §4, docs/wire/streaming.md §6).
//!
//! Each line is a partial response object: `message.thinking` → `reasoning_content`,
//! `message.content` → content, `message.tool_calls` (whole calls, object arguments) → one
//! tool call each (id, name, then the full arguments string); the `done: true` line → finish
//! chunk (`tool_calls` if any call was seen, `length` for `done_reason: length`), usage chunk
//! (if asked) and `[DONE]`. A `{"error": …}` line ends the stream with that error.

use super::{DoneWire, MessageWire};
use crate::error::GatewayError;
use crate::providers::ndjson_driver::{NdjsonMachine, NdjsonTranslator};
use crate::providers::{TranslateCtx, malformed_stream, upstream_error};
use crate::translate::Usage;
use crate::translate::response::ChunkWriter;
use bytes::BytesMut;
use serde::Deserialize;
use std::borrow::Cow;

/// The Ollama stream translator: NDJSON framing driving [`OllamaMachine`].
pub type OllamaStream = NdjsonTranslator<OllamaMachine>;

/// The line state machine.
#[derive(Debug)]
pub struct OllamaMachine {
    provider: String,
    request_id: String,
    writer: ChunkWriter,
    include_usage: bool,
    model_seen: bool,
    next_tool: u32,
    usage: Usage,
    started: bool,
    has_output: bool,
    done: bool,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<MessageWire<'a>>,
    #[serde(default)]
    done: bool,
    #[serde(borrow, default)]
    done_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
}

impl OllamaMachine {
    /// A translator whose chunks carry the gateway's id; `model` is reported until a line
    /// names the served model.
    pub fn stream(ctx: &TranslateCtx<'_>, model: &str) -> OllamaStream {
        NdjsonTranslator::new(OllamaMachine {
            provider: ctx.provider.to_string(),
            request_id: ctx.request_id.to_string(),
            writer: ChunkWriter::for_stream(ctx, &format!("chatcmpl-{}", ctx.request_id), model),
            include_usage: ctx.include_usage,
            model_seen: false,
            next_tool: 0,
            usage: Usage::default(),
            started: false,
            has_output: false,
            done: false,
        })
    }
}

impl NdjsonMachine for OllamaMachine {
    fn line(&mut self, line: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        let l: Line<'_> = serde_json::from_str(line).map_err(malformed_stream)?;
        if let Some(e) = l.error {
            return Err(upstream_error(&self.provider, 502, Some(&e), None)
                .with_code("upstream_stream_error"));
        }
        if let Some(model) = l.model.filter(|m| !m.is_empty() && !self.model_seen) {
            self.writer.set_model(&model);
            self.model_seen = true;
        }
        if let Some(m) = l.message {
            if let Some(t) = m.thinking.filter(|t| !t.is_empty()) {
                self.writer.role_once(out, &mut self.started);
                self.writer.reasoning(out, &t);
                self.has_output = true;
            }
            if let Some(t) = m.content.filter(|t| !t.is_empty()) {
                self.writer.role_once(out, &mut self.started);
                self.writer.content(out, &t);
                self.has_output = true;
            }
            for call in m.tool_calls.iter().flatten() {
                self.writer.role_once(out, &mut self.started);
                let k = self.next_tool;
                self.next_tool += 1;
                let id = call.openai_id(&self.request_id, k);
                self.writer
                    .tool_call_start(out, k, &id, &call.function.name);
                self.writer.tool_call_args(out, k, &call.arguments());
                self.has_output = true;
            }
        }
        if l.done {
            let end = DoneWire {
                done_reason: l.done_reason,
                prompt_eval_count: l.prompt_eval_count,
                eval_count: l.eval_count,
            };
            self.usage = end.usage();
            self.writer.role_once(out, &mut self.started);
            let reason = end.finish_reason(self.next_tool > 0);
            self.writer
                .end(out, reason, self.include_usage.then_some(self.usage));
            self.has_output = true;
            self.done = true;
        }
        Ok(())
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

    /// Counts arrive only on the `done` line.
    fn usage(&self) -> Usage {
        self.usage
    }
}

#[cfg(test)]
mod tests;
