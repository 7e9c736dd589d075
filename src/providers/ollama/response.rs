//! Ollama chat response (one object, `done: true`) → OpenAI `chat.completion`.

use super::{DoneWire, MessageWire};
use crate::error::GatewayError;
use crate::providers::completion::Answer;
use crate::providers::{DecodedResponse, TranslateCtx, upstream_error};
use crate::translate::response::{OutFunction, OutToolCall};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct ResponseWire<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<MessageWire<'a>>,
    #[serde(borrow, default)]
    done_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
}

/// Translates an `/api/chat` response body; `model` is reported when Ollama names none.
pub fn decode_response(
    body: &[u8],
    ctx: &TranslateCtx<'_>,
    model: &str,
) -> Result<DecodedResponse, GatewayError> {
    let resp: ResponseWire<'_> = crate::providers::parse_response(body, "Ollama chat response")?;
    if let Some(e) = resp.error {
        return Err(upstream_error(ctx.provider, 502, Some(&e), None));
    }
    let msg = resp.message.unwrap_or_default();
    let ids: Vec<String> = msg
        .tool_calls
        .iter()
        .flatten()
        .zip(0u32..)
        .map(|(c, n)| c.openai_id(ctx.request_id, n))
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
                arguments: c.arguments(),
            },
        })
        .collect();
    let end = DoneWire {
        done_reason: resp.done_reason,
        prompt_eval_count: resp.prompt_eval_count,
        eval_count: resp.eval_count,
    };
    let usage = end.usage();
    let finish = end.finish_reason(!tool_calls.is_empty());
    let text = msg.content.map(Cow::into_owned).unwrap_or_default();
    Answer {
        model: resp.model.as_deref().unwrap_or(model),
        text,
        reasoning: msg.thinking.map(Cow::into_owned).unwrap_or_default(),
        thoughts: Vec::new(),
        tool_calls,
        finish,
        usage,
    }
    .decoded(ctx)
}
