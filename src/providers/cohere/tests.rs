//! Cohere response, error and embeddings decoding.

use super::*;
use crate::providers::testutil::{ctx, provider};
use crate::translate::embeddings::EmbeddingsRequest;
use serde_json::{Value, json};

fn decode(body: Value) -> Value {
    let d = decode_response(body.to_string().as_bytes(), &ctx(false), "command-a").unwrap();
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["usage"]["total_tokens"], d.usage.total_tokens());
    v
}

/// Text content, the asked model, usage from `tokens` and cached tokens.
#[test]
fn text_response() {
    let v = decode(json!({
        "id": "c14c80c3", "finish_reason": "COMPLETE",
        "message": {"role": "assistant", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " world"}]},
        "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 2}, "tokens": {"input_tokens": 71, "output_tokens": 2}, "cached_tokens": 64}
    }));
    assert_eq!(v["model"], "command-a");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello world");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 71);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 64);
}

/// Tool calls with tool_plan as reasoning; billed_units fallback; finish reasons.
#[test]
fn tool_call_response() {
    let v = decode(json!({
        "finish_reason": "TOOL_CALL",
        "message": {"role": "assistant", "tool_plan": "I will call it.", "tool_calls": [
            {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
        ]},
        "usage": {"billed_units": {"input_tokens": 9, "output_tokens": 4}}
    }));
    let m = &v["choices"][0]["message"];
    assert!(m["content"].is_null());
    assert_eq!(m["reasoning_content"], "I will call it.");
    assert_eq!(m["tool_calls"][0]["id"], "get_weather_1");
    assert_eq!(
        m["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Paris\"}"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        (
            v["usage"]["prompt_tokens"].as_u64(),
            v["usage"]["completion_tokens"].as_u64()
        ),
        (Some(9), Some(4))
    );
    for (reason, want) in [
        ("MAX_TOKENS", "length"),
        ("STOP_SEQUENCE", "stop"),
        ("COMPLETE", "stop"),
    ] {
        let v = decode(
            json!({"finish_reason": reason, "message": {"content": [{"type": "text", "text": "x"}]}}),
        );
        assert_eq!(v["choices"][0]["finish_reason"], want);
    }
    let e = decode_response(
        br#"{"finish_reason":"ERROR","message":{"content":[]}}"#,
        &ctx(false),
        "m",
    )
    .unwrap_err();
    assert_eq!(e.status, 502);
}

/// Error bodies: `{"message"}` and `{"id","message"}`; anything else falls back.
#[test]
fn error_bodies() {
    assert_eq!(
        error_message(br#"{"message":"invalid api token"}"#).as_deref(),
        Some("invalid api token")
    );
    assert_eq!(
        error_message(br#"{"id":"abc","message":"too many tokens"}"#).as_deref(),
        Some("too many tokens")
    );
    assert_eq!(
        error_message(b"upstream connect error").as_deref(),
        Some("upstream connect error")
    );
}

/// `/v2/embed`: texts, input_type default and override, dimensions; float vectors rendered.
#[test]
fn embeddings() {
    let p = provider(crate::providers::settings::ProviderKind::Cohere);
    let raw = br#"{"model":"alias","input":"hello","dimensions":256}"#;
    let req = EmbeddingsRequest::parse(raw).unwrap();
    let up = crate::providers::embeddings::build(&p, &req, raw, "embed-v4.0").unwrap();
    assert_eq!(up.path, "/v2/embed");
    let body: Value = serde_json::from_slice(&up.body).unwrap();
    assert_eq!(
        body,
        json!({"model": "embed-v4.0", "texts": ["hello"], "input_type": "search_document", "embedding_types": ["float"], "output_dimension": 256})
    );
    let raw2 = br#"{"model":"alias","input":["q"],"input_type":"search_query","encoding_format":"base64"}"#;
    let req2 = EmbeddingsRequest::parse(raw2).unwrap();
    let up2 = crate::providers::embeddings::build(&p, &req2, raw2, "embed-v4.0").unwrap();
    let body2: Value = serde_json::from_slice(&up2.body).unwrap();
    assert_eq!(body2["input_type"], "search_query");
    let answer = br#"{"id":"e1","embeddings":{"float":[[0.5,-0.25]]},"texts":["hello"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":1}}}"#;
    let d = crate::providers::embeddings::decode(&p, answer, &req, "embed-v4.0").unwrap();
    assert_eq!(d.usage.prompt_tokens, 1);
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["data"][0]["embedding"], json!([0.5, -0.25]));
    assert_eq!(v["model"], "embed-v4.0");
    let b64 = crate::providers::embeddings::decode(&p, answer, &req2, "m").unwrap();
    let v: Value = serde_json::from_slice(&b64.body).unwrap();
    assert!(v["data"][0]["embedding"].is_string());
    assert_eq!(
        crate::providers::embeddings::decode(&p, br#"{"embeddings":{}}"#, &req, "m")
            .unwrap_err()
            .status,
        502
    );
}
