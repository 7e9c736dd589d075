//! `ollama` kind: Ollama's native chat API (`POST {base}/api/chat`, NDJSON streams) and
//! embeddings (`POST {base}/api/embed`).
//!
//! [`request`] translates OpenAI chat requests, [`response`] translates the final message
//! object back, [`stream`] runs the NDJSON line state machine. Wire format:
//! docs/wire/ollama.md; mapping rules: docs/wire/mapping.md, docs/wire/edge-cases.md.
//! (Ollama's OpenAI-compatible `/v1` is served by the `openai` kind.)

mod embed;
mod request;
mod response;
mod stream;

pub use embed::{build_embeddings, decode_embeddings};
pub use request::build_request;
pub use response::decode_response;
pub use stream::{OllamaMachine, OllamaStream};

use crate::providers::settings::ProviderSettings;
use crate::translate::{FinishReason, Usage};
use pingora::http::RequestHeader;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `Authorization: Bearer <key>` only when a key is configured (a local Ollama needs none;
/// one behind an authenticating proxy does).
pub fn add_headers(provider: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
    super::openai::add_headers(provider, h)
}

/// The message of an Ollama error body (`{"error":"…"}`).
pub fn error_message(body: &[u8]) -> Option<String> {
    super::openai::error_message(body)
}

/// `message` of a response object or stream line.
#[derive(Deserialize, Default)]
pub(crate) struct MessageWire<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallWire<'a>>>,
}

#[derive(Deserialize)]
pub(crate) struct ToolCallWire<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function: FunctionWire<'a>,
}

#[derive(Deserialize)]
pub(crate) struct FunctionWire<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    /// A JSON object (Ollama's native form); a JSON string is tolerated.
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

impl ToolCallWire<'_> {
    /// The OpenAI id: Ollama's own when it sent one, else `call_<request id>_<n>`.
    pub(crate) fn openai_id(&self, request_id: &str, n: u32) -> String {
        match self.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => id.to_string(),
            None => format!("call_{request_id}_{n}"),
        }
    }

    /// Arguments as OpenAI's JSON string.
    pub(crate) fn arguments(&self) -> String {
        match self.function.arguments {
            None => "{}".to_string(),
            Some(raw) => match serde_json::from_str::<Cow<'_, str>>(raw.get()) {
                Ok(s) => s.into_owned(),
                Err(_) if raw.get().trim() == "null" => "{}".to_string(),
                Err(_) => raw.get().to_string(),
            },
        }
    }
}

/// The fields of the final (`done: true`) object.
pub(crate) struct DoneWire<'a> {
    pub(crate) done_reason: Option<Cow<'a, str>>,
    pub(crate) prompt_eval_count: Option<u64>,
    pub(crate) eval_count: Option<u64>,
}

impl DoneWire<'_> {
    fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_eval_count.unwrap_or(0),
            completion_tokens: self.eval_count.unwrap_or(0),
            ..Usage::default()
        }
    }

    /// `done_reason` stays `stop` for tool calls, so their presence decides.
    fn finish_reason(&self, has_tool_calls: bool) -> FinishReason {
        match self.done_reason.as_deref() {
            Some("length") => FinishReason::Length,
            _ if has_tool_calls => FinishReason::ToolCalls,
            _ => FinishReason::Stop,
        }
    }
}

/// The Ollama kind's translators.
pub struct Ollama;

impl crate::providers::provider::Provider for Ollama {
    fn build_request(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::request::ChatRequest<'_>,
        _raw: &[u8],
        model: &str,
        _facts: crate::providers::ModelFacts<'_>,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        build_request(p, req, model)
    }

    fn add_headers(&self, p: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
        add_headers(p, h)
    }

    fn decode_response(
        &self,
        body: &[u8],
        ctx: &crate::providers::TranslateCtx<'_>,
        model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        decode_response(body, ctx, model)
    }

    fn stream(
        &self,
        ctx: &crate::providers::TranslateCtx<'_>,
        model: &str,
    ) -> crate::providers::StreamTranslator {
        crate::providers::StreamTranslator::Ollama(OllamaMachine::stream(ctx, model))
    }

    fn error_message(&self, body: &[u8], _head: &pingora::http::ResponseHeader) -> Option<String> {
        error_message(body)
    }

    fn build_embeddings(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        _raw: &[u8],
        model: &str,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        build_embeddings(p, req, model)
    }

    fn decode_embeddings(
        &self,
        body: &[u8],
        req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        decode_embeddings(body, req, model)
    }
}

#[cfg(test)]
mod tests;
