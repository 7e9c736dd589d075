//! `azure` kind: Azure OpenAI. The wire format is OpenAI's, so requests and responses go
//! through the [`openai`](super::openai) pass-through; only the URL and the credentials
//! differ, plus one stream quirk.
//!
//! * Classic deployment URLs (`base_url: https://{resource}.openai.azure.com`):
//!   `/openai/deployments/{model}/chat/completions?api-version={api_version}`; the target's
//!   model is the deployment name.
//! * The v1 form (`base_url: https://{resource}.openai.azure.com/openai/v1`):
//!   `/openai/v1/chat/completions` with the deployment in the body's `model`.
//! * `api-key` header. Streams often start with a chunk whose `choices` is empty and which
//!   only carries `prompt_filter_results`; it is dropped so clients that index `choices[0]`
//!   do not crash.

use super::{TranslateCtx, UpstreamRequest, openai};
use crate::error::GatewayError;
use crate::providers::settings::ProviderSettings;
use crate::translate::embeddings::EmbeddingsRequest;
use crate::translate::request::ChatRequest;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use pingora::http::RequestHeader;

/// Characters left as-is in a deployment path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The URL of `operation` (`chat/completions`, `embeddings`) for deployment `model`.
pub fn path(provider: &ProviderSettings, model: &str, operation: &str) -> String {
    let prefix = provider.endpoint.path_prefix.as_str();
    if prefix.ends_with("/openai/v1") {
        return format!("{prefix}/{operation}");
    }
    let base = if prefix.ends_with("/openai") {
        prefix.to_string()
    } else {
        format!("{prefix}/openai")
    };
    format!(
        "{base}/deployments/{}/{operation}?api-version={}",
        utf8_percent_encode(model, SEGMENT),
        provider.api_version
    )
}

/// The OpenAI pass-through body at the Azure URL.
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    raw: &[u8],
    model: &str,
    facts: crate::providers::ModelFacts<'_>,
) -> Result<UpstreamRequest, GatewayError> {
    let mut up = openai::build_request(provider, req, raw, model, facts)?;
    up.path = path(provider, model, "chat/completions");
    Ok(up)
}

/// The OpenAI embeddings body at the Azure URL.
pub fn build_embeddings(
    provider: &ProviderSettings,
    _req: &EmbeddingsRequest<'_>,
    raw: &[u8],
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    super::embeddings::passthrough(path(provider, model, "embeddings"), raw, model)
}

/// `api-key: <key>`.
pub fn add_headers(provider: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
    if !provider.api_key.is_empty() {
        h.insert_header("api-key", provider.api_key.expose())?;
    }
    Ok(())
}

/// The pass-through stream, minus Azure's choice-less filter chunks.
pub fn stream(ctx: &TranslateCtx<'_>) -> openai::PassthroughStream {
    openai::Passthrough::azure_stream(ctx)
}

/// The Azure OpenAI kind's translators.
pub struct Azure;

impl crate::providers::provider::Provider for Azure {
    fn build_request(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::request::ChatRequest<'_>,
        raw: &[u8],
        model: &str,
        facts: crate::providers::ModelFacts<'_>,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        build_request(p, req, raw, model, facts)
    }

    fn add_headers(&self, p: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
        add_headers(p, h)
    }

    fn decode_response(
        &self,
        body: &[u8],
        _ctx: &crate::providers::TranslateCtx<'_>,
        _model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        openai::decode_response(body)
    }

    fn stream(
        &self,
        ctx: &crate::providers::TranslateCtx<'_>,
        _model: &str,
    ) -> crate::providers::StreamTranslator {
        crate::providers::StreamTranslator::OpenAi(stream(ctx))
    }

    fn error_message(&self, body: &[u8], _head: &pingora::http::ResponseHeader) -> Option<String> {
        openai::error_message(body)
    }

    fn build_embeddings(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        raw: &[u8],
        model: &str,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        build_embeddings(p, req, raw, model)
    }

    fn decode_embeddings(
        &self,
        body: &[u8],
        _req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        _model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        crate::providers::embeddings::decode_openai(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::providers::settings::ProviderKind;
    use crate::providers::testutil::{assemble, chunks, run};

    fn azure(base_url: &str) -> std::sync::Arc<ProviderSettings> {
        let yaml = format!(
            "providers: [{{name: az, kind: azure, base_url: \"{base_url}\", api_key: az-key, api_version: 2025-01-01-preview}}]\nkeys: [{{name: k, key: abcdefghijk}}]"
        );
        Config::from_yaml(&yaml, &|_| None).unwrap().providers[0].clone()
    }

    /// Deployment URLs carry the encoded deployment and api-version; the v1 form does not.
    #[test]
    fn urls() {
        let raw = br#"{"model":"alias","messages":[{"role":"user","content":"hi"}]}"#;
        let req = ChatRequest::parse(raw).unwrap();
        let classic = azure("https://res.openai.azure.com");
        let up = build_request(&classic, &req, raw, "my gpt/4o", Default::default()).unwrap();
        assert_eq!(
            up.path,
            "/openai/deployments/my%20gpt%2F4o/chat/completions?api-version=2025-01-01-preview"
        );
        let body: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
        assert_eq!(body["model"], "my gpt/4o");
        let with_openai = azure("https://res.openai.azure.com/openai/");
        assert_eq!(
            path(&with_openai, "d", "embeddings"),
            "/openai/deployments/d/embeddings?api-version=2025-01-01-preview"
        );
        let v1 = azure("https://res.openai.azure.com/openai/v1");
        assert_eq!(
            build_request(&v1, &req, raw, "dep", Default::default())
                .unwrap()
                .path,
            "/openai/v1/chat/completions"
        );
        let mut h = RequestHeader::build("POST", b"/", None).unwrap();
        add_headers(&classic, &mut h).unwrap();
        assert_eq!(h.headers.get("api-key").unwrap(), "az-key");
        assert!(h.headers.get("authorization").is_none());
    }

    /// Azure's leading filter chunk is dropped; everything else passes through unchanged.
    #[test]
    fn stream_drops_filter_chunk() {
        let input = concat!(
            "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n",
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n",
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\",\"content_filter_results\":{}}]}\n\n",
            "data: [DONE]\n\n"
        );
        let out = run(ProviderKind::Azure, false, input.as_bytes(), &[]);
        assert_eq!(out.error, None);
        let (cs, done) = chunks(&out.output);
        assert!(done);
        assert_eq!(cs.len(), 2, "{}", out.output);
        let a = assemble(&cs);
        assert_eq!(
            (a.content.as_str(), a.finish_reason.as_deref()),
            ("Hi", Some("stop"))
        );
        // The plain OpenAI kind forwards the same chunk untouched.
        let plain = run(ProviderKind::OpenAi, false, input.as_bytes(), &[]);
        assert_eq!(chunks(&plain.output).0.len(), 3);
    }
}
