//! The typed stream events between providers and client formats.
//!
//! A provider's stream translator decodes its native events and calls a [`ChunkSink`] once per
//! event; the client format the request came in decides which sink renders them (OpenAI chat
//! chunks by default, Anthropic Messages events for `/v1/messages`, …). Providers therefore
//! know nothing of client formats, and no stream is rendered in one format only to be parsed
//! again into another.

use super::TranslateCtx;
use super::{FinishReason, Usage};
use bytes::BytesMut;

/// Renders the events of one streamed answer into a client's wire format.
pub trait ChunkSink: Send + std::fmt::Debug {
    /// The model the provider reports (before the first output event).
    fn set_model(&mut self, model: &str);
    /// The answer starts (the assistant turn opens).
    fn role(&mut self, out: &mut BytesMut);
    /// A text delta (may be empty).
    fn content(&mut self, out: &mut BytesMut, text: &str);
    /// A reasoning ("thinking") delta.
    fn reasoning(&mut self, out: &mut BytesMut, text: &str);
    /// Tool call `index` starts, with its id and function name.
    fn tool_call_start(&mut self, out: &mut BytesMut, index: u32, id: &str, name: &str);
    /// A fragment of tool call `index`'s JSON arguments.
    fn tool_call_args(&mut self, out: &mut BytesMut, index: u32, fragment: &str);
    /// A whole tool call at once (providers that deliver calls whole).
    fn tool_call_whole(
        &mut self,
        out: &mut BytesMut,
        index: u32,
        id: &str,
        name: &str,
        args: &str,
    ) {
        self.tool_call_start(out, index, id, name);
        if !args.is_empty() {
            self.tool_call_args(out, index, args);
        }
    }
    /// The answer completed with `reason`; `usage` when the client is to receive it.
    fn end(&mut self, out: &mut BytesMut, reason: FinishReason, usage: Option<Usage>);
}

/// Builds the sink of a client format for one stream: `id` and `model` as the provider's
/// translator names them.
pub type SinkFactory = fn(ctx: &TranslateCtx<'_>, model: &str) -> Box<dyn ChunkSink>;
