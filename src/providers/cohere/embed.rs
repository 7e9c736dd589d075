//! Cohere embeddings: `POST {base}/v2/embed {model, texts, input_type, embedding_types,
//! output_dimension?}` → `{embeddings:{float:[[…]]}, meta:{billed_units:{input_tokens}}}`,
//! rendered as OpenAI's embedding list.

use crate::error::GatewayError;
use crate::providers::embeddings::invalid;
use crate::providers::settings::ProviderSettings;
use crate::providers::{DecodedResponse, UpstreamRequest};
use crate::translate::Usage;
use crate::translate::embeddings::{EmbeddingsRequest, render};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// `input_type` when the client gives none: embeddings stored for retrieval.
const DEFAULT_INPUT_TYPE: &str = "search_document";

#[derive(Serialize)]
struct EmbedBody<'a> {
    model: &'a str,
    texts: &'a [Cow<'a, str>],
    input_type: &'a str,
    embedding_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimension: Option<u32>,
}

#[derive(Deserialize)]
struct EmbedWire {
    embeddings: Vectors,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Vectors {
    float: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    billed_units: Option<Billed>,
}

#[derive(Deserialize)]
struct Billed {
    #[serde(default)]
    input_tokens: Option<f64>,
}

/// Builds `POST {prefix}/v2/embed` (text inputs only).
pub fn build_embeddings(
    provider: &ProviderSettings,
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let body = EmbedBody {
        model,
        texts: req.texts(&provider.name)?,
        input_type: req.input_type.as_deref().unwrap_or(DEFAULT_INPUT_TYPE),
        embedding_types: ["float"],
        output_dimension: req.dimensions,
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    Ok(UpstreamRequest::new(
        format!("{}/v2/embed", provider.endpoint.path_prefix),
        Bytes::from(bytes),
    ))
}

/// Decodes a `/v2/embed` answer (Cohere names no model, so `model` is reported).
pub fn decode_embeddings(
    body: &[u8],
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let wire: EmbedWire = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
    let vectors = wire.embeddings.float;
    if vectors.len() != req.input.len() {
        return Err(invalid(&format_args!(
            "{} embeddings for {} inputs",
            vectors.len(),
            req.input.len()
        )));
    }
    let prompt_tokens = wire
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|b| b.input_tokens)
        .map_or(0, |t| t.max(0.0) as u64);
    Ok(DecodedResponse {
        body: Bytes::from(render(&vectors, model, prompt_tokens, req.base64)),
        usage: Usage {
            prompt_tokens,
            ..Usage::default()
        },
    })
}
