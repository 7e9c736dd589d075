//! Cohere v2 `/v2/chat` and `/v2/embed` requests: validation (the checks the real API makes
//! that matter to a gateway) into a [`Conversation`], embeddings answers, and error bodies.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Value, json};

pub mod render;

use crate::embeddings;
use crate::error::ApiError;
use crate::scenario::{Conversation, ToolChoice, ToolSpec};

/// What the renderer needs besides the [`Conversation`].
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub stream: bool,
    pub conv: Conversation,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// Validate a parsed `/v2/chat` body.
pub fn parse(body: &Value) -> Result<ChatRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad("invalid request: body must be a JSON object"));
    };
    if !matches!(obj.get("model"), Some(Value::String(m)) if !m.is_empty()) {
        return Err(bad("invalid request: model is required"));
    }
    let messages = match present(obj.get("messages")) {
        Some(Value::Array(m)) if !m.is_empty() => m,
        _ => return Err(bad("invalid request: messages must be a non-empty list")),
    };
    let mut req = ChatRequest::default();
    let mut call_ids: HashSet<&str> = HashSet::new();
    let mut last_tool = None;
    for (i, m) in messages.iter().enumerate() {
        last_tool = scan_message(i, m, &mut call_ids, &mut req.conv)?;
    }
    req.conv.tool_result = last_tool;
    req.stream = match present(obj.get("stream")) {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad("invalid request: stream must be a boolean"))?,
    };
    if let Some(n) = present(obj.get("max_tokens")) {
        let n = n
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("invalid request: max_tokens must be a positive integer"))?;
        req.conv.max_tokens = Some(n);
    }
    for (key, lo, hi) in [
        ("p", 0.01, 0.99),
        ("frequency_penalty", 0.0, 1.0),
        ("presence_penalty", 0.0, 1.0),
        ("temperature", 0.0, f64::MAX),
    ] {
        if let Some(v) = present(obj.get(key)) {
            match v.as_f64() {
                Some(x) if (lo..=hi).contains(&x) => {}
                _ => {
                    return Err(bad(format!(
                        "invalid request: {key} must be between {lo} and {hi}"
                    )));
                }
            }
        }
    }
    if let Some(s) = present(obj.get("stop_sequences")) {
        let list = s
            .as_array()
            .ok_or_else(|| bad("invalid request: stop_sequences must be a list of strings"))?;
        for s in list {
            let s = s
                .as_str()
                .ok_or_else(|| bad("invalid request: stop_sequences must be a list of strings"))?;
            req.conv.stop.push(s.to_owned());
        }
    }
    req.conv.output_schema = present(obj.get("response_format"))
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_object"))
        .map(|f| {
            f.get("json_schema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"}))
        });
    req.conv.tools = tools(obj.get("tools"))?;
    req.conv.tool_choice = match present(obj.get("tool_choice")).map(|v| v.as_str()) {
        None => ToolChoice::Auto,
        Some(Some("REQUIRED")) => ToolChoice::Any,
        Some(Some("NONE")) => ToolChoice::None,
        Some(_) => {
            return Err(bad(
                "invalid request: tool_choice must be one of REQUIRED, NONE",
            ));
        }
    };
    if req.conv.tool_choice != ToolChoice::Auto && req.conv.tools.is_empty() {
        return Err(bad(
            "invalid request: tool_choice can only be specified with tools",
        ));
    }
    Ok(req)
}

/// Counts one message; returns the content when it is a tool result.
fn scan_message<'a>(
    i: usize,
    m: &'a Value,
    call_ids: &mut HashSet<&'a str>,
    conv: &mut Conversation,
) -> Result<Option<String>, ApiError> {
    let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
    let text = content_text(i, m.get("content"), role == "user", conv)?;
    conv.prompt_chars += text.chars().count();
    match role {
        "system" | "user" => Ok(None),
        "assistant" => {
            for call in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
                let args = call.pointer("/function/arguments");
                let Some(args) = args.and_then(Value::as_str) else {
                    return Err(bad(format!(
                        "invalid request: messages[{i}].tool_calls: function.arguments must be a string"
                    )));
                };
                conv.prompt_chars += args.chars().count();
                call_ids.insert(id);
            }
            if let Some(plan) = m.get("tool_plan").and_then(Value::as_str) {
                conv.prompt_chars += plan.chars().count();
            }
            Ok(None)
        }
        "tool" => {
            let id = m
                .get("tool_call_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !call_ids.contains(id) {
                return Err(bad(format!(
                    "invalid request: messages[{i}]: tool_call_id '{id}' does not match any tool call"
                )));
            }
            Ok(Some(text))
        }
        other => Err(bad(format!(
            "invalid request: messages[{i}].role '{other}' must be one of system, user, assistant, tool"
        ))),
    }
}

/// Text of a string or a list of text / image_url / document parts (images are counted).
fn content_text(
    i: usize,
    content: Option<&Value>,
    images_ok: bool,
    conv: &mut Conversation,
) -> Result<String, ApiError> {
    match present(content) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        text.push_str(p.get("text").and_then(Value::as_str).unwrap_or(""))
                    }
                    Some("document") => {}
                    Some("image_url") if images_ok => {
                        if p.pointer("/image_url/url")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                        {
                            return Err(bad(format!(
                                "invalid request: messages[{i}]: image_url.url is required"
                            )));
                        }
                        conv.images += 1;
                    }
                    other => {
                        return Err(bad(format!(
                            "invalid request: messages[{i}]: content type '{}' is not supported here",
                            other.unwrap_or("")
                        )));
                    }
                }
            }
            Ok(text)
        }
        Some(_) => Err(bad(format!(
            "invalid request: messages[{i}].content must be a string or a list"
        ))),
    }
}

fn tools(v: Option<&Value>) -> Result<Vec<ToolSpec>, ApiError> {
    let Some(v) = present(v) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| bad("invalid request: tools must be a list"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let name = t.pointer("/function/name").and_then(Value::as_str);
        let name = name.ok_or_else(|| {
            bad(format!(
                "invalid request: tools[{i}].function.name is required"
            ))
        })?;
        out.push(ToolSpec {
            name: name.to_owned(),
            schema: t
                .pointer("/function/parameters")
                .cloned()
                .unwrap_or(Value::Null),
        });
    }
    Ok(out)
}

/// Answers `/v2/embed`: `{model, texts, input_type, embedding_types, output_dimension?}`.
pub fn embed(body: &Value, request_id: u64) -> Result<Vec<u8>, ApiError> {
    let texts: Vec<&str> = match present(body.get("texts")) {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|s| {
                s.as_str()
                    .ok_or_else(|| bad("invalid request: texts must be strings"))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(bad(
                "invalid request: texts must be a non-empty list of strings",
            ));
        }
    };
    if present(body.get("input_type"))
        .and_then(Value::as_str)
        .is_none()
    {
        return Err(bad(
            "invalid request: input_type is required for embed-v3 and newer models",
        ));
    }
    let types = body.get("embedding_types").and_then(Value::as_array);
    if !types.is_some_and(|t| t.iter().any(|t| t.as_str() == Some("float"))) {
        return Err(bad("invalid request: embedding_types must include float"));
    }
    let dims = body
        .get("output_dimension")
        .and_then(Value::as_u64)
        .map_or(embeddings::DEFAULT_DIMENSIONS, |d| d as usize);
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embeddings::vector(t, dims)).collect();
    let tokens: u64 = texts.iter().map(|t| embeddings::tokens(t)).sum();
    let out = json!({
        "id": format!("emb_emu{request_id}"),
        "embeddings": {"float": vectors},
        "texts": texts,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
        "response_type": "embeddings_by_type",
    });
    Ok(serde_json::to_vec(&out).unwrap_or_default())
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    id: String,
    message: &'a str,
}

/// `{"id":"…","message":"…"}`.
pub fn error_body(e: &ApiError, request_id: u64) -> Vec<u8> {
    let body = ErrorBody {
        id: format!("err_emu{request_id}"),
        message: &e.message,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The error a `status=CODE` directive answers with.
pub fn status_error(status: u16) -> ApiError {
    let msg = match status {
        400 => "invalid request",
        401 => "invalid api token",
        404 => "model not found",
        429 => "You are using a Trial key, which is limited to 10 API calls / minute.",
        500 => "internal server error, this has been reported to our developers",
        503 => "service unavailable",
        _ => "emulated upstream error",
    };
    ApiError::new(
        status,
        format!("{msg} (emulated by switchyard-emulator, status={status})"),
    )
}

#[cfg(test)]
mod tests;
