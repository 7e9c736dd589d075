//! OpenAI chat request → Ollama `POST /api/chat` request.
//!
//! Rules (docs/wire/ollama.md §2, docs/wire/mapping.md): system/developer/user/assistant/tool
//! messages keep their order with string content; images travel as bare base64 in `images` (data:
//! URLs are decoded to their payload; Ollama cannot fetch URLs, so http(s) images are a 400 naming
//! the part); assistant tool-call arguments become JSON objects; tool results carry the function
//! name recovered from the assistant call they answer; sampling parameters go in `options`;
//! `stream` is always explicit because Ollama streams by default.

use crate::error::GatewayError;
use crate::providers::content;
use crate::providers::convert::{self, FunctionTool, ResponseFormat, WireTool};
use crate::providers::settings::ProviderSettings;
use crate::providers::{UpstreamRequest, params};
use crate::translate::reasoning::Effort;
use crate::translate::request::{ChatRequest, Content, Message, Role, ToolChoice};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `think`: a reasoning ask as on/off, or as `low`/`medium`/`high` for gpt-oss, whose
/// thinking cannot be turned off.
fn think(req: &ChatRequest<'_>, model: &str) -> Option<serde_json::Value> {
    let ask = req.reasoning()?;
    if model.contains("gpt-oss") {
        let level = match ask.effort() {
            Effort::None | Effort::Minimal | Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High | Effort::XHigh => "high",
        };
        return Some(level.into());
    }
    Some(ask.enabled().into())
}

/// Parameters Ollama's chat API cannot honour, handled by the provider's policy.
const UNSUPPORTED: &[&str] = &["n", "logprobs", "logit_bias", "user"];

#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<OMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<Format<'a>>,
    #[serde(skip_serializing_if = "Options::is_empty")]
    options: Options<'a>,
    stream: bool,
    /// `true`/`false`, or an effort for models that take one (gpt-oss).
    #[serde(skip_serializing_if = "Option::is_none")]
    think: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Format<'a> {
    Json(&'static str),
    Schema(&'a RawValue),
}

#[derive(Serialize, Default)]
struct Options<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_predict: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
}

impl Options<'_> {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.num_predict.is_none()
            && self.seed.is_none()
            && self.stop.is_empty()
            && self.presence_penalty.is_none()
            && self.frequency_penalty.is_none()
    }
}

#[derive(Serialize)]
struct OMessage<'a> {
    role: &'static str,
    content: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<OToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
struct OToolCall<'a> {
    id: &'a str,
    function: OFunctionCall<'a>,
}

#[derive(Serialize)]
struct OFunctionCall<'a> {
    name: &'a str,
    arguments: Value,
}

/// Builds `POST {prefix}/api/chat`.
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    model: &str,
) -> Result<UpstreamRequest, GatewayError> {
    let lossy = params::check(provider, req, UNSUPPORTED, "Ollama chat API")?;
    let messages = req.messages()?;
    let out_messages = convert_messages(&messages)?;
    let tools = req.tools()?;
    let tools = select_tools(
        convert::function_tools(&tools, "Ollama chat API")?,
        req.tool_choice()?,
    )?;
    let format = match convert::response_format(req)? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject | ResponseFormat::JsonSchema(None) => Some(Format::Json("json")),
        ResponseFormat::JsonSchema(Some(schema)) => Some(Format::Schema(schema)),
    };
    let body = ChatBody {
        think: think(req, model),
        model,
        messages: out_messages,
        tools,
        format,
        options: Options {
            temperature: req.temperature,
            top_p: req.top_p,
            num_predict: req.max_output_tokens(),
            seed: req.seed,
            stop: req.stop()?,
            presence_penalty: req.presence_penalty,
            frequency_penalty: req.frequency_penalty,
        },
        stream: req.is_stream(),
    };
    let bytes = serde_json::to_vec(&body).map_err(|_| GatewayError::internal())?;
    let mut up = UpstreamRequest::new(
        format!("{}/api/chat", provider.endpoint.path_prefix),
        Bytes::from(bytes),
    );
    up.lossy = lossy;
    if req.is_stream() {
        up.headers.push((
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/x-ndjson"),
        ));
    }
    Ok(up)
}

/// Ollama has no `tool_choice`: `none` sends no tools, a named function sends only that tool
/// (the model can still answer in text), `auto` and `required` send every tool (`required`
/// cannot be enforced, as in Ollama's own OpenAI-compatible endpoint).
fn select_tools<'a>(
    tools: Vec<FunctionTool<'a>>,
    choice: Option<ToolChoice<'_>>,
) -> Result<Vec<WireTool<'a>>, GatewayError> {
    let tools = match choice {
        Some(ToolChoice::None) => Vec::new(),
        Some(ToolChoice::Function(name)) => convert::pick_named(tools, &name)?,
        _ => tools,
    };
    Ok(tools.into_iter().map(WireTool::from).collect())
}

fn convert_messages<'a>(messages: &'a [Message<'a>]) -> Result<Vec<OMessage<'a>>, GatewayError> {
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let mut msg = OMessage {
            role: "user",
            content: Cow::Borrowed(""),
            thinking: None,
            images: Vec::new(),
            tool_calls: Vec::new(),
            tool_name: None,
            tool_call_id: None,
        };
        match m.role {
            Role::System | Role::Developer => {
                msg.role = "system";
                msg.content = convert::message_text(m.content.as_ref(), i, false)?;
            }
            Role::User => {
                msg.content = convert::message_text(m.content.as_ref(), i, true)?;
                msg.images = images(m.content.as_ref(), i)?;
            }
            Role::Assistant => {
                msg.role = "assistant";
                msg.content = convert::message_text(m.content.as_ref(), i, false)?;
                msg.thinking = m.reasoning_content.as_deref().filter(|t| !t.is_empty());
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let at = || format!("messages[{i}].tool_calls[{j}].function.arguments");
                    msg.tool_calls.push(OToolCall {
                        id: &call.id,
                        function: OFunctionCall {
                            name: &call.function.name,
                            arguments: convert::arguments_object(&call.function.arguments, at)?,
                        },
                    });
                }
            }
            Role::Tool => {
                let id: &str = convert::tool_call_id(m, i)?;
                let name = convert::tool_name_for(messages, i, id).ok_or_else(|| {
                    GatewayError::bad_param(
                        format!("messages[{i}].tool_call_id"),
                        format!(
                            "tool_call_id '{id}' does not answer any earlier assistant tool call"
                        ),
                    )
                })?;
                msg.role = "tool";
                msg.content = convert::message_text(m.content.as_ref(), i, false)?;
                msg.tool_name = Some(name);
                msg.tool_call_id = Some(id);
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

/// The base64 payloads of a user message's image parts.
fn images<'a>(content: Option<&'a Content<'a>>, i: usize) -> Result<Vec<&'a str>, GatewayError> {
    let Some(Content::Parts(parts)) = content else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        if p.kind != "image_url" {
            continue;
        }
        let param = || format!("messages[{i}].content[{j}].image_url");
        let url = content::image_url(p, param)?;
        let Some((_, data)) = content::data_url(url, param)? else {
            return Err(GatewayError::bad_param(
                param(),
                "Ollama cannot fetch image URLs; send the image as a base64 data: URL",
            ));
        };
        if data.is_empty() {
            return Err(GatewayError::bad_param(param(), "data URL has no data"));
        }
        out.push(data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
