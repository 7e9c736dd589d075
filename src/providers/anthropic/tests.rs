//! Anthropic non-streaming responses and error bodies.

use super::*;
use crate::providers::testutil::ctx;
use serde_json::json;

/// A message with text and a tool call becomes one OpenAI choice.
#[test]
fn response_with_tool_call() {
    let body = json!({
        "id": "msg_019Q1hrJbZG26Fb9BQhrkHEr", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
        "content": [
            {"type": "text", "text": "I'll check the current weather in Paris for you."},
            {"type": "tool_use", "id": "toolu_01NRLabsLyVHZPKxbKvkfSMn", "name": "get_weather", "input": {"location": "Paris"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 377, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3, "output_tokens": 65, "service_tier": "standard"}
    });
    let d = decode_response(body.to_string().as_bytes(), &ctx(false)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["id"], "chatcmpl-req1");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "claude-sonnet-4-20250514");
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(
        choice["message"]["content"],
        "I'll check the current weather in Paris for you."
    );
    let tc = &choice["message"]["tool_calls"][0];
    assert_eq!(tc["id"], "toolu_01NRLabsLyVHZPKxbKvkfSMn");
    assert_eq!(tc["type"], "function");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(tc["function"]["arguments"].as_str().unwrap())
            .unwrap(),
        json!({"location": "Paris"})
    );
    assert_eq!(v["usage"]["prompt_tokens"], 380);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
    assert_eq!(v["usage"]["total_tokens"], 445);
    assert_eq!(
        (d.usage.prompt_tokens, d.usage.completion_tokens),
        (380, 65)
    );
}

/// Tool-only answers have null content; stop reasons map to OpenAI finish reasons.
#[test]
fn finish_reasons_and_null_content() {
    let mk = |stop: &str, content: serde_json::Value| {
        let body = json!({"model": "c", "content": content, "stop_reason": stop, "usage": {"input_tokens": 1, "output_tokens": 1}});
        let d = decode_response(body.to_string().as_bytes(), &ctx(false)).unwrap();
        serde_json::from_slice::<serde_json::Value>(&d.body).unwrap()
    };
    let tool = mk(
        "tool_use",
        json!([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]),
    );
    assert!(tool["choices"][0]["message"]["content"].is_null());
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("model_context_window_exceeded", "length"),
    ] {
        assert_eq!(
            mk(stop, json!([{"type": "text", "text": "x"}]))["choices"][0]["finish_reason"],
            finish,
            "{stop}"
        );
    }
    let thinking = mk(
        "end_turn",
        json!([{"type": "thinking", "thinking": "hmm", "signature": "s"}, {"type": "text", "text": "ok"}]),
    );
    assert_eq!(
        thinking["choices"][0]["message"]["reasoning_content"],
        "hmm"
    );
    assert_eq!(thinking["choices"][0]["message"]["content"], "ok");
}

/// Garbage is a 502, not a panic.
#[test]
fn invalid_response_is_502() {
    assert_eq!(
        decode_response(b"{\"content\": 3}", &ctx(false))
            .unwrap_err()
            .status,
        502
    );
}

/// Error bodies yield message and type.
#[test]
fn error_bodies() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
    assert_eq!(
        error_message(body).as_deref(),
        Some("Overloaded (overloaded_error)")
    );
    assert_eq!(
        error_message(b"bad gateway").as_deref(),
        Some("bad gateway")
    );
}

/// Structured output by answer tool: the tool's input is the message content, `stop`, no
/// tool calls; a client's own call next to it stays a call.
#[test]
fn answer_tool_response_is_content() {
    let body = |extra: serde_json::Value| {
        let mut content = vec![
            json!({"type": "tool_use", "id": "toolu_a", "name": "json_answer", "input": {"name": "Ada", "age": 36}}),
        ];
        if !extra.is_null() {
            content.push(extra);
        }
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": content, "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 7}})
        .to_string()
    };
    let answer = crate::providers::testutil::answer_ctx();
    let d = decode_response(body(serde_json::Value::Null).as_bytes(), &answer).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["message"].get("tool_calls").is_none());
    let content: serde_json::Value =
        serde_json::from_str(choice["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, json!({"name": "Ada", "age": 36}));
    // Not asked for: the call is a tool call.
    let d = decode_response(body(serde_json::Value::Null).as_bytes(), &ctx(false)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "json_answer"
    );
    // A client tool call beside it.
    let call = json!({"type": "tool_use", "id": "toolu_f", "name": "f", "input": {}});
    let d = decode_response(body(call).as_bytes(), &answer).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "f"
    );
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
