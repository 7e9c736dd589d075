//! `anthropic` kind: the Anthropic Messages API (`POST {base}/v1/messages`).
//!
//! [`request`] translates OpenAI chat requests into Messages requests, [`response`] translates
//! message objects back, [`stream`] runs the `message_start … message_stop` event state machine.
//! Wire format: docs/wire/anthropic.md; mapping rules: docs/wire/mapping.md,
//! docs/wire/edge-cases.md.

pub(crate) mod request;
mod response;
mod stream;
pub(crate) mod thinking;

pub use request::build_request;
pub use response::decode_response;
pub use stream::{AnthropicMachine, AnthropicStream};

use crate::providers::settings::ProviderSettings;
use crate::translate::{FinishReason, Usage};
use pingora::http::RequestHeader;
use serde::Deserialize;
use std::borrow::Cow;

/// `x-api-key` and `anthropic-version`.
pub fn add_headers(provider: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
    if !provider.api_key.is_empty() {
        h.insert_header("x-api-key", provider.api_key.expose())?;
    }
    h.insert_header("anthropic-version", provider.anthropic_version.as_str())?;
    Ok(())
}

/// Anthropic `stop_reason` → OpenAI `finish_reason`.
pub(crate) fn finish_reason(stop_reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Anthropic `usage` (absent fields are zero).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct UsageWire {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl UsageWire {
    /// Merges a (possibly partial, cumulative) usage report into `u`.
    /// Anthropic's `input_tokens` excludes cache reads and writes; OpenAI's prompt count includes them.
    pub(crate) fn merge_into(&self, u: &mut Usage, input: &mut u64) {
        if let Some(v) = self.input_tokens {
            *input = v;
        }
        if let Some(v) = self.cache_creation_input_tokens {
            u.cache_write_tokens = v;
        }
        if let Some(v) = self.cache_read_input_tokens {
            u.cached_tokens = v;
        }
        if let Some(v) = self.output_tokens {
            u.completion_tokens = v;
        }
        u.prompt_tokens = input
            .saturating_add(u.cache_write_tokens)
            .saturating_add(u.cached_tokens);
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope<'a> {
    #[serde(borrow)]
    error: ErrorBody<'a>,
}

#[derive(Deserialize)]
pub(crate) struct ErrorBody<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
}

impl ErrorBody<'_> {
    fn describe(&self) -> Option<String> {
        match (&self.kind, &self.message) {
            (Some(k), Some(m)) => Some(format!("{m} ({k})")),
            (None, Some(m)) => Some(m.to_string()),
            (Some(k), None) => Some(k.to_string()),
            (None, None) => None,
        }
    }
}

/// The message of an Anthropic error body, with its type.
pub fn error_message(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<ErrorEnvelope<'_>>(body) {
        Ok(e) => e.error.describe(),
        Err(_) => super::openai::excerpt(body),
    }
}

/// The Anthropic Messages kind's translators.
pub struct Anthropic;

impl crate::providers::provider::Provider for Anthropic {
    fn build_request(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::request::ChatRequest<'_>,
        _raw: &[u8],
        model: &str,
        facts: crate::providers::ModelFacts<'_>,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        build_request(p, req, model, facts)
    }

    fn add_headers(&self, p: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
        add_headers(p, h)
    }

    fn decode_response(
        &self,
        body: &[u8],
        ctx: &crate::providers::TranslateCtx<'_>,
        _model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        decode_response(body, ctx)
    }

    fn stream(
        &self,
        ctx: &crate::providers::TranslateCtx<'_>,
        model: &str,
    ) -> crate::providers::StreamTranslator {
        crate::providers::StreamTranslator::Anthropic(AnthropicMachine::stream(ctx, model))
    }

    fn error_message(&self, body: &[u8], _head: &pingora::http::ResponseHeader) -> Option<String> {
        error_message(body)
    }
}

#[cfg(test)]
mod tests;
