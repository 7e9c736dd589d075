//! Anthropic Messages requests: validation with the real API's messages into a [`Conversation`], and error bodies.

use serde::Serialize;
use serde_json::Value;

pub mod count_tokens;
pub mod render;
mod thinking;

use crate::b64::valid_base64;
use crate::error::ApiError;
use crate::scenario::{Conversation, ToolChoice, ToolSpec};

/// What the renderer needs besides the [`Conversation`].
#[derive(Debug, Clone, Default)]
pub struct MessagesRequest {
    pub stream: bool,
    /// The request enables extended thinking: the answer opens with a signed thinking block.
    pub thinking: bool,
    pub conv: Conversation,
}

const MEDIA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const ID_PATTERN: &str = "String should match pattern '^[a-zA-Z0-9_-]+$'";

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

/// Tool-use bookkeeping of one message, for the pairing rules.
#[derive(Default)]
struct Turn<'a> {
    assistant: bool,
    /// A mid-conversation system message.
    system: bool,
    uses: Vec<&'a str>,
    /// (block index, tool_use_id)
    results: Vec<(usize, &'a str)>,
    first_result_text: Option<String>,
}

/// Betas under which the API takes `role: "system"` messages inside `messages`
/// (mid-conversation system messages); Claude Code sends one of them when it places one.
pub const MID_CONVERSATION_BETAS: [&str; 2] = [
    "mid-conversation-system-2026-04-07",
    "mid-conversation-tool-changes-2026-07-01",
];

/// The `anthropic-beta` header value enables mid-conversation system messages.
pub fn allows_mid_system(beta: Option<&str>) -> bool {
    beta.is_some_and(|b| {
        b.split(',')
            .any(|x| MID_CONVERSATION_BETAS.contains(&x.trim()))
    })
}

/// Validate a parsed request body the way the real API does (without beta features).
#[cfg(test)]
pub fn parse(body: &Value) -> Result<MessagesRequest, ApiError> {
    parse_with(body, false)
}

/// [`parse`], with mid-conversation system messages accepted when `mid_system`.
pub fn parse_with(body: &Value, mid_system: bool) -> Result<MessagesRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad("Input should be a valid dictionary"));
    };
    if !matches!(obj.get("model"), Some(Value::String(m)) if !m.is_empty()) {
        return Err(bad("model: Field required"));
    }
    let mut req = MessagesRequest::default();
    let max = obj
        .get("max_tokens")
        .ok_or_else(|| bad("max_tokens: Field required"))?;
    let max = max
        .as_i64()
        .ok_or_else(|| bad("max_tokens: Input should be a valid integer"))?;
    if max < 1 {
        return Err(bad(
            "max_tokens: Input should be greater than or equal to 1",
        ));
    }
    req.conv.max_tokens = u64::try_from(max).ok();

    let messages = match obj.get("messages") {
        Some(Value::Array(m)) => m,
        None => return Err(bad("messages: Field required")),
        Some(_) => return Err(bad("messages: Input should be a valid list")),
    };
    if messages.is_empty() {
        return Err(bad("messages: at least one message is required"));
    }
    match obj.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req.conv.prompt_chars += s.chars().count(),
        Some(Value::Array(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                let text = b.get("text").and_then(Value::as_str);
                let text = text.ok_or_else(|| bad(format!("system.{j}.text: Field required")))?;
                if text.is_empty() {
                    return Err(bad(format!(
                        "system.{j}.text: text content blocks must be non-empty"
                    )));
                }
                req.conv.prompt_chars += text.chars().count();
            }
        }
        Some(_) => return Err(bad("system: Input should be a valid string")),
    }
    let mut turns = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let last = i + 1 == messages.len();
        let prev_system = turns.last().is_some_and(|t: &Turn| t.system);
        let turn = match m.get("role").and_then(Value::as_str) {
            Some("system") => system_message(i, m, mid_system, prev_system, &mut req.conv)?,
            _ => scan_message(i, m, last, &mut req.conv)?,
        };
        turns.push(turn);
    }
    // Mid-conversation system messages take no part in the tool_use/tool_result pairing.
    let turns: Vec<Turn> = turns.into_iter().filter(|t| !t.system).collect();
    check_pairing(&turns)?;
    if let Some(t) = turns
        .last()
        .filter(|t| !t.assistant && !t.results.is_empty())
    {
        req.conv.tool_result = Some(t.first_result_text.clone().unwrap_or_default());
    }

    req.thinking = thinking::check(obj, messages)?;
    if let Some(t) = present(obj.get("temperature")) {
        let t = t
            .as_f64()
            .ok_or_else(|| bad("temperature: Input should be a valid number"))?;
        if t < 0.0 {
            return Err(bad(
                "temperature: Input should be greater than or equal to 0",
            ));
        }
        if t > 1.0 {
            return Err(bad("temperature: Input should be less than or equal to 1"));
        }
    }
    if let Some(s) = present(obj.get("stop_sequences")) {
        let list = s
            .as_array()
            .ok_or_else(|| bad("stop_sequences: Input should be a valid list"))?;
        for (k, s) in list.iter().enumerate() {
            let s = s.as_str().ok_or_else(|| {
                bad(format!(
                    "stop_sequences.{k}: Input should be a valid string"
                ))
            })?;
            req.conv.stop.push(s.to_owned());
        }
    }
    req.stream = match present(obj.get("stream")) {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad("stream: Input should be a valid boolean"))?,
    };
    req.conv.tools = tools(obj.get("tools"))?;
    req.conv.tool_choice = tool_choice(obj.get("tool_choice"))?;
    req.conv.output_schema = output_format(obj)?;
    Ok(req)
}

/// The schema of native structured output: `output_config.format` (or the beta's
/// `output_format`), `{type: "json_schema", schema}`.
fn output_format(obj: &serde_json::Map<String, Value>) -> Result<Option<Value>, ApiError> {
    let format = obj
        .get("output_config")
        .and_then(|c| c.get("format"))
        .or_else(|| obj.get("output_format"));
    let Some(f) = present(format) else {
        return Ok(None);
    };
    if f.get("type").and_then(Value::as_str) != Some("json_schema") {
        return Err(bad(
            "output_config.format.type: Input should be 'json_schema'",
        ));
    }
    match f.get("schema") {
        Some(s) if s.is_object() => Ok(Some(s.clone())),
        _ => Err(bad("output_config.format.schema: Field required")),
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn scan_message<'a>(
    i: usize,
    m: &'a Value,
    last: bool,
    conv: &mut Conversation,
) -> Result<Turn<'a>, ApiError> {
    let role = m.get("role").and_then(Value::as_str);
    let role = role.ok_or_else(|| bad(format!("messages.{i}.role: Field required")))?;
    let mut turn = Turn {
        assistant: role == "assistant",
        ..Turn::default()
    };
    match role {
        "user" | "assistant" => {}
        _ => {
            return Err(bad(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            )));
        }
    }
    match m.get("content") {
        Some(Value::String(s)) => {
            if s.is_empty() && !(last && turn.assistant) {
                return Err(bad(format!(
                    "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
                )));
            }
            conv.prompt_chars += s.chars().count();
        }
        Some(Value::Array(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                scan_block(i, j, b, &mut turn, conv)?;
            }
        }
        None => return Err(bad(format!("messages.{i}.content: Field required"))),
        Some(_) => {
            return Err(bad(format!(
                "messages.{i}.content: Input should be a valid string or list"
            )));
        }
    }
    Ok(turn)
}

/// The real API's refusal of `role: "system"` inside `messages` without the beta.
pub const UNEXPECTED_SYSTEM: &str = "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.";

/// A `role: "system"` message: refused without the beta; with it, it may not open the
/// conversation or follow another system message, and carries text only.
fn system_message<'a>(
    i: usize,
    m: &'a Value,
    allowed: bool,
    prev_system: bool,
    conv: &mut Conversation,
) -> Result<Turn<'a>, ApiError> {
    if !allowed {
        return Err(bad(UNEXPECTED_SYSTEM));
    }
    if i == 0 {
        return Err(bad(
            "messages.0: a system message cannot be the first message; put initial instructions in the top-level `system` parameter",
        ));
    }
    if prev_system {
        return Err(bad(format!(
            "messages.{i}: consecutive system messages are not allowed; merge them into one"
        )));
    }
    match m.get("content") {
        Some(Value::String(s)) if !s.is_empty() => conv.prompt_chars += s.chars().count(),
        Some(Value::Array(blocks)) if !blocks.is_empty() => {
            for (j, b) in blocks.iter().enumerate() {
                let at = format!("messages.{i}.content.{j}");
                if b.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(bad(format!(
                        "{at}: system messages may only contain text blocks"
                    )));
                }
                conv.prompt_chars += text_block(&at, b)?;
            }
        }
        _ => {
            return Err(bad(format!(
                "messages.{i}.content: system messages need non-empty text content"
            )));
        }
    }
    Ok(Turn {
        system: true,
        ..Turn::default()
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn scan_block<'a>(
    i: usize,
    j: usize,
    b: &'a Value,
    turn: &mut Turn<'a>,
    conv: &mut Conversation,
) -> Result<(), ApiError> {
    let at = format!("messages.{i}.content.{j}");
    let kind = b.get("type").and_then(Value::as_str);
    match kind.ok_or_else(|| bad(format!("{at}.type: Field required")))? {
        "text" => conv.prompt_chars += text_block(&at, b)?,
        "image" => {
            image(&at, b)?;
            conv.images += 1;
        }
        "tool_use" => {
            let id = b.get("id").and_then(Value::as_str).unwrap_or_default();
            if !valid_id(id) {
                return Err(bad(format!("{at}.tool_use.id: {ID_PATTERN}")));
            }
            if b.get("name").and_then(Value::as_str).is_none() {
                return Err(bad(format!("{at}.tool_use.name: Field required")));
            }
            conv.prompt_chars += b.get("input").map_or(0, |v| v.to_string().chars().count());
            turn.uses.push(id);
        }
        "tool_result" => {
            let id = b
                .get("tool_use_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !valid_id(id) {
                return Err(bad(format!("{at}.tool_result.tool_use_id: {ID_PATTERN}")));
            }
            let text = tool_result_content(&at, b.get("content"), conv)?;
            conv.prompt_chars += text.chars().count();
            turn.first_result_text.get_or_insert(text);
            turn.results.push((j, id));
        }
        "thinking" => {
            let t = b
                .get("thinking")
                .and_then(Value::as_str)
                .unwrap_or_default();
            conv.prompt_chars += t.chars().count();
        }
        "redacted_thinking"
        | "document"
        | "search_result"
        | "server_tool_use"
        | "web_search_tool_result"
        | "web_fetch_tool_result"
        | "container_upload" => {}
        other => {
            return Err(bad(format!(
                "{at}: Input tag '{other}' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', 'tool_use', 'tool_result', 'server_tool_use', 'web_search_tool_result'"
            )));
        }
    }
    Ok(())
}

/// Characters of a text block, which must be non-empty.
fn text_block(at: &str, b: &Value) -> Result<usize, ApiError> {
    let text = b.get("text").and_then(Value::as_str);
    let text = text.ok_or_else(|| bad(format!("{at}.text: Field required")))?;
    if text.is_empty() {
        return Err(bad(format!(
            "{at}.text: text content blocks must be non-empty"
        )));
    }
    Ok(text.chars().count())
}

/// Text of a `tool_result` content (string or text/image blocks); images are counted.
fn tool_result_content(
    at: &str,
    content: Option<&Value>,
    conv: &mut Conversation,
) -> Result<String, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(blocks)) => {
            let mut text = String::new();
            for (k, b) in blocks.iter().enumerate() {
                let inner = format!("{at}.tool_result.content.{k}");
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        text_block(&inner, b)?;
                        text.push_str(b.get("text").and_then(Value::as_str).unwrap_or_default());
                    }
                    Some("image") => {
                        image(&inner, b)?;
                        conv.images += 1;
                    }
                    _ => {}
                }
            }
            Ok(text)
        }
        Some(_) => Err(bad(format!(
            "{at}.tool_result.content: Input should be a valid string or list"
        ))),
    }
}

fn image(at: &str, b: &Value) -> Result<(), ApiError> {
    let src = b
        .get("source")
        .ok_or_else(|| bad(format!("{at}.image.source: Field required")))?;
    match src.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let media = src
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !MEDIA_TYPES.contains(&media) {
                return Err(bad(format!(
                    "{at}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
                )));
            }
            let data = src.get("data").and_then(Value::as_str).unwrap_or_default();
            if !valid_base64(data) {
                return Err(bad(format!(
                    "{at}.image.source.base64.data: The image data is not valid base64"
                )));
            }
        }
        Some("url") => {
            if src
                .get("url")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(bad(format!("{at}.image.source.url.url: Field required")));
            }
        }
        Some("file") => {}
        other => {
            return Err(bad(format!(
                "{at}.image.source: Input tag '{}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'",
                other.unwrap_or("")
            )));
        }
    }
    Ok(())
}

/// Every `tool_use` needs a `tool_result` in the next user message and vice versa.
fn check_pairing(turns: &[Turn]) -> Result<(), ApiError> {
    for (i, t) in turns.iter().enumerate() {
        if t.assistant && !t.uses.is_empty() {
            let next = turns.get(i + 1).filter(|n| !n.assistant);
            let answered = |id: &&str| next.is_some_and(|n| n.results.iter().any(|(_, r)| r == id));
            let missing: Vec<&str> = t.uses.iter().filter(|id| !answered(id)).copied().collect();
            if !missing.is_empty() {
                return Err(bad(format!(
                    "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                    missing.join(", ")
                )));
            }
        }
        if !t.assistant {
            let prev = i
                .checked_sub(1)
                .and_then(|p| turns.get(p))
                .filter(|p| p.assistant);
            for (j, id) in &t.results {
                if !prev.is_some_and(|p| p.uses.contains(id)) {
                    return Err(bad(format!(
                        "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    )));
                }
            }
        }
    }
    Ok(())
}

fn tools(v: Option<&Value>) -> Result<Vec<ToolSpec>, ApiError> {
    let Some(v) = present(v) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| bad("tools: Input should be a valid list"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        match t.get("type").and_then(Value::as_str) {
            None | Some("custom") => {}
            Some(_) => continue, // server tools (web_search_…) are accepted but never called
        }
        let name = t.get("name").and_then(Value::as_str);
        let name = name.ok_or_else(|| bad(format!("tools.{i}.custom.name: Field required")))?;
        let schema = t
            .get("input_schema")
            .ok_or_else(|| bad(format!("tools.{i}.custom.input_schema: Field required")))?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(bad(format!(
                "tools.{i}.custom.input_schema.type: Input should be 'object'"
            )));
        }
        out.push(ToolSpec {
            name: name.to_owned(),
            schema: schema.clone(),
        });
    }
    Ok(out)
}

fn tool_choice(v: Option<&Value>) -> Result<ToolChoice, ApiError> {
    let Some(v) = present(v) else {
        return Ok(ToolChoice::Auto);
    };
    match v.get("type").and_then(Value::as_str) {
        Some("auto") => Ok(ToolChoice::Auto),
        Some("any") => Ok(ToolChoice::Any),
        Some("none") => Ok(ToolChoice::None),
        Some("tool") => match v.get("name").and_then(Value::as_str) {
            Some(n) => Ok(ToolChoice::Named(n.to_owned())),
            None => Err(bad("tool_choice.tool.name: Field required")),
        },
        other => Err(bad(format!(
            "tool_choice: Input tag '{}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
            other.unwrap_or("")
        ))),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: ErrorObject<'a>,
    request_id: String,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

/// The error `type` Anthropic uses for an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500.. => "api_error",
        _ => "invalid_request_error",
    }
}

/// `{"type":"error","error":{"type","message"},"request_id":"req_emuN"}`.
pub fn error_body(e: &ApiError, request_id: u64) -> Vec<u8> {
    let body = ErrorBody {
        kind: "error",
        error: ErrorObject {
            kind: e.kind.unwrap_or_else(|| error_type(e.status)),
            message: &e.message,
        },
        request_id: format!("req_emu{request_id}"),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The error a `status=CODE` directive answers with.
pub fn status_error(status: u16) -> ApiError {
    let msg = match status {
        400 => "Bad request.",
        401 => "invalid x-api-key",
        403 => "Your API key does not have permission to use the specified resource.",
        404 => "The requested resource could not be found.",
        413 => "Request exceeds the maximum allowed number of bytes.",
        429 => "Number of requests has exceeded your rate limit.",
        500 => "Internal server error",
        504 => "Request timed out",
        529 => "Overloaded",
        _ => "Emulated upstream error",
    };
    ApiError::new(
        status,
        format!("{msg} (emulated by switchyard-emulator, status={status})"),
    )
}

#[cfg(test)]
mod tests;
