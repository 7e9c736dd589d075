//! OpenAI chat request → Anthropic Messages request.
//!
//! Rules (wire-formats.md §9, §11): system/developer messages anywhere become the top-level
//! `system`; consecutive same-role turns merge; `tool` messages become `tool_result` blocks at
//! the start of the next user turn; tool-call arguments (JSON strings) become `input` objects;
//! `max_tokens` is always sent; temperature above Anthropic's 1.0 is clamped.

use crate::config::ProviderSettings;
use crate::error::GatewayError;
use crate::providers::UpstreamRequest;
use crate::translate::request::{
    ChatRequest, Content, ContentPart, Message, Role, Tool, ToolChoice,
};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<Block<'a>>,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<AnthropicTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<AnthropicToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
}

#[derive(Serialize)]
struct Turn<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: Cow<'a, str>,
    },
    Image {
        source: ImageSource<'a>,
    },
    ToolUse {
        id: Cow<'a, str>,
        name: Cow<'a, str>,
        input: Value,
    },
    ToolResult {
        tool_use_id: Cow<'a, str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        content: Vec<Block<'a>>,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ImageSource<'a> {
    Base64 {
        media_type: Cow<'a, str>,
        data: Cow<'a, str>,
    },
    Url {
        url: Cow<'a, str>,
    },
}

#[derive(Serialize)]
struct AnthropicTool<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    input_schema: Value,
}

#[derive(Serialize)]
struct AnthropicToolChoice<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_parallel_tool_use: bool,
}

#[derive(Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

/// Placeholder user turn for conversations that do not start with one.
const LEADING_USER_TEXT: &str = ".";

/// Builds `POST {prefix}/v1/messages`.
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    super::super::params::check(provider, req, UNSUPPORTED, "Anthropic Messages API")?;
    let messages = req.messages()?;
    let (system, mut turns) = convert_messages(&messages)?;
    if turns.is_empty() {
        return Err(GatewayError::bad_param(
            "messages",
            format!(
                "provider {} needs at least one user or assistant message besides system messages",
                provider.name
            ),
        ));
    }
    if turns[0].role == "assistant" {
        turns.insert(
            0,
            Turn {
                role: "user",
                content: vec![Block::Text {
                    text: Cow::Borrowed(LEADING_USER_TEXT),
                }],
            },
        );
    }
    trim_final_assistant(&mut turns);
    let tools = req.tools()?;
    let mut out_tools = convert_tools(&tools)?;
    let mut tool_choice = convert_tool_choice(
        req.tool_choice()?,
        req.parallel_tool_calls,
        !out_tools.is_empty(),
    );
    if out_tools.is_empty() {
        // Anthropic rejects tool blocks in the history without tool definitions: declare the
        // tools the history uses and forbid new calls.
        out_tools = tools_from_history(&turns);
        if !out_tools.is_empty() {
            tool_choice = Some(AnthropicToolChoice {
                kind: "none",
                name: None,
                disable_parallel_tool_use: false,
            });
        }
    }
    let stop_sequences = req
        .stop()?
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let body = MessagesRequest {
        model,
        max_tokens: req
            .max_output_tokens()
            .unwrap_or(provider.default_max_tokens),
        system,
        messages: turns,
        temperature: req.temperature.map(|t| t.min(1.0)),
        top_p: req.top_p,
        stop_sequences,
        stream: req.is_stream(),
        tools: out_tools,
        tool_choice,
        metadata: req
            .user
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|user_id| Metadata { user_id }),
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    Ok(UpstreamRequest::new(
        format!("{}/v1/messages", provider.endpoint.path_prefix),
        Bytes::from(bytes),
    ))
}

/// Parameters the Messages API cannot honour, handled by the provider's policy.
const UNSUPPORTED: &[&str] = &[
    "n",
    "logprobs",
    "response_format",
    "logit_bias",
    "seed",
    "presence_penalty",
    "frequency_penalty",
];

type Converted<'a> = (Vec<Block<'a>>, Vec<Turn<'a>>);

fn convert_messages<'a>(messages: &'a [Message<'a>]) -> Result<Converted<'a>, GatewayError> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn<'a>> = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        match m.role {
            Role::System | Role::Developer => {
                for text in texts(m.content.as_ref(), i)? {
                    system.push(Block::Text { text });
                }
            }
            Role::User => {
                let blocks = user_blocks(m.content.as_ref(), i)?;
                push_turn(&mut turns, "user", blocks);
            }
            Role::Assistant => {
                let mut blocks: Vec<Block<'a>> = texts(m.content.as_ref(), i)?
                    .into_iter()
                    .map(|text| Block::Text { text })
                    .collect();
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let at = || format!("messages[{i}].tool_calls[{j}].function.arguments");
                    blocks.push(Block::ToolUse {
                        id: tool_id(&call.id, || format!("messages[{i}].tool_calls[{j}].id"))?,
                        name: call.function.name.clone(),
                        input: arguments_object(&call.function.arguments, at)?,
                    });
                }
                push_turn(&mut turns, "assistant", blocks);
            }
            Role::Tool => {
                let id = m.tool_call_id.as_ref().ok_or_else(|| {
                    GatewayError::bad_param(
                        format!("messages[{i}].tool_call_id"),
                        "tool messages need a tool_call_id",
                    )
                })?;
                let content = texts(m.content.as_ref(), i)?
                    .into_iter()
                    .map(|text| Block::Text { text })
                    .collect();
                let block = Block::ToolResult {
                    tool_use_id: tool_id(id, || format!("messages[{i}].tool_call_id"))?,
                    content,
                };
                push_tool_result(&mut turns, block);
            }
            Role::Function => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].role"),
                    "role 'function' is deprecated and not supported; use 'tool' messages",
                ));
            }
        }
    }
    Ok((system, turns))
}

/// Appends blocks to the last turn if it has the same role, else starts a new turn.
fn push_turn<'a>(turns: &mut Vec<Turn<'a>>, role: &'static str, blocks: Vec<Block<'a>>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => turns.push(Turn {
            role,
            content: blocks,
        }),
    }
}

/// Tool results go into the user turn after the assistant's calls, ahead of any user text.
fn push_tool_result<'a>(turns: &mut Vec<Turn<'a>>, block: Block<'a>) {
    match turns.last_mut() {
        Some(last) if last.role == "user" => {
            let at = last
                .content
                .iter()
                .position(|b| !matches!(b, Block::ToolResult { .. }))
                .unwrap_or(last.content.len());
            last.content.insert(at, block);
        }
        _ => turns.push(Turn {
            role: "user",
            content: vec![block],
        }),
    }
}

/// Non-empty text pieces of a message (text parts only).
pub(crate) fn texts<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Cow<'a, str>>, GatewayError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(if t.is_empty() {
            Vec::new()
        } else {
            vec![borrow(t)]
        }),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match (p.kind.as_ref(), &p.text, &p.refusal) {
                    ("text", Some(t), _) if !t.is_empty() => out.push(borrow(t)),
                    ("text", _, _) => {}
                    ("refusal", _, Some(r)) if !r.is_empty() => out.push(borrow(r)),
                    ("refusal", _, _) => {}
                    (other, _, _) => {
                        return Err(GatewayError::bad_param(
                            format!("messages[{i}].content[{j}].type"),
                            format!("content part type '{other}' is not allowed in this message"),
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

fn user_blocks<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Block<'a>>, GatewayError> {
    let Some(Content::Parts(parts)) = content else {
        return Ok(texts(content, i)?
            .into_iter()
            .map(|text| Block::Text { text })
            .collect());
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        match p.kind.as_ref() {
            "text" => {
                if let Some(t) = p.text.as_ref().filter(|t| !t.is_empty()) {
                    out.push(Block::Text { text: borrow(t) });
                }
            }
            "image_url" => out.push(image_block(p, i, j)?),
            other => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].content[{j}].type"),
                    format!(
                        "content part type '{other}' is not supported for Anthropic models (text and image_url are)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn image_block<'a>(p: &'a ContentPart<'a>, i: usize, j: usize) -> Result<Block<'a>, GatewayError> {
    let param = || format!("messages[{i}].content[{j}].image_url");
    let url = p
        .image_url
        .as_ref()
        .map(|u| u.url.as_ref())
        .ok_or_else(|| GatewayError::bad_param(param(), "image_url.url is required"))?;
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| GatewayError::bad_param(param(), "malformed data URL"))?;
        let mime = meta
            .strip_suffix(";base64")
            .ok_or_else(|| GatewayError::bad_param(param(), "data URLs must be base64-encoded"))?;
        let media_type = match mime.to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" => "image/jpeg",
            "image/png" => "image/png",
            "image/gif" => "image/gif",
            "image/webp" => "image/webp",
            other => {
                return Err(GatewayError::bad_param(
                    param(),
                    format!(
                        "image type '{other}' is not supported by Anthropic (jpeg, png, gif, webp are)"
                    ),
                ));
            }
        };
        if data.is_empty() {
            return Err(GatewayError::bad_param(param(), "data URL has no data"));
        }
        let offset = url.len() - data.len();
        return Ok(Block::Image {
            source: ImageSource::Base64 {
                media_type: Cow::Borrowed(media_type),
                data: Cow::Borrowed(&url[offset..]),
            },
        });
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(Block::Image {
            source: ImageSource::Url {
                url: Cow::Borrowed(url),
            },
        });
    }
    Err(GatewayError::bad_param(
        param(),
        "image URLs must be https:// URLs or base64 data: URLs",
    ))
}

/// Anthropic ids must match `^[a-zA-Z0-9_-]+$`; other characters are replaced consistently,
/// so a call and its result still match.
fn tool_id<'a>(
    id: &'a Cow<'a, str>,
    at: impl Fn() -> String,
) -> Result<Cow<'a, str>, GatewayError> {
    if id.is_empty() {
        return Err(GatewayError::bad_param(
            at(),
            "tool call ids must not be empty",
        ));
    }
    if id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Ok(borrow(id));
    }
    Ok(Cow::Owned(
        id.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    ))
}

/// Parses tool-call arguments (a JSON string) into the object Anthropic expects.
pub(crate) fn arguments_object(
    arguments: &str,
    at: impl Fn() -> String,
) -> Result<Value, GatewayError> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
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

fn convert_tools<'a>(tools: &'a [Tool<'a>]) -> Result<Vec<AnthropicTool<'a>>, GatewayError> {
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
                    format!("tool type '{other}' is not supported for Anthropic models"),
                ));
            }
        };
        let mut schema = match f.parameters {
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
        out.push(AnthropicTool {
            name: borrow(&f.name),
            description: f.description.as_ref().map(borrow),
            input_schema: Value::Object(schema),
        });
    }
    Ok(out)
}

fn convert_tool_choice<'a>(
    choice: Option<ToolChoice<'a>>,
    parallel: Option<bool>,
    has_tools: bool,
) -> Option<AnthropicToolChoice<'a>> {
    if !has_tools {
        return None;
    }
    let disable_parallel = parallel == Some(false);
    let (kind, name) = match choice {
        None if !disable_parallel => return None,
        None | Some(ToolChoice::Auto) => ("auto", None),
        Some(ToolChoice::None) => {
            return Some(AnthropicToolChoice {
                kind: "none",
                name: None,
                disable_parallel_tool_use: false,
            });
        }
        Some(ToolChoice::Required) => ("any", None),
        Some(ToolChoice::Function(n)) => ("tool", Some(n)),
    };
    Some(AnthropicToolChoice {
        kind,
        name,
        disable_parallel_tool_use: disable_parallel,
    })
}

fn tools_from_history<'a>(turns: &[Turn<'a>]) -> Vec<AnthropicTool<'a>> {
    let mut out: Vec<AnthropicTool<'a>> = Vec::new();
    for block in turns.iter().flat_map(|t| t.content.iter()) {
        if let Block::ToolUse { name, .. } = block {
            if !out.iter().any(|t| t.name == *name) {
                out.push(AnthropicTool {
                    name: name.clone(),
                    description: Some(Cow::Borrowed(
                        "Declared by the gateway from the conversation history.",
                    )),
                    input_schema: serde_json::json!({"type": "object", "properties": {}}),
                });
            }
        }
    }
    out
}

/// A final assistant turn is a prefill; Anthropic rejects trailing whitespace there and
/// empty text blocks anywhere.
fn trim_final_assistant(turns: &mut Vec<Turn<'_>>) {
    let Some(last) = turns.last_mut().filter(|t| t.role == "assistant") else {
        return;
    };
    if let Some(Block::Text { text }) = last.content.last_mut() {
        let trimmed = text.trim_end();
        if trimmed.is_empty() {
            last.content.pop();
        } else if trimmed.len() != text.len() {
            *text = Cow::Owned(trimmed.to_string());
        }
    }
    if last.content.is_empty() {
        turns.pop();
    }
}

fn borrow<'a>(s: &'a Cow<'a, str>) -> Cow<'a, str> {
    Cow::Borrowed(s.as_ref())
}

#[cfg(test)]
mod tests;
