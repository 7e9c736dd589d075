//! Bedrock `ConverseResponse` → OpenAI `chat.completion` (docs/wire/bedrock.md §3).

use super::{UsageWire, finish_reason};
use crate::error::GatewayError;
use crate::providers::completion::Answer;
use crate::providers::structured::{ANSWER_TOOL, answer_stop};
use crate::providers::{DecodedResponse, TranslateCtx};
use crate::translate::reasoning::Thought;
use crate::translate::response::{OutFunction, OutToolCall};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseWire<'a> {
    #[serde(borrow)]
    output: OutputWire<'a>,
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: UsageWire,
}

#[derive(Deserialize)]
struct OutputWire<'a> {
    #[serde(borrow)]
    message: MessageWire<'a>,
}

#[derive(Deserialize)]
struct MessageWire<'a> {
    #[serde(borrow, default)]
    content: Vec<BlockWire<'a>>,
}

/// A `ContentBlock` union member; unknown members are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockWire<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_use: Option<ToolUseWire<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<ReasoningWire<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseWire<'a> {
    #[serde(borrow)]
    tool_use_id: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningWire<'a> {
    #[serde(borrow, default)]
    reasoning_text: Option<ReasoningText<'a>>,
    /// Redacted reasoning (base64 in JSON).
    #[serde(borrow, default)]
    redacted_content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ReasoningText<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
}

impl ReasoningWire<'_> {
    /// The block as a signed or redacted thought.
    fn thought(&self) -> Option<Thought<'static>> {
        if let Some(data) = &self.redacted_content {
            return Some(Thought::Redacted {
                data: Cow::Owned(data.to_string()),
            });
        }
        let r = self.reasoning_text.as_ref()?;
        Some(Thought::Text {
            text: Cow::Owned(r.text.as_deref().unwrap_or("").to_string()),
            signature: r
                .signature
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| Cow::Owned(s.to_string())),
        })
    }
}

/// Translates a Converse response body; Bedrock does not echo the model, so the upstream
/// model the request named is reported.
pub fn decode_response(
    body: &[u8],
    ctx: &TranslateCtx<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let resp: ConverseWire<'_> =
        crate::providers::parse_response(body, "Bedrock Converse response")?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thoughts = Vec::new();
    let mut tool_calls = Vec::new();
    let mut answered = false;
    for block in &resp.output.message.content {
        thoughts.extend(
            block
                .reasoning_content
                .as_ref()
                .and_then(ReasoningWire::thought),
        );
        if let Some(t) = &block.text {
            text.push_str(t);
        }
        if let Some(t) = block
            .reasoning_content
            .as_ref()
            .and_then(|r| r.reasoning_text.as_ref())
            .and_then(|r| r.text.as_deref())
        {
            reasoning.push_str(t);
        }
        if let Some(call) = &block.tool_use {
            // The answer tool's input is the structured answer: content, not a tool call.
            if ctx.tool_answer && call.name == ANSWER_TOOL {
                text.push_str(call.input.map_or("{}", |r| r.get()));
                answered = true;
                continue;
            }
            tool_calls.push(OutToolCall {
                id: &call.tool_use_id,
                kind: "function",
                function: OutFunction {
                    name: &call.name,
                    // `input` is a JSON object; OpenAI wants it as a string.
                    arguments: call
                        .input
                        .map(|r| r.get().to_string())
                        .unwrap_or_else(|| "{}".to_string()),
                },
            });
        }
    }
    let usage = resp.usage.to_usage();
    let stop = answer_stop(
        resp.stop_reason.as_deref(),
        answered && tool_calls.is_empty(),
    );
    let finish = finish_reason(stop, !tool_calls.is_empty());
    Answer {
        model,
        text,
        reasoning,
        thoughts,
        tool_calls,
        finish,
        usage,
    }
    .decoded(ctx)
}
