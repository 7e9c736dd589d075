//! `POST /v1/embeddings`: the OpenAI request, parsed and validated once, and the OpenAI
//! response every provider's embeddings are rendered into.

use crate::error::GatewayError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Most inputs in one request (OpenAI's limit).
pub const MAX_INPUTS: usize = 2048;

/// The inputs to embed.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbeddingInput<'a> {
    /// Strings (a single string is a list of one).
    Texts(Vec<Cow<'a, str>>),
    /// Pre-tokenized inputs (token ids), which only OpenAI-format providers accept.
    Tokens(Vec<Vec<u32>>),
}

impl EmbeddingInput<'_> {
    /// Number of inputs.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Texts(t) => t.len(),
            EmbeddingInput::Tokens(t) => t.len(),
        }
    }

    /// True when there is nothing to embed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InputWire<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
    Tokens(Vec<u32>),
    TokenLists(Vec<Vec<u32>>),
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<InputWire<'a>>,
    #[serde(borrow, default)]
    encoding_format: Option<Cow<'a, str>>,
    #[serde(default)]
    dimensions: Option<u32>,
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
    /// Cohere/Bedrock-Cohere `input_type` hint (search_document, search_query, …).
    #[serde(borrow, default)]
    input_type: Option<Cow<'a, str>>,
}

/// A validated embeddings request.
#[derive(Debug, Clone)]
pub struct EmbeddingsRequest<'a> {
    pub model: Cow<'a, str>,
    pub input: EmbeddingInput<'a>,
    /// The client asked for base64-encoded little-endian f32 vectors.
    pub base64: bool,
    pub dimensions: Option<u32>,
    pub user: Option<Cow<'a, str>>,
    pub input_type: Option<Cow<'a, str>>,
}

impl<'a> EmbeddingsRequest<'a> {
    /// Parses and validates: a JSON object with `model` and a non-empty `input` of strings or
    /// token ids, at most [`MAX_INPUTS`] of them, no empty strings.
    pub fn parse(body: &'a [u8]) -> Result<Self, GatewayError> {
        if body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|b| *b != b'{')
        {
            return Err(GatewayError::bad_request(
                "The request body must be a JSON object.",
            ));
        }
        let wire: Wire<'a> = serde_json::from_slice(body).map_err(|e| {
            if e.is_data() {
                GatewayError::bad_param(
                    "input",
                    format!(
                        "Invalid request: {e}. 'input' must be a string, an array of strings, \
                         an array of token ids or an array of token id arrays."
                    ),
                )
            } else {
                GatewayError::bad_request(format!(
                    "We could not parse the JSON body of your request: {e}"
                ))
            }
        })?;
        let model = wire.model.filter(|m| !m.is_empty()).ok_or_else(|| {
            GatewayError::bad_param("model", "you must provide a model parameter")
        })?;
        let input = match wire.input {
            None => {
                return Err(GatewayError::bad_param(
                    "input",
                    "Missing required parameter: 'input'.",
                ));
            }
            Some(InputWire::One(s)) => EmbeddingInput::Texts(vec![s]),
            Some(InputWire::Many(v)) => EmbeddingInput::Texts(v),
            Some(InputWire::Tokens(t)) => EmbeddingInput::Tokens(vec![t]),
            Some(InputWire::TokenLists(t)) => EmbeddingInput::Tokens(t),
        };
        if input.is_empty() {
            return Err(GatewayError::bad_param(
                "input",
                "'input' must not be empty.",
            ));
        }
        if input.len() > MAX_INPUTS {
            return Err(GatewayError::bad_param(
                "input",
                format!(
                    "'input' has {} items; at most {MAX_INPUTS} are allowed.",
                    input.len()
                ),
            ));
        }
        let empty = match &input {
            EmbeddingInput::Texts(t) => t.iter().any(|s| s.is_empty()),
            EmbeddingInput::Tokens(t) => t.iter().any(Vec::is_empty),
        };
        if empty {
            return Err(GatewayError::bad_param(
                "input",
                "'input' must not contain empty strings or empty token arrays.",
            ));
        }
        let base64 = match wire.encoding_format.as_deref() {
            None | Some("float") => false,
            Some("base64") => true,
            Some(other) => {
                return Err(GatewayError::bad_param(
                    "encoding_format",
                    format!("Invalid 'encoding_format': \"{other}\"; expected float or base64."),
                ));
            }
        };
        if wire.dimensions == Some(0) {
            return Err(GatewayError::bad_param(
                "dimensions",
                "Invalid 'dimensions': must be at least 1.",
            ));
        }
        Ok(Self {
            model,
            input,
            base64,
            dimensions: wire.dimensions,
            user: wire.user,
            input_type: wire.input_type,
        })
    }

    /// The inputs as text, or a 400 naming `input` for providers that take only text.
    pub fn texts(&self, provider: &str) -> Result<&[Cow<'a, str>], GatewayError> {
        match &self.input {
            EmbeddingInput::Texts(t) => Ok(t),
            EmbeddingInput::Tokens(_) => Err(GatewayError::bad_param(
                "input",
                format!("provider {provider} takes text input only, not token ids"),
            )),
        }
    }
}

#[derive(Serialize)]
struct Item<'a> {
    object: &'static str,
    index: usize,
    embedding: Vector<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Vector<'a> {
    Float(&'a [f32]),
    Base64(String),
}

#[derive(Serialize)]
struct EmbeddingUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<Item<'a>>,
    model: &'a str,
    usage: EmbeddingUsage,
}

/// Renders OpenAI's `{"object":"list","data":[…],"model":…,"usage":…}`; `base64` encodes each
/// vector as little-endian f32 bytes, as OpenAI does.
pub fn render(vectors: &[Vec<f32>], model: &str, prompt_tokens: u64, base64: bool) -> Vec<u8> {
    use base64::Engine;
    let data = vectors
        .iter()
        .enumerate()
        .map(|(index, v)| Item {
            object: "embedding",
            index,
            embedding: if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                Vector::Float(v)
            },
        })
        .collect();
    let list = List {
        object: "list",
        data,
        model,
        usage: EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    };
    // Serializing plain numbers and strings cannot fail.
    serde_json::to_vec(&list).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input shape OpenAI accepts parses; bad shapes name `input`.
    #[test]
    fn parse_shapes_and_errors() {
        let one = EmbeddingsRequest::parse(br#"{"model":"e","input":"hi"}"#).unwrap();
        assert_eq!(one.input, EmbeddingInput::Texts(vec!["hi".into()]));
        let many = EmbeddingsRequest::parse(
            br#"{"model":"e","input":["a","b"],"encoding_format":"base64","dimensions":8}"#,
        )
        .unwrap();
        assert_eq!(many.input.len(), 2);
        assert!(many.base64);
        assert_eq!(many.dimensions, Some(8));
        let toks = EmbeddingsRequest::parse(br#"{"model":"e","input":[1,2,3]}"#).unwrap();
        assert_eq!(toks.input, EmbeddingInput::Tokens(vec![vec![1, 2, 3]]));
        assert!(toks.texts("p").is_err());
        for (body, param) in [
            (&br#"{"model":"e"}"#[..], Some("input")),
            (br#"{"input":"x"}"#, Some("model")),
            (br#"{"model":"e","input":[]}"#, Some("input")),
            (br#"{"model":"e","input":[""]}"#, Some("input")),
            (br#"{"model":"e","input":{"a":1}}"#, Some("input")),
            (
                br#"{"model":"e","input":"x","encoding_format":"hex"}"#,
                Some("encoding_format"),
            ),
            (br#"[1]"#, None),
            (br#"{"model":"e","input":"#, None),
        ] {
            let e = EmbeddingsRequest::parse(body).unwrap_err();
            assert_eq!(e.status, 400);
            assert_eq!(
                e.param.as_deref(),
                param,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// Base64 vectors decode back to the same floats.
    #[test]
    fn render_float_and_base64() {
        use base64::Engine;
        let v = vec![vec![0.5f32, -1.25], vec![3.0]];
        let f: serde_json::Value = serde_json::from_slice(&render(&v, "m", 4, false)).unwrap();
        assert_eq!(f["data"][0]["embedding"], serde_json::json!([0.5, -1.25]));
        assert_eq!(f["data"][1]["index"], 1);
        assert_eq!(f["usage"]["total_tokens"], 4);
        let b: serde_json::Value = serde_json::from_slice(&render(&v, "m", 4, true)).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b["data"][0]["embedding"].as_str().unwrap())
            .unwrap();
        let back: Vec<f32> = bytes
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(back, v[0]);
    }
}
