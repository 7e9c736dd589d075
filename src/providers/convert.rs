//! Request pieces several translated providers share: message text, structured-output
//! settings, function tools and the tool-call bookkeeping of a conversation.

use crate::error::GatewayError;
use crate::translate::request::{ChatRequest, Content, Message, Tool};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The text of a message: the string, or its text (and refusal) parts joined by newlines.
/// `allow_images` leaves `image_url` parts to the caller; any other part type is a 400 naming it.
pub fn message_text<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
    allow_images: bool,
) -> Result<Cow<'a, str>, GatewayError> {
    match content {
        None => Ok(Cow::Borrowed("")),
        Some(Content::Text(t)) => Ok(Cow::Borrowed(t.as_ref())),
        Some(Content::Parts(parts)) => {
            let mut pieces: Vec<&str> = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match (p.kind.as_ref(), &p.text, &p.refusal) {
                    ("text", Some(t), _) => pieces.push(t),
                    ("refusal", _, Some(r)) => pieces.push(r),
                    ("text" | "refusal", _, _) => {}
                    ("image_url", _, _) if allow_images => {}
                    (other, _, _) => {
                        return Err(GatewayError::bad_param(
                            format!("messages[{i}].content[{j}].type"),
                            format!("content part type '{other}' is not allowed in this message"),
                        ));
                    }
                }
            }
            Ok(match pieces.as_slice() {
                [] => Cow::Borrowed(""),
                [one] => Cow::Borrowed(one),
                many => Cow::Owned(many.join("\n")),
            })
        }
    }
}

/// What `response_format` asks for.
#[derive(Debug, Clone, Copy)]
pub enum ResponseFormat<'a> {
    /// Free text (also: absent).
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching the schema (`None`: the client gave no schema).
    JsonSchema(Option<&'a RawValue>),
}

#[derive(Deserialize)]
struct FormatWire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    json_schema: Option<SchemaWire<'a>>,
}

#[derive(Deserialize)]
struct SchemaWire<'a> {
    #[serde(borrow, default)]
    schema: Option<&'a RawValue>,
}

/// Decodes `response_format`, naming it in a 400 when it is not one OpenAI defines.
pub fn response_format<'a>(req: &ChatRequest<'a>) -> Result<ResponseFormat<'a>, GatewayError> {
    let Some(raw) = req.response_format.filter(|r| r.get().trim() != "null") else {
        return Ok(ResponseFormat::Text);
    };
    let bad = |detail: String| {
        GatewayError::bad_param(
            "response_format",
            format!("Invalid 'response_format': {detail}"),
        )
    };
    let wire: FormatWire<'a> = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
    match wire.kind.as_ref() {
        "text" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            let schema = wire.json_schema.and_then(|s| s.schema);
            if let Some(s) = schema {
                if !s.get().trim_start().starts_with('{') {
                    return Err(bad("json_schema.schema must be a JSON object".into()));
                }
            }
            Ok(ResponseFormat::JsonSchema(schema))
        }
        other => Err(bad(format!(
            "type '{other}' is not one of text, json_object, json_schema"
        ))),
    }
}

/// A validated function tool.
#[derive(Debug)]
pub struct FunctionTool<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    /// JSON Schema of the arguments (`{"type":"object","properties":{}}` when absent).
    pub parameters: serde_json::Value,
}

/// The function tools of a request; other tool types are a 400 naming them.
pub fn function_tools<'a>(
    tools: &'a [Tool<'a>],
    api: &str,
) -> Result<Vec<FunctionTool<'a>>, GatewayError> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let f = match (t.kind.as_ref(), &t.function) {
            ("function", Some(f)) => f,
            ("function", None) => {
                return Err(GatewayError::bad_param(
                    format!("tools[{i}].function"),
                    "function tools need a 'function' object",
                ));
            }
            (other, _) => {
                return Err(GatewayError::bad_param(
                    format!("tools[{i}].type"),
                    format!("tool type '{other}' is not supported by the {api}"),
                ));
            }
        };
        let parameters = match f.parameters {
            None => serde_json::json!({"type": "object", "properties": {}}),
            Some(raw) => {
                let v: serde_json::Value = serde_json::from_str(raw.get()).map_err(|_| {
                    GatewayError::bad_param(
                        format!("tools[{i}].function.parameters"),
                        "parameters must be a JSON Schema object",
                    )
                })?;
                if !v.is_object() {
                    return Err(GatewayError::bad_param(
                        format!("tools[{i}].function.parameters"),
                        "parameters must be a JSON Schema object",
                    ));
                }
                v
            }
        };
        out.push(FunctionTool {
            name: &f.name,
            description: f.description.as_deref(),
            parameters,
        });
    }
    Ok(out)
}

/// The function name of the assistant tool call `id` made earlier in `messages[..before]`.
pub fn tool_name_for<'a>(messages: &'a [Message<'a>], before: usize, id: &str) -> Option<&'a str> {
    messages[..before]
        .iter()
        .rev()
        .flat_map(|m| m.tool_calls.iter().flatten())
        .find(|c| c.id == id)
        .map(|c| c.function.name.as_ref())
}

/// Parses tool-call arguments (a JSON string) into a JSON object; empty means `{}`.
pub fn arguments_object(
    arguments: &str,
    at: impl Fn() -> String,
) -> Result<serde_json::Value, GatewayError> {
    if arguments.trim().is_empty() {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_str::<serde_json::Value>(arguments) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(GatewayError::bad_param(
            at(),
            "tool call arguments must be a JSON object",
        )),
        Err(e) => Err(GatewayError::bad_param(
            at(),
            format!("tool call arguments are not valid JSON: {e}"),
        )),
    }
}
