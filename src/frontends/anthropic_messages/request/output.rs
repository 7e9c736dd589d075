//! Anthropic structured outputs → the OpenAI `response_format`.
//!
//! `output_config.format` (or the beta's earlier top-level `output_format`) of type
//! `json_schema` becomes `{"type":"json_schema","json_schema":{"name":"output","schema":…,
//! "strict":true}}`: Anthropic's format carries no name, and its outputs always follow the
//! schema, which is OpenAI's `strict`. `output_config.effort` and other members have no
//! chat-completions equivalent and are dropped.

use crate::error::GatewayError;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// The `response_format` for the request's structured-output settings, if any.
pub(super) fn response_format(
    config: Option<&RawValue>,
    legacy: Option<&RawValue>,
) -> Result<Option<Value>, GatewayError> {
    let from_config = match config.map(parse).transpose()? {
        Some(Value::Object(mut c)) => c.remove("format").filter(|f| !f.is_null()),
        Some(Value::Null) | None => None,
        Some(_) => {
            return Err(GatewayError::bad_param(
                "output_config",
                "output_config: Input should be an object",
            ));
        }
    };
    let (format, path) = match from_config {
        Some(f) => (f, "output_config.format"),
        None => match legacy.map(parse).transpose()? {
            Some(f) if !f.is_null() => (f, "output_format"),
            _ => return Ok(None),
        },
    };
    map(format, path).map(Some)
}

fn parse(raw: &RawValue) -> Result<Value, GatewayError> {
    serde_json::from_str(raw.get()).map_err(|_| GatewayError::internal())
}

fn map(format: Value, path: &str) -> Result<Value, GatewayError> {
    match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => {}
        other => {
            return Err(GatewayError::bad_param(
                format!("{path}.type"),
                format!(
                    "{path}.type: Input tag '{}' found using 'type' does not match any of the expected tags: 'json_schema'",
                    other.unwrap_or("")
                ),
            ));
        }
    }
    let schema = format
        .get("schema")
        .filter(|s| s.is_object())
        .cloned()
        .ok_or_else(|| {
            GatewayError::bad_param(
                format!("{path}.schema"),
                format!("{path}.schema: Field required"),
            )
        })?;
    Ok(json!({
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": true}
    }))
}
