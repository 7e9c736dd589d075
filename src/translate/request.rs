//! The inbound OpenAI Chat Completions request, parsed once and lazily.
//!
//! [`ChatRequest`] borrows from the client's body: large subtrees (`messages`, `tools`, …) stay
//! raw JSON until a translator needs them, so a pass-through to an OpenAI-compatible provider
//! never decodes the conversation. Unknown fields are ignored here (a pass-through keeps them in
//! the raw body). Typed views ([`Message`], [`Tool`], [`ToolChoice`], [`Stop`]) are decoded on
//! demand with errors that name the offending parameter.

use super::cache::CacheControl;
use super::reasoning::{self, Thought, ThoughtWire};
use super::routing_params;
use crate::error::GatewayError;
use crate::translate::routing_params::ProviderPrefs;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Top-level fields of a chat completion request.
#[derive(Debug, Deserialize)]
pub struct ChatRequest<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Option<&'a RawValue>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(borrow, default)]
    stream_options: Option<&'a RawValue>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub max_completion_tokens: Option<u64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(borrow, default)]
    stop: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tools: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_choice: Option<&'a RawValue>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(borrow, default)]
    pub user: Option<Cow<'a, str>>,
    #[serde(default)]
    pub n: Option<u64>,
    #[serde(default)]
    pub logprobs: Option<bool>,
    #[serde(default)]
    pub top_logprobs: Option<u64>,
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(borrow, default)]
    pub logit_bias: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub response_format: Option<&'a RawValue>,
    /// OpenAI's `reasoning_effort`.
    #[serde(borrow, default)]
    reasoning_effort: Option<Cow<'a, str>>,
    /// OpenRouter's `reasoning` object (never forwarded as is: OpenAI rejects it).
    #[serde(borrow, default)]
    reasoning: Option<&'a RawValue>,
    #[serde(skip)]
    reasoning_ask: Option<reasoning::Ask>,
    /// Gateway routing: models tried after `model` (never forwarded).
    #[serde(borrow, default)]
    models: Option<&'a RawValue>,
    /// Gateway routing: OpenRouter-style provider preferences (never forwarded).
    #[serde(borrow, default)]
    provider: Option<&'a RawValue>,
    /// Request metadata (routing rules may match on it; forwarded as is).
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
    #[serde(skip)]
    fallback_models: Vec<String>,
    #[serde(skip)]
    provider_prefs: Option<ProviderPrefs>,
    /// Decoded `model`, filled by [`ChatRequest::parse`].
    #[serde(skip)]
    model_name: Cow<'a, str>,
    #[serde(skip)]
    include_usage: bool,
}

/// Byte span of a value inside the body, for splicing a pass-through request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl<'a> ChatRequest<'a> {
    /// Parses and validates the envelope: JSON object, `model` and `messages` present,
    /// sampling parameters within OpenAI's ranges.
    pub fn parse(body: &'a [u8]) -> Result<Self, GatewayError> {
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            None => {
                return Err(GatewayError::bad_request(
                    "Request body is empty; expected a JSON object.",
                ));
            }
            // serde would also accept a JSON array as a struct (by position); only objects are
            // requests. Invalid JSON falls through to the parser's own message.
            Some(b)
                if *b != b'{' && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() =>
            {
                return Err(GatewayError::bad_request(
                    "The request body must be a JSON object.",
                ));
            }
            Some(_) => {}
        }
        let mut de = serde_json::Deserializer::from_slice(body);
        let mut req: ChatRequest<'a> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_data() && path != "." {
                GatewayError::bad_param(
                    path.clone(),
                    format!("Invalid value for '{path}': {inner}"),
                )
            } else {
                GatewayError::bad_request(format!(
                    "We could not parse the JSON body of your request: {inner}"
                ))
            }
        })?;
        de.end().map_err(|e| {
            GatewayError::bad_request(format!(
                "We could not parse the JSON body of your request: {e}"
            ))
        })?;
        let model = req.model.ok_or_else(|| {
            GatewayError::bad_param("model", "you must provide a model parameter")
        })?;
        let name: Cow<'a, str> = serde_json::from_str(model.get())
            .map_err(|_| GatewayError::bad_param("model", "'model' must be a string"))?;
        if name.is_empty() {
            return Err(GatewayError::bad_param(
                "model",
                "'model' must not be empty",
            ));
        }
        req.model_name = name;
        let messages = req.messages.ok_or_else(|| {
            GatewayError::bad_param("messages", "Missing required parameter: 'messages'.")
        })?;
        match messages.get().as_bytes().first() {
            Some(b'[') if is_empty_array(messages.get()) => {
                return Err(GatewayError::bad_param(
                    "messages",
                    "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                ));
            }
            Some(b'[') => {}
            _ => {
                return Err(GatewayError::bad_param(
                    "messages",
                    "'messages' must be an array of message objects",
                ));
            }
        }
        if let Some(o) = req.stream_options {
            let opts: StreamOptions = serde_json::from_str(o.get()).map_err(|e| {
                GatewayError::bad_param("stream_options", format!("Invalid 'stream_options': {e}"))
            })?;
            req.include_usage = opts.include_usage.unwrap_or(false);
        }
        req.check_ranges()?;
        req.reasoning_ask = reasoning::parse(req.reasoning_effort.as_deref(), req.reasoning)?;
        req.fallback_models = routing_params::parse_models(req.models)?;
        req.provider_prefs = routing_params::parse_provider(req.provider)?;
        Ok(req)
    }

    fn check_ranges(&self) -> Result<(), GatewayError> {
        range("temperature", self.temperature, 0.0, 2.0)?;
        range("top_p", self.top_p, 0.0, 1.0)?;
        range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        for (name, v) in [
            ("max_tokens", self.max_tokens),
            ("max_completion_tokens", self.max_completion_tokens),
            ("n", self.n),
        ] {
            if v == Some(0) {
                return Err(GatewayError::bad_param(
                    name,
                    format!("Invalid '{name}': must be at least 1."),
                ));
            }
        }
        Ok(())
    }

    /// The requested model name.
    pub fn model(&self) -> &str {
        &self.model_name
    }

    /// True for `stream: true`.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// `stream_options.include_usage`.
    pub fn include_usage(&self) -> bool {
        self.include_usage
    }

    /// The output token cap the client asked for (`max_completion_tokens` wins).
    pub fn max_output_tokens(&self) -> Option<u64> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// Span of the `model` value (with its quotes) inside `body`.
    pub fn model_span(&self, body: &[u8]) -> Option<Span> {
        self.model.and_then(|raw| span_of(body, raw))
    }

    /// Span of the `stream_options` value inside `body`, when present.
    pub fn stream_options_span(&self, body: &[u8]) -> Option<Span> {
        self.stream_options.and_then(|raw| span_of(body, raw))
    }

    /// The reasoning the client asked for (`reasoning_effort` / `reasoning`), if any.
    pub fn reasoning(&self) -> Option<reasoning::Ask> {
        self.reasoning_ask
    }

    /// True when the client sent OpenRouter's `reasoning` object.
    pub fn has_reasoning_object(&self) -> bool {
        self.reasoning.is_some()
    }

    /// The reasoning parameter the client used, to name it when it is dropped.
    pub fn reasoning_param(&self) -> &'static str {
        if self.reasoning.is_some() {
            "reasoning"
        } else {
            "reasoning_effort"
        }
    }

    /// True when the client sent `reasoning_effort`.
    pub fn has_reasoning_effort(&self) -> bool {
        self.reasoning_effort.is_some()
    }

    /// `models`: model names to try after `model`, in order.
    pub fn fallback_models(&self) -> &[String] {
        &self.fallback_models
    }

    /// `provider`: per-request routing preferences.
    pub fn provider_prefs(&self) -> Option<&ProviderPrefs> {
        self.provider_prefs.as_ref()
    }

    /// The `metadata` object, when it is one.
    pub fn metadata(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.metadata
            .and_then(|m| serde_json::from_str(m.get()).ok())
    }

    /// Spans of the gateway-only members' values (`models`, `provider`, and `reasoning` unless
    /// `keep_reasoning`) inside `body`.
    pub fn gateway_only_spans(&self, body: &[u8], keep_reasoning: bool) -> Vec<Span> {
        let reasoning = self.reasoning.filter(|_| !keep_reasoning);
        [self.models, self.provider, reasoning]
            .into_iter()
            .flatten()
            .filter_map(|raw| span_of(body, raw))
            .collect()
    }

    /// Raw `messages` and `tools`, for the token estimate.
    pub fn raw_messages_and_tools(&self) -> (Option<&'a RawValue>, Option<&'a RawValue>) {
        (self.messages, self.tools)
    }

    /// True when the request offers tools.
    pub fn has_tools(&self) -> bool {
        self.tools
            .is_some_and(|t| !is_empty_array(t.get()) && t.get() != "null")
    }

    /// Decodes `messages`.
    pub fn messages(&self) -> Result<Vec<Message<'a>>, GatewayError> {
        decode(self.messages, "messages").map(Option::unwrap_or_default)
    }

    /// Decodes `tools`.
    pub fn tools(&self) -> Result<Vec<Tool<'a>>, GatewayError> {
        decode(self.tools, "tools").map(Option::unwrap_or_default)
    }

    /// Decodes `tool_choice`.
    pub fn tool_choice(&self) -> Result<Option<ToolChoice<'a>>, GatewayError> {
        let Some(raw) = self.tool_choice else {
            return Ok(None);
        };
        let parsed: ToolChoiceWire<'a> =
            decode(Some(raw), "tool_choice")?.ok_or_else(bad_choice)?;
        match parsed {
            ToolChoiceWire::Mode(m) => match m.as_ref() {
                "auto" => Ok(Some(ToolChoice::Auto)),
                "none" => Ok(Some(ToolChoice::None)),
                "required" => Ok(Some(ToolChoice::Required)),
                _ => Err(bad_choice()),
            },
            ToolChoiceWire::Object { kind, function } => match (kind.as_ref(), function) {
                ("function", Some(f)) => Ok(Some(ToolChoice::Function(f.name))),
                _ => Err(bad_choice()),
            },
        }
    }

    /// Decodes `stop`.
    pub fn stop(&self) -> Result<Vec<Cow<'a, str>>, GatewayError> {
        let Some(raw) = self.stop else {
            return Ok(Vec::new());
        };
        let parsed: Option<StopWire<'a>> = decode(Some(raw), "stop")?;
        Ok(match parsed {
            None => Vec::new(),
            Some(StopWire::One(s)) => vec![s],
            Some(StopWire::Many(v)) => v,
        })
    }
}

fn bad_choice() -> GatewayError {
    GatewayError::bad_param(
        "tool_choice",
        "Invalid 'tool_choice': expected \"none\", \"auto\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":...}}.",
    )
}

fn range(name: &'static str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), GatewayError> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(GatewayError::bad_param(
            name,
            format!(
                "Invalid '{name}': {x} is out of range; expected a value between {lo} and {hi}."
            ),
        )),
        _ => Ok(()),
    }
}

fn is_empty_array(raw: &str) -> bool {
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| inner.trim().is_empty())
}

fn span_of(body: &[u8], raw: &RawValue) -> Option<Span> {
    let base = body.as_ptr() as usize;
    let start = (raw.get().as_ptr() as usize).checked_sub(base)?;
    let end = start + raw.get().len();
    (end <= body.len()).then_some(Span { start, end })
}

/// Decodes a raw subtree, naming the exact path of a type error (`messages[2].role`).
fn decode<'a, T: Deserialize<'a>>(
    raw: Option<&'a RawValue>,
    name: &str,
) -> Result<Option<T>, GatewayError> {
    let Some(raw) = raw else { return Ok(None) };
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de)
        .map(Some)
        .map_err(|e| {
            let sub = e.path().to_string();
            let path = if sub == "." {
                name.to_string()
            } else if sub.starts_with('[') {
                format!("{name}{sub}")
            } else {
                format!("{name}.{sub}")
            };
            GatewayError::bad_param(
                path.clone(),
                format!("Invalid '{path}': {}", e.into_inner()),
            )
        })
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

/// Message author role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// One entry of `messages`.
#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    pub role: Role,
    #[serde(borrow, default)]
    pub content: Option<Content<'a>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(borrow, default)]
    pub tool_call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// Signed reasoning blocks of an assistant turn (OpenRouter's `reasoning_details`).
    #[serde(borrow, default)]
    reasoning_details: Option<Vec<ThoughtWire<'a>>>,
    /// The same in LiteLLM's spelling (`thinking_blocks`).
    #[serde(borrow, default)]
    thinking_blocks: Option<Vec<ThoughtWire<'a>>>,
    /// A prompt-cache breakpoint after this message.
    #[serde(borrow, default)]
    pub cache_control: Option<CacheControl<'a>>,
}

impl<'a> Message<'a> {
    /// The cache breakpoint this message asks for: its own, else the last one of its parts.
    pub fn cache_mark(&self) -> Option<&CacheControl<'a>> {
        self.cache_control.as_ref().or_else(|| match &self.content {
            Some(Content::Parts(parts)) => {
                parts.iter().rev().find_map(|p| p.cache_control.as_ref())
            }
            _ => None,
        })
    }

    /// The signed thinking blocks this (assistant) turn carries back, in order.
    pub fn thoughts(&self) -> Vec<Thought<'a>> {
        self.reasoning_details
            .as_ref()
            .or(self.thinking_blocks.as_ref())
            .map(|w| w.iter().filter_map(ThoughtWire::to_thought).collect())
            .unwrap_or_default()
    }
}

/// Message content: a string or a list of parts.
#[derive(Debug)]
pub enum Content<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<ContentPart<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(p) = seq.next_element()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One content part (`text`, `image_url`, `refusal`, …); unknown types are kept for the
/// translator to accept or reject.
#[derive(Debug, Deserialize)]
pub struct ContentPart<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub image_url: Option<ImageUrl<'a>>,
    #[serde(borrow, default)]
    pub refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub cache_control: Option<CacheControl<'a>>,
}

/// `image_url` of an image part.
#[derive(Debug, Deserialize)]
pub struct ImageUrl<'a> {
    #[serde(borrow)]
    pub url: Cow<'a, str>,
}

/// An assistant tool call in the history.
#[derive(Debug, Deserialize)]
pub struct ToolCall<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub function: FunctionCall<'a>,
}

/// Name and JSON-string arguments of a tool call.
#[derive(Debug, Deserialize)]
pub struct FunctionCall<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub arguments: Cow<'a, str>,
}

/// A tool offered to the model.
#[derive(Debug, Deserialize)]
pub struct Tool<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub function: Option<FunctionDef<'a>>,
    /// A prompt-cache breakpoint after this tool (LiteLLM's spelling).
    #[serde(borrow, default)]
    pub cache_control: Option<CacheControl<'a>>,
}

/// A function tool definition; `parameters` stays raw JSON Schema.
#[derive(Debug, Deserialize)]
pub struct FunctionDef<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub parameters: Option<&'a RawValue>,
    #[serde(default)]
    pub strict: Option<bool>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice<'a> {
    None,
    Auto,
    Required,
    Function(Cow<'a, str>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ToolChoiceWire<'a> {
    Mode(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        #[serde(borrow, default)]
        function: Option<NamedFunction<'a>>,
    },
}

#[derive(Deserialize)]
struct NamedFunction<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StopWire<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
}

#[cfg(test)]
mod tests;
