//! The inbound Anthropic Messages request: the envelope the gateway needs for every target
//! ([`MessagesRequest`]: model and its byte span, `stream`, required fields checked), and its
//! translation into an OpenAI chat request for non-Anthropic targets ([`to_openai`]).
//!
//! Translation rules (docs/wire/mapping.md §9.1):
//! * `system` (string or text blocks) → one leading `system` message (blocks joined by a
//!   blank line);
//! * user `text`/`image` blocks → content parts (`base64` → `data:` URL, `url` → the URL);
//!   `document` blocks with a plain-text source → text; other documents are refused;
//! * user `tool_result` blocks → `role: tool` messages (placed before the rest of that turn);
//!   block content is flattened to text, images inside results become a placeholder, and
//!   `is_error: true` prefixes the text with `[tool error] `;
//! * assistant `text` → content, `tool_use` → `tool_calls` (input serialised as the JSON string
//!   `arguments`); `thinking` / `redacted_thinking` blocks → `reasoning_details` (signatures kept,
//!   for targets that verify them);
//! * `tools[].input_schema` → `function.parameters`; server tools (a `type` other than
//!   `custom`) are refused with 400; `tool_choice` auto/any/tool/none → auto/required/named/none,
//!   `disable_parallel_tool_use` → `parallel_tool_calls: false`;
//! * `max_tokens` → `max_completion_tokens`, `stop_sequences` → `stop`, `temperature`/`top_p`
//!   copied, `top_k` dropped (no OpenAI equivalent), `metadata.user_id` → `user`, `stream` →
//!   `stream` + `stream_options.include_usage`; `thinking` → the IR's reasoning (`enabled` →
//!   `reasoning.max_tokens` = `budget_tokens`, `adaptive` → `reasoning.enabled`, `disabled` →
//!   `reasoning_effort: none`), mapped per target like any client's reasoning.

mod output;
mod tools;

use crate::error::GatewayError;
use crate::translate::reasoning::DETAIL_FORMAT;
use crate::translate::request::Span;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// Top-level fields of a Messages request (everything else stays in the raw body).
#[derive(Debug, Deserialize)]
pub struct MessagesRequest<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(borrow, default)]
    messages: Option<&'a RawValue>,
    #[serde(borrow, default)]
    system: Option<&'a RawValue>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(borrow, default)]
    tools: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_choice: Option<&'a RawValue>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(borrow, default)]
    output_config: Option<&'a RawValue>,
    /// The structured-outputs beta's earlier spelling of `output_config.format`.
    #[serde(borrow, default)]
    output_format: Option<&'a RawValue>,
    #[serde(borrow, default)]
    thinking: Option<&'a RawValue>,
    #[serde(skip)]
    model_name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    user_id: Option<String>,
}

impl<'a> MessagesRequest<'a> {
    /// Parses the envelope. `count_only` is the `count_tokens` form, where `max_tokens` is not
    /// required.
    pub fn parse(body: &'a [u8], count_only: bool) -> Result<Self, GatewayError> {
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(not_an_object(body));
        }
        let mut de = serde_json::Deserializer::from_slice(body);
        let mut req: MessagesRequest<'a> =
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = dotted(&e.path().to_string());
                let inner = e.into_inner();
                if inner.is_data() && !path.is_empty() {
                    GatewayError::bad_param(path.clone(), format!("{path}: {}", expected(&path)))
                } else {
                    invalid_json(&inner)
                }
            })?;
        de.end().map_err(|e| invalid_json(&e))?;
        let model = req
            .model
            .ok_or_else(|| GatewayError::bad_param("model", "model: Field required"))?;
        req.model_name = serde_json::from_str(model.get())
            .map_err(|_| GatewayError::bad_param("model", "model: Input should be a string"))?;
        match req.messages {
            None => {
                return Err(GatewayError::bad_param(
                    "messages",
                    "messages: Field required",
                ));
            }
            Some(m) if !m.get().starts_with('[') => {
                return Err(GatewayError::bad_param(
                    "messages",
                    "messages: Input should be a valid list",
                ));
            }
            Some(_) => {}
        }
        if !count_only && req.max_tokens.is_none() {
            return Err(GatewayError::bad_param(
                "max_tokens",
                "max_tokens: Field required",
            ));
        }
        Ok(req)
    }

    /// The requested model.
    pub fn model(&self) -> &str {
        &self.model_name
    }

    /// The client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Span of the `model` value (with its quotes) inside `body`.
    pub fn model_span(&self, body: &[u8]) -> Option<Span> {
        let raw = self.model?;
        let start = (raw.get().as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
        let end = start + raw.get().len();
        (end <= body.len()).then_some(Span { start, end })
    }

    /// Raw `system`, `messages` and `tools` subtrees (for token estimates).
    pub fn parts(&self) -> [Option<&'a RawValue>; 3] {
        [self.system, self.messages, self.tools]
    }
}

/// Anthropic's wording for a body that is not valid JSON.
fn invalid_json(e: &serde_json::Error) -> GatewayError {
    GatewayError::bad_request(format!("The request body is not valid JSON: {e}"))
}

/// A body that is valid JSON but not an object, or not JSON at all.
fn not_an_object(body: &[u8]) -> GatewayError {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => GatewayError::bad_request("Input should be a valid dictionary"),
        Err(e) => invalid_json(&e),
    }
}

/// A serde path (`a[0].b`) in Anthropic's dotted form (`a.0.b`).
fn dotted(path: &str) -> String {
    path.replace('[', ".")
        .replace(']', "")
        .trim_start_matches('.')
        .to_string()
}

/// Anthropic's (Pydantic's) wording for a top-level field of the wrong type.
fn expected(path: &str) -> &'static str {
    match path.split('.').next().unwrap_or(path) {
        "max_tokens" => "Input should be a valid integer",
        "stream" => "Input should be a valid boolean",
        "temperature" | "top_p" => "Input should be a valid number",
        "stop_sequences" if path.contains('.') => "Input should be a valid string",
        "stop_sequences" => "Input should be a valid list",
        "metadata" if path.contains('.') => "Input should be a valid string",
        "metadata" => "Input should be a valid dictionary",
        _ => "Input has the wrong type",
    }
}

/// `body` with the `model` value replaced by `model`.
pub fn splice_model(body: &[u8], span: Span, model: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + model.len());
    out.extend_from_slice(&body[..span.start]);
    crate::translate::response::push_json_str(&mut out, model);
    out.extend_from_slice(&body[span.end..]);
    out
}

#[derive(Deserialize)]
struct InMessage {
    role: String,
    content: InContent,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InContent {
    Text(String),
    Blocks(Vec<Value>),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block {
    Text {
        text: String,
    },
    Image {
        source: Source,
    },
    Document {
        source: Source,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Option<Value>,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Option<Value>,
        #[serde(default)]
        is_error: Option<bool>,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Source {
    Base64 {
        media_type: String,
        data: String,
    },
    Url {
        url: String,
    },
    Text {
        data: String,
    },
    #[serde(other)]
    Other,
}

/// Placeholder for an image inside a tool result (OpenAI tool messages carry text only).
const TOOL_IMAGE: &str = "[image omitted: this provider accepts text-only tool results]";

/// Decodes one content block, naming its path on error.
pub(crate) fn block(v: Value, path: &str) -> Result<Block, GatewayError> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    serde_json::from_value(v).map_err(|e| {
        let known = [
            "text",
            "image",
            "document",
            "tool_use",
            "tool_result",
            "thinking",
            "redacted_thinking",
        ];
        if known.contains(&kind.as_str()) {
            GatewayError::bad_param(path.to_string(), format!("{path}: {e}"))
        } else {
            GatewayError::bad_param(
                format!("{path}.type"),
                format!(
                    "{path}: content block type `{kind}` is only supported when the model is served by an Anthropic provider"
                ),
            )
        }
    })
}

/// Translates the request into an OpenAI chat completion body.
pub fn to_openai(req: &MessagesRequest<'_>) -> Result<Vec<u8>, GatewayError> {
    let mut out = Map::new();
    out.insert("model".into(), Value::String(req.model().to_string()));
    let mut messages: Vec<Value> = Vec::new();
    if let Some(system) = system_text(req.system)? {
        messages.push(with_mark(
            json!({"role": "system", "content": system}),
            raw_mark(req.system),
        ));
    }
    let raw = req.messages.map(RawValue::get).unwrap_or("[]");
    let input: Vec<InMessage> = decode(raw, "messages")?;
    for (i, m) in input.into_iter().enumerate() {
        let path = format!("messages.{i}");
        match m.role.as_str() {
            "user" => user_turn(m.content, &path, &mut messages)?,
            "assistant" => assistant_turn(m.content, &path, &mut messages)?,
            // A mid-conversation system message stays a system message at its position.
            "system" => {
                let mark = match &m.content {
                    InContent::Blocks(b) => last_mark(b),
                    InContent::Text(_) => None,
                };
                if let Some(text) = content_text(m.content, &path)? {
                    messages.push(with_mark(json!({"role": "system", "content": text}), mark));
                }
            }
            _ => {
                return Err(GatewayError::bad_param(
                    format!("{path}.role"),
                    format!("{path}.role: Input should be 'user', 'assistant' or 'system'"),
                ));
            }
        }
    }
    out.insert("messages".into(), Value::Array(messages));
    if let Some(n) = req.max_tokens {
        out.insert("max_completion_tokens".into(), n.into());
    }
    if let Some(stop) = req.stop_sequences.as_ref().filter(|s| !s.is_empty()) {
        out.insert("stop".into(), json!(stop));
    }
    if let Some(t) = req.temperature {
        out.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        out.insert("top_p".into(), json!(p));
    }
    if let Some(user) = req.metadata.as_ref().and_then(|m| m.user_id.as_ref()) {
        out.insert("user".into(), Value::String(user.clone()));
    }
    tools::tools(req, &mut out)?;
    if let Some(format) = output::response_format(req.output_config, req.output_format)? {
        out.insert("response_format".into(), format);
    }
    if let Some((key, value)) = reasoning(req.thinking)? {
        out.insert(key.into(), value);
    }
    if req.is_stream() {
        out.insert("stream".into(), Value::Bool(true));
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    serde_json::to_vec(&Value::Object(out)).map_err(|_| GatewayError::internal())
}

#[derive(Deserialize)]
struct ThinkingIn {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    budget_tokens: Option<u64>,
}

/// `thinking` as the IR's reasoning: `enabled` with its budget → `reasoning.max_tokens`,
/// `adaptive` → `reasoning.enabled`, `disabled` → `reasoning_effort: none`.
fn reasoning(raw: Option<&RawValue>) -> Result<Option<(&'static str, Value)>, GatewayError> {
    let Some(raw) = raw.filter(|r| r.get().trim() != "null") else {
        return Ok(None);
    };
    let t: ThinkingIn = decode(raw.get(), "thinking")?;
    Ok(Some(match (t.kind.as_str(), t.budget_tokens) {
        ("enabled", Some(budget)) => ("reasoning", json!({ "max_tokens": budget })),
        ("enabled", None) => {
            return Err(GatewayError::bad_param(
                "thinking.budget_tokens",
                "thinking.enabled.budget_tokens: Field required",
            ));
        }
        ("adaptive", _) => ("reasoning", json!({ "enabled": true })),
        ("disabled", _) => ("reasoning_effort", json!("none")),
        (other, _) => {
            return Err(GatewayError::bad_param(
                "thinking.type",
                format!(
                    "thinking.type: Input tag '{other}' found using 'type' does not match any of \
                     the expected tags: 'enabled', 'disabled', 'adaptive'"
                ),
            ));
        }
    }))
}

fn decode<T: for<'de> Deserialize<'de>>(raw: &str, name: &str) -> Result<T, GatewayError> {
    let mut de = serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = dotted(&e.path().to_string());
        let param = if path.is_empty() {
            name.to_string()
        } else {
            format!("{name}.{path}")
        };
        GatewayError::bad_param(param.clone(), format!("{param}: {}", e.into_inner()))
    })
}

/// `system` as one string (text blocks joined by a blank line).
fn system_text(raw: Option<&RawValue>) -> Result<Option<String>, GatewayError> {
    let Some(raw) = raw else { return Ok(None) };
    match decode::<Option<InContent>>(raw.get(), "system")? {
        None => Ok(None),
        Some(content) => content_text(content, "system"),
    }
}

/// System content (a string or text blocks, joined by a blank line) as one string; `None`
/// when empty. `path` names the content in errors.
fn content_text(content: InContent, path: &str) -> Result<Option<String>, GatewayError> {
    let text = match content {
        InContent::Text(s) => s,
        InContent::Blocks(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (i, b) in blocks.into_iter().enumerate() {
                let bpath = if path == "system" {
                    format!("system.{i}")
                } else {
                    format!("{path}.content.{i}")
                };
                match block(b, &bpath)? {
                    Block::Text { text } => parts.push(text),
                    _ => {
                        return Err(GatewayError::bad_param(
                            bpath.clone(),
                            format!("{bpath}: system content blocks must be text blocks"),
                        ));
                    }
                }
            }
            parts.join("\n\n")
        }
    };
    Ok((!text.is_empty()).then_some(text))
}

fn user_turn(content: InContent, path: &str, out: &mut Vec<Value>) -> Result<(), GatewayError> {
    let blocks = match content {
        InContent::Text(s) => {
            out.push(json!({"role": "user", "content": s}));
            return Ok(());
        }
        InContent::Blocks(b) => b,
    };
    let mut parts: Vec<Value> = Vec::new();
    for (j, b) in blocks.into_iter().enumerate() {
        let bpath = format!("{path}.content.{j}");
        let mark = b.get("cache_control").cloned();
        let (n_parts, n_out) = (parts.len(), out.len());
        match block(b, &bpath)? {
            Block::Text { text } => parts.push(json!({"type": "text", "text": text})),
            Block::Image { source } => parts.push(image_part(source, &bpath)?),
            Block::Document { source } => match source {
                Source::Text { data } => parts.push(json!({"type": "text", "text": data})),
                _ => return Err(document_refused(&bpath)),
            },
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let mut text = tool_result_text(content, &bpath)?;
                if is_error == Some(true) {
                    text.insert_str(0, "[tool error] ");
                }
                out.push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": text}));
            }
            Block::ToolUse { .. } => {
                return Err(GatewayError::bad_param(
                    bpath.clone(),
                    format!("{bpath}: tool_use blocks belong in assistant messages"),
                ));
            }
            Block::Thinking { .. } | Block::RedactedThinking { .. } => {}
        }
        // A cache breakpoint stays on what the block became: its part, or its tool message.
        if let Some(mark) = mark {
            let made = if parts.len() > n_parts {
                parts.last_mut()
            } else if out.len() > n_out {
                out.last_mut()
            } else {
                None
            };
            if let Some(Value::Object(o)) = made {
                o.insert("cache_control".into(), mark);
            }
        }
    }
    if !parts.is_empty() {
        let mut message = Map::new();
        message.insert("role".into(), "user".into());
        match parts.as_mut_slice() {
            [one] if one.get("type").and_then(Value::as_str) == Some("text") => {
                if let Some(mark) = one.get_mut("cache_control").map(Value::take) {
                    message.insert("cache_control".into(), mark);
                }
                message.insert("content".into(), one["text"].take());
            }
            _ => {
                message.insert("content".into(), Value::Array(parts));
            }
        }
        out.push(Value::Object(message));
    }
    Ok(())
}

/// `message` with `cache_control: mark` when there is one.
fn with_mark(mut message: Value, mark: Option<Value>) -> Value {
    if let (Value::Object(o), Some(mark)) = (&mut message, mark) {
        o.insert("cache_control".into(), mark);
    }
    message
}

/// The last `cache_control` of a raw block list (`system`).
fn raw_mark(raw: Option<&RawValue>) -> Option<Value> {
    let blocks: Vec<Value> = serde_json::from_str(raw?.get()).ok()?;
    last_mark(&blocks)
}

/// The last `cache_control` among `blocks` (a breakpoint on a whole message).
fn last_mark(blocks: &[Value]) -> Option<Value> {
    blocks
        .iter()
        .rev()
        .find_map(|b| b.get("cache_control").cloned())
}

fn assistant_turn(
    content: InContent,
    path: &str,
    out: &mut Vec<Value>,
) -> Result<(), GatewayError> {
    let blocks = match content {
        InContent::Text(s) => {
            out.push(json!({"role": "assistant", "content": s}));
            return Ok(());
        }
        InContent::Blocks(b) => b,
    };
    let mark = last_mark(&blocks);
    let mut text = String::new();
    let mut calls: Vec<Value> = Vec::new();
    let mut thoughts: Vec<Value> = Vec::new();
    for (j, b) in blocks.into_iter().enumerate() {
        let bpath = format!("{path}.content.{j}");
        match block(b, &bpath)? {
            Block::Text { text: t } => text.push_str(&t),
            Block::ToolUse { id, name, input } => {
                let args = input
                    .unwrap_or_else(|| Value::Object(Map::new()))
                    .to_string();
                calls.push(json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}));
            }
            // Kept for targets that verify signatures (Bedrock-hosted Claude).
            Block::Thinking {
                thinking,
                signature,
            } => thoughts.push(json!({
                "type": "reasoning.text", "text": thinking, "signature": signature,
                "format": DETAIL_FORMAT, "index": thoughts.len(),
            })),
            Block::RedactedThinking { data } => thoughts.push(json!({
                "type": "reasoning.encrypted", "data": data,
                "format": DETAIL_FORMAT, "index": thoughts.len(),
            })),
            _ => {
                return Err(GatewayError::bad_param(
                    bpath.clone(),
                    format!(
                        "{bpath}: assistant messages carry text, tool_use and thinking blocks only"
                    ),
                ));
            }
        }
    }
    if text.is_empty() && calls.is_empty() {
        // Only thinking blocks: nothing an OpenAI-format provider can replay.
        return Ok(());
    }
    let mut m = Map::new();
    m.insert("role".into(), "assistant".into());
    m.insert(
        "content".into(),
        if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        },
    );
    if !calls.is_empty() {
        m.insert("tool_calls".into(), Value::Array(calls));
    }
    if !thoughts.is_empty() {
        m.insert("reasoning_details".into(), Value::Array(thoughts));
    }
    if let Some(mark) = mark {
        m.insert("cache_control".into(), mark);
    }
    out.push(Value::Object(m));
    Ok(())
}

fn image_part(source: Source, path: &str) -> Result<Value, GatewayError> {
    let url = match source {
        Source::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        Source::Url { url } => url,
        _ => {
            return Err(GatewayError::bad_param(
                format!("{path}.source"),
                format!("{path}.source: images need a `base64` or `url` source"),
            ));
        }
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

fn document_refused(path: &str) -> GatewayError {
    GatewayError::bad_param(
        format!("{path}.source"),
        format!(
            "{path}: only plain-text document blocks can be translated; PDF and file documents need a model served by an Anthropic provider"
        ),
    )
}

/// The tool a `tool_reference` block (tool search's answer, which loads a deferred tool)
/// names. Translated requests offer deferred tools from the start, so the reference only
/// needs to read as text.
fn tool_reference(b: &Value) -> Option<&str> {
    (b.get("type")?.as_str()? == "tool_reference")
        .then(|| b.get("tool_name").and_then(Value::as_str))
        .flatten()
}

fn push_line(text: &mut String, piece: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(piece);
}

/// A tool result's content flattened to text.
fn tool_result_text(content: Option<Value>, path: &str) -> Result<String, GatewayError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Array(blocks)) => {
            let mut text = String::new();
            for (k, b) in blocks.into_iter().enumerate() {
                if let Some(name) = tool_reference(&b) {
                    push_line(&mut text, &format!("[tool loaded: {name}]"));
                    continue;
                }
                let piece = match block(b, &format!("{path}.content.{k}"))? {
                    Block::Text { text } => text,
                    Block::Image { .. } => TOOL_IMAGE.to_string(),
                    Block::Document {
                        source: Source::Text { data },
                    } => data,
                    _ => continue,
                };
                push_line(&mut text, &piece);
            }
            Ok(text)
        }
        Some(_) => Err(GatewayError::bad_param(
            format!("{path}.content"),
            format!("{path}.content: must be a string or an array of blocks"),
        )),
    }
}

#[cfg(test)]
mod tests;
