//! Request pieces several translated providers share: message text, structured-output
//! settings, function tools and the tool-call bookkeeping of a conversation.

use crate::error::GatewayError;
use crate::translate::request::{ChatRequest, Content, FunctionDef, Message, Tool};
use serde::{Deserialize, Serialize};
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
        let f = function_def(t, i, format_args!("by the {api}"))?;
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

/// The function of `tools[i]`; any other tool type is a 400 saying it is not supported
/// `unsupported` ("for Anthropic models", "by the Ollama chat API").
pub fn function_def<'a>(
    t: &'a Tool<'a>,
    i: usize,
    unsupported: impl std::fmt::Display,
) -> Result<&'a FunctionDef<'a>, GatewayError> {
    match (t.kind.as_ref(), &t.function) {
        ("function", Some(f)) => Ok(f),
        ("function", None) => Err(GatewayError::bad_param(
            format!("tools[{i}].function"),
            "function tools need a 'function' object",
        )),
        (other, _) => Err(GatewayError::bad_param(
            format!("tools[{i}].type"),
            format!("tool type '{other}' is not supported {unsupported}"),
        )),
    }
}

/// `tools[i].function.parameters` as a JSON Schema object with `type` (default `object`) and,
/// for objects, `properties` (default empty): the input schema Anthropic and Bedrock require.
pub fn object_schema(
    parameters: Option<&RawValue>,
    i: usize,
) -> Result<serde_json::Map<String, serde_json::Value>, GatewayError> {
    use serde_json::{Map, Value};
    let mut schema = match parameters {
        None => Map::new(),
        Some(raw) => serde_json::from_str::<Map<String, Value>>(raw.get()).map_err(|_| {
            GatewayError::bad_param(
                format!("tools[{i}].function.parameters"),
                "parameters must be a JSON Schema object",
            )
        })?,
    };
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".into()));
    if schema.get("type").and_then(Value::as_str) == Some("object") {
        schema
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(schema)
}

/// Only the tool named by `tool_choice: {function}`; a 400 when `tools` has no such function.
pub fn pick_named<'a>(
    tools: Vec<FunctionTool<'a>>,
    name: &str,
) -> Result<Vec<FunctionTool<'a>>, GatewayError> {
    let picked: Vec<_> = tools.into_iter().filter(|t| t.name == name).collect();
    if picked.is_empty() {
        return Err(GatewayError::bad_param(
            "tool_choice",
            format!("tool_choice names function '{name}', which is not in 'tools'"),
        ));
    }
    Ok(picked)
}

/// A function tool in the OpenAI wire shape, which Ollama and Cohere v2 also take.
#[derive(Serialize)]
pub struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: serde_json::Value,
}

impl<'a> From<FunctionTool<'a>> for WireTool<'a> {
    fn from(t: FunctionTool<'a>) -> Self {
        WireTool {
            kind: "function",
            function: WireFunction {
                name: t.name,
                description: t.description,
                parameters: t.parameters,
            },
        }
    }
}

/// The `tool_call_id` of the tool message `messages[i]` (a 400 when it has none).
pub fn tool_call_id<'a>(m: &'a Message<'a>, i: usize) -> Result<&'a Cow<'a, str>, GatewayError> {
    m.tool_call_id.as_ref().ok_or_else(|| {
        GatewayError::bad_param(
            format!("messages[{i}].tool_call_id"),
            "tool messages need a tool_call_id",
        )
    })
}

/// A tool call id restricted to the characters `ok` allows: others become `_` (consistently,
/// so a call and its result still match); an empty id is a 400 naming `at()`.
pub fn safe_id<'a>(
    id: &'a Cow<'a, str>,
    at: impl Fn() -> String,
    ok: impl Fn(char) -> bool,
) -> Result<Cow<'a, str>, GatewayError> {
    if id.is_empty() {
        return Err(GatewayError::bad_param(
            at(),
            "tool call ids must not be empty",
        ));
    }
    if id.chars().all(&ok) {
        return Ok(Cow::Borrowed(id.as_ref()));
    }
    Ok(Cow::Owned(
        id.chars().map(|c| if ok(c) { c } else { '_' }).collect(),
    ))
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
