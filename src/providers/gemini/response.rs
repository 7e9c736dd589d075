//! Gemini `GenerateContentResponse` → OpenAI `chat.completion` (docs/wire/gemini.md §3).
//!
//! Only `candidates[0]` is read (the gateway does not send `candidateCount`). Text parts become
//! `content`, `thought: true` parts `reasoning_content`, `functionCall` parts tool calls with
//! gateway-made ids that carry the part's `thoughtSignature` ([`super::ids`]). A prompt blocked
//! before generation (`promptFeedback.blockReason`, no candidates) is a 400 `content_filter`.

use super::{ErrorBody, PromptFeedback, UsageWire, blocked, finish_reason, ids};
use crate::error::GatewayError;
use crate::providers::completion::Answer;
use crate::providers::{DecodedResponse, TranslateCtx};
use crate::translate::borrow::opt_cow;
use crate::translate::response::{OutFunction, OutToolCall};
use serde::Deserialize;
use serde_json::value::RawValue;
use smallvec::SmallVec;
use std::borrow::Cow;

/// One `GenerateContentResponse` (a whole answer, or one stream event).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResponseWire<'a> {
    #[serde(borrow, default)]
    /// One candidate in practice: kept inline (no allocation per streamed chunk).
    pub candidates: SmallVec<[Candidate<'a>; 1]>,
    #[serde(default)]
    pub usage_metadata: Option<UsageWire>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub model_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub prompt_feedback: Option<PromptFeedback<'a>>,
    /// An error event inside a stream.
    #[serde(borrow, default)]
    pub error: Option<ErrorBody<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Candidate<'a> {
    #[serde(borrow, default)]
    pub content: Option<ContentWire<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    pub index: Option<u32>,
}

#[derive(Deserialize)]
pub(super) struct ContentWire<'a> {
    #[serde(borrow, default)]
    /// Usually one or two parts: kept inline.
    pub parts: SmallVec<[PartWire<'a>; 2]>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PartWire<'a> {
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub text: Option<Cow<'a, str>>,
    #[serde(default)]
    pub thought: Option<bool>,
    #[serde(borrow, default)]
    pub function_call: Option<FunctionCallWire<'a>>,
    #[serde(borrow, default)]
    pub thought_signature: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(super) struct FunctionCallWire<'a> {
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub args: Option<&'a RawValue>,
}

impl FunctionCallWire<'_> {
    /// `args` as the JSON string OpenAI wants (`{}` when absent).
    pub fn arguments(&self) -> String {
        match self.args {
            Some(r) if r.get().trim() != "null" => r.get().to_string(),
            _ => "{}".to_string(),
        }
    }
}

impl<'a> ResponseWire<'a> {
    /// The first candidate (index 0, or the first listed).
    pub fn first(&self) -> Option<&Candidate<'a>> {
        self.candidates
            .iter()
            .find(|c| c.index.unwrap_or(0) == 0)
            .or(self.candidates.first())
    }

    /// A blocked prompt: feedback with a block reason and nothing generated.
    pub fn block(&self) -> Option<&PromptFeedback<'a>> {
        self.prompt_feedback
            .as_ref()
            .filter(|f| f.block_reason.is_some() && self.candidates.is_empty())
    }
}

/// Translates a `generateContent` response body.
pub fn decode_response(
    body: &[u8],
    ctx: &TranslateCtx<'_>,
) -> Result<DecodedResponse, GatewayError> {
    let resp: ResponseWire<'_> = crate::providers::parse_response(body, "Gemini response")?;
    if let Some(feedback) = resp.block() {
        return Err(blocked(ctx.provider, feedback));
    }
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls: Vec<(String, &str, String)> = Vec::new();
    let candidate = resp.first();
    let parts = candidate
        .and_then(|c| c.content.as_ref())
        .map(|c| c.parts.as_slice())
        .unwrap_or_default();
    for part in parts {
        if let Some(call) = &part.function_call {
            let id = ids::call_id(
                ctx.request_id,
                calls.len(),
                part.thought_signature.as_deref(),
            );
            calls.push((id, call.name.as_ref(), call.arguments()));
        } else if let Some(t) = &part.text {
            if part.thought == Some(true) {
                reasoning.push_str(t);
            } else {
                text.push_str(t);
            }
        }
    }
    let finish = finish_reason(
        candidate.and_then(|c| c.finish_reason.as_deref()),
        !calls.is_empty(),
    );
    let usage = resp.usage_metadata.unwrap_or_default().to_usage();
    let tool_calls = calls
        .iter()
        .map(|(id, name, arguments)| OutToolCall {
            id,
            kind: "function",
            function: OutFunction {
                name,
                arguments: arguments.clone(),
            },
        })
        .collect::<Vec<_>>();
    Answer {
        model: resp.model_version.as_deref().unwrap_or_default(),
        text,
        reasoning,
        thoughts: Vec::new(),
        tool_calls,
        finish,
        usage,
    }
    .decoded(ctx)
}
