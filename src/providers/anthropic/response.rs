//! Anthropic message object → OpenAI `chat.completion`.

use super::{UsageWire, finish_reason};
use crate::error::GatewayError;
use crate::providers::completion::Answer;
use crate::providers::structured::{ANSWER_TOOL, answer_stop};
use crate::providers::{DecodedResponse, TranslateCtx};
use crate::translate::Usage;
use crate::translate::reasoning::Thought;
use crate::translate::response::{OutFunction, OutToolCall};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
struct MessageWire<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    content: Vec<BlockWire<'a>>,
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: UsageWire,
}

#[derive(Deserialize)]
struct BlockWire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

/// Translates a Messages API response body.
pub fn decode_response(
    body: &[u8],
    ctx: &TranslateCtx<'_>,
) -> Result<DecodedResponse, GatewayError> {
    let msg: MessageWire<'_> = crate::providers::parse_response(body, "Anthropic message")?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thoughts = Vec::new();
    let mut tool_calls = Vec::new();
    let mut answered = false;
    for block in &msg.content {
        match block.kind.as_ref() {
            "text" => text.push_str(block.text.as_deref().unwrap_or("")),
            "thinking" => {
                let t = block.thinking.as_deref().unwrap_or("");
                reasoning.push_str(t);
                thoughts.push(Thought::Text {
                    text: Cow::Owned(t.to_string()),
                    signature: block
                        .signature
                        .as_deref()
                        .filter(|s| !s.is_empty())
                        .map(|s| Cow::Owned(s.to_string())),
                });
            }
            "redacted_thinking" => thoughts.push(Thought::Redacted {
                data: Cow::Owned(block.data.as_deref().unwrap_or("").to_string()),
            }),
            // The answer tool's input is the structured answer: content, not a tool call.
            "tool_use" if ctx.tool_answer && block.name.as_deref() == Some(ANSWER_TOOL) => {
                text.push_str(block.input.map_or("{}", |r| r.get()));
                answered = true;
            }
            "tool_use" => tool_calls.push(OutToolCall {
                id: block.id.as_deref().unwrap_or(""),
                kind: "function",
                function: OutFunction {
                    name: block.name.as_deref().unwrap_or(""),
                    // `input` is already compact JSON text; OpenAI wants it as a string.
                    arguments: block
                        .input
                        .map(|r| r.get().to_string())
                        .unwrap_or_else(|| "{}".to_string()),
                },
            }),
            _ => {}
        }
    }
    let mut usage = Usage::default();
    msg.usage.merge_into(&mut usage, &mut 0);
    let stop = answer_stop(
        msg.stop_reason.as_deref(),
        answered && tool_calls.is_empty(),
    );
    let finish = finish_reason(stop, !tool_calls.is_empty());
    Answer {
        model: &msg.model,
        text,
        reasoning,
        thoughts,
        tool_calls,
        finish,
        usage,
    }
    .decoded(ctx)
}
