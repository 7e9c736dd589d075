//! Embeddings on Gemini: `POST …/models/{model}:batchEmbedContents`.
//!
//! Each input becomes one request `{model: "models/{model}", content: {parts: [{text}]},
//! outputDimensionality?, taskType?}`; `embeddings[].values` come back in input order and are
//! rendered as OpenAI's list. Gemini reports no token count, so `usage.prompt_tokens` is 0.
//! A Cohere-style `input_type` hint maps to Gemini's `taskType`.

use super::method_path;
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
struct Batch<'a> {
    requests: Vec<EmbedRequest<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbedRequest<'a> {
    model: &'a str,
    content: EmbedContent<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimensionality: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_type: Option<&'static str>,
}

#[derive(Serialize)]
struct EmbedContent<'a> {
    parts: [TextPart<'a>; 1],
}

#[derive(Serialize)]
struct TextPart<'a> {
    text: &'a Cow<'a, str>,
}

#[derive(Deserialize)]
struct BatchResponse {
    embeddings: Vec<Embedding>,
}

#[derive(Deserialize)]
struct Embedding {
    values: Vec<f32>,
}

/// Gemini `taskType` for a Cohere-style `input_type`.
fn task_type(input_type: Option<&str>) -> Result<Option<&'static str>, GatewayError> {
    Ok(match input_type {
        None => None,
        Some("search_document") => Some("RETRIEVAL_DOCUMENT"),
        Some("search_query") => Some("RETRIEVAL_QUERY"),
        Some("classification") => Some("CLASSIFICATION"),
        Some("clustering") => Some("CLUSTERING"),
        Some(other) => {
            return Err(GatewayError::bad_param(
                "input_type",
                format!(
                    "input_type '{other}' has no Gemini taskType (search_document, search_query, \
                     classification, clustering do)"
                ),
            ));
        }
    })
}

/// Builds the batch request.
pub fn build(
    provider: &ProviderSettings,
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let texts = req.texts(&provider.name)?;
    let short = model.strip_prefix("models/").unwrap_or(model);
    let qualified = format!("models/{short}");
    let task_type = task_type(req.input_type.as_deref())?;
    let batch = Batch {
        requests: texts
            .iter()
            .map(|text| EmbedRequest {
                model: &qualified,
                content: EmbedContent {
                    parts: [TextPart { text }],
                },
                output_dimensionality: req.dimensions,
                task_type,
            })
            .collect(),
    };
    let body = serde_json::to_vec(&batch).map_err(|_| GatewayError::internal())?;
    Ok(UpstreamRequest::new(
        method_path(&provider.endpoint.path_prefix, model, "batchEmbedContents"),
        Bytes::from(body),
    ))
}

/// Decodes `{embeddings: [{values}]}`; one vector per input is required.
pub fn decode(
    body: &[u8],
    req: &EmbeddingsRequest<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let resp: BatchResponse = serde_json::from_slice(body).map_err(|e| invalid(&e))?;
    if resp.embeddings.len() != req.input.len() {
        return Err(invalid(&format!(
            "{} embeddings for {} inputs",
            resp.embeddings.len(),
            req.input.len()
        )));
    }
    let vectors: Vec<Vec<f32>> = resp.embeddings.into_iter().map(|e| e.values).collect();
    Ok(DecodedResponse {
        body: Bytes::from(render(&vectors, model, 0, req.base64)),
        usage: Usage::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::settings::ProviderKind;
    use crate::providers::testutil::provider;

    /// One request per input with the qualified model, dimensions and task type; vectors back in order.
    #[test]
    fn batch_round_trip() {
        let raw =
            br#"{"model":"emb","input":["a","b"],"dimensions":3,"input_type":"search_query"}"#;
        let req = EmbeddingsRequest::parse(raw).unwrap();
        let p = provider(ProviderKind::Gemini);
        let up = build(&p, &req, "text-embedding-004").unwrap();
        assert_eq!(
            up.path,
            "/v1beta/models/text-embedding-004:batchEmbedContents"
        );
        let v: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
        assert_eq!(
            v["requests"][1],
            serde_json::json!({"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 3, "taskType": "RETRIEVAL_QUERY"})
        );
        let d = decode(
            br#"{"embeddings":[{"values":[0.5,1,2]},{"values":[3,4,5]}]}"#,
            &req,
            "emb",
        )
        .unwrap();
        let out: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(
            out["data"][1]["embedding"],
            serde_json::json!([3.0, 4.0, 5.0])
        );
        assert_eq!(out["data"][1]["index"], 1);
        assert_eq!(out["model"], "emb");
        assert!(decode(br#"{"embeddings":[{"values":[1]}]}"#, &req, "emb").is_err());
        let bad =
            EmbeddingsRequest::parse(br#"{"model":"e","input":"a","input_type":"x"}"#).unwrap();
        assert_eq!(
            build(&p, &bad, "e").unwrap_err().param.as_deref(),
            Some("input_type")
        );
    }
}
