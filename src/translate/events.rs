//! The typed answers and stream events between providers and client formats.
//!
//! A provider's stream translator decodes its native events and calls a [`ChunkSink`] once per
//! event; the client format the request came in decides which sink renders them (OpenAI chat
//! chunks by default, Anthropic Messages events for `/v1/messages`, …). Providers therefore
//! know nothing of client formats, and no stream is rendered in one format only to be parsed
//! again into another. Whole answers work the same way: a provider decodes its JSON into an
//! [`Answer`], which the client format's [`AnswerRenderer`] renders.

use super::reasoning::Thought;
use super::response::{AssistantMessage, ChatCompletion, OutToolCall, ReasoningDetail};
use super::{FinishReason, TranslateCtx, Usage};
use crate::error::GatewayError;
use bytes::{Bytes, BytesMut};

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
    /// The provider's signature over the reasoning just streamed (it closes that thought).
    fn reasoning_signature(&mut self, out: &mut BytesMut, signature: &str);
    /// A whole redacted (encrypted) thought.
    fn reasoning_redacted(&mut self, out: &mut BytesMut, data: &str);
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

/// Renders a whole (non-streaming) answer as the client format's JSON body.
pub type AnswerRenderer =
    fn(answer: Answer<'_>, ctx: &TranslateCtx<'_>) -> Result<Bytes, GatewayError>;

/// How a client format other than OpenAI chat takes a provider's answer: its stream sink and
/// its JSON renderer. `None` in [`TranslateCtx::format`] means OpenAI chat.
#[derive(Debug)]
pub struct ClientFormat {
    pub sink: SinkFactory,
    pub answer: AnswerRenderer,
}

/// A provider's whole answer in the gateway's terms, before any client format renders it.
#[derive(Debug)]
pub struct Answer<'a> {
    /// The model to report.
    pub model: &'a str,
    pub text: String,
    /// Reasoning (`reasoning_content`); empty means none.
    pub reasoning: String,
    /// The reasoning as the provider's signed blocks, when it signs them (Anthropic, Bedrock
    /// Claude): what a client must send back for the provider to verify.
    pub thoughts: Vec<Thought<'static>>,
    pub tool_calls: Vec<OutToolCall<'a>>,
    pub finish: FinishReason,
    pub usage: Usage,
}

impl Answer<'_> {
    /// The body for the request's client format: OpenAI `chat.completion` JSON (id
    /// `chatcmpl-{request_id}`; `content` null only when there is no text but there are tool
    /// calls; `reasoning_content` only when non-empty), or the format's own renderer.
    pub fn render(self, ctx: &TranslateCtx<'_>) -> Result<Bytes, GatewayError> {
        if let Some(f) = ctx.format {
            return (f.answer)(self, ctx);
        }
        let id = format!("chatcmpl-{}", ctx.request_id);
        let Answer {
            model,
            text,
            reasoning,
            thoughts,
            tool_calls,
            finish,
            usage,
        } = self;
        let completion = ChatCompletion::new(
            &id,
            ctx.created,
            model,
            AssistantMessage {
                role: "assistant",
                content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
                refusal: None,
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                reasoning_details: thoughts
                    .iter()
                    .enumerate()
                    .map(ReasoningDetail::of)
                    .collect(),
                tool_calls,
            },
            finish,
            usage,
        );
        serde_json::to_vec(&completion)
            .map(Bytes::from)
            .map_err(|_| GatewayError::internal())
    }
}
