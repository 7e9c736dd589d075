//! InvokeModel for embedding models: Amazon Titan text embeddings (`{inputText, dimensions?,
//! normalize?}` → `{embedding, inputTextTokenCount}`) and Cohere (`{texts, input_type,
//! truncate?, embedding_types?}` → `{embeddings, id, response_type, texts}`). Vectors are
//! deterministic functions of the text, unit length.

use serde_json::{Value, json};

use crate::bedrock::validation;
use crate::embeddings::{tokens, vector};
use crate::error::ApiError;

/// Answers an InvokeModel body for `model`.
pub fn invoke(model: &str, body: &Value) -> Result<Vec<u8>, ApiError> {
    let id = model.rsplit('/').next().unwrap_or(model);
    if id.contains("amazon.titan-embed") {
        titan(id, body)
    } else if id.contains("cohere.embed") {
        cohere(body)
    } else {
        Err(validation(format!(
            "switchyard-emulator: InvokeModel supports amazon.titan-embed-* and cohere.embed-* models, not '{model}'"
        )))
    }
}

fn titan(id: &str, body: &Value) -> Result<Vec<u8>, ApiError> {
    let text = body
        .get("inputText")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            validation("Malformed input request: #: required key [inputText] not found")
        })?;
    if let Some(k) = body.as_object().and_then(|o| {
        o.keys().find(|k| {
            !["inputText", "dimensions", "normalize", "embeddingTypes"].contains(&k.as_str())
        })
    }) {
        return Err(validation(format!(
            "Malformed input request: #: extraneous key [{k}] is not permitted"
        )));
    }
    let v2 = id.contains("-v2");
    let dims = match body.get("dimensions") {
        None => {
            if v2 {
                1024
            } else {
                1536
            }
        }
        Some(d) if v2 && matches!(d.as_u64(), Some(256 | 512 | 1024)) => {
            d.as_u64().unwrap_or(1024) as usize
        }
        Some(d) => {
            return Err(validation(format!(
                "Malformed input request: #/dimensions: {d} is not a valid enum value (256, 512, 1024; Titan v2 only)"
            )));
        }
    };
    Ok(serde_json::to_vec(
        &json!({"embedding": vector(text, dims), "inputTextTokenCount": tokens(text)}),
    )
    .unwrap_or_default())
}

fn cohere(body: &Value) -> Result<Vec<u8>, ApiError> {
    let texts: Vec<&str> = body
        .get("texts")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if texts.is_empty() || texts.len() > 96 {
        return Err(validation(
            "Malformed input request: #/texts: expected 1 to 96 strings",
        ));
    }
    let input_type = body
        .get("input_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if ![
        "search_document",
        "search_query",
        "classification",
        "clustering",
    ]
    .contains(&input_type)
    {
        return Err(validation(format!(
            "Malformed input request: #/input_type: '{input_type}' is not a valid enum value"
        )));
    }
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| vector(t, 1024)).collect();
    let out = if body.get("embedding_types").is_some() {
        json!({"id": "emu", "embeddings": {"float": vectors}, "response_type": "embeddings_by_type", "texts": texts})
    } else {
        json!({"id": "emu", "embeddings": vectors, "response_type": "embeddings_floats", "texts": texts})
    };
    Ok(serde_json::to_vec(&out).unwrap_or_default())
}
