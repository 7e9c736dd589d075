//! Ollama embeddings: `POST {base}/api/embed {model, input, dimensions?}` →
//! `{model, embeddings:[[…]], prompt_eval_count}`, rendered as OpenAI's embedding list.

use crate::error::GatewayError;
use crate::providers::embeddings::invalid;
use crate::providers::settings::ProviderSettings;
use crate::providers::{DecodedResponse, UpstreamRequest};
use crate::translate::Usage;
use crate::translate::embeddings::{EmbeddingsRequest, render};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Serialize)]
struct EmbedBody<'a> {
    model: &'a str,
    input: &'a [Cow<'a, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
}

#[derive(Deserialize)]
struct EmbedWire<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    embeddings: Vec<Vec<f32>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
}

/// Builds `POST {prefix}/api/embed` (text inputs only).
pub fn build_embeddings(
    provider: &ProviderSettings,
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let body = EmbedBody {
        model,
        input: req.texts(&provider.name)?,
        dimensions: req.dimensions,
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    Ok(UpstreamRequest::new(
        format!("{}/api/embed", provider.endpoint.path_prefix),
        Bytes::from(bytes),
    ))
}

/// Decodes an `/api/embed` answer.
pub fn decode_embeddings(
    body: &[u8],
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let wire: EmbedWire<'_> = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
    if wire.embeddings.len() != req.input.len() {
        return Err(invalid(&format_args!(
            "{} embeddings for {} inputs",
            wire.embeddings.len(),
            req.input.len()
        )));
    }
    let prompt_tokens = wire.prompt_eval_count.unwrap_or(0);
    let out = render(
        &wire.embeddings,
        wire.model.as_deref().unwrap_or(model),
        prompt_tokens,
        req.base64,
    );
    Ok(DecodedResponse {
        body: Bytes::from(out),
        usage: Usage {
            prompt_tokens,
            ..Usage::default()
        },
    })
}
