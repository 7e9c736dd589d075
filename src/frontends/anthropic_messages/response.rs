//! Non-streaming answers for Anthropic clients: an OpenAI `chat.completion` translated into an
//! Anthropic `message`, and an Anthropic `message` passed through while its usage is read.

use crate::error::{ErrorKind, GatewayError};
use crate::providers::DecodedResponse;
use crate::providers::anthropic::UsageWire;
use crate::translate::events::Answer;
use crate::translate::reasoning::{Thought, ThoughtWire};
use crate::translate::{TranslateCtx, Usage};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// OpenAI `finish_reason` → Anthropic `stop_reason`.
pub fn stop_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Anthropic `usage` from normalised usage: `input_tokens` excludes cache reads and writes.
pub fn usage_json(u: Usage) -> Value {
    json!({
        "input_tokens": input_tokens(u),
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cached_tokens,
        "output_tokens": u.completion_tokens,
    })
}

/// Uncached input tokens (Anthropic's `input_tokens`).
pub fn input_tokens(u: Usage) -> u64 {
    u.prompt_tokens
        .saturating_sub(u.cached_tokens)
        .saturating_sub(u.cache_write_tokens)
}

#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: Vec<Choice<'a>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    message: Message<'a>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default)]
    content: Option<Value>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Vec<ToolCall<'a>>,
    #[serde(borrow, default)]
    reasoning_details: Vec<ThoughtWire<'a>>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function: Function<'a>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

/// Tool arguments as the object Anthropic's `input` must be: `""` is `{}`, a non-object JSON
/// value is wrapped as `{"value": …}`, invalid JSON is kept as `{"_raw_arguments": "…"}` so
/// nothing the model produced is lost.
pub fn tool_input(args: &str) -> Value {
    if args.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(args) {
        Ok(v @ Value::Object(_)) => v,
        Ok(v) => json!({ "value": v }),
        Err(_) => json!({ "_raw_arguments": args }),
    }
}

/// Renders a provider's decoded answer as an Anthropic `message` (the `/v1/messages`
/// [`AnswerRenderer`](crate::translate::events::AnswerRenderer)): no OpenAI JSON in between.
pub fn render(answer: Answer<'_>, ctx: &TranslateCtx<'_>) -> Result<Bytes, GatewayError> {
    let mut content: Vec<Value> = answer.thoughts.iter().map(thought_block).collect();
    if content.is_empty() && !answer.reasoning.is_empty() {
        content.push(json!({"type": "thinking", "thinking": answer.reasoning, "signature": ""}));
    }
    if !answer.text.is_empty() {
        content.push(json!({"type": "text", "text": answer.text}));
    }
    for call in &answer.tool_calls {
        content.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.function.name,
            "input": tool_input(&call.function.arguments),
        }));
    }
    message(
        ctx.request_id,
        answer.model,
        content,
        Some(answer.finish.as_str()),
        answer.usage,
    )
}

/// A signed or redacted thought as a Messages content block.
fn thought_block(t: &Thought<'_>) -> Value {
    match t {
        Thought::Text { text, signature } => json!({
            "type": "thinking",
            "thinking": text,
            "signature": signature.as_deref().unwrap_or(""),
        }),
        Thought::Redacted { data } => json!({"type": "redacted_thinking", "data": data}),
    }
}

/// The `message` object: stop reason from the OpenAI `finish` name (`tool_use` whenever there
/// are tool calls and the model simply stopped).
fn message(
    id: &str,
    model: &str,
    content: Vec<Value>,
    finish: Option<&str>,
    usage: Usage,
) -> Result<Bytes, GatewayError> {
    let has_tools = content.iter().any(|b| b["type"] == "tool_use");
    let reason = match stop_reason(finish) {
        "end_turn" if has_tools => "tool_use",
        r => r,
    };
    let msg = json!({
        "id": format!("msg_{id}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": null,
        "usage": usage_json(usage),
    });
    serde_json::to_vec(&msg)
        .map(Bytes::from)
        .map_err(|_| GatewayError::internal())
}

/// Translates an OpenAI completion (from an OpenAI-format provider) into an Anthropic
/// `message`.
pub fn to_message(
    openai: &[u8],
    usage: Usage,
    id: &str,
    fallback_model: &str,
) -> Result<Bytes, GatewayError> {
    let c: Completion<'_> = serde_json::from_slice(openai)
        .map_err(|e| crate::providers::openai::malformed_response(&e))?;
    let choice = c.choices.into_iter().next();
    let mut content: Vec<Value> = Vec::new();
    let mut finish = None;
    if let Some(ch) = choice {
        finish = ch.finish_reason;
        let m = ch.message;
        content.extend(
            m.reasoning_details
                .iter()
                .filter_map(ThoughtWire::to_thought)
                .map(|t| thought_block(&t)),
        );
        if let Some(t) = m
            .reasoning_content
            .or(m.reasoning)
            .filter(|t| !t.is_empty() && content.is_empty())
        {
            content.push(json!({"type": "thinking", "thinking": t, "signature": ""}));
        }
        let text = match m.content {
            Some(Value::String(s)) => s,
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        };
        if !text.is_empty() {
            content.push(json!({"type": "text", "text": text}));
        }
        if let Some(r) = m.refusal.filter(|r| !r.is_empty()) {
            content.push(json!({"type": "text", "text": r}));
        }
        for (i, call) in m.tool_calls.into_iter().enumerate() {
            let id = call
                .id
                .map(Cow::into_owned)
                .unwrap_or_else(|| format!("toolu_{id}_{i}"));
            content.push(json!({
                "type": "tool_use",
                "id": id,
                "name": call.function.name.as_deref().unwrap_or(""),
                "input": tool_input(call.function.arguments.as_deref().unwrap_or("")),
            }));
        }
    }
    let model = c.model.as_deref().unwrap_or(fallback_model);
    message(id, model, content, finish.as_deref(), usage)
}

#[derive(Deserialize)]
struct MessageProbe {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    usage: Option<UsageWire>,
}

/// Forwards an Anthropic `message` unchanged, reading its usage.
pub fn passthrough(body: &[u8]) -> Result<DecodedResponse, GatewayError> {
    let probe: MessageProbe = serde_json::from_slice(body).map_err(|e| {
        GatewayError::new(
            502,
            ErrorKind::UpstreamFailure,
            format!("upstream returned an invalid message: {e}"),
        )
    })?;
    let mut usage = Usage::default();
    if let Some(u) = probe.usage {
        let mut input = 0;
        u.merge_into(&mut usage, &mut input);
    }
    if probe.kind.as_deref().is_some_and(|k| k == "error") {
        return Err(GatewayError::new(
            502,
            ErrorKind::UpstreamFailure,
            "upstream returned an error object with a success status",
        ));
    }
    Ok(DecodedResponse {
        body: Bytes::copy_from_slice(body),
        usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> Usage {
        Usage {
            prompt_tokens: 100,
            completion_tokens: 20,
            cached_tokens: 30,
            cache_write_tokens: 10,
            reasoning_tokens: 0,
        }
    }

    /// Text, reasoning and tool calls become thinking, text and tool_use blocks, in order.
    #[test]
    fn completion_to_message() {
        let body = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Let me check.","reasoning_content":"hmm","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}"#;
        let out = to_message(body, usage(), "r1", "m").unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], "msg_r1");
        assert_eq!(v["type"], "message");
        assert_eq!(v["model"], "gpt-4o");
        assert_eq!(v["stop_reason"], "tool_use");
        assert_eq!(v["content"][0]["type"], "thinking");
        assert_eq!(
            v["content"][1],
            json!({"type":"text","text":"Let me check."})
        );
        assert_eq!(
            v["content"][2],
            json!({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}})
        );
        assert_eq!(
            v["usage"],
            json!({"input_tokens":60,"cache_creation_input_tokens":10,"cache_read_input_tokens":30,"output_tokens":20})
        );
    }

    /// Finish reasons map to stop reasons.
    #[test]
    fn stop_reasons() {
        for (f, s) in [
            (Some("stop"), "end_turn"),
            (Some("length"), "max_tokens"),
            (Some("tool_calls"), "tool_use"),
            (Some("content_filter"), "refusal"),
            (None, "end_turn"),
        ] {
            assert_eq!(stop_reason(f), s);
        }
        let body =
            br#"{"model":"x","choices":[{"message":{"content":"cut"},"finish_reason":"length"}]}"#;
        let v: Value =
            serde_json::from_slice(&to_message(body, usage(), "r", "m").unwrap()).unwrap();
        assert_eq!(v["stop_reason"], "max_tokens");
        assert!(v["stop_sequence"].is_null());
    }

    /// Tool arguments always become an object.
    #[test]
    fn tool_inputs_are_objects() {
        assert_eq!(tool_input(""), json!({}));
        assert_eq!(tool_input("{\"a\":1}"), json!({"a":1}));
        assert_eq!(tool_input("[1]"), json!({"value":[1]}));
        assert_eq!(tool_input("{oops"), json!({"_raw_arguments":"{oops"}));
    }

    /// Pass-through keeps the bytes and reads Anthropic usage (prompt includes cache).
    #[test]
    fn passthrough_reads_usage() {
        let body = br#"{"id":"msg_1","type":"message","content":[],"usage":{"input_tokens":5,"cache_read_input_tokens":7,"output_tokens":3}}"#;
        let d = passthrough(body).unwrap();
        assert_eq!(&d.body[..], &body[..]);
        assert_eq!(
            (
                d.usage.prompt_tokens,
                d.usage.cached_tokens,
                d.usage.completion_tokens
            ),
            (12, 7, 3)
        );
        assert!(passthrough(b"not json").is_err());
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::providers::decode_response;
    use crate::providers::settings::ProviderKind;
    use crate::providers::testutil::ctx;
    use serde_json::json;

    /// Recorded-shape answers of every translated kind: text, reasoning, tool calls, cache
    /// usage, finish reasons.
    fn answers() -> Vec<(ProviderKind, Value)> {
        vec![
            (
                ProviderKind::Anthropic,
                json!({
                    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
                    "content": [
                        {"type": "thinking", "thinking": "Let me look.", "signature": "sig"},
                        {"type": "text", "text": "I'll check the weather."},
                        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "Paris"}}
                    ],
                    "stop_reason": "tool_use", "stop_sequence": null,
                    "usage": {"input_tokens": 377, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 3, "output_tokens": 65}
                }),
            ),
            (
                ProviderKind::Anthropic,
                json!({
                    "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
                    "content": [{"type": "text", "text": "cut"}],
                    "stop_reason": "max_tokens", "stop_sequence": null,
                    "usage": {"input_tokens": 3, "output_tokens": 1}
                }),
            ),
            (
                ProviderKind::Bedrock,
                json!({
                    "output": {"message": {"role": "assistant", "content": [
                        {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "sig"}}},
                        {"text": "Let me check."},
                        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}
                    ]}},
                    "stopReason": "tool_use",
                    "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 3, "cacheWriteInputTokens": 2}
                }),
            ),
            (
                ProviderKind::Gemini,
                json!({
                    "candidates": [{"content": {"role": "model", "parts": [
                        {"text": "plan", "thought": true},
                        {"text": "It is "}, {"text": "sunny."},
                        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln+/=="},
                        {"functionCall": {"name": "noargs"}}
                    ]}, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "thoughtsTokenCount": 6,
                                      "cachedContentTokenCount": 2, "totalTokenCount": 20},
                    "modelVersion": "gemini-2.5-flash"
                }),
            ),
            (
                ProviderKind::Ollama,
                json!({
                    "model": "llama3.2", "message": {"role": "assistant", "content": "Hello!", "thinking": "Greet back."},
                    "done_reason": "stop", "done": true, "prompt_eval_count": 26, "eval_count": 298
                }),
            ),
            (
                ProviderKind::Ollama,
                json!({
                    "model": "llama3.2", "message": {"role": "assistant", "content": "",
                        "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                    "done_reason": "stop", "done": true, "prompt_eval_count": 26, "eval_count": 9
                }),
            ),
            (
                ProviderKind::Cohere,
                json!({
                    "finish_reason": "TOOL_CALL",
                    "message": {"role": "assistant", "tool_plan": "I will call it.", "tool_calls": [
                        {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                    ]},
                    "usage": {"tokens": {"input_tokens": 71, "output_tokens": 2}, "cached_tokens": 64}
                }),
            ),
            (
                ProviderKind::Cohere,
                json!({
                    "finish_reason": "MAX_TOKENS",
                    "message": {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
                    "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 2}}
                }),
            ),
        ]
    }

    /// Rendering a provider's decoded answer straight into a `message` gives exactly what the
    /// former path gave (OpenAI `chat.completion` JSON first, then translated).
    #[test]
    fn direct_render_matches_the_openai_detour() {
        let plain = ctx(true);
        let direct = TranslateCtx {
            format: Some(&crate::frontends::anthropic_messages::FORMAT),
            ..plain.clone()
        };
        for (kind, body) in answers() {
            let raw = body.to_string();
            let via = decode_response(kind, raw.as_bytes(), &plain, "asked").unwrap();
            let want = to_message(&via.body, via.usage, plain.request_id, "asked").unwrap();
            let got = decode_response(kind, raw.as_bytes(), &direct, "asked").unwrap();
            let want: Value = serde_json::from_slice(&want).unwrap();
            let got_json: Value = serde_json::from_slice(&got.body).unwrap();
            assert_eq!(got_json, want, "{kind:?}: {raw}");
            assert_eq!(got.usage, via.usage, "{kind:?}");
            assert!(
                got_json["content"]
                    .as_array()
                    .is_some_and(|c| !c.is_empty()),
                "{kind:?}"
            );
        }
    }
}
