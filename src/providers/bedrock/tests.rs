use super::*;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{ctx, provider};
use crate::translate::embeddings::EmbeddingsRequest;
use serde_json::{Value, json};

/// Converse JSON: text, reasoning and tool calls (input object → arguments string), mapped
/// stop reason, usage with cache counts included in the prompt count.
#[test]
fn decode_converse_response() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "sig"}}},
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 3, "cacheWriteInputTokens": 2},
        "metrics": {"latencyMs": 1}
    });
    let d = decode_response(body.to_string().as_bytes(), &ctx(false), "claude-x").unwrap();
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    let m = &v["choices"][0]["message"];
    assert_eq!(m["content"], "Let me check.");
    assert_eq!(m["reasoning_content"], "Think.");
    assert_eq!(m["tool_calls"][0]["id"], "tooluse_1");
    assert_eq!(
        m["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Paris"}"#
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["model"], "claude-x");
    assert_eq!(v["usage"]["prompt_tokens"], 15);
    assert_eq!(v["usage"]["total_tokens"], 20);
    assert_eq!((d.usage.cached_tokens, d.usage.cache_write_tokens), (3, 2));
    assert!(decode_response(b"{\"nope\":1}", &ctx(false), "m").is_err());
}

/// Every stop reason of docs/wire/mapping.md §6.
#[test]
fn stop_reasons() {
    use crate::translate::FinishReason as F;
    for (r, f) in [
        ("end_turn", F::Stop),
        ("stop_sequence", F::Stop),
        ("max_tokens", F::Length),
        ("model_context_window_exceeded", F::Length),
        ("tool_use", F::ToolCalls),
        ("guardrail_intervened", F::ContentFilter),
        ("content_filtered", F::ContentFilter),
        ("malformed_model_output", F::Stop),
    ] {
        assert_eq!(finish_reason(Some(r), false), f, "{r}");
    }
}

/// AWS errors: the exception type from `x-amzn-errortype` joins the message; throttling keeps
/// 429, access denied and bad signatures blame the gateway (502), model failures are 502,
/// ModelNotReady is 503.
#[test]
fn error_mapping() {
    let p = provider(ProviderKind::Bedrock);
    let e = decode_error(
        &p,
        429,
        br#"{"message":"Too many requests"}"#,
        None,
        Some("ThrottlingException"),
    );
    assert_eq!((e.status, e.retry_after), (429, Some(1)));
    assert!(
        e.message
            .contains("Too many requests (ThrottlingException)"),
        "{}",
        e.message
    );
    let e = decode_error(
        &p,
        403,
        br#"{"Message":"The request signature we calculated does not match"}"#,
        None,
        Some("InvalidSignatureException"),
    );
    assert_eq!(e.status, 502);
    assert!(
        e.message.contains("credentials") && e.message.contains("signature"),
        "{}",
        e.message
    );
    assert_eq!(
        decode_error(
            &p,
            400,
            br#"{"message":"bad"}"#,
            None,
            Some("ValidationException")
        )
        .status,
        400
    );
    assert_eq!(
        decode_error(
            &p,
            424,
            br#"{"message":"x"}"#,
            None,
            Some("ModelErrorException")
        )
        .status,
        502
    );
    assert_eq!(
        decode_error(
            &p,
            429,
            br#"{"message":"x"}"#,
            None,
            Some("ModelNotReadyException")
        )
        .status,
        503
    );
    assert_eq!(decode_error(&p, 503, b"not json", None, None).status, 503);
    assert_eq!(
        error_message(
            br#"{"__type":"com.amazon#ValidationException","message":"m"}"#,
            None
        )
        .as_deref(),
        Some("m (ValidationException)")
    );
}

fn embed_req(body: &Value) -> Vec<u8> {
    body.to_string().into_bytes()
}

/// Titan: one `inputText` per call (several inputs are a 400 naming `input`), dimensions
/// passed, vector and token count decoded into OpenAI's list.
#[test]
fn titan_embeddings() {
    let p = provider(ProviderKind::Bedrock);
    let raw = embed_req(&json!({"model": "t", "input": "hello", "dimensions": 256}));
    let req = EmbeddingsRequest::parse(&raw).unwrap();
    let up = embed::build(&p, &req, "amazon.titan-embed-text-v2:0").unwrap();
    assert_eq!(up.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    let v: Value = serde_json::from_slice(&up.body).unwrap();
    assert_eq!(v, json!({"inputText": "hello", "dimensions": 256}));
    assert!(up.headers.iter().any(|(k, _)| k == "authorization"));
    let d = embed::decode(
        br#"{"embedding":[0.5,-0.25],"inputTextTokenCount":2}"#,
        &req,
        "amazon.titan-embed-text-v2:0",
    )
    .unwrap();
    let out: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(out["data"][0]["embedding"], json!([0.5, -0.25]));
    assert_eq!(out["usage"]["prompt_tokens"], 2);
    let raw = embed_req(&json!({"model": "t", "input": ["a", "b"]}));
    let two = EmbeddingsRequest::parse(&raw).unwrap();
    let e = embed::build(&p, &two, "amazon.titan-embed-text-v1").unwrap_err();
    assert_eq!((e.status, e.param.as_deref()), (400, Some("input")));
    let e = embed::build(&p, &two, "anthropic.claude-3").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("model"));
}

/// Cohere: `texts` with `input_type` (default search_document); both response shapes.
#[test]
fn cohere_embeddings() {
    let p = provider(ProviderKind::Bedrock);
    let raw = embed_req(&json!({"model": "c", "input": ["a", "b"], "input_type": "search_query"}));
    let req = EmbeddingsRequest::parse(&raw).unwrap();
    let up = embed::build(&p, &req, "cohere.embed-english-v3").unwrap();
    let v: Value = serde_json::from_slice(&up.body).unwrap();
    assert_eq!(
        v,
        json!({"texts": ["a", "b"], "input_type": "search_query"})
    );
    let raw = embed_req(&json!({"model": "c", "input": ["a", "b"]}));
    let plain = EmbeddingsRequest::parse(&raw).unwrap();
    let v: Value = serde_json::from_slice(
        &embed::build(&p, &plain, "cohere.embed-multilingual-v3")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(v["input_type"], "search_document");
    for body in [
        br#"{"embeddings":[[1.0],[2.0]],"id":"x","response_type":"embeddings_floats"}"#.as_slice(),
        br#"{"embeddings":{"float":[[1.0],[2.0]]},"response_type":"embeddings_by_type"}"#
            .as_slice(),
    ] {
        let d = embed::decode(body, &req, "cohere.embed-english-v3").unwrap();
        let out: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(out["data"][1]["embedding"], json!([2.0]));
        assert_eq!(out["data"][1]["index"], 1);
    }
    assert!(
        embed::decode(
            br#"{"embeddings":[[1.0]]}"#,
            &req,
            "cohere.embed-english-v3"
        )
        .is_err()
    );
}

/// Structured output by answer tool: its input is the content, the finish `stop`.
#[test]
fn answer_tool_response_is_content() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "tooluse_a", "name": "json_answer", "input": {"name": "Ada"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}
    })
    .to_string();
    let answer = crate::providers::testutil::answer_ctx();
    let d = decode_response(body.as_bytes(), &answer, "m").unwrap();
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["choices"][0]["message"]["content"], "{\"name\":\"Ada\"}");
    assert!(v["choices"][0]["message"].get("tool_calls").is_none());
    let d = decode_response(body.as_bytes(), &ctx(false), "m").unwrap();
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}
