//! `bedrock` kind: AWS Bedrock Runtime Converse (`POST {prefix}/model/{id}/converse`),
//! ConverseStream (`…/converse-stream`, a binary `application/vnd.amazon.eventstream`) and
//! InvokeModel for embeddings (`…/invoke`), every request SigV4-signed.
//!
//! [`request`] builds Converse bodies, [`response`] decodes them, [`stream`] decodes event-stream
//! frames and translates the events, [`embed`] speaks Titan and Cohere embeddings, [`sign`]
//! signs. Wire format: docs/wire/bedrock.md; mapping rules: docs/wire/mapping.md,
//! docs/wire/edge-cases.md.

pub mod embed;
mod request;
mod response;
pub mod sign;
mod stream;

pub use request::build_request;
pub use response::decode_response;
pub use stream::BedrockStream;

use crate::error::GatewayError;
use crate::providers::UpstreamRequest;
use crate::providers::settings::ProviderSettings;
use crate::translate::{FinishReason, Usage};
use bytes::Bytes;
use serde::Deserialize;
use std::borrow::Cow;
use std::time::SystemTime;

/// Media type of ConverseStream bodies.
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// `{prefix}/model/{model id}/{op}` with the model id percent-encoded as one path segment
/// (`:` → `%3A`, an ARN's `/` → `%2F`), as the AWS SDKs send it.
pub fn model_path(prefix: &str, model: &str, op: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + model.len() * 3 / 2 + op.len() + 8);
    out.push_str(prefix);
    out.push_str("/model/");
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push('/');
    out.push_str(op);
    out
}

/// A signed POST of `body` to `path`, asking for `accept`.
pub(crate) fn signed_request(
    provider: &ProviderSettings,
    path: String,
    body: Vec<u8>,
    accept: &'static str,
) -> Result<UpstreamRequest, GatewayError> {
    signed_request_at(provider, path, body, accept, SystemTime::now())
}

/// [`signed_request`] at a fixed time (tests).
pub(crate) fn signed_request_at(
    provider: &ProviderSettings,
    path: String,
    body: Vec<u8>,
    accept: &'static str,
    time: SystemTime,
) -> Result<UpstreamRequest, GatewayError> {
    let creds = provider.aws.as_ref().ok_or_else(|| {
        log::error!("provider {} has no AWS credentials", provider.name);
        GatewayError::internal()
    })?;
    // The gateway sends exactly these values (UpstreamRequest.headers override its defaults).
    let signed = [("accept", accept), ("content-type", "application/json")];
    let mut headers = sign::sign_request(
        creds,
        &provider.region,
        sign::SERVICE,
        time,
        &sign::Signable {
            method: "POST",
            authority: &provider.endpoint.authority,
            path: &path,
            headers: &signed,
            body: &body,
        },
    )?;
    headers.push((http::header::ACCEPT, http::HeaderValue::from_static(accept)));
    Ok(UpstreamRequest {
        path,
        body: Bytes::from(body),
        headers,
        tool_answer: false,
        lossy: Vec::new(),
    })
}

/// Bedrock `stopReason` → OpenAI `finish_reason` (docs/wire/mapping.md §6).
pub(crate) fn finish_reason(stop_reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("guardrail_intervened" | "content_filtered") => FinishReason::ContentFilter,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Bedrock `TokenUsage`; `inputTokens` excludes cache reads and writes.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageWire {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_write_input_tokens: u64,
}

impl UsageWire {
    /// OpenAI semantics: the prompt count includes cached and cache-write tokens.
    pub(crate) fn to_usage(self) -> Usage {
        Usage {
            prompt_tokens: self
                .input_tokens
                .saturating_add(self.cache_read_input_tokens)
                .saturating_add(self.cache_write_input_tokens),
            completion_tokens: self.output_tokens,
            cached_tokens: self.cache_read_input_tokens,
            cache_write_tokens: self.cache_write_input_tokens,
            reasoning_tokens: 0,
        }
    }
}

#[derive(Deserialize)]
struct ErrorWire<'a> {
    #[serde(borrow, default, alias = "Message")]
    message: Option<Cow<'a, str>>,
    #[serde(rename = "__type", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

/// The `x-amzn-errortype` header without botocore's `:…` suffix.
pub fn error_type(resp: &pingora::http::ResponseHeader) -> Option<String> {
    let v = resp.headers.get("x-amzn-errortype")?.to_str().ok()?;
    let t = v.split(':').next().unwrap_or(v).trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The message of a rest-json error body (`{"message"}`), with its exception type.
pub fn error_message(body: &[u8], error_type: Option<&str>) -> Option<String> {
    let (message, body_type) = match serde_json::from_slice::<ErrorWire<'_>>(body) {
        Ok(e) => (e.message.map(Cow::into_owned), e.kind.map(Cow::into_owned)),
        Err(_) => (super::openai::excerpt(body), None),
    };
    let kind = error_type
        .map(str::to_string)
        .or_else(|| body_type.map(|t| t.rsplit('#').next().unwrap_or_default().to_string()));
    match (message, kind) {
        (Some(m), Some(k)) => Some(format!("{m} ({k})")),
        (Some(m), None) => Some(m),
        (None, Some(k)) => Some(k),
        (None, None) => None,
    }
}

/// A Bedrock error response: the HTTP status is AWS's modeled one; the exception type from
/// `x-amzn-errortype` joins the message.
pub fn decode_error(
    provider: &ProviderSettings,
    status: u16,
    body: &[u8],
    retry_after: Option<u64>,
    error_type: Option<&str>,
) -> GatewayError {
    let message = error_message(body, error_type);
    let status = match error_type {
        Some(t) => match exception_status(t) {
            // A model failure (424) is the provider's fault, not the client's.
            424 => 502,
            503 => 503,
            _ => status,
        },
        None if status == 424 => 502,
        None => status,
    };
    super::upstream_error(&provider.name, status, message.as_deref(), retry_after)
}

/// The HTTP status AWS models for an exception (event-stream `:exception-type` names are
/// lower camel case, HTTP `x-amzn-errortype` names upper camel case).
pub(crate) fn exception_status(kind: &str) -> u16 {
    let k = kind.to_ascii_lowercase();
    match k.trim_end_matches("exception") {
        "validation" | "servicequotaexceeded" => 400,
        "accessdenied" | "invalidsignature" | "unrecognizedclient" => 403,
        "resourcenotfound" => 404,
        "modeltimeout" => 408,
        "modelerror" | "modelstreamerror" => 424,
        "throttling" => 429,
        // AWS models ModelNotReady as 429; it is a capacity state, so clients see 503.
        "serviceunavailable" | "modelnotready" => 503,
        _ => 500,
    }
}

/// The Bedrock Converse kind's translators.
pub struct Bedrock;

impl crate::providers::provider::Provider for Bedrock {
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

    fn add_headers(
        &self,
        p: &ProviderSettings,
        h: &mut pingora::http::RequestHeader,
    ) -> pingora::Result<()> {
        // Signed per request: the signature travels in `UpstreamRequest::headers`.
        let _ = (p, h);
        Ok(())
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
        crate::providers::StreamTranslator::Bedrock(BedrockStream::new(ctx, model))
    }

    fn error_message(&self, body: &[u8], head: &pingora::http::ResponseHeader) -> Option<String> {
        error_message(body, error_type(head).as_deref())
    }

    /// AWS names the exception in `x-amzn-errortype`, which decides the status.
    fn decode_error(
        &self,
        p: &ProviderSettings,
        status: u16,
        head: &pingora::http::ResponseHeader,
        body: &[u8],
        retry_after: Option<u64>,
    ) -> crate::error::GatewayError {
        decode_error(p, status, body, retry_after, error_type(head).as_deref())
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
