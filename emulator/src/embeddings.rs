//! Embeddings: the deterministic vectors and token counts every emulated embeddings API
//! (OpenAI, Gemini, Ollama, Cohere, Bedrock) serves, and the OpenAI `/v1/embeddings` format.
//!
//! A vector is derived from a hash of the text, so the same input always embeds the same way
//! and different inputs differ; each vector is L2-normalised like real embedding models.

use serde_json::{Value, json};

use crate::error::ApiError;

/// Default dimension when the request names none.
pub const DEFAULT_DIMENSIONS: usize = 8;
/// Largest dimension served.
pub const MAX_DIMENSIONS: usize = 4096;

/// A unit vector of `dims` floats for `text`.
pub fn vector(text: &str, dims: usize) -> Vec<f32> {
    // FNV-1a seeds a xorshift generator: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            ((h >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Emulated token count of an input (one token per whitespace-separated word, at least one).
pub fn tokens(text: &str) -> u64 {
    text.split_whitespace().count().max(1) as u64
}

/// A parsed OpenAI embeddings request.
#[derive(Debug)]
pub struct OpenAiEmbed {
    pub model: String,
    pub inputs: Vec<String>,
    pub dims: usize,
    /// `encoding_format: base64`.
    pub base64: bool,
}

/// Parses an OpenAI embeddings request.
pub fn parse_openai(body: &Value) -> Result<OpenAiEmbed, ApiError> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::bad_request("you must provide a model parameter"))?;
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Array(toks) => Some(
                    toks.iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ApiError::bad_request("'input' must be strings or token arrays").param("input")
            })?,
        _ => {
            return Err(
                ApiError::bad_request("'input' is required and must not be empty").param("input"),
            );
        }
    };
    let dims = match body.get("dimensions") {
        None | Some(Value::Null) => DEFAULT_DIMENSIONS,
        Some(v) => v
            .as_u64()
            .map(|d| d as usize)
            .filter(|d| (1..=MAX_DIMENSIONS).contains(d))
            .ok_or_else(|| {
                ApiError::bad_request("'dimensions' must be between 1 and 4096").param("dimensions")
            })?,
    };
    let base64 = match body.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(Value::String(f)) if f == "float" => false,
        Some(Value::String(f)) if f == "base64" => true,
        Some(_) => {
            return Err(
                ApiError::bad_request("'encoding_format' must be float or base64")
                    .param("encoding_format"),
            );
        }
    };
    Ok(OpenAiEmbed {
        model: model.to_owned(),
        inputs,
        dims,
        base64,
    })
}

/// OpenAI's embedding list for `inputs` (base64: little-endian f32 bytes, as OpenAI sends).
pub fn render_openai(model: &str, inputs: &[String], dims: usize, base64: bool) -> Vec<u8> {
    use base64::Engine;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = vector(t, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let n: u64 = inputs.iter().map(|t| tokens(t)).sum();
    serde_json::to_vec(&json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": n, "total_tokens": n}
    }))
    .unwrap_or_default()
}

/// Azure's leading stream chunk: no choices, only prompt filter results.
pub const AZURE_FILTER_CHUNK: &str = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_and_distinct() {
        let a = vector("hello", 16);
        assert_eq!(a, vector("hello", 16));
        assert_ne!(a, vector("hellp", 16));
        assert_eq!(a.len(), 16);
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert_eq!(tokens("one two  three"), 3);
        assert_eq!(tokens(""), 1);
    }

    #[test]
    fn openai_request_shapes() {
        let r = parse_openai(&json!({"model":"e","input":"a b c","dimensions":4})).unwrap();
        assert_eq!(
            (r.model.as_str(), r.inputs.len(), r.dims, r.base64),
            ("e", 1, 4, false)
        );
        let out: Value =
            serde_json::from_slice(&render_openai(&r.model, &r.inputs, r.dims, false)).unwrap();
        assert_eq!(out["data"][0]["embedding"].as_array().unwrap().len(), 4);
        assert_eq!(out["usage"]["prompt_tokens"], 3);
        let b64: Value = serde_json::from_slice(&render_openai("e", &r.inputs, 4, true)).unwrap();
        assert_eq!(b64["data"][0]["embedding"].as_str().unwrap().len(), 24);
        assert!(parse_openai(&json!({"model":"e","input":[]})).is_err());
        assert!(parse_openai(&json!({"model":"e","input":[{"x":1}]})).is_err());
        assert!(parse_openai(&json!({"input":"x"})).is_err());
    }
}
