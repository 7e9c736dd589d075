//! OpenAI chat request → Gemini `GenerateContentRequest`.
//!
//! Rules (docs/wire/gemini.md §2, docs/wire/mapping.md): system/developer messages anywhere become
//! `systemInstruction`; `user`/`assistant` become `user`/`model` contents, consecutive
//! same-role turns merged and a leading `model` turn preceded by a placeholder user turn;
//! `tool` messages become `functionResponse` parts (name recovered from the assistant call with
//! that id, result wrapped as `{"output": text}`) at the start of the next user turn; assistant
//! tool calls become `functionCall` parts with the thought signature their id carries
//! ([`super::ids`]); images become `inlineData` (data URLs) or `fileData` (URLs); tool schemas
//! are reduced to Gemini's schema subset ([`super::schema`]).

use super::{ids, method_path, schema};
use crate::error::GatewayError;
use crate::providers::content::{self, texts};
use crate::providers::convert::{self, arguments_object};
use crate::providers::settings::ProviderSettings;
use crate::providers::structured::{self, refs};
use crate::providers::{UpstreamRequest, params};
use crate::translate::request::{ChatRequest, Message, Role, Tool, ToolChoice};
use bytes::Bytes;
use parts::user_parts;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentRequest<'a> {
    contents: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<SystemInstruction<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolGroup<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig<'a>>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig<'a>,
}

#[derive(Serialize)]
struct SystemInstruction<'a> {
    parts: Vec<Part<'a>>,
}

#[derive(Serialize)]
struct Turn<'a> {
    role: &'static str,
    parts: Vec<Part<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(flatten)]
    data: PartData<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
enum PartData<'a> {
    Text(Cow<'a, str>),
    InlineData {
        mime_type: Cow<'a, str>,
        data: &'a str,
    },
    FileData {
        mime_type: &'static str,
        file_uri: &'a str,
    },
    FunctionCall {
        name: Cow<'a, str>,
        args: Value,
    },
    FunctionResponse {
        name: Cow<'a, str>,
        response: Value,
    },
}

impl<'a> Part<'a> {
    fn new(data: PartData<'a>) -> Self {
        Part {
            data,
            thought_signature: None,
        }
    }

    fn text(text: Cow<'a, str>) -> Self {
        Part::new(PartData::Text(text))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolGroup<'a> {
    function_declarations: Vec<FunctionDeclaration<'a>>,
}

#[derive(Serialize)]
struct FunctionDeclaration<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig<'a> {
    function_calling_config: FunctionCallingConfig<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionCallingConfig<'a> {
    mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_function_names: Vec<Cow<'a, str>>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_config: Option<super::thinking::ThinkingConfig>,
}

impl GenerationConfig<'_> {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.max_output_tokens.is_none()
            && self.stop_sequences.is_empty()
            && self.seed.is_none()
            && self.presence_penalty.is_none()
            && self.frequency_penalty.is_none()
            && self.response_mime_type.is_none()
            && self.thinking_config.is_none()
    }
}

/// Parameters the Gemini API cannot honour, handled by the provider's policy. (`n` > 1 would
/// be `candidateCount`, but the gateway's responses carry one choice.)
const UNSUPPORTED: &[&str] = &["n", "logprobs", "logit_bias", "user"];

/// Placeholder user turn for conversations that do not start with one.
const LEADING_USER_TEXT: &str = ".";

/// Builds `POST …/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`).
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let mut lossy = params::check(provider, req, UNSUPPORTED, "Gemini API")?;
    let messages = req.messages()?;
    let (system, mut contents) = convert_messages(&messages)?;
    if contents.is_empty() {
        return Err(GatewayError::bad_param(
            "messages",
            format!(
                "provider {} needs at least one user or assistant message besides system messages",
                provider.name
            ),
        ));
    }
    if contents[0].role == "model" {
        contents.insert(
            0,
            Turn {
                role: "user",
                parts: vec![Part::text(Cow::Borrowed(LEADING_USER_TEXT))],
            },
        );
    }
    let tools = req.tools()?;
    let declarations = convert_tools(&tools)?;
    let tool_config = if declarations.is_empty() {
        None
    } else {
        tool_config(req.tool_choice()?)
    };
    let (response_mime_type, response_schema) = response_format(req)?;
    let (thinking_config, max_output_tokens) =
        super::thinking::config(req.reasoning(), model, req.max_output_tokens());
    if thinking_config.is_none() && req.reasoning().is_some_and(|a| a.enabled()) {
        lossy.push(req.reasoning_param());
    }
    let body = GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(SystemInstruction { parts: system }),
        tools: if declarations.is_empty() {
            Vec::new()
        } else {
            vec![ToolGroup {
                function_declarations: declarations,
            }]
        },
        tool_config,
        generation_config: GenerationConfig {
            temperature: req.temperature,
            top_p: req.top_p,
            max_output_tokens,
            stop_sequences: req.stop()?,
            seed: req.seed,
            presence_penalty: req.presence_penalty,
            frequency_penalty: req.frequency_penalty,
            response_mime_type,
            response_schema,
            thinking_config,
        },
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    let prefix = &provider.endpoint.path_prefix;
    let path = if req.is_stream() {
        format!(
            "{}?alt=sse",
            method_path(prefix, model, "streamGenerateContent")
        )
    } else {
        method_path(prefix, model, "generateContent")
    };
    let mut up = UpstreamRequest::new(path, Bytes::from(bytes));
    up.lossy = lossy;
    Ok(up)
}

type Converted<'a> = (Vec<Part<'a>>, Vec<Turn<'a>>);

fn convert_messages<'a>(messages: &'a [Message<'a>]) -> Result<Converted<'a>, GatewayError> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn<'a>> = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        match m.role {
            // Leading system messages form `systemInstruction`; later ones stay in place
            // (see `content::system_reminder`).
            Role::System | Role::Developer => {
                let pieces = texts(m.content.as_ref(), i)?;
                if turns.is_empty() {
                    system.extend(pieces.into_iter().map(Part::text));
                } else if let Some(r) = content::system_reminder(&pieces) {
                    push_turn(&mut turns, "user", vec![Part::text(Cow::Owned(r))]);
                }
            }
            Role::User => {
                let parts = user_parts(m.content.as_ref(), i)?;
                push_turn(&mut turns, "user", parts);
            }
            Role::Assistant => {
                let mut parts: Vec<Part<'a>> = texts(m.content.as_ref(), i)?
                    .into_iter()
                    .map(Part::text)
                    .collect();
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let at = || format!("messages[{i}].tool_calls[{j}].function.arguments");
                    parts.push(Part {
                        data: PartData::FunctionCall {
                            name: borrow(&call.function.name),
                            args: arguments_object(&call.function.arguments, at)?,
                        },
                        thought_signature: ids::signature(&call.id),
                    });
                }
                push_turn(&mut turns, "model", parts);
            }
            Role::Tool => {
                let id: &str = convert::tool_call_id(m, i)?;
                let name = call_name(&messages[..i], id).ok_or_else(|| {
                    GatewayError::bad_param(
                        format!("messages[{i}].tool_call_id"),
                        format!(
                            "no earlier assistant message has a tool call with id '{id}' \
                             (Gemini needs the function name of every tool result)"
                        ),
                    )
                })?;
                let output = texts(m.content.as_ref(), i)?.concat();
                let part = Part::new(PartData::FunctionResponse {
                    name: Cow::Borrowed(name),
                    response: serde_json::json!({ "output": output }),
                });
                push_tool_result(&mut turns, part);
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

/// The function name of the latest assistant tool call with `id`.
fn call_name<'a>(earlier: &'a [Message<'a>], id: &str) -> Option<&'a str> {
    earlier
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .flat_map(|m| m.tool_calls.iter().flatten())
        .find(|c| c.id == id)
        .map(|c| c.function.name.as_ref())
}

/// Appends parts to the last turn if it has the same role, else starts a new turn.
fn push_turn<'a>(turns: &mut Vec<Turn<'a>>, role: &'static str, parts: Vec<Part<'a>>) {
    if parts.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.parts.extend(parts),
        _ => turns.push(Turn { role, parts }),
    }
}

/// Function responses go into the user turn after the model's calls, ahead of any user text.
fn push_tool_result<'a>(turns: &mut Vec<Turn<'a>>, part: Part<'a>) {
    match turns.last_mut() {
        Some(last) if last.role == "user" => {
            let at = last
                .parts
                .iter()
                .position(|p| !matches!(p.data, PartData::FunctionResponse { .. }))
                .unwrap_or(last.parts.len());
            last.parts.insert(at, part);
        }
        _ => turns.push(Turn {
            role: "user",
            parts: vec![part],
        }),
    }
}

fn convert_tools<'a>(tools: &'a [Tool<'a>]) -> Result<Vec<FunctionDeclaration<'a>>, GatewayError> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let f = convert::function_def(t, i, "for Gemini models")?;
        let parameters = match f.parameters {
            None => None,
            Some(raw) => {
                let v = serde_json::from_str::<Value>(raw.get())
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| {
                        GatewayError::bad_param(
                            format!("tools[{i}].function.parameters"),
                            "parameters must be a JSON Schema object",
                        )
                    })?;
                Some(schema::clean(&v)).filter(|s| !schema::is_empty_object(s))
            }
        };
        out.push(FunctionDeclaration {
            name: borrow(&f.name),
            description: f.description.as_ref().map(borrow),
            parameters,
        });
    }
    Ok(out)
}

fn tool_config(choice: Option<ToolChoice<'_>>) -> Option<ToolConfig<'_>> {
    let (mode, allowed) = match choice? {
        ToolChoice::Auto => ("AUTO", Vec::new()),
        ToolChoice::None => ("NONE", Vec::new()),
        ToolChoice::Required => ("ANY", Vec::new()),
        ToolChoice::Function(name) => ("ANY", vec![name]),
    };
    Some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode,
            allowed_function_names: allowed,
        },
    })
}

/// `response_format` → `responseMimeType` (+ `responseSchema` for `json_schema`).
fn response_format(
    req: &ChatRequest<'_>,
) -> Result<(Option<&'static str>, Option<Value>), GatewayError> {
    let Some(raw) = req.response_format else {
        return Ok((None, None));
    };
    let v: Value = serde_json::from_str(raw.get()).map_err(|_| {
        GatewayError::bad_param("response_format", "response_format must be an object")
    })?;
    match v.get("type").and_then(Value::as_str) {
        None if v.is_null() => Ok((None, None)),
        Some("text") => Ok((None, None)),
        Some("json_object") => Ok((Some("application/json"), None)),
        Some("json_schema") => {
            let raw = v.get("json_schema").and_then(|j| j.get("schema"));
            if let Some(problem) = raw.and_then(|s| refs::check(s, structured::SCHEMA_PATH)) {
                return Err(ref_refusal(problem));
            }
            Ok((Some("application/json"), raw.map(schema::clean)))
        }
        _ => Err(GatewayError::bad_param(
            "response_format.type",
            "response_format.type must be 'text', 'json_object' or 'json_schema'",
        )),
    }
}

/// A `$ref` Gemini's `responseSchema` cannot carry: references are inlined, so a recursive
/// one has no finite form.
fn ref_refusal(problem: refs::RefProblem) -> GatewayError {
    match problem {
        refs::RefProblem::Unresolved(at) => structured::unresolved(at),
        refs::RefProblem::Recursive(at) => GatewayError::bad_param(
            at,
            "recursive schemas are not supported by Gemini's responseSchema; bound the \
             recursion (nest the model a fixed number of levels) or route to another provider",
        ),
    }
}

fn borrow<'a>(s: &'a Cow<'a, str>) -> Cow<'a, str> {
    Cow::Borrowed(s.as_ref())
}

mod parts;

#[cfg(test)]
mod tests;
