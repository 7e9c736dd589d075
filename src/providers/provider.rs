//! [`Provider`]: the contract every provider kind implements, so a new kind is one folder
//! (its module with one `impl Provider`) plus its line in [`of`].
//!
//! Every method is pure and synchronous over borrowed data; I/O stays in the proxy.

use super::{DecodedResponse, StreamTranslator, TranslateCtx, UpstreamRequest, upstream_error};
use crate::error::{ErrorKind, GatewayError};
use crate::providers::settings::{ProviderKind, ProviderSettings};
use crate::translate::embeddings::EmbeddingsRequest;
use crate::translate::request::ChatRequest;
use pingora::http::{RequestHeader, ResponseHeader};

/// One provider kind's translators.
pub trait Provider: Sync {
    /// OpenAI chat request → the native request for `model` (path, body, per-request headers);
    /// `facts` is what the catalog knows about the model.
    fn build_request(
        &self,
        p: &ProviderSettings,
        req: &ChatRequest<'_>,
        raw: &[u8],
        model: &str,
        facts: super::ModelFacts<'_>,
    ) -> Result<UpstreamRequest, GatewayError>;

    /// The provider's static authentication and protocol headers.
    fn add_headers(&self, p: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()>;

    /// A successful native JSON answer → OpenAI `chat.completion` and its usage; `model` is
    /// the model asked for (reported when the answer names none).
    fn decode_response(
        &self,
        body: &[u8],
        ctx: &TranslateCtx<'_>,
        model: &str,
    ) -> Result<DecodedResponse, GatewayError>;

    /// The translator of the native stream into OpenAI chunks.
    fn stream(&self, ctx: &TranslateCtx<'_>, model: &str) -> StreamTranslator;

    /// The human message of a native error body.
    fn error_message(&self, body: &[u8], head: &ResponseHeader) -> Option<String>;

    /// A native error answer → the client-facing error. `retry_after` is the header's.
    fn decode_error(
        &self,
        p: &ProviderSettings,
        status: u16,
        head: &ResponseHeader,
        body: &[u8],
        retry_after: Option<u64>,
    ) -> GatewayError {
        let message = self.error_message(body, head);
        upstream_error(&p.name, status, message.as_deref(), retry_after)
    }

    /// OpenAI embeddings request → the native one. Kinds without an embeddings API refuse.
    fn build_embeddings(
        &self,
        p: &ProviderSettings,
        _req: &EmbeddingsRequest<'_>,
        _raw: &[u8],
        _model: &str,
    ) -> Result<UpstreamRequest, GatewayError> {
        Err(GatewayError::new(
            400,
            ErrorKind::InvalidRequest,
            format!(
                "provider {} ({}) has no embeddings API; route this model to an embeddings \
                 provider",
                p.name,
                p.kind.as_str()
            ),
        )
        .with_param("model"))
    }

    /// A successful native embeddings answer → OpenAI's embedding list.
    fn decode_embeddings(
        &self,
        _body: &[u8],
        _req: &EmbeddingsRequest<'_>,
        _model: &str,
    ) -> Result<DecodedResponse, GatewayError> {
        // `build_embeddings` refuses, so no answer reaches here.
        Err(GatewayError::new(
            502,
            ErrorKind::UpstreamFailure,
            "this provider kind has no embeddings API",
        ))
    }
}

/// The implementation of `kind`.
pub fn of(kind: ProviderKind) -> &'static dyn Provider {
    match kind {
        ProviderKind::OpenAi => &super::openai::OpenAi,
        ProviderKind::Azure => &super::azure::Azure,
        ProviderKind::Anthropic => &super::anthropic::Anthropic,
        ProviderKind::Gemini => &super::gemini::Gemini,
        ProviderKind::Bedrock => &super::bedrock::Bedrock,
        ProviderKind::Ollama => &super::ollama::Ollama,
        ProviderKind::Cohere => &super::cohere::Cohere,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testutil::{ctx, provider};

    /// Each kind's implementation is the one `of` returns: its stream translator is the
    /// kind's own, and kinds without embeddings refuse them by name.
    #[test]
    fn every_kind_is_wired() {
        for (_, kind) in ProviderKind::ALL {
            let stream = of(kind).stream(&ctx(false), "m");
            let expected = match kind {
                ProviderKind::OpenAi | ProviderKind::Azure => "OpenAi",
                ProviderKind::Anthropic => "Anthropic",
                ProviderKind::Gemini => "Gemini",
                ProviderKind::Bedrock => "Bedrock",
                ProviderKind::Ollama => "Ollama",
                ProviderKind::Cohere => "Cohere",
            };
            assert!(format!("{stream:?}").starts_with(expected), "{kind:?}");
        }
        let raw = br#"{"model":"m","input":"x"}"#;
        let req = EmbeddingsRequest::parse(raw).unwrap();
        let p = provider(ProviderKind::Anthropic);
        let e = of(ProviderKind::Anthropic)
            .build_embeddings(&p, &req, raw, "m")
            .unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("model")));
        assert!(e.message.contains("no embeddings API"), "{}", e.message);
    }

    /// Error decoding reads what each kind puts where: Bedrock's exception type header
    /// decides the status, Gemini's body carries the retry delay.
    #[test]
    fn errors_per_kind() {
        let mut head = ResponseHeader::build(400, None).unwrap();
        head.insert_header("x-amzn-errortype", "ModelNotReadyException")
            .unwrap();
        let p = provider(ProviderKind::Bedrock);
        let e = of(ProviderKind::Bedrock).decode_error(
            &p,
            429,
            &head,
            br#"{"message":"warming"}"#,
            None,
        );
        assert_eq!(e.status, 503, "{e:?}");
        assert!(e.message.contains("warming"));
        let g = provider(ProviderKind::Gemini);
        let body = br#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#;
        let plain = ResponseHeader::build(429, None).unwrap();
        let e = of(ProviderKind::Gemini).decode_error(&g, 429, &plain, body, None);
        assert_eq!((e.status, e.retry_after), (429, Some(7)));
        let o = provider(ProviderKind::OpenAi);
        let e = of(ProviderKind::OpenAi).decode_error(&o, 500, &plain, b"{}", None);
        assert_eq!(e.status, 502);
    }
}
