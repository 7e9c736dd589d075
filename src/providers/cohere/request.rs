//! OpenAI chat request → Cohere v2 chat request.
//!
//! Rules (docs/wire/cohere.md §2, docs/wire/mapping.md): messages keep their order and roles
//! (developer becomes system); user content stays a string or becomes text/image_url parts;
//! assistant tool calls keep OpenAI's shape (string arguments) and the assistant's
//! `reasoning_content` travels back as `tool_plan`; tool results are `tool` messages with their
//! `tool_call_id`. Sampling maps to `p` (clamped to Cohere's 0.01–0.99) and penalties
//! (clamped to 0–1).

use crate::error::GatewayError;
use crate::providers::convert::{self, FunctionTool, ResponseFormat, WireTool};
use crate::providers::settings::ProviderSettings;
use crate::providers::{UpstreamRequest, params};
use crate::translate::request::{ChatRequest, Content, Message, Role, ToolChoice};
use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Parameters the v2 chat API cannot honour, handled by the provider's policy.
const UNSUPPORTED: &[&str] = &["n", "logprobs", "logit_bias", "user"];

#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<CMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<CFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
}

/// `thinking` (Command A Reasoning): on with a token budget, or off.
#[derive(Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_budget: Option<u64>,
}

fn thinking(req: &ChatRequest<'_>) -> Option<Thinking> {
    let ask = req.reasoning()?;
    Some(if ask.enabled() {
        Thinking {
            kind: "enabled",
            token_budget: Some(ask.budget(req.max_output_tokens().unwrap_or(32_000), 1, u64::MAX)),
        }
    } else {
        Thinking {
            kind: "disabled",
            token_budget: None,
        }
    })
}

#[derive(Serialize)]
struct CFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_schema: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct CMessage<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<CContent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_plan: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<CToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum CContent<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<CPart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum CPart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: CImage<'a> },
}

#[derive(Serialize)]
struct CImage<'a> {
    url: &'a str,
}

#[derive(Serialize)]
struct CToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: CFunctionCall<'a>,
}

#[derive(Serialize)]
struct CFunctionCall<'a> {
    name: &'a str,
    arguments: Cow<'a, str>,
}

/// Builds `POST {prefix}/v2/chat`.
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let lossy = params::check(provider, req, UNSUPPORTED, "Cohere v2 chat API")?;
    let messages = req.messages()?;
    let out_messages = convert_messages(&messages)?;
    let tools = req.tools()?;
    let (tools, tool_choice) = select_tools(
        convert::function_tools(&tools, "Cohere v2 chat API")?,
        req.tool_choice()?,
    )?;
    let response_format = match convert::response_format(req)? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(CFormat {
            kind: "json_object",
            json_schema: None,
        }),
        ResponseFormat::JsonSchema(schema) => Some(CFormat {
            kind: "json_object",
            json_schema: schema,
        }),
    };
    let body = ChatBody {
        model,
        messages: out_messages,
        tools,
        tool_choice,
        stream: req.is_stream(),
        max_tokens: req.max_output_tokens(),
        temperature: req.temperature,
        p: req.top_p.map(|p| p.clamp(0.01, 0.99)),
        seed: req.seed,
        stop_sequences: req.stop()?,
        frequency_penalty: req.frequency_penalty.map(|v| v.clamp(0.0, 1.0)),
        presence_penalty: req.presence_penalty.map(|v| v.clamp(0.0, 1.0)),
        response_format,
        thinking: thinking(req),
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    let mut up = UpstreamRequest::new(
        format!("{}/v2/chat", provider.endpoint.path_prefix),
        Bytes::from(bytes),
    );
    up.lossy = lossy;
    Ok(up)
}

/// `auto` → omitted, `required` → `REQUIRED`, `none` → `NONE`. Cohere cannot force one named
/// function, so a named choice sends only that tool with `REQUIRED`: the model must call a
/// tool, and that is the only one it has.
type Selected<'a> = (Vec<WireTool<'a>>, Option<&'static str>);

fn select_tools<'a>(
    tools: Vec<FunctionTool<'a>>,
    choice: Option<ToolChoice<'_>>,
) -> Result<Selected<'a>, GatewayError> {
    if tools.is_empty() {
        return Ok((Vec::new(), None));
    }
    let (tools, mode) = match choice {
        None | Some(ToolChoice::Auto) => (tools, None),
        Some(ToolChoice::None) => (tools, Some("NONE")),
        Some(ToolChoice::Required) => (tools, Some("REQUIRED")),
        Some(ToolChoice::Function(name)) => (convert::pick_named(tools, &name)?, Some("REQUIRED")),
    };
    let tools = tools.into_iter().map(WireTool::from).collect();
    Ok((tools, mode))
}

fn convert_messages<'a>(messages: &'a [Message<'a>]) -> Result<Vec<CMessage<'a>>, GatewayError> {
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let mut msg = CMessage {
            role: "user",
            content: None,
            tool_plan: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        };
        match m.role {
            Role::System | Role::Developer => {
                msg.role = "system";
                msg.content = Some(CContent::Text(convert::message_text(
                    m.content.as_ref(),
                    i,
                    false,
                )?));
            }
            Role::User => msg.content = Some(user_content(m.content.as_ref(), i)?),
            Role::Assistant => {
                msg.role = "assistant";
                let text = convert::message_text(m.content.as_ref(), i, false)?;
                msg.content = (!text.is_empty()).then_some(CContent::Text(text));
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let at = || format!("messages[{i}].tool_calls[{j}].function.arguments");
                    // Validated here so a bad history is the client's 400, not Cohere's.
                    convert::arguments_object(&call.function.arguments, at)?;
                    let arguments = if call.function.arguments.trim().is_empty() {
                        Cow::Borrowed("{}")
                    } else {
                        Cow::Borrowed(call.function.arguments.as_ref())
                    };
                    msg.tool_calls.push(CToolCall {
                        id: &call.id,
                        kind: "function",
                        function: CFunctionCall {
                            name: &call.function.name,
                            arguments,
                        },
                    });
                }
                if !msg.tool_calls.is_empty() {
                    msg.tool_plan = m.reasoning_content.as_deref().filter(|t| !t.is_empty());
                }
            }
            Role::Tool => {
                let id: &str = convert::tool_call_id(m, i)?;
                msg.role = "tool";
                msg.tool_call_id = Some(id);
                msg.content = Some(CContent::Text(convert::message_text(
                    m.content.as_ref(),
                    i,
                    false,
                )?));
            }
            Role::Function => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].role"),
                    "role 'function' is deprecated and not supported; use 'tool' messages",
                ));
            }
        }
        out.push(msg);
    }
    Ok(out)
}

/// A string stays a string; parts become Cohere text and image_url parts.
fn user_content<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<CContent<'a>, GatewayError> {
    let Some(Content::Parts(parts)) = content else {
        return Ok(CContent::Text(convert::message_text(content, i, false)?));
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        match p.kind.as_ref() {
            "text" => {
                if let Some(t) = p.text.as_deref() {
                    out.push(CPart::Text { text: t });
                }
            }
            "image_url" => {
                let param = || format!("messages[{i}].content[{j}].image_url");
                let url = p
                    .image_url
                    .as_ref()
                    .map(|u| u.url.as_ref())
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| GatewayError::bad_param(param(), "image_url.url is required"))?;
                if !(url.starts_with("data:")
                    || url.starts_with("https://")
                    || url.starts_with("http://"))
                {
                    return Err(GatewayError::bad_param(
                        param(),
                        "image URLs must be http(s) URLs or base64 data: URLs",
                    ));
                }
                out.push(CPart::ImageUrl {
                    image_url: CImage { url },
                });
            }
            other => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].content[{j}].type"),
                    format!(
                        "content part type '{other}' is not supported by the Cohere v2 chat API (text and image_url are)"
                    ),
                ));
            }
        }
    }
    Ok(CContent::Parts(out))
}

#[cfg(test)]
mod tests;
