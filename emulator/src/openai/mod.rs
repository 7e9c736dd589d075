//! OpenAI Chat Completions requests: validation (as light as the real API) into a [`Conversation`], and error bodies.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

pub mod render;

use crate::error::ApiError;
use crate::scenario::{Conversation, ToolChoice, ToolSpec};

/// What the renderer needs besides the [`Conversation`].
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub stream: bool,
    pub include_usage: bool,
    pub conv: Conversation,
}

const ROLES: &str = "'system', 'assistant', 'user', 'tool', and 'developer'";

/// Validate a parsed request body like the real API does (only the checks that matter to a gateway).
pub fn parse(body: &Value) -> Result<ChatRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request(
            "Invalid request body: expected a JSON object.",
        ));
    };
    if !matches!(obj.get("model"), Some(Value::String(m)) if !m.is_empty()) {
        return Err(ApiError::bad_request("you must provide a model parameter"));
    }
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) => m,
        None | Some(Value::Null) => {
            return Err(
                ApiError::bad_request("Missing required parameter: 'messages'.")
                    .param("messages")
                    .code("missing_required_parameter"),
            );
        }
        Some(_) => return Err(invalid_type("messages", "an array")),
    };
    if messages.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        )
        .param("messages")
        .code("empty_array"));
    }
    let mut req = ChatRequest::default();
    scan_messages(messages, &mut req.conv)?;
    check_reasoning(obj)?;

    if let Some(t) = present(obj.get("temperature")) {
        let t = t
            .as_f64()
            .ok_or_else(|| invalid_type("temperature", "a number"))?;
        if !(0.0..=2.0).contains(&t) {
            let (dir, code) = if t < 0.0 {
                (
                    "below minimum value. Expected a value >= 0",
                    "decimal_below_min_value",
                )
            } else {
                (
                    "above maximum value. Expected a value <= 2",
                    "decimal_above_max_value",
                )
            };
            return Err(ApiError::bad_request(format!(
                "Invalid 'temperature': decimal {dir}, but got {t} instead."
            ))
            .param("temperature")
            .code(code));
        }
    }
    for key in ["max_completion_tokens", "max_tokens"] {
        if let Some(v) = present(obj.get(key)) {
            let n = v.as_u64().ok_or_else(|| invalid_type(key, "an integer"))?;
            req.conv.max_tokens.get_or_insert(n);
        }
    }
    match present(obj.get("stop")) {
        None => {}
        Some(Value::String(s)) => req.conv.stop.push(s.clone()),
        Some(Value::Array(a)) => {
            for s in a {
                let s = s
                    .as_str()
                    .ok_or_else(|| invalid_type("stop", "a string or array of strings"))?;
                req.conv.stop.push(s.to_owned());
            }
        }
        Some(_) => return Err(invalid_type("stop", "a string or array of strings")),
    }
    req.stream = match present(obj.get("stream")) {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| invalid_type("stream", "a boolean"))?,
    };
    if let Some(opts) = present(obj.get("stream_options")) {
        if !req.stream {
            return Err(ApiError::bad_request(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            )
            .param("stream_options"));
        }
        req.include_usage = opts.get("include_usage").and_then(Value::as_bool) == Some(true);
    }
    req.conv.tools = tools(obj.get("tools"))?;
    req.conv.tool_choice = tool_choice(obj.get("tool_choice"))?;
    req.conv.output_schema = response_format(obj.get("response_format"));
    Ok(req)
}

/// OpenAI's rules for reasoning: no `reasoning` object (that is OpenRouter's), and
/// `reasoning_effort` only on reasoning models, with a known value.
fn check_reasoning(obj: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    if obj.contains_key("reasoning") {
        return Err(
            ApiError::bad_request("Unrecognized request argument supplied: reasoning")
                .param("reasoning"),
        );
    }
    let Some(effort) = present(obj.get("reasoning_effort")) else {
        return Ok(());
    };
    let model = obj.get("model").and_then(Value::as_str).unwrap_or("");
    if !is_reasoning_model(model) {
        return Err(ApiError::bad_request(
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
        )
        .param("reasoning_effort")
        .code("unsupported_parameter"));
    }
    match effort.as_str() {
        Some("none" | "minimal" | "low" | "medium" | "high" | "xhigh") => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid value: {effort}. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', and 'xhigh'."
        ))
        .param("reasoning_effort")
        .code("invalid_value")),
    }
}

/// Models that take `reasoning_effort`: the o-series, gpt-5 and gpt-oss.
fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5", "gpt-oss"]
        .iter()
        .any(|p| m.starts_with(p))
}

/// The schema `response_format` asks the answer to match (`json_object`: any object).
fn response_format(rf: Option<&Value>) -> Option<Value> {
    let rf = present(rf)?;
    match rf.get("type").and_then(Value::as_str) {
        Some("json_object") => Some(serde_json::json!({"type": "object"})),
        Some("json_schema") => Some(
            rf.pointer("/json_schema/schema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"})),
        ),
        _ => None,
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn invalid_type(param: &str, expected: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid type for '{param}': expected {expected}."))
        .param(param)
        .code("invalid_type")
}

/// Count prompt text and images, check roles and `tool_call_id`s, find a trailing tool result.
fn scan_messages(messages: &[Value], conv: &mut Conversation) -> Result<(), ApiError> {
    let mut call_ids: HashSet<&str> = HashSet::new();
    let mut trailing_tool: Option<usize> = None;
    for (i, m) in messages.iter().enumerate() {
        let role = match m.get("role") {
            Some(Value::String(r)) => r.as_str(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Missing required parameter: 'messages[{i}].role'."
                ))
                .param(format!("messages[{i}].role"))
                .code("missing_required_parameter"));
            }
        };
        count_content(m.get("content"), conv);
        trailing_tool = match role {
            "system" | "developer" | "user" => None,
            "assistant" => {
                for call in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(id) = call.get("id").and_then(Value::as_str) {
                        call_ids.insert(id);
                    }
                    let args = call.pointer("/function/arguments").and_then(Value::as_str);
                    conv.prompt_chars += args.map_or(0, |a| a.chars().count());
                }
                None
            }
            "tool" => {
                let id = m
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "Missing required parameter: 'messages[{i}].tool_call_id'."
                        ))
                        .param(format!("messages[{i}].tool_call_id"))
                        .code("missing_required_parameter")
                    })?;
                if !call_ids.contains(id) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (no tool call with id '{id}')."
                    ))
                    .param(format!("messages.[{i}].role")));
                }
                trailing_tool.or(Some(i))
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value: '{other}'. Supported values are: {ROLES}."
                ))
                .param(format!("messages[{i}].role"))
                .code("invalid_value"));
            }
        };
    }
    conv.tool_result = trailing_tool.map(|i| content_text(messages[i].get("content")));
    Ok(())
}

fn count_content(content: Option<&Value>, conv: &mut Conversation) {
    match content {
        Some(Value::String(s)) => conv.prompt_chars += s.chars().count(),
        Some(Value::Array(parts)) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("image_url") => conv.images += 1,
                    Some("text") | Some("refusal") => {
                        let t = p.get("text").or_else(|| p.get("refusal"));
                        conv.prompt_chars +=
                            t.and_then(Value::as_str).map_or(0, |t| t.chars().count());
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Text of a string content or the concatenated text parts.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

fn tools(v: Option<&Value>) -> Result<Vec<ToolSpec>, ApiError> {
    let Some(v) = present(v) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| invalid_type("tools", "an array"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let Some(f) = t.get("function") else {
            continue; // custom tools are accepted but never called
        };
        let name = f.get("name").and_then(Value::as_str).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Missing required parameter: 'tools[{i}].function.name'."
            ))
            .param(format!("tools[{i}].function.name"))
            .code("missing_required_parameter")
        })?;
        let schema = f.get("parameters").cloned().unwrap_or(Value::Null);
        out.push(ToolSpec {
            name: name.to_owned(),
            schema,
        });
    }
    Ok(out)
}

fn tool_choice(v: Option<&Value>) -> Result<ToolChoice, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}.",
        )
        .param("tool_choice")
        .code("invalid_value")
    };
    match present(v) {
        None => Ok(ToolChoice::Auto),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Any),
            _ => Err(bad()),
        },
        Some(obj) => match obj.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Ok(ToolChoice::Named(name.to_owned())),
            None if obj.get("type").and_then(Value::as_str) == Some("allowed_tools") => {
                Ok(ToolChoice::Auto)
            }
            None => Err(bad()),
        },
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

fn default_kind(status: u16) -> &'static str {
    match status {
        403 => "permission_denied",
        429 => "requests",
        503 => "service_unavailable",
        500.. => "server_error",
        _ => "invalid_request_error",
    }
}

/// `{"error":{"message","type","param","code"}}`.
pub fn error_body(e: &ApiError) -> Vec<u8> {
    let body = ErrorBody {
        error: ErrorObject {
            message: &e.message,
            kind: e.kind.unwrap_or_else(|| default_kind(e.status)),
            param: e.param.as_deref(),
            code: e.code,
        },
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The error a `status=CODE` directive answers with, shaped like OpenAI's real one.
pub fn status_error(status: u16) -> ApiError {
    let tag = format!("(emulated by switchyard-emulator, status={status})");
    let (msg, code) = match status {
        400 => ("Bad request.", None),
        401 => ("Incorrect API key provided.", Some("invalid_api_key")),
        403 => (
            "You are not allowed to access this resource.",
            Some("permission_denied"),
        ),
        404 => (
            "The model does not exist or you do not have access to it.",
            Some("model_not_found"),
        ),
        429 => (
            "Rate limit reached for requests.",
            Some("rate_limit_exceeded"),
        ),
        500 => (
            "The server had an error while processing your request.",
            None,
        ),
        503 => (
            "The engine is currently overloaded, please try again later.",
            None,
        ),
        _ => ("Emulated upstream error.", None),
    };
    let mut e = ApiError::new(status, format!("{msg} {tag}"));
    e.code = code;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(v: Value) -> ChatRequest {
        parse(&v).unwrap()
    }

    fn err(v: Value) -> ApiError {
        parse(&v).unwrap_err()
    }

    #[test]
    fn minimal_request() {
        let r = ok(json!({"model":"m","messages":[{"role":"user","content":"12345678"}]}));
        assert!(!r.stream);
        assert_eq!(r.conv.prompt_chars, 8);
        assert_eq!(r.conv.tool_choice, ToolChoice::Auto);
    }

    /// `reasoning_effort` only on reasoning models; OpenRouter's `reasoning` is not OpenAI's.
    #[test]
    fn reasoning_rules() {
        let user = json!([{"role": "user", "content": "hi"}]);
        ok(json!({"model": "o4-mini", "messages": user, "reasoning_effort": "high"}));
        ok(json!({"model": "gpt-5", "messages": user, "reasoning_effort": "minimal"}));
        let e = err(json!({"model": "gpt-4o-mini", "messages": user, "reasoning_effort": "low"}));
        assert_eq!(e.code, Some("unsupported_parameter"));
        let e = err(json!({"model": "o3", "messages": user, "reasoning_effort": "max"}));
        assert_eq!(e.code, Some("invalid_value"));
        let e = err(json!({"model": "o3", "messages": user, "reasoning": {"effort": "low"}}));
        assert_eq!(e.param.as_deref(), Some("reasoning"));
    }

    #[test]
    fn required_fields() {
        assert_eq!(
            err(json!({"messages":[]})).message,
            "you must provide a model parameter"
        );
        assert_eq!(
            err(json!({"model":"m"})).code,
            Some("missing_required_parameter")
        );
        assert_eq!(
            err(json!({"model":"m","messages":[]})).code,
            Some("empty_array")
        );
        assert_eq!(err(json!([1])).status, 400);
    }

    #[test]
    fn roles_and_tool_ids() {
        let e = err(json!({"model":"m","messages":[{"role":"robot","content":"x"}]}));
        assert_eq!(e.param.as_deref(), Some("messages[0].role"));
        let e = err(
            json!({"model":"m","messages":[{"role":"tool","tool_call_id":"c1","content":"x"}]}),
        );
        assert!(e.message.contains("preceeding message with 'tool_calls'"));
        let r = ok(json!({"model":"m","messages":[
            {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:x"}}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"result"}]}]}));
        assert_eq!(r.conv.tool_result.as_deref(), Some("result"));
        assert_eq!(r.conv.images, 1);
        assert_eq!(r.conv.prompt_chars, 2 + 2 + 6);
    }

    #[test]
    fn sampling_params() {
        let e =
            err(json!({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5}));
        assert_eq!(e.code, Some("decimal_above_max_value"));
        let r = ok(
            json!({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_completion_tokens":3,"stop":"END","stream":true,"stream_options":{"include_usage":true}}),
        );
        assert_eq!(r.conv.max_tokens, Some(3));
        assert_eq!(r.conv.stop, vec!["END".to_string()]);
        assert!(r.stream && r.include_usage);
        let e = err(
            json!({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}),
        );
        assert_eq!(e.param.as_deref(), Some("stream_options"));
    }

    #[test]
    fn tools_and_choice() {
        let r = ok(
            json!({"model":"m","messages":[{"role":"user","content":"x"}],
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
            "tool_choice":{"type":"function","function":{"name":"f"}}}),
        );
        assert_eq!(r.conv.tools[0].name, "f");
        assert_eq!(r.conv.tool_choice, ToolChoice::Named("f".into()));
        let e = err(
            json!({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}),
        );
        assert_eq!(e.param.as_deref(), Some("tool_choice"));
    }

    #[test]
    fn error_bodies() {
        let v: Value = serde_json::from_slice(&error_body(&status_error(429))).unwrap();
        assert_eq!(v["error"]["type"], "requests");
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert!(v["error"]["param"].is_null());
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("switchyard-emulator")
        );
        let v: Value = serde_json::from_slice(&error_body(&status_error(401))).unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "invalid_api_key");
    }
}
