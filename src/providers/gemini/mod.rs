//! `gemini` kind: the Google Gemini API (`POST {base}/v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent?alt=sse`, `:batchEmbedContents`), authenticated with `x-goog-api-key`.
//!
//! [`request`] translates OpenAI chat requests into `GenerateContentRequest`s, [`response`]
//! translates `GenerateContentResponse`s back, [`stream`] runs the SSE state machine, [`embed`]
//! does embeddings, [`ids`] carries thought signatures through OpenAI tool-call ids and
//! [`schema`] reduces JSON Schema to the OpenAPI subset Gemini accepts.
//! Wire format: docs/wire/gemini.md; mapping rules: docs/wire/mapping.md, docs/wire/edge-cases.md.

pub mod embed;
mod ids;
mod request;
mod response;
mod schema;
mod stream;
mod thinking;

pub use request::build_request;
pub use response::decode_response;
pub use stream::{GeminiMachine, GeminiStream};

use crate::error::{ErrorKind, GatewayError};
use crate::providers::settings::ProviderSettings;
use crate::translate::{FinishReason, Usage};
use pingora::http::RequestHeader;
use serde::Deserialize;
use std::borrow::Cow;

/// `x-goog-api-key` (never the `?key=` query, which leaks into logs).
pub fn add_headers(provider: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
    if !provider.api_key.is_empty() {
        h.insert_header("x-goog-api-key", provider.api_key.expose())?;
    }
    Ok(())
}

/// `{prefix}/v1beta/models/{model}:{method}`; a base URL that already ends in `/v1beta` or
/// `/v1` keeps its version. The model is one percent-encoded path segment (a leading
/// `models/` is accepted and dropped).
pub(crate) fn method_path(prefix: &str, model: &str, method: &str) -> String {
    let version = if prefix.ends_with("/v1beta") || prefix.ends_with("/v1") {
        ""
    } else {
        "/v1beta"
    };
    let model = model.strip_prefix("models/").unwrap_or(model);
    let mut out = String::with_capacity(prefix.len() + model.len() + method.len() + 24);
    out.push_str(prefix);
    out.push_str(version);
    out.push_str("/models/");
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push(':');
    out.push_str(method);
    out
}

/// Gemini `finishReason` → OpenAI `finish_reason` (docs/wire/mapping.md §6). Function calls come
/// back with `STOP`, so their presence decides `tool_calls`.
pub(crate) fn finish_reason(reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match reason {
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "LANGUAGE"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION"
            | "IMAGE_OTHER"
            | "NO_IMAGE"
            | "OTHER",
        ) => FinishReason::ContentFilter,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// `usageMetadata` (absent fields are zero).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageWire {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
    #[serde(default)]
    tool_use_prompt_token_count: u64,
}

impl UsageWire {
    /// OpenAI semantics: the prompt includes cached and tool-use prompt tokens, the
    /// completion includes thoughts (Gemini's `candidatesTokenCount` excludes them).
    pub(crate) fn to_usage(self) -> Usage {
        Usage {
            prompt_tokens: self
                .prompt_token_count
                .saturating_add(self.tool_use_prompt_token_count),
            completion_tokens: self
                .candidates_token_count
                .saturating_add(self.thoughts_token_count),
            cached_tokens: self.cached_content_token_count,
            cache_write_tokens: 0,
            reasoning_tokens: self.thoughts_token_count,
        }
    }
}

/// `promptFeedback` of a blocked prompt.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback<'a> {
    #[serde(borrow, default)]
    pub block_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub block_reason_message: Option<Cow<'a, str>>,
}

/// The prompt was refused before generation: a 400 the client can act on, not a failover.
pub(crate) fn blocked(provider: &str, feedback: &PromptFeedback<'_>) -> GatewayError {
    let reason = feedback.block_reason.as_deref().unwrap_or("unspecified");
    let detail = feedback
        .block_reason_message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    GatewayError::new(
        400,
        ErrorKind::InvalidRequest,
        format!("provider {provider} blocked the prompt (blockReason {reason}){detail}"),
    )
    .with_code("content_filter")
}

#[derive(Deserialize)]
struct ErrorEnvelope<'a> {
    #[serde(borrow)]
    error: ErrorBody<'a>,
}

/// Google's `{"error":{"code","message","status","details"}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody<'a> {
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details: Vec<Detail<'a>>,
}

#[derive(Debug, Deserialize)]
struct Detail<'a> {
    #[serde(rename = "@type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "retryDelay", borrow, default)]
    retry_delay: Option<Cow<'a, str>>,
}

impl ErrorBody<'_> {
    pub(crate) fn describe(&self) -> Option<String> {
        match (&self.status, &self.message) {
            (Some(s), Some(m)) => Some(format!("{m} ({s})")),
            (None, Some(m)) => Some(m.to_string()),
            (Some(s), None) => Some(s.to_string()),
            (None, None) => None,
        }
    }

    /// Seconds of a `google.rpc.RetryInfo` detail (`"7s"`, `"1.5s"`), rounded up.
    fn retry_delay(&self) -> Option<u64> {
        self.details
            .iter()
            .filter(|d| d.kind.as_deref().is_some_and(|k| k.ends_with("RetryInfo")))
            .find_map(|d| {
                d.retry_delay
                    .as_deref()?
                    .strip_suffix('s')?
                    .parse::<f64>()
                    .ok()
            })
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| s.ceil() as u64)
    }
}

/// Parses an error body, also in the one-element array form some streams use.
pub(crate) fn parse_error(body: &[u8]) -> Option<ErrorBody<'_>> {
    // Derived structs also accept a JSON array (positionally), so look at the shape first.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return serde_json::from_slice::<ErrorEnvelope<'_>>(body)
            .ok()
            .map(|e| e.error);
    }
    serde_json::from_slice::<Vec<ErrorEnvelope<'_>>>(body)
        .ok()?
        .into_iter()
        .next()
        .map(|e| e.error)
}

/// The message of a Google error body, with its status.
pub fn error_message(body: &[u8]) -> Option<String> {
    match parse_error(body) {
        Some(e) => e.describe(),
        None => super::openai::excerpt(body),
    }
}

/// The `RetryInfo` delay of a Google error body, in seconds.
pub fn retry_delay(body: &[u8]) -> Option<u64> {
    parse_error(body)?.retry_delay()
}

/// The Gemini kind's translators.
pub struct Gemini;

impl crate::providers::provider::Provider for Gemini {
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
        _model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        decode_response(body, ctx)
    }

    fn stream(
        &self,
        ctx: &crate::providers::TranslateCtx<'_>,
        model: &str,
    ) -> crate::providers::StreamTranslator {
        crate::providers::StreamTranslator::Gemini(GeminiMachine::stream(ctx, model))
    }

    fn error_message(&self, body: &[u8], _head: &pingora::http::ResponseHeader) -> Option<String> {
        error_message(body)
    }

    /// Google errors may carry the delay in a RetryInfo detail instead of a header.
    fn decode_error(
        &self,
        p: &ProviderSettings,
        status: u16,
        _head: &pingora::http::ResponseHeader,
        body: &[u8],
        retry_after: Option<u64>,
    ) -> crate::error::GatewayError {
        let message = error_message(body);
        let retry_after = retry_after.or_else(|| retry_delay(body));
        crate::providers::upstream_error(&p.name, status, message.as_deref(), retry_after)
    }

    fn build_embeddings(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        _raw: &[u8],
        model: &str,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        embed::build(p, req, model)
    }

    fn decode_embeddings(
        &self,
        body: &[u8],
        req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        embed::decode(body, req, model)
    }
}

#[cfg(test)]
mod tests;
