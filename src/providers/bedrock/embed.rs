//! Embeddings on Bedrock through InvokeModel (`POST {prefix}/model/{id}/invoke`, signed), in
//! the model family's native body, chosen by model id:
//!
//! * Amazon Titan text embeddings (`amazon.titan-embed-text-v1`, `…-v2:0`):
//!   `{inputText, dimensions?}` → `{embedding, inputTextTokenCount}`. Titan embeds ONE text
//!   per call, so a request with several inputs is a 400 naming `input`.
//! * Cohere on Bedrock (`cohere.embed-*`): `{texts, input_type}` (default
//!   `search_document`) → `{embeddings:[[…]]}` or `{embeddings:{float:[[…]]}}`; at most 96
//!   texts per call; no token count in the body.

use super::{model_path, signed_request};
use crate::error::GatewayError;
use crate::providers::embeddings::invalid;
use crate::providers::settings::ProviderSettings;
use crate::providers::{DecodedResponse, UpstreamRequest};
use crate::translate::Usage;
use crate::translate::embeddings::{EmbeddingsRequest, render};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Most texts Cohere embeds in one call.
const COHERE_MAX_TEXTS: usize = 96;

/// The embedding model family behind a Bedrock model id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Titan,
    Cohere,
}

/// Picks the family from the model id (plain id, inference profile `us.…` or ARN).
pub fn family(model: &str) -> Option<Family> {
    let id = model.rsplit('/').next().unwrap_or(model);
    if id.contains("amazon.titan-embed") {
        Some(Family::Titan)
    } else if id.contains("cohere.embed") {
        Some(Family::Cohere)
    } else {
        None
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TitanRequest<'a> {
    input_text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
}

#[derive(Serialize)]
struct CohereRequest<'a> {
    texts: &'a [Cow<'a, str>],
    input_type: &'a str,
}

/// Builds the signed InvokeModel request.
pub fn build(
    provider: &ProviderSettings,
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let texts = req.texts(&provider.name)?;
    let body = match family(model) {
        Some(Family::Titan) => {
            let [text] = texts else {
                return Err(GatewayError::bad_param(
                    "input",
                    format!(
                        "Titan embeddings on provider {} take one input per request; got {}. \
                         Send one string per request.",
                        provider.name,
                        texts.len()
                    ),
                ));
            };
            serde_json::to_vec(&TitanRequest {
                input_text: text,
                dimensions: req.dimensions,
            })
        }
        Some(Family::Cohere) => {
            if texts.len() > COHERE_MAX_TEXTS {
                return Err(GatewayError::bad_param(
                    "input",
                    format!(
                        "Cohere embeddings on Bedrock take at most {COHERE_MAX_TEXTS} inputs per request; got {}",
                        texts.len()
                    ),
                ));
            }
            if req.dimensions.is_some() {
                return Err(GatewayError::bad_param(
                    "dimensions",
                    "Cohere embeddings on Bedrock have a fixed size; remove 'dimensions'",
                ));
            }
            serde_json::to_vec(&CohereRequest {
                texts,
                input_type: req.input_type.as_deref().unwrap_or("search_document"),
            })
        }
        None => {
            return Err(GatewayError::bad_param(
                "model",
                format!(
                    "provider {} (Bedrock) embeds with Amazon Titan (amazon.titan-embed-*) or \
                     Cohere (cohere.embed-*) models; '{model}' is neither",
                    provider.name
                ),
            ));
        }
    }
    .map_err(|_| GatewayError::internal())?;
    signed_request(
        provider,
        model_path(&provider.endpoint.path_prefix, model, "invoke"),
        body,
        "application/json",
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanResponse {
    embedding: Vec<f32>,
    #[serde(default)]
    input_text_token_count: u64,
}

#[derive(Deserialize)]
struct CohereResponse {
    embeddings: CohereEmbeddings,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CohereEmbeddings {
    Floats(Vec<Vec<f32>>),
    ByType { float: Vec<Vec<f32>> },
}

/// Decodes the InvokeModel answer into OpenAI's embedding list.
pub fn decode(
    body: &[u8],
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let (vectors, tokens) = match family(model) {
        Some(Family::Titan) => {
            let r: TitanResponse = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
            (vec![r.embedding], r.input_text_token_count)
        }
        Some(Family::Cohere) => {
            let r: CohereResponse = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
            let v = match r.embeddings {
                CohereEmbeddings::Floats(v) | CohereEmbeddings::ByType { float: v } => v,
            };
            (v, 0)
        }
        None => return Err(GatewayError::internal()),
    };
    if vectors.len() != req.input.len() {
        return Err(invalid(&format!(
            "{} embeddings for {} inputs",
            vectors.len(),
            req.input.len()
        )));
    }
    Ok(DecodedResponse {
        body: Bytes::from(render(&vectors, model, tokens, req.base64)),
        usage: Usage {
            prompt_tokens: tokens,
            ..Usage::default()
        },
    })
}
