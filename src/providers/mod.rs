//! Provider adapters behind one contract, [`provider::Provider`]: each kind lives in its own
//! module and implements the same pure, synchronous translators:
//!
//! * `build_request`: OpenAI request → native request body + path (+ auth headers),
//! * `decode_response`: native JSON → OpenAI `chat.completion` + [`Usage`],
//! * `stream`: native stream bytes → OpenAI SSE chunks ([`StreamTranslator`], a closed enum
//!   so the per-chunk path has no dynamic dispatch),
//! * `decode_error`: native error body → [`GatewayError`],
//! * `build_embeddings` / `decode_embeddings`.
//!
//! The free functions below are the entry points the proxy calls; they look the kind's
//! implementation up with [`provider::of`].

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod cache;
#[cfg(test)]
mod cache_tests;
pub mod cohere;
pub(crate) mod completion;
pub(crate) mod content;
pub(crate) mod convert;
pub mod embeddings;
pub mod gemini;
pub mod ndjson_driver;
pub mod ollama;
pub mod openai;
pub mod params;
pub mod presets;
pub mod provider;
#[cfg(test)]
mod reasoning_tests;
pub mod settings;
pub mod sse_driver;
pub mod structured;
#[cfg(test)]
pub(crate) mod testutil;
#[cfg(test)]
mod whitespace_tests;

use crate::error::{ErrorKind, GatewayError};
use crate::providers::settings::{ProviderKind, ProviderSettings};
use crate::translate::Usage;
use crate::translate::request::ChatRequest;
use bytes::{Bytes, BytesMut};
use ndjson_driver::NdjsonMachine;
use pingora::http::RequestHeader;
use sse_driver::SseMachine;

pub use crate::translate::TranslateCtx;

/// A native request ready to send.
#[derive(Debug)]
pub struct UpstreamRequest {
    /// Path and query, including the base URL's path prefix.
    pub path: String,
    pub body: Bytes,
    /// Per-request headers (a SigV4 signature, a stream `accept` type), set after the
    /// gateway's defaults and the provider's static auth headers, replacing same-named ones.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// The request asks for structured output through the answer tool
    /// ([`structured::ANSWER_TOOL`]): the decoders turn that tool's call into content.
    pub tool_answer: bool,
    /// Parameters the request used that this target drops or approximates (reported in
    /// `x-switchyard-lossy` and the access log).
    pub lossy: Vec<&'static str>,
}

impl UpstreamRequest {
    /// A request with no per-request headers.
    pub fn new(path: String, body: Bytes) -> Self {
        Self {
            path,
            body,
            headers: Vec::new(),
            tool_answer: false,
            lossy: Vec::new(),
        }
    }
}

/// What the model catalog says about a target's model, for translators whose native request
/// depends on it (an unknown model has no capabilities).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelFacts<'a> {
    /// Catalog capability names (`response_schema`, `tools`, …).
    pub capabilities: &'a [String],
}

impl ModelFacts<'_> {
    /// The catalog lists `capability` for the model.
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// A decoded non-streaming response.
#[derive(Debug)]
pub struct DecodedResponse {
    /// OpenAI `chat.completion` JSON.
    pub body: Bytes,
    pub usage: Usage,
}

/// Translates the OpenAI request for `provider`, asking it for `model` (which the catalog
/// describes with `facts`).
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    raw_body: &[u8],
    model: &str,
    facts: ModelFacts<'_>,
) -> Result<UpstreamRequest, GatewayError> {
    provider::of(provider.kind).build_request(provider, req, raw_body, model, facts)
}

/// Adds the provider's authentication and protocol headers.
pub fn add_auth_headers(
    provider: &ProviderSettings,
    header: &mut RequestHeader,
) -> Result<(), GatewayError> {
    provider::of(provider.kind)
        .add_headers(provider, header)
        .map_err(|_| GatewayError::internal())
}

/// Translates a successful non-streaming response body; `upstream_model` is the model asked
/// for, reported by providers whose responses name none.
pub fn decode_response(
    kind: ProviderKind,
    body: &[u8],
    ctx: &TranslateCtx<'_>,
    upstream_model: &str,
) -> Result<DecodedResponse, GatewayError> {
    provider::of(kind).decode_response(body, ctx, upstream_model)
}

/// Translates a provider error response. `retry_after` comes from the response header.
pub fn decode_error(
    provider: &ProviderSettings,
    status: u16,
    head: &pingora::http::ResponseHeader,
    body: &[u8],
    retry_after: Option<u64>,
) -> GatewayError {
    provider::of(provider.kind).decode_error(provider, status, head, body, retry_after)
}

/// Maps a provider HTTP status to what the client sees.
///
/// Client mistakes (400, 413, 422) keep their status. A provider refusing the gateway's own
/// credentials (401/403) is a gateway-side fault, so the client gets 502 rather than a 401 that
/// would blame its key. Overload (503, Anthropic's 529) becomes 503 with `retry-after`.
pub fn upstream_error(
    provider: &str,
    status: u16,
    message: Option<&str>,
    retry_after: Option<u64>,
) -> GatewayError {
    let detail = message.unwrap_or("no error message");
    let (client_status, kind) = match status {
        400 | 422 => (400, ErrorKind::Upstream),
        413 => (413, ErrorKind::PayloadTooLarge),
        401 | 403 => (502, ErrorKind::UpstreamFailure),
        404 => (404, ErrorKind::NotFound),
        408 | 504 => (504, ErrorKind::Timeout),
        429 => (429, ErrorKind::RateLimited),
        503 | 529 => (503, ErrorKind::Overloaded),
        s if s >= 500 => (502, ErrorKind::UpstreamFailure),
        _ => (400, ErrorKind::Upstream),
    };
    let message = match status {
        401 | 403 => {
            format!("provider {provider} rejected the gateway's credentials ({status}): {detail}")
        }
        _ => format!("provider {provider} returned {status}: {detail}"),
    };
    let retry_after = match (retry_after, status) {
        (Some(s), _) => Some(s),
        (None, 429 | 503 | 529) => Some(1),
        _ => None,
    };
    let mut e = GatewayError::new(client_status, kind, message).with_retry_after(retry_after);
    if status == 429 {
        e = e.with_code("rate_limit_exceeded");
    }
    e
}

/// Translates a native stream into OpenAI chunks, one state machine per provider kind.
#[derive(Debug)]
pub enum StreamTranslator {
    OpenAi(openai::PassthroughStream),
    Anthropic(anthropic::AnthropicStream),
    Gemini(gemini::GeminiStream),
    Ollama(ollama::OllamaStream),
    Cohere(cohere::CohereStream),
    Bedrock(bedrock::BedrockStream),
}

/// What a fed chunk did to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// More events are expected.
    Open,
    /// The provider signalled the normal end; `out` holds the terminator.
    Complete,
}

impl StreamTranslator {
    /// A translator for `kind`.
    pub fn new(kind: ProviderKind, ctx: &TranslateCtx<'_>, upstream_model: &str) -> Self {
        provider::of(kind).stream(ctx, upstream_model)
    }

    /// Feeds upstream bytes, appending complete OpenAI SSE events to `out`.
    /// An `Err` is a provider error event or a malformed stream: the stream must end.
    pub fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<StreamState, GatewayError> {
        match self {
            StreamTranslator::OpenAi(s) => s.feed(chunk, out),
            StreamTranslator::Anthropic(s) => s.feed(chunk, out),
            StreamTranslator::Gemini(s) => s.feed(chunk, out),
            StreamTranslator::Ollama(s) => s.feed(chunk, out),
            StreamTranslator::Cohere(s) => s.feed(chunk, out),
            StreamTranslator::Bedrock(s) => s.feed(chunk, out),
        }
    }

    /// The upstream body ended cleanly: flushes what is left. An `Err` means the stream was
    /// truncated (no terminal event).
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        match self {
            StreamTranslator::OpenAi(s) => s.finish(out),
            StreamTranslator::Anthropic(s) => s.finish(out),
            StreamTranslator::Gemini(s) => s.finish(out),
            StreamTranslator::Ollama(s) => s.finish(out),
            StreamTranslator::Cohere(s) => s.finish(out),
            StreamTranslator::Bedrock(s) => s.finish(out),
        }
    }

    /// True once the stream carried real output (content, tool call or finish), not just a
    /// preamble: from then on an error can no longer be hidden by failing over.
    pub fn has_output(&self) -> bool {
        match self {
            StreamTranslator::OpenAi(s) => s.machine().has_output(),
            StreamTranslator::Anthropic(s) => s.machine().has_output(),
            StreamTranslator::Gemini(s) => s.machine().has_output(),
            StreamTranslator::Ollama(s) => s.machine().has_output(),
            StreamTranslator::Cohere(s) => s.machine().has_output(),
            StreamTranslator::Bedrock(s) => s.has_output(),
        }
    }

    /// Usage seen so far (final once the stream completed).
    pub fn usage(&self) -> Usage {
        match self {
            StreamTranslator::OpenAi(s) => s.machine().usage(),
            StreamTranslator::Anthropic(s) => s.machine().usage(),
            StreamTranslator::Gemini(s) => s.machine().usage(),
            StreamTranslator::Ollama(s) => s.machine().usage(),
            StreamTranslator::Cohere(s) => s.machine().usage(),
            StreamTranslator::Bedrock(s) => s.usage(),
        }
    }
}

/// Parses a provider's non-streaming answer; a body that is not the expected JSON is a 502
/// naming `what` ("Gemini response", …), so the dispatcher may fail over.
pub(crate) fn parse_response<'a, T: serde::Deserialize<'a>>(
    body: &'a [u8],
    what: &str,
) -> Result<T, GatewayError> {
    serde_json::from_slice(body).map_err(|e| {
        GatewayError::new(
            502,
            ErrorKind::UpstreamFailure,
            format!("provider returned an invalid {what}: {e}"),
        )
    })
}

/// A stream that ended before its terminal event.
pub fn truncated_stream(provider: &str) -> GatewayError {
    GatewayError::new(
        502,
        ErrorKind::UpstreamFailure,
        format!("provider {provider} ended the stream before it was complete"),
    )
    .with_code("stream_truncated")
}

/// A stream that cannot be parsed.
pub fn malformed_stream(detail: impl std::fmt::Display) -> GatewayError {
    GatewayError::new(
        502,
        ErrorKind::UpstreamFailure,
        format!("malformed upstream stream: {detail}"),
    )
    .with_code("stream_malformed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Provider statuses map to client statuses; credentials failures never blame the client.
    #[test]
    fn status_mapping() {
        let cases = [
            (400, 400),
            (401, 502),
            (403, 502),
            (404, 404),
            (413, 413),
            (429, 429),
            (500, 502),
            (502, 502),
            (503, 503),
            (504, 504),
            (529, 503),
        ];
        for (up, client) in cases {
            assert_eq!(
                upstream_error("p", up, Some("m"), None).status,
                client,
                "{up}"
            );
        }
        let e = upstream_error("anthropic", 529, Some("Overloaded"), None);
        assert_eq!(
            (e.status, e.retry_after, e.kind),
            (503, Some(1), ErrorKind::Overloaded)
        );
        assert!(e.message.contains("anthropic") && e.message.contains("Overloaded"));
        assert_eq!(upstream_error("p", 429, None, Some(7)).retry_after, Some(7));
    }
}
