//! `cohere` kind: Cohere's v2 chat API (`POST {base}/v2/chat`, typed SSE events) and
//! embeddings (`POST {base}/v2/embed`).
//!
//! [`request`] translates OpenAI chat requests, [`response`] translates the chat response back,
//! [`stream`] runs the `message-start … message-end` event state machine. Wire format:
//! docs/wire/cohere.md; mapping rules: docs/wire/mapping.md. `tool_plan` (the model's plan before
//! calling tools) is exposed as `reasoning_content` and sent back as `tool_plan` with the calls.

mod embed;
mod request;
mod response;
mod stream;

pub use embed::{build_embeddings, decode_embeddings};
pub use request::build_request;
pub use response::decode_response;
pub use stream::{CohereMachine, CohereStream};

use crate::providers::settings::ProviderSettings;
use crate::translate::{FinishReason, Usage};
use pingora::http::RequestHeader;
use serde::Deserialize;
use std::borrow::Cow;

/// `Authorization: Bearer <key>`.
pub fn add_headers(provider: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
    super::openai::add_headers(provider, h)
}

/// Cohere `finish_reason` → OpenAI (`ERROR` is handled by the callers as an error).
pub(crate) fn finish_reason(reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match reason {
        Some("MAX_TOKENS") => FinishReason::Length,
        Some("TOOL_CALL") => FinishReason::ToolCalls,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Cohere `usage`: `tokens` are the model's counts, `billed_units` the billed ones (used when
/// `tokens` is absent).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct UsageWire {
    #[serde(default)]
    tokens: Option<Counts>,
    #[serde(default)]
    billed_units: Option<Counts>,
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct Counts {
    #[serde(default)]
    input_tokens: Option<f64>,
    #[serde(default)]
    output_tokens: Option<f64>,
}

impl UsageWire {
    pub(crate) fn to_usage(self) -> Usage {
        let pick = |f: fn(&Counts) -> Option<f64>| {
            self.tokens
                .as_ref()
                .and_then(f)
                .or_else(|| self.billed_units.as_ref().and_then(f))
                .map_or(0, |v| v.max(0.0) as u64)
        };
        let prompt_tokens = pick(|c| c.input_tokens);
        Usage {
            prompt_tokens,
            completion_tokens: pick(|c| c.output_tokens),
            cached_tokens: self.cached_tokens.unwrap_or(0).min(prompt_tokens),
            ..Usage::default()
        }
    }
}

#[derive(Deserialize)]
struct ErrorWire<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

/// The message of a Cohere error body (`{"message": "…"}`, optionally with an `id`).
pub fn error_message(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<ErrorWire<'_>>(body) {
        Ok(ErrorWire { message: Some(m) }) => Some(m.into_owned()),
        _ => super::openai::error_message(body),
    }
}

/// The Cohere kind's translators.
pub struct Cohere;

impl crate::providers::provider::Provider for Cohere {
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
        crate::providers::StreamTranslator::Cohere(CohereMachine::stream(ctx, model))
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
