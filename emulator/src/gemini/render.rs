//! Gemini responses: the `GenerateContentResponse` JSON, the `alt=sse` stream (`data:` events
//! separated by `\r\n\r\n`, no terminator), blocked prompts and `batchEmbedContents`.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::embeddings::vector;
use crate::error::ApiError;
use crate::gemini::signature;
use crate::scenario::{Finish, Plan};

/// Per-response values.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub id: u64,
    /// Model as reported (the part before `#`).
    pub model: &'a str,
    pub no_usage: bool,
    /// Attach thought signatures to function calls (`thinking`).
    pub thinking: bool,
}

fn finish(plan: &Plan) -> &'static str {
    match plan.finish {
        Finish::MaxTokens => "MAX_TOKENS",
        Finish::EndTurn | Finish::ToolUse | Finish::StopSequence(_) => "STOP",
    }
}

/// Final usage: the prompt count includes cached tokens, thoughts are counted apart.
fn usage(plan: &Plan) -> Value {
    let thoughts = plan.thinking.len() as u64;
    let prompt = plan.usage.input_tokens + plan.usage.cache_read;
    let candidates = plan.usage.output_tokens.saturating_sub(thoughts);
    let mut u = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
    });
    if thoughts > 0 {
        u["thoughtsTokenCount"] = json!(thoughts);
    }
    if plan.usage.cache_read > 0 {
        u["cachedContentTokenCount"] = json!(plan.usage.cache_read);
    }
    u
}

/// Running usage of a chunk before the last.
fn running_usage(plan: &Plan) -> Value {
    let prompt = plan.usage.input_tokens + plan.usage.cache_read;
    json!({"promptTokenCount": prompt, "totalTokenCount": prompt})
}

fn call_parts(plan: &Plan, ctx: &Ctx) -> Vec<Value> {
    plan.tool_calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut p = json!({"functionCall": {"name": c.name, "args": c.input}});
            // Only the first call of a turn carries the signature.
            if ctx.thinking && i == 0 {
                p["thoughtSignature"] = json!(signature(c.id));
            }
            p
        })
        .collect()
}

fn response(parts: Vec<Value>, finish: Option<&str>, usage: Value, ctx: &Ctx) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    let mut r = json!({
        "candidates": [candidate],
        "modelVersion": ctx.model,
        "responseId": format!("emu{}", ctx.id),
    });
    if !ctx.no_usage {
        r["usageMetadata"] = usage;
    }
    r
}

/// The non-streaming `GenerateContentResponse`.
pub fn render_json(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    let mut parts = Vec::new();
    if !plan.thinking.is_empty() {
        parts.push(json!({"text": plan.thinking_text(), "thought": true}));
    }
    if !plan.text.is_empty() {
        parts.push(json!({"text": plan.text()}));
    }
    parts.extend(call_parts(plan, ctx));
    if parts.is_empty() {
        parts.push(json!({"text": ""}));
    }
    let r = response(parts, Some(finish(plan)), usage(plan), ctx);
    serde_json::to_vec(&r).unwrap_or_default()
}

fn event(v: &Value) -> Bytes {
    let mut buf = b"data: ".to_vec();
    if serde_json::to_writer(&mut buf, v).is_err() {
        buf.extend_from_slice(b"{}");
    }
    buf.extend_from_slice(b"\r\n\r\n");
    Bytes::from(buf)
}

/// The stream's events as JSON values: one per thought or text token, then the function
/// calls (whole) or an empty text part with `finishReason` and the final usage.
fn stream_values(plan: &Plan, ctx: &Ctx) -> Vec<Value> {
    let mut out = Vec::with_capacity(plan.thinking.len() + plan.text.len() + 1);
    for t in &plan.thinking {
        out.push(response(
            vec![json!({"text": t, "thought": true})],
            None,
            running_usage(plan),
            ctx,
        ));
    }
    for t in &plan.text {
        out.push(response(
            vec![json!({"text": t})],
            None,
            running_usage(plan),
            ctx,
        ));
    }
    let last = if plan.tool_calls.is_empty() {
        vec![json!({"text": ""})]
    } else {
        call_parts(plan, ctx)
    };
    out.push(response(last, Some(finish(plan)), usage(plan), ctx));
    out
}

/// `alt=sse` events.
pub fn render_sse(plan: &Plan, ctx: &Ctx) -> Vec<Bytes> {
    stream_values(plan, ctx).iter().map(event).collect()
}

/// `streamGenerateContent` without `alt=sse`: one JSON array of the chunks.
pub fn render_array(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    serde_json::to_vec(&stream_values(plan, ctx)).unwrap_or_default()
}

/// A prompt blocked before generation: feedback, no candidates.
pub fn blocked(reason: &str, prompt_tokens: u64, ctx: &Ctx) -> Value {
    json!({
        "promptFeedback": {"blockReason": reason, "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
        "modelVersion": ctx.model,
        "responseId": format!("emu{}", ctx.id),
    })
}

/// [`blocked`] as the stream's only event.
pub fn blocked_sse(v: &Value) -> Vec<Bytes> {
    vec![event(v)]
}

/// The in-band error event of `error_after`.
pub fn stream_error_event() -> Bytes {
    Bytes::from_static(
        b"data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded. Please try again later.\", \"status\": \"UNAVAILABLE\"}}\r\n\r\n",
    )
}

/// `batchEmbedContents`: one deterministic unit vector per request (768 dimensions unless
/// `outputDimensionality`); each request must name `models/{model}`.
pub fn embed(body: &Value, model: &str) -> Result<Vec<u8>, ApiError> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "* BatchEmbedContentsRequest.requests: requests is not specified\n",
            )
        })?;
    let want = format!("models/{model}");
    let mut embeddings = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        if r.get("model").and_then(Value::as_str) != Some(want.as_str()) {
            return Err(ApiError::bad_request(format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: the model must be {want}\n"
            )));
        }
        let text: String = r
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        if text.is_empty() {
            return Err(ApiError::bad_request(format!(
                "* BatchEmbedContentsRequest.requests[{i}].content: content is not specified\n"
            )));
        }
        let dims = r
            .get("outputDimensionality")
            .and_then(Value::as_u64)
            .unwrap_or(768);
        embeddings.push(json!({"values": vector(&text, usize::try_from(dims).unwrap_or(768))}));
    }
    Ok(serde_json::to_vec(&json!({"embeddings": embeddings})).unwrap_or_default())
}

#[cfg(test)]
mod tests;
