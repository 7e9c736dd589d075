//! Response decoding, finish reasons, usage and error bodies.

use super::*;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{ctx, provider};
use crate::providers::{decode_error, decode_response as decode};
use serde_json::json;

fn decode_json(body: serde_json::Value) -> Result<serde_json::Value, GatewayError> {
    let d = decode(
        ProviderKind::Gemini,
        body.to_string().as_bytes(),
        &ctx(false),
        "gemini-2.5-flash",
    )?;
    Ok(serde_json::from_slice(&d.body).unwrap())
}

/// Text, thoughts and calls of candidate 0; usage in OpenAI semantics.
#[test]
fn decodes_response() {
    let v = decode_json(json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "plan", "thought": true},
            {"text": "It is "}, {"text": "sunny."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln+/=="},
            {"functionCall": {"name": "noargs"}}
        ]}, "finishReason": "STOP", "index": 0, "safetyRatings": []}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "thoughtsTokenCount": 6,
                          "cachedContentTokenCount": 2, "totalTokenCount": 20},
        "modelVersion": "gemini-2.5-flash", "responseId": "x"
    }))
    .unwrap();
    let m = &v["choices"][0]["message"];
    assert_eq!(m["content"], "It is sunny.");
    assert_eq!(m["reasoning_content"], "plan");
    assert_eq!(m["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(
        m["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Paris"}"#
    );
    let id = m["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(ids::signature(id).as_deref(), Some("c2ln+/=="));
    assert_eq!(m["tool_calls"][1]["id"], "call_req1_1");
    assert_eq!(m["tool_calls"][1]["function"]["arguments"], "{}");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["model"], "gemini-2.5-flash");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20,
               "prompt_tokens_details": {"cached_tokens": 2},
               "completion_tokens_details": {"reasoning_tokens": 6}})
    );
}

/// Finish reasons per docs/wire/mapping.md §6.
#[test]
fn finish_reasons() {
    use crate::translate::FinishReason as F;
    let cases = [
        (Some("STOP"), false, F::Stop),
        (Some("STOP"), true, F::ToolCalls),
        (None, false, F::Stop),
        (Some("MAX_TOKENS"), true, F::Length),
        (Some("SAFETY"), false, F::ContentFilter),
        (Some("RECITATION"), false, F::ContentFilter),
        (Some("PROHIBITED_CONTENT"), false, F::ContentFilter),
        (Some("SPII"), false, F::ContentFilter),
        (Some("IMAGE_SAFETY"), false, F::ContentFilter),
        (Some("BLOCKLIST"), false, F::ContentFilter),
        (Some("MALFORMED_FUNCTION_CALL"), false, F::Stop),
        (Some("FINISH_REASON_UNSPECIFIED"), false, F::Stop),
    ];
    for (r, tools, want) in cases {
        assert_eq!(finish_reason(r, tools), want, "{r:?}");
    }
    let v = decode_json(json!({"candidates": [{"content": {"parts": [{"text": "partial"}]}, "finishReason": "SAFETY"}]})).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
}

/// A blocked prompt is a 400 `content_filter` naming the reason.
#[test]
fn blocked_prompt() {
    let e = decode_json(
        json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
                               "usageMetadata": {"promptTokenCount": 3}}),
    )
    .unwrap_err();
    assert_eq!((e.status, e.code.as_deref()), (400, Some("content_filter")));
    assert!(e.message.contains("SAFETY") && e.message.contains("test-provider"));
    assert_eq!(
        decode_json(json!({"nope": 1})).unwrap()["choices"][0]["message"]["content"],
        ""
    );
    assert_eq!(
        decode(
            ProviderKind::Gemini,
            b"not json",
            &ctx(false),
            "gemini-2.5-flash"
        )
        .unwrap_err()
        .status,
        502
    );
}

/// Google error bodies: message with status, RetryInfo as retry-after, array form.
#[test]
fn errors() {
    let p = provider(ProviderKind::Gemini);
    let body = br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"6.2s"}]}}"#;
    let e = decode_error(&p, 429, &head(), body, None);
    assert_eq!((e.status, e.retry_after), (429, Some(7)));
    assert!(
        e.message.contains("Quota exceeded (RESOURCE_EXHAUSTED)"),
        "{}",
        e.message
    );
    assert_eq!(
        decode_error(&p, 429, &head(), body, Some(2)).retry_after,
        Some(2)
    );
    let arr = br#"[{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}]"#;
    let e = decode_error(&p, 503, &head(), arr, None);
    assert_eq!((e.status, e.retry_after), (503, Some(1)));
    assert!(e.message.contains("overloaded (UNAVAILABLE)"));
    let e = decode_error(&p, 400, &head(), b"<html>bad</html>", None);
    assert!(e.message.contains("<html>bad</html>"));
}

/// The API key goes in `x-goog-api-key`.
#[test]
fn auth_header() {
    let p = provider(ProviderKind::Gemini);
    let mut h = RequestHeader::build("POST", b"/", None).unwrap();
    add_headers(&p, &mut h).unwrap();
    assert_eq!(
        h.headers.get("x-goog-api-key").unwrap(),
        "sk-test-provider-key"
    );
    assert!(h.headers.get("authorization").is_none());
}

fn head() -> pingora::http::ResponseHeader {
    pingora::http::ResponseHeader::build(400, None).unwrap()
}
