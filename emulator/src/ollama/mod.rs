//! Ollama native `/api/chat` and `/api/embed` requests: validation (the checks Ollama's Go
//! decoding and handlers make) into a [`Conversation`], embeddings answers, and error bodies.

use serde::Serialize;
use serde_json::{Value, json};

pub mod render;

use crate::embeddings;
use crate::error::ApiError;
use crate::scenario::{Conversation, ToolChoice, ToolSpec};

/// What the renderer needs besides the [`Conversation`].
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// Ollama streams unless `stream: false`.
    pub stream: bool,
    pub conv: Conversation,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

/// Go's decoding error for a field of the wrong JSON type.
fn unmarshal(found: &str, field: &str, want: &str) -> ApiError {
    bad(format!(
        "json: cannot unmarshal {found} into Go struct field {field} of type {want}"
    ))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// Validate a parsed `/api/chat` body.
pub fn parse(body: &Value) -> Result<ChatRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad("invalid request body"));
    };
    if !matches!(obj.get("model"), Some(Value::String(m)) if !m.is_empty()) {
        return Err(bad("model is required"));
    }
    let mut req = ChatRequest {
        stream: true,
        ..ChatRequest::default()
    };
    if let Some(s) = present(obj.get("stream")) {
        req.stream = s
            .as_bool()
            .ok_or_else(|| unmarshal(json_kind(s), "ChatRequest.stream", "bool"))?;
    }
    let messages: &[Value] = match present(obj.get("messages")) {
        None => &[],
        Some(Value::Array(m)) => m,
        Some(v) => {
            return Err(unmarshal(
                json_kind(v),
                "ChatRequest.messages",
                "[]api.Message",
            ));
        }
    };
    let mut last_tool: Option<String> = None;
    for (i, m) in messages.iter().enumerate() {
        last_tool = scan_message(i, m, &mut req.conv)?;
    }
    req.conv.tool_result = last_tool;
    if let Some(opts) = present(obj.get("options")) {
        let opts = opts
            .as_object()
            .ok_or_else(|| unmarshal(json_kind(opts), "ChatRequest.options", "map[string]any"))?;
        if let Some(n) = present(opts.get("num_predict")) {
            let n = n
                .as_i64()
                .ok_or_else(|| bad("option \"num_predict\" must be of type integer"))?;
            req.conv.max_tokens = u64::try_from(n).ok();
        }
        match present(opts.get("stop")) {
            None => {}
            Some(Value::Array(list)) => {
                for s in list {
                    let s = s
                        .as_str()
                        .ok_or_else(|| bad("option \"stop\" must be of type array of strings"))?;
                    req.conv.stop.push(s.to_owned());
                }
            }
            Some(_) => return Err(bad("option \"stop\" must be of type array of strings")),
        }
    }
    if let Some(f) = present(obj.get("format")) {
        if !(f.as_str() == Some("json") || f.is_object()) {
            return Err(bad(format!("invalid format: {f}")));
        }
        req.conv.output_schema = Some(if f.is_object() {
            f.clone()
        } else {
            serde_json::json!({"type": "object"})
        });
    }
    req.conv.tools = tools(obj.get("tools"))?;
    req.conv.tool_choice = ToolChoice::Auto;
    Ok(req)
}

/// Counts one message; returns the content when it is a tool result.
fn scan_message(i: usize, m: &Value, conv: &mut Conversation) -> Result<Option<String>, ApiError> {
    let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
    if !matches!(role, "system" | "user" | "assistant" | "tool") {
        return Err(bad(format!(
            "messages[{i}]: invalid role \"{role}\": must be system, user, assistant or tool"
        )));
    }
    let content = match present(m.get("content")) {
        None => "",
        Some(Value::String(s)) => s.as_str(),
        Some(v) => {
            return Err(unmarshal(
                json_kind(v),
                "Message.messages.content",
                "string",
            ));
        }
    };
    conv.prompt_chars += content.chars().count();
    match present(m.get("images")) {
        None => {}
        Some(Value::Array(list)) => {
            for img in list {
                let data = img.as_str().unwrap_or_default();
                if !crate::b64::valid_base64(data) {
                    return Err(bad("illegal base64 data at input byte 0"));
                }
                conv.images += 1;
            }
        }
        Some(v) => {
            return Err(unmarshal(
                json_kind(v),
                "Message.messages.images",
                "[]api.ImageData",
            ));
        }
    }
    for call in m
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let f = call.get("function");
        if f.and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(bad(format!(
                "messages[{i}]: tool call without a function name"
            )));
        }
        match f.and_then(|f| present(f.get("arguments"))) {
            None => {}
            Some(a @ Value::Object(_)) => conv.prompt_chars += a.to_string().chars().count(),
            Some(v) => {
                return Err(unmarshal(
                    json_kind(v),
                    "ToolCallFunction.messages.tool_calls.function.arguments",
                    "api.ToolCallFunctionArguments",
                ));
            }
        }
    }
    Ok((role == "tool").then(|| content.to_owned()))
}

fn tools(v: Option<&Value>) -> Result<Vec<ToolSpec>, ApiError> {
    let Some(v) = present(v) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| unmarshal(json_kind(v), "ChatRequest.tools", "api.Tools"))?;
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let f = t.get("function");
        let Some(name) = f.and_then(|f| f.get("name")).and_then(Value::as_str) else {
            return Err(bad("tool function name is required"));
        };
        out.push(ToolSpec {
            name: name.to_owned(),
            schema: f
                .and_then(|f| f.get("parameters"))
                .cloned()
                .unwrap_or(Value::Null),
        });
    }
    Ok(out)
}

/// Answers `/api/embed`: `{model, input: string | [string], dimensions?}`.
pub fn embed(body: &Value, model: &str) -> Result<Vec<u8>, ApiError> {
    let texts: Vec<&str> = match present(body.get("input")) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| s.as_str().ok_or_else(|| bad("invalid input type")))
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("invalid input type")),
    };
    let dims = body
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or(embeddings::DEFAULT_DIMENSIONS, |d| d as usize);
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embeddings::vector(t, dims)).collect();
    let tokens: u64 = texts.iter().map(|t| embeddings::tokens(t)).sum();
    let out = json!({
        "model": model,
        "embeddings": vectors,
        "total_duration": 14_143_917,
        "load_duration": 1_019_500,
        "prompt_eval_count": tokens,
    });
    Ok(serde_json::to_vec(&out).unwrap_or_default())
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

/// `{"error":"…"}`.
pub fn error_body(e: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&ErrorBody { error: &e.message }).unwrap_or_default()
}

/// The error a `status=CODE` directive answers with.
pub fn status_error(status: u16) -> ApiError {
    let msg = match status {
        400 => "invalid request",
        404 => "model not found, try pulling it first",
        429 => "server busy, please try again. maximum pending requests exceeded",
        500 => "an error was encountered while running the model",
        502 => "an error was encountered while proxying the request",
        _ => "emulated upstream error",
    };
    ApiError::new(
        status,
        format!("{msg} (emulated by switchyard-emulator, status={status})"),
    )
}

#[cfg(test)]
mod tests;
