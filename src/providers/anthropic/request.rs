//! OpenAI chat request → Anthropic Messages request.
//!
//! Rules (docs/wire/mapping.md, docs/wire/edge-cases.md): system/developer messages anywhere become
//! the top-level `system`; consecutive same-role turns merge; `tool` messages become `tool_result`
//! blocks at the start of the next user turn; tool-call arguments (JSON strings) become `input`
//! objects; `max_tokens` is always sent; temperature above Anthropic's 1.0 is clamped.

use super::thinking;
use crate::error::GatewayError;
use crate::providers::ModelFacts;
use crate::providers::UpstreamRequest;
use crate::providers::cache::{Marks, Spot};
use crate::providers::content::{self, texts};
use crate::providers::convert::{self, arguments_object};
use crate::providers::settings::ProviderSettings;
use crate::providers::structured::{self, AnswerChoice, Structured};
use crate::translate::request::{
    ChatRequest, Content, ContentPart, Message, Role, Tool, ToolChoice,
};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<thinking::Thinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<OutputConfig>,
}

/// Native structured output: `output_config: {format: {type: "json_schema", schema}}`.
#[derive(Serialize)]
struct OutputConfig {
    format: OutputFormat,
}

#[derive(Serialize)]
struct OutputFormat {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: Value,
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
    #[serde(untagged)]
    Thought(thinking::ThoughtBlock<'a>),
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

/// Builds `POST {prefix}/v1/messages`; `facts` decides native structured output.
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
    facts: ModelFacts<'_>,
) -> Result<UpstreamRequest, GatewayError> {
    let mut lossy =
        super::super::params::check(provider, req, UNSUPPORTED, "Anthropic Messages API")?;
    let structured = structured::plan(req, facts.has(structured::NATIVE_CAPABILITY))?;
    let messages = req.messages()?;
    let mut marks = Marks::default();
    let (system, mut turns) = convert_messages(&messages, &mut marks)?;
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
        marks.shift_turns(1);
    }
    trim_final_assistant(&mut turns);
    let tools = req.tools()?;
    let mut out_tools = convert_tools(&tools)?;
    for (i, cc) in tools
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((i, t.cache_control.as_ref()?)))
    {
        marks.push(Spot::Tool(i), cc);
    }
    let client_choice = req.tool_choice()?;
    let answer = match &structured {
        Structured::Tool(_) => {
            structured::check_tool_names(&tools)?;
            Some(structured::answer_choice(
                client_choice.as_ref(),
                !out_tools.is_empty(),
            ))
        }
        _ => None,
    };
    let mut tool_choice = convert_tool_choice(
        client_choice,
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
    let (output_config, tool_answer) = match structured {
        Structured::None => (None, false),
        Structured::Native(schema) => (
            Some(OutputConfig {
                format: OutputFormat {
                    kind: "json_schema",
                    schema,
                },
            }),
            false,
        ),
        Structured::Tool(schema) => {
            out_tools.push(AnthropicTool {
                name: Cow::Borrowed(structured::ANSWER_TOOL),
                description: Some(Cow::Borrowed(structured::ANSWER_TOOL_DESCRIPTION)),
                input_schema: schema,
            });
            if let Some(choice) = answer.and_then(answer_tool_choice) {
                tool_choice = Some(choice);
            }
            (None, true)
        }
    };
    let stop_sequences = req
        .stop()?
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let reasoning = thinking::plan(
        req.reasoning(),
        req.max_output_tokens()
            .unwrap_or(provider.default_max_tokens),
        thinking::Context {
            capable: facts.has("reasoning"),
            forced_tool: tool_choice
                .as_ref()
                .is_some_and(|c| matches!(c.kind, "any" | "tool")),
            history_signed: history_signed(&turns),
        },
    );
    let thinking_on = reasoning.thinking.is_some();
    lossy.extend(approximated(req, reasoning.skipped.is_some(), thinking_on));
    if marks.is_empty() && provider.prompt_cache_auto {
        marks = Marks::auto(out_tools.len(), system.len(), last_user_block(&turns));
    }
    let body = MessagesRequest {
        model,
        max_tokens: reasoning.max_tokens,
        system,
        messages: turns,
        // Thinking allows only the default temperature and a top_p of at least 0.95.
        temperature: req.temperature.filter(|_| !thinking_on).map(|t| t.min(1.0)),
        top_p: req.top_p.filter(|p| !thinking_on || *p >= 0.95),
        stop_sequences,
        stream: req.is_stream(),
        tools: out_tools,
        tool_choice,
        metadata: req
            .user
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|user_id| Metadata { user_id }),
        thinking: reasoning.thinking,
        output_config,
    };
    let mut bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    if !marks.is_empty() {
        bytes = marks.apply_anthropic(&bytes)?;
    }
    let mut up = UpstreamRequest::new(
        format!("{}/v1/messages", provider.endpoint.path_prefix),
        Bytes::from(bytes),
    );
    up.tool_answer = tool_answer;
    up.lossy = lossy;
    Ok(up)
}

/// Parameters the Messages API gets changed: a reasoning ask it cannot take, a temperature
/// above its 1.0 or any temperature (and a top_p below 0.95) while thinking. Bedrock-hosted
/// Claude follows the same rules.
pub(crate) fn approximated(
    req: &ChatRequest<'_>,
    reasoning_skipped: bool,
    thinking_on: bool,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    if reasoning_skipped {
        out.push(req.reasoning_param());
    }
    if req.temperature.is_some_and(|t| thinking_on || t > 1.0) {
        out.push("temperature");
    }
    if thinking_on && req.top_p.is_some_and(|p| p < 0.95) {
        out.push("top_p");
    }
    out
}

/// The tool choice that makes the model answer through the answer tool (`None`: the
/// client's own forced function stands).
fn answer_tool_choice(choice: AnswerChoice) -> Option<AnthropicToolChoice<'static>> {
    let (kind, name) = match choice {
        AnswerChoice::Answer => ("tool", Some(Cow::Borrowed(structured::ANSWER_TOOL))),
        AnswerChoice::Any => ("any", None),
        AnswerChoice::Client => return None,
    };
    Some(AnthropicToolChoice {
        kind,
        name,
        disable_parallel_tool_use: choice == AnswerChoice::Answer,
    })
}

/// Parameters the Messages API cannot honour, handled by the provider's policy.
const UNSUPPORTED: &[&str] = &[
    "n",
    "logprobs",
    "logit_bias",
    "seed",
    "presence_penalty",
    "frequency_penalty",
];

type Converted<'a> = (Vec<Block<'a>>, Vec<Turn<'a>>);

fn convert_messages<'a>(
    messages: &'a [Message<'a>],
    marks: &mut Marks,
) -> Result<Converted<'a>, GatewayError> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn<'a>> = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let mut spot = None;
        match m.role {
            // Leading system messages form `system`; later ones stay in place (see
            // `content::system_reminder`).
            Role::System | Role::Developer => {
                let pieces = texts(m.content.as_ref(), i)?;
                if turns.is_empty() {
                    system.extend(pieces.into_iter().map(|text| Block::Text { text }));
                    spot = system.len().checked_sub(1).map(Spot::System);
                } else if let Some(r) = content::system_reminder(&pieces) {
                    let text = Cow::Owned(r);
                    push_turn(&mut turns, "user", vec![Block::Text { text }]);
                    spot = last_block(&turns);
                }
            }
            Role::User => {
                let blocks = user_blocks(m.content.as_ref(), i)?;
                push_turn(&mut turns, "user", blocks);
                spot = last_block(&turns);
            }
            Role::Assistant => {
                let mut blocks: Vec<Block<'a>> = thinking::blocks(m.thoughts())
                    .into_iter()
                    .map(Block::Thought)
                    .collect();
                blocks.extend(
                    texts(m.content.as_ref(), i)?
                        .into_iter()
                        .map(|text| Block::Text { text }),
                );
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let at = || format!("messages[{i}].tool_calls[{j}].function.arguments");
                    blocks.push(Block::ToolUse {
                        id: tool_id(&call.id, || format!("messages[{i}].tool_calls[{j}].id"))?,
                        name: call.function.name.clone(),
                        input: arguments_object(&call.function.arguments, at)?,
                    });
                }
                push_turn(&mut turns, "assistant", blocks);
                spot = last_block(&turns);
            }
            Role::Tool => {
                let id = convert::tool_call_id(m, i)?;
                let content = texts(m.content.as_ref(), i)?
                    .into_iter()
                    .map(|text| Block::Text { text })
                    .collect();
                let block = Block::ToolResult {
                    tool_use_id: tool_id(id, || format!("messages[{i}].tool_call_id"))?,
                    content,
                };
                let at = push_tool_result(&mut turns, block);
                spot = Some(Spot::Message {
                    turn: turns.len() - 1,
                    block: at,
                });
            }
            Role::Function => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].role"),
                    "role 'function' is deprecated and not supported; use 'tool' messages",
                ));
            }
        }
        if let (Some(spot), Some(cc)) = (spot, m.cache_mark()) {
            marks.push(spot, cc);
        }
    }
    Ok((system, turns))
}

/// The last block of the last turn.
fn last_block(turns: &[Turn<'_>]) -> Option<Spot> {
    let turn = turns.len().checked_sub(1)?;
    let block = turns[turn].content.len().checked_sub(1)?;
    Some(Spot::Message { turn, block })
}

/// The last block of the last user turn (the `prompt_cache: auto` breakpoint).
fn last_user_block(turns: &[Turn<'_>]) -> Option<(usize, usize)> {
    let turn = turns.iter().rposition(|t| t.role == "user")?;
    let block = turns[turn].content.len().checked_sub(1)?;
    Some((turn, block))
}

/// True when the last assistant turn that calls a tool opens with a thinking block (or no turn
/// calls one): Anthropic requires it while thinking is on.
fn history_signed(turns: &[Turn<'_>]) -> bool {
    turns
        .iter()
        .rev()
        .find(|t| {
            t.role == "assistant" && t.content.iter().any(|b| matches!(b, Block::ToolUse { .. }))
        })
        .is_none_or(|t| matches!(t.content.first(), Some(Block::Thought(_))))
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
/// Returns the block's index in that turn.
fn push_tool_result<'a>(turns: &mut Vec<Turn<'a>>, block: Block<'a>) -> usize {
    match turns.last_mut() {
        Some(last) if last.role == "user" => {
            let at = last
                .content
                .iter()
                .position(|b| !matches!(b, Block::ToolResult { .. }))
                .unwrap_or(last.content.len());
            last.content.insert(at, block);
            at
        }
        _ => {
            turns.push(Turn {
                role: "user",
                content: vec![block],
            });
            0
        }
    }
}

fn user_blocks<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Block<'a>>, GatewayError> {
    content::user_parts(
        content,
        i,
        "for Anthropic models",
        |text| Block::Text { text },
        image_block,
    )
}

fn image_block<'a>(p: &'a ContentPart<'a>, i: usize, j: usize) -> Result<Block<'a>, GatewayError> {
    let param = || format!("messages[{i}].content[{j}].image_url");
    let url = content::image_url(p, param)?;
    if let Some((mime, data)) = content::data_url(url, param)? {
        let media_type = content::image_media_type(mime).ok_or_else(|| {
            GatewayError::bad_param(
                param(),
                format!(
                    "image type '{}' is not supported by Anthropic (jpeg, png, gif, webp are)",
                    mime.to_ascii_lowercase()
                ),
            )
        })?;
        if data.is_empty() {
            return Err(GatewayError::bad_param(param(), "data URL has no data"));
        }
        return Ok(Block::Image {
            source: ImageSource::Base64 {
                media_type: Cow::Borrowed(media_type),
                data: Cow::Borrowed(data),
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
    convert::safe_id(id, at, |c| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-'
    })
}

fn convert_tools<'a>(tools: &'a [Tool<'a>]) -> Result<Vec<AnthropicTool<'a>>, GatewayError> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let f = convert::function_def(t, i, "for Anthropic models")?;
        let schema = convert::object_schema(f.parameters, i)?;
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
