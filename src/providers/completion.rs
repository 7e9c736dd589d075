//! The OpenAI `chat.completion` every translated provider's non-streaming answer becomes.

use super::{DecodedResponse, TranslateCtx};
use crate::error::GatewayError;
use crate::translate::response::{AssistantMessage, ChatCompletion, OutToolCall};
use crate::translate::{FinishReason, Usage};
use bytes::Bytes;

/// What a provider answered, already in OpenAI terms.
pub struct Answer<'a> {
    /// The model to report.
    pub model: &'a str,
    pub text: String,
    /// Reasoning (`reasoning_content`); empty means none.
    pub reasoning: String,
    pub tool_calls: Vec<OutToolCall<'a>>,
    pub finish: FinishReason,
    pub usage: Usage,
}

impl Answer<'_> {
    /// The `chat.completion` JSON (id `chatcmpl-{request_id}`): `content` is null only when
    /// there is no text but there are tool calls; `reasoning_content` only when non-empty.
    pub fn decoded(self, ctx: &TranslateCtx<'_>) -> Result<DecodedResponse, GatewayError> {
        let id = format!("chatcmpl-{}", ctx.request_id);
        let Answer {
            model,
            text,
            reasoning,
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
                tool_calls,
            },
            finish,
            usage,
        );
        let bytes = serde_json::to_vec(&completion).map_err(|_| GatewayError::internal())?;
        Ok(DecodedResponse {
            body: Bytes::from(bytes),
            usage,
        })
    }
}
