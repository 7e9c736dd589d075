//! `POST /v1/embeddings` per provider kind: build the native request, decode the native
//! answer into OpenAI's embedding list. OpenAI-format kinds pass the body through with the
//! model spliced; translated kinds render with [`crate::translate::embeddings::render`].

use super::{DecodedResponse, UpstreamRequest};
use crate::error::{ErrorKind, GatewayError};
use crate::providers::settings::ProviderSettings;
use crate::translate::Usage;
use crate::translate::embeddings::EmbeddingsRequest;
use bytes::Bytes;
use serde::Deserialize;

/// Builds the native embeddings request for `model` at `provider`.
pub fn build(
    provider: &ProviderSettings,
    req: &EmbeddingsRequest<'_>,
    raw: &[u8],
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    super::provider::of(provider.kind).build_embeddings(provider, req, raw, model)
}

/// Decodes a successful native embeddings response.
pub fn decode(
    provider: &ProviderSettings,
    body: &[u8],
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    super::provider::of(provider.kind).decode_embeddings(body, req, model)
}

/// The client's body with `model` replaced.
pub(crate) fn passthrough(
    path: String,
    raw: &[u8],
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(raw).map_err(|_| GatewayError::internal())?;
    v.insert("model".into(), serde_json::Value::String(model.to_string()));
    let body = serde_json::to_vec(&v).map_err(|_| GatewayError::internal())?;
    Ok(UpstreamRequest::new(path, Bytes::from(body)))
}

#[derive(Deserialize)]
struct OpenAiProbe {
    data: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize)]
struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: u64,
}

/// An OpenAI-format embedding list, forwarded unchanged after a shape check.
pub(crate) fn decode_openai(body: &[u8]) -> Result<DecodedResponse, GatewayError> {
    let probe: OpenAiProbe = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
    let _ = probe.data;
    Ok(DecodedResponse {
        body: Bytes::copy_from_slice(body),
        usage: Usage {
            prompt_tokens: probe.usage.map(|u| u.prompt_tokens).unwrap_or(0),
            ..Usage::default()
        },
    })
}

/// A provider answer that is not a valid embeddings response.
pub(crate) fn invalid(e: &dyn std::fmt::Display) -> GatewayError {
    GatewayError::new(
        502,
        ErrorKind::UpstreamFailure,
        format!("upstream returned an invalid embeddings response: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::settings::ProviderKind;
    use crate::providers::testutil::provider;

    /// OpenAI pass-through splices the model and reads usage; Anthropic refuses by name.
    #[test]
    fn openai_passthrough_and_anthropic_refusal() {
        let raw = br#"{"model":"alias","input":["a","b"],"encoding_format":"float"}"#;
        let req = EmbeddingsRequest::parse(raw).unwrap();
        let p = provider(ProviderKind::OpenAi);
        let up = build(&p, &req, raw, "text-embedding-3-small").unwrap();
        assert_eq!(up.path, "/embeddings");
        let v: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
        assert_eq!(v["model"], "text-embedding-3-small");
        assert_eq!(v["input"], serde_json::json!(["a", "b"]));
        let d = decode(
            &p,
            br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1]}],"model":"m","usage":{"prompt_tokens":3,"total_tokens":3}}"#,
            &req,
            "m",
        )
        .unwrap();
        assert_eq!(d.usage.prompt_tokens, 3);
        assert!(decode(&p, b"{\"nope\":1}", &req, "m").is_err());
        let e = build(&provider(ProviderKind::Anthropic), &req, raw, "claude").unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("model")));
    }
}
