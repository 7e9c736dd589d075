//! Ollama response and embeddings decoding.

use super::*;
use crate::providers::testutil::{ctx, provider};
use crate::translate::embeddings::EmbeddingsRequest;
use serde_json::{Value, json};

fn decode(body: Value) -> Value {
    let d = decode_response(body.to_string().as_bytes(), &ctx(false), "asked-model").unwrap();
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["usage"]["total_tokens"], d.usage.total_tokens());
    v
}

/// Text, thinking, usage and the served model.
#[test]
fn text_response() {
    let v = decode(json!({
        "model": "llama3.2", "created_at": "2023-12-12T14:13:43.416799Z",
        "message": {"role": "assistant", "content": "Hello!", "thinking": "Greet back."},
        "done_reason": "stop", "done": true, "total_duration": 5191566416u64,
        "prompt_eval_count": 26, "eval_count": 298
    }));
    assert_eq!(v["model"], "llama3.2");
    assert_eq!(v["object"], "chat.completion");
    let m = &v["choices"][0]["message"];
    assert_eq!(
        (m["content"].as_str(), m["reasoning_content"].as_str()),
        (Some("Hello!"), Some("Greet back."))
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        (
            v["usage"]["prompt_tokens"].as_u64(),
            v["usage"]["completion_tokens"].as_u64()
        ),
        (Some(26), Some(298))
    );
}

/// Tool calls: object arguments become strings, ids are generated unless Ollama sent one.
#[test]
fn tool_call_response() {
    let v = decode(json!({
        "message": {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
            {"id": "call_x", "function": {"index": 1, "name": "noop", "arguments": {}}}
        ]},
        "done_reason": "stop", "done": true
    }));
    assert_eq!(v["model"], "asked-model");
    let m = &v["choices"][0]["message"];
    assert!(m["content"].is_null());
    assert_eq!(m["tool_calls"][0]["id"], "call_req1_0");
    assert_eq!(m["tool_calls"][1]["id"], "call_x");
    let args: Value = serde_json::from_str(
        m["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"city": "Tokyo"}));
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    let long =
        decode(json!({"message": {"content": "cut"}, "done_reason": "length", "done": true}));
    assert_eq!(long["choices"][0]["finish_reason"], "length");
}

/// Error bodies and invalid bodies.
#[test]
fn errors() {
    assert_eq!(
        error_message(br#"{"error":"model 'x' not found"}"#).as_deref(),
        Some("model 'x' not found")
    );
    let e = decode_response(br#"{"error":"boom"}"#, &ctx(false), "m").unwrap_err();
    assert_eq!(e.status, 502);
    assert!(e.message.contains("boom"));
    assert_eq!(
        decode_response(b"<html>", &ctx(false), "m")
            .unwrap_err()
            .status,
        502
    );
}

/// `/api/embed`: request shape, and the answer rendered as OpenAI's list (float and base64).
#[test]
fn embeddings() {
    let p = provider(crate::providers::settings::ProviderKind::Ollama);
    let raw = br#"{"model":"alias","input":["a","b"],"dimensions":2}"#;
    let req = EmbeddingsRequest::parse(raw).unwrap();
    let up = crate::providers::embeddings::build(&p, &req, raw, "all-minilm").unwrap();
    assert_eq!(up.path, "/api/embed");
    let body: Value = serde_json::from_slice(&up.body).unwrap();
    assert_eq!(
        body,
        json!({"model": "all-minilm", "input": ["a", "b"], "dimensions": 2})
    );
    let answer = br#"{"model":"all-minilm","embeddings":[[0.5,-1.0],[0.25,2.0]],"total_duration":14143917,"prompt_eval_count":8}"#;
    let d = crate::providers::embeddings::decode(&p, answer, &req, "all-minilm").unwrap();
    assert_eq!(d.usage.prompt_tokens, 8);
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["data"][1]["embedding"], json!([0.25, 2.0]));
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["usage"]["prompt_tokens"], 8);
    let short = br#"{"embeddings":[[0.5]]}"#;
    assert_eq!(
        crate::providers::embeddings::decode(&p, short, &req, "m")
            .unwrap_err()
            .status,
        502
    );
    let toks = EmbeddingsRequest::parse(br#"{"model":"e","input":[1,2]}"#).unwrap();
    let e = crate::providers::embeddings::build(&p, &toks, b"{}", "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("input"));
}
