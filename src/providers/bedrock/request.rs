//! OpenAI chat request → Bedrock Converse request (docs/wire/bedrock.md §2, docs/wire/mapping.md,
//! docs/wire/edge-cases.md §8).
//!
//! System/developer messages become `system: [{text}]`; consecutive same-role turns merge;
//! `tool` messages become `toolResult` blocks leading the next user turn; images must be
//! `data:` URLs (Bedrock takes bytes and cannot fetch URLs). Bedrock has no `toolChoice: none`
//! and refuses tool blocks without a `toolConfig`, so a request that offers no usable tools
//! (none given, or `tool_choice: "none"`) sends no `toolConfig` and carries its tool history
//! as plain text instead: the model then cannot call a tool, which is what "none" means.

use super::{EVENT_STREAM, model_path, signed_request};
use crate::error::GatewayError;
use crate::providers::UpstreamRequest;
use crate::providers::anthropic::thinking;
use crate::providers::cache::{Marks, Spot};
use crate::providers::content::{self, texts};
use crate::providers::convert::{self, arguments_object};
use crate::providers::settings::ProviderSettings;
use crate::providers::structured::{self, AnswerChoice, Structured};
use crate::translate::request::{
    ChatRequest, Content, ContentPart, Message, Role, Tool, ToolChoice,
};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConverseRequest<'a> {
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<Block<'a>>,
    inference_config: InferenceConfig<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig<'a>>,
    /// Model-specific fields: `thinking` for Claude.
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_model_request_fields: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceConfig<'a> {
    max_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<Cow<'a, str>>,
}

#[derive(Serialize)]
pub(super) struct Turn<'a> {
    pub(super) role: &'static str,
    pub(super) content: Vec<Block<'a>>,
}

/// A `ContentBlock` union member (exactly one key).
#[derive(Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(super) enum Block<'a> {
    Text(Cow<'a, str>),
    Image {
        format: &'static str,
        source: ImageSource<'a>,
    },
    ToolUse {
        tool_use_id: Cow<'a, str>,
        name: Cow<'a, str>,
        input: Value,
    },
    ToolResult {
        tool_use_id: Cow<'a, str>,
        content: Vec<ResultContent<'a>>,
        status: &'static str,
    },
    ReasoningContent(Reasoning<'a>),
}

/// A `reasoningContent` block sent back in an assistant turn.
#[derive(Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(super) enum Reasoning<'a> {
    ReasoningText {
        text: Cow<'a, str>,
        signature: Cow<'a, str>,
    },
    RedactedContent(Cow<'a, str>),
}

#[derive(Serialize)]
pub(super) struct ImageSource<'a> {
    bytes: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ResultContent<'a> {
    Text(Cow<'a, str>),
    Json(Value),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig<'a> {
    tools: Vec<ToolEntry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Choice<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolEntry<'a> {
    tool_spec: ToolSpec<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolSpec<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    input_schema: Schema,
}

#[derive(Serialize)]
struct Schema {
    json: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Choice<'a> {
    Auto {},
    Any {},
    Tool { name: Cow<'a, str> },
}

/// Placeholder user turn for conversations that do not start with one.
const LEADING_USER_TEXT: &str = ".";

/// Parameters Converse cannot honour, handled by the provider's policy.
pub(super) const UNSUPPORTED: &[&str] = &[
    "n",
    "logprobs",
    "logit_bias",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "user",
];

/// Builds a signed `POST {prefix}/model/{id}/converse` (or `/converse-stream`).
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let (op, accept) = if req.is_stream() {
        ("converse-stream", EVENT_STREAM)
    } else {
        ("converse", "application/json")
    };
    let Converse {
        body,
        tool_answer,
        lossy,
    } = converse_body(provider, req, model)?;
    let mut up = signed_request(
        provider,
        model_path(&provider.endpoint.path_prefix, model, op),
        body,
        accept,
    )?;
    up.tool_answer = tool_answer;
    up.lossy = lossy;
    Ok(up)
}

/// A Converse body and what the request needs to know about it.
pub(super) struct Converse {
    /// The JSON body (unsigned).
    pub body: Vec<u8>,
    /// It asks for structured output through the answer tool.
    pub tool_answer: bool,
    /// Parameters dropped or approximated.
    pub lossy: Vec<&'static str>,
}

/// The Converse body for `model`.
pub(super) fn converse_body(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
) -> Result<Converse, GatewayError> {
    let mut lossy =
        crate::providers::params::check(provider, req, UNSUPPORTED, "Bedrock Converse API")?;
    // Converse has a native `outputConfig.textFormat`, but only some models take it; the
    // answer tool works with every model that takes tools.
    let answer_schema = match structured::plan(req, false)? {
        Structured::Tool(schema) => Some(schema),
        Structured::None | Structured::Native(_) => None,
    };
    let messages = req.messages()?;
    let tools = req.tools()?;
    if answer_schema.is_some() {
        structured::check_tool_names(&tools)?;
    }
    let choice = req.tool_choice()?;
    let tools_active = !tools.is_empty() && !matches!(choice, Some(ToolChoice::None));
    let mut marks = Marks::default();
    let (system, mut turns) = convert_messages(&messages, tools_active, &mut marks)?;
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
                content: vec![Block::Text(Cow::Borrowed(LEADING_USER_TEXT))],
            },
        );
        marks.shift_turns(1);
    }
    trim_final_assistant(&mut turns);
    let mut tool_config = if tools_active {
        Some(ToolConfig {
            tools: convert_tools(&tools)?,
            tool_choice: match &choice {
                None | Some(ToolChoice::None) => None,
                Some(ToolChoice::Auto) => Some(Choice::Auto {}),
                Some(ToolChoice::Required) => Some(Choice::Any {}),
                Some(ToolChoice::Function(name)) => Some(Choice::Tool { name: name.clone() }),
            },
        })
    } else {
        None
    };
    let tool_answer = answer_schema.is_some();
    if let Some(schema) = answer_schema {
        add_answer_tool(&mut tool_config, schema, choice.as_ref());
    }
    // Claude on Bedrock thinks like Claude on Anthropic (the same budget rules).
    let reasoning = thinking::plan(
        req.reasoning(),
        req.max_output_tokens()
            .unwrap_or(provider.default_max_tokens),
        thinking::Context {
            capable: model.contains("claude"),
            forced_tool: tool_config.as_ref().is_some_and(|c| {
                matches!(c.tool_choice, Some(Choice::Any {} | Choice::Tool { .. }))
            }),
            history_signed: history_signed(&turns),
        },
    );
    let thinking_on = reasoning.thinking.is_some();
    lossy.extend(crate::providers::anthropic::request::approximated(
        req,
        reasoning.skipped.is_some(),
        thinking_on,
    ));
    if tools_active {
        for (i, t) in tools.iter().enumerate() {
            if let Some(cc) = &t.cache_control {
                marks.push(Spot::Tool(i), cc);
            }
        }
    }
    if marks.is_empty() && provider.prompt_cache_auto {
        let tools = tool_config.as_ref().map_or(0, |c| c.tools.len());
        marks = Marks::auto(tools, system.len(), last_user_block(&turns));
    }
    let body = ConverseRequest {
        messages: turns,
        system,
        inference_config: InferenceConfig {
            max_tokens: reasoning.max_tokens,
            // Bedrock's range is 0–1; OpenAI's is 0–2. Thinking allows neither a temperature
            // nor a top_p below 0.95.
            temperature: req.temperature.filter(|_| !thinking_on).map(|t| t.min(1.0)),
            top_p: req.top_p.filter(|p| !thinking_on || *p >= 0.95),
            stop_sequences: req
                .stop()?
                .into_iter()
                .filter(|s| !s.trim().is_empty())
                .collect(),
        },
        tool_config,
        additional_model_request_fields: reasoning
            .thinking
            .map(|t| serde_json::json!({ "thinking": t })),
    };
    let mut bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    if !marks.is_empty() {
        bytes = marks.apply_bedrock(&bytes)?;
    }
    Ok(Converse {
        body: bytes,
        tool_answer,
        lossy,
    })
}

/// Adds the answer tool to the tool config (creating it) and makes the model call it, or any
/// tool when the client's own tools are on offer (docs/wire/mapping.md, "Structured output").
fn add_answer_tool<'a>(
    config: &mut Option<ToolConfig<'a>>,
    schema: Value,
    choice: Option<&ToolChoice<'_>>,
) {
    let config = config.get_or_insert_with(|| ToolConfig {
        tools: Vec::new(),
        tool_choice: None,
    });
    let answer = structured::answer_choice(choice, !config.tools.is_empty());
    config.tools.push(ToolEntry {
        tool_spec: ToolSpec {
            name: Cow::Borrowed(structured::ANSWER_TOOL),
            description: Some(Cow::Borrowed(structured::ANSWER_TOOL_DESCRIPTION)),
            input_schema: Schema { json: schema },
        },
    });
    match answer {
        AnswerChoice::Answer => {
            config.tool_choice = Some(Choice::Tool {
                name: Cow::Borrowed(structured::ANSWER_TOOL),
            });
        }
        AnswerChoice::Any => config.tool_choice = Some(Choice::Any {}),
        AnswerChoice::Client => {}
    }
}

type Converted<'a> = (Vec<Block<'a>>, Vec<Turn<'a>>);

/// The signed thoughts of an assistant turn as `reasoningContent` blocks.
fn reasoning_blocks<'a>(m: &Message<'a>) -> Vec<Block<'a>> {
    thinking::blocks(m.thoughts())
        .into_iter()
        .map(|b| {
            Block::ReasoningContent(match b {
                thinking::ThoughtBlock::Thinking {
                    thinking,
                    signature,
                } => Reasoning::ReasoningText {
                    text: thinking,
                    signature,
                },
                thinking::ThoughtBlock::RedactedThinking { data } => {
                    Reasoning::RedactedContent(data)
                }
            })
        })
        .collect()
}

/// True when the last assistant turn that calls a tool opens with its reasoning (or no turn
/// calls one).
fn history_signed(turns: &[Turn<'_>]) -> bool {
    turns
        .iter()
        .rev()
        .find(|t| {
            t.role == "assistant" && t.content.iter().any(|b| matches!(b, Block::ToolUse { .. }))
        })
        .is_none_or(|t| matches!(t.content.first(), Some(Block::ReasoningContent(_))))
}

fn convert_messages<'a>(
    messages: &'a [Message<'a>],
    tools_active: bool,
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
                    system.extend(pieces.into_iter().map(Block::Text));
                    spot = system.len().checked_sub(1).map(Spot::System);
                } else if let Some(r) = content::system_reminder(&pieces) {
                    push_turn(&mut turns, "user", vec![Block::Text(Cow::Owned(r))]);
                    spot = last_block(&turns);
                }
            }
            Role::User => {
                let blocks = user_blocks(m.content.as_ref(), i)?;
                push_turn(&mut turns, "user", blocks);
                spot = last_block(&turns);
            }
            Role::Assistant => {
                let mut blocks: Vec<Block<'a>> = reasoning_blocks(m);
                blocks.extend(texts(m.content.as_ref(), i)?.into_iter().map(Block::Text));
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let at = || format!("messages[{i}].tool_calls[{j}].function.arguments");
                    let input = arguments_object(&call.function.arguments, at)?;
                    let id = tool_id(&call.id, || format!("messages[{i}].tool_calls[{j}].id"))?;
                    blocks.push(if tools_active {
                        Block::ToolUse {
                            tool_use_id: id,
                            name: call.function.name.clone(),
                            input,
                        }
                    } else {
                        Block::Text(Cow::Owned(format!(
                            "[tool call {id}: {}({input})]",
                            call.function.name
                        )))
                    });
                }
                push_turn(&mut turns, "assistant", blocks);
                spot = last_block(&turns);
            }
            Role::Tool => {
                let id = tool_id(convert::tool_call_id(m, i)?, || {
                    format!("messages[{i}].tool_call_id")
                })?;
                let text = texts(m.content.as_ref(), i)?.join("");
                let block = if tools_active {
                    Block::ToolResult {
                        tool_use_id: id,
                        content: result_content(text),
                        status: "success",
                    }
                } else {
                    Block::Text(Cow::Owned(format!("[tool result {id}: {text}]")))
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

/// A tool result that is a JSON object goes as `{json}`, anything else as `{text}`.
fn result_content<'a>(text: String) -> Vec<ResultContent<'a>> {
    if text.is_empty() {
        return Vec::new();
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => vec![ResultContent::Json(v)],
        _ => vec![ResultContent::Text(Cow::Owned(text))],
    }
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
    content::user_parts(content, i, "for Bedrock models", Block::Text, image_block)
}

fn image_block<'a>(p: &'a ContentPart<'a>, i: usize, j: usize) -> Result<Block<'a>, GatewayError> {
    let param = || format!("messages[{i}].content[{j}].image_url");
    let url = content::image_url(p, param)?;
    let Some((mime, data)) = content::data_url(url, param)? else {
        return Err(GatewayError::bad_param(
            param(),
            "Bedrock takes image bytes and cannot fetch image URLs; send the image as a \
             base64 data: URL (data:image/png;base64,...)",
        ));
    };
    let format = content::image_media_type(mime)
        .and_then(|m| m.strip_prefix("image/"))
        .ok_or_else(|| {
            GatewayError::bad_param(
                param(),
                format!(
                    "image type '{}' is not supported by Bedrock (jpeg, png, gif, webp are)",
                    mime.to_ascii_lowercase()
                ),
            )
        })?;
    if data.is_empty() {
        return Err(GatewayError::bad_param(param(), "data URL has no data"));
    }
    Ok(Block::Image {
        format,
        source: ImageSource { bytes: data },
    })
}

/// Bedrock `toolUseId` must match `[a-zA-Z0-9_.:-]{1,64}`; other characters are replaced
/// consistently, so a call and its result still match.
fn tool_id<'a>(
    id: &'a Cow<'a, str>,
    at: impl Fn() -> String,
) -> Result<Cow<'a, str>, GatewayError> {
    convert::safe_id(id, at, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
    })
}

fn convert_tools<'a>(tools: &'a [Tool<'a>]) -> Result<Vec<ToolEntry<'a>>, GatewayError> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let f = convert::function_def(t, i, "for Bedrock models")?;
        let schema = convert::object_schema(f.parameters, i)?;
        out.push(ToolEntry {
            tool_spec: ToolSpec {
                name: Cow::Borrowed(f.name.as_ref()),
                description: f
                    .description
                    .as_ref()
                    .filter(|d| !d.is_empty())
                    .map(|d| Cow::Borrowed(d.as_ref())),
                input_schema: Schema {
                    json: Value::Object(schema),
                },
            },
        });
    }
    Ok(out)
}

/// A final assistant turn is a prefill; Claude on Bedrock rejects trailing whitespace there.
fn trim_final_assistant(turns: &mut Vec<Turn<'_>>) {
    let Some(last) = turns.last_mut().filter(|t| t.role == "assistant") else {
        return;
    };
    if let Some(Block::Text(text)) = last.content.last_mut() {
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

#[cfg(test)]
mod tests;
