//! Cohere v2 chat response → OpenAI `chat.completion`.

use super::{UsageWire, finish_reason};
use crate::error::GatewayError;
use crate::providers::completion::Answer;
use crate::providers::{DecodedResponse, TranslateCtx, upstream_error};
use crate::translate::response::{OutFunction, OutToolCall};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct ResponseWire<'a> {
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<MessageWire<'a>>,
    #[serde(default)]
    usage: Option<UsageWire>,
}

#[derive(Deserialize, Default)]
struct MessageWire<'a> {
    #[serde(borrow, default)]
    content: Option<Vec<ContentWire<'a>>>,
    #[serde(borrow, default)]
    tool_plan: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallWire<'a>>>,
}

#[derive(Deserialize)]
struct ContentWire<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ToolCallWire<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function: FunctionWire<'a>,
}

#[derive(Deserialize)]
struct FunctionWire<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

/// Translates a `/v2/chat` response body; Cohere names no model, so `model` is reported.
pub fn decode_response(
    body: &[u8],
    ctx: &TranslateCtx<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let resp: ResponseWire<'_> = crate::providers::parse_response(body, "Cohere chat response")?;
    if resp.finish_reason.as_deref() == Some("ERROR") {
        return Err(upstream_error(
            ctx.provider,
            502,
            Some("generation ended with finish_reason ERROR"),
            None,
        ));
    }
    let msg = resp.message.unwrap_or_default();
    let mut text = String::new();
    let mut reasoning = String::new();
    for c in msg.content.iter().flatten() {
        match c.kind.as_deref() {
            Some("thinking") => reasoning.push_str(c.thinking.as_deref().unwrap_or("")),
            Some("text") | None => text.push_str(c.text.as_deref().unwrap_or("")),
            _ => {}
        }
    }
    if let Some(plan) = msg.tool_plan.as_deref() {
        reasoning.push_str(plan);
    }
    let ids: Vec<String> = msg
        .tool_calls
        .iter()
        .flatten()
        .zip(0u32..)
        .map(|(c, n)| match c.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => id.to_string(),
            None => format!("call_{}_{n}", ctx.request_id),
        })
        .collect();
    let tool_calls: Vec<OutToolCall<'_>> = msg
        .tool_calls
        .iter()
        .flatten()
        .zip(&ids)
        .map(|(c, id)| OutToolCall {
            id,
            kind: "function",
            function: OutFunction {
                name: &c.function.name,
                arguments: c
                    .function
                    .arguments
                    .as_deref()
                    .filter(|a| !a.trim().is_empty())
                    .unwrap_or("{}")
                    .to_string(),
            },
        })
        .collect();
    let usage = resp.usage.unwrap_or_default().to_usage();
    let finish = finish_reason(resp.finish_reason.as_deref(), !tool_calls.is_empty());
    Answer {
        model,
        text,
        reasoning,
        thoughts: Vec::new(),
        tool_calls,
        finish,
        usage,
    }
    .decoded(ctx)
}
