use super::*;
use crate::scenario::ToolChoice;
use serde_json::json;

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

/// Paths route by method; the model segment is percent-decoded; `block=` is taken out.
#[test]
fn routes_and_directives() {
    assert_eq!(
        route("/v1beta/models/gemini-2.5-flash%23status%3D429:streamGenerateContent"),
        Some(("gemini-2.5-flash#status=429".to_owned(), Method::Stream))
    );
    assert_eq!(
        route("/p/v1/models/e:batchEmbedContents"),
        Some(("e".to_owned(), Method::Embed))
    );
    assert_eq!(route("/v1beta/models/g:countTokens"), None);
    assert_eq!(route("/v1/chat/completions"), None);
    assert_eq!(
        take_block(Some("tokens=3;block=SAFETY")),
        (Some("SAFETY".to_owned()), Some("tokens=3".to_owned()))
    );
    assert_eq!(take_block(None), (None, None));
}

/// A request becomes a conversation: system, text, images, tools, results, limits.
#[test]
fn parses_conversation() {
    let c = parse(
        &json!({
            "systemInstruction": {"parts": [{"text": "Be terse."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Hi"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                                           {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x/a.jpg"}}]},
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"output": "18 C"}}}]}
            ],
            "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
            "generationConfig": {"maxOutputTokens": 5, "stopSequences": ["x"], "temperature": 2.0}
        }),
        false,
    )
    .unwrap();
    assert_eq!(c.images, 2);
    assert_eq!(c.tool_result.as_deref(), Some("18 C"));
    assert_eq!(c.tools[0].schema["properties"]["a"]["type"], "integer");
    assert_eq!(c.tool_choice, ToolChoice::Named("f".into()));
    assert_eq!(
        (c.max_tokens, c.stop.clone()),
        (Some(5), vec!["x".to_owned()])
    );
}

/// The real API's refusals: unknown schema keywords, roles, counts, signatures.
#[test]
fn rejects_like_gemini() {
    let cases = [
        (json!({"contents": []}), "contents is not specified"),
        (
            json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
            "valid role",
        ),
        (
            json!({"contents": [user("x")], "generationConfig": {"n": 2}}),
            "Unknown name \"n\"",
        ),
        (
            json!({"contents": [user("x")], "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "additionalProperties": false, "properties": {"a": {"type": "STRING"}}}}]}]}),
            "Unknown name \"additionalProperties\"",
        ),
        (
            json!({"contents": [user("x")], "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": {}}}]}]}),
            "should be non-empty",
        ),
        (
            json!({"contents": [user("x"), {"role": "model", "parts": [{"functionCall": {"name": "f"}}, {"functionCall": {"name": "g"}}]},
                                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}),
            "number of function response parts",
        ),
        (
            json!({"contents": [user("x")], "generationConfig": {"temperature": 3}}),
            "temperature",
        ),
    ];
    for (body, want) in cases {
        let e = parse(&body, false).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains(want), "{want}: {}", e.message);
    }
}

/// With thinking, a function call without the issued signature is refused.
#[test]
fn checks_signatures() {
    let history = |sig: Option<&str>| {
        let mut call = json!({"functionCall": {"name": "f", "args": {}}});
        if let Some(s) = sig {
            call["thoughtSignature"] = json!(s);
        }
        json!({"contents": [user("x"), {"role": "model", "parts": [call, {"functionCall": {"name": "g"}}]},
                            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}},
                                                       {"functionResponse": {"name": "g", "response": {}}}]}]})
    };
    let sig = signature(7);
    assert!(sig.contains('+') || sig.contains('/'), "{sig}");
    assert!(parse(&history(Some(&sig)), true).is_ok());
    assert!(parse(&history(None), false).is_ok());
    let e = parse(&history(None), true).unwrap_err();
    assert!(e.message.contains("missing a thought_signature"));
    let e = parse(&history(Some("c2lnbmF0dXJl")), true).unwrap_err();
    assert!(e.message.contains("Corrupted"));
}

/// Google error bodies carry the canonical status and, for 429, a RetryInfo.
#[test]
fn error_bodies() {
    let v: Value = serde_json::from_slice(&error_body(&status_error(429), Some(3))).unwrap();
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(v["error"]["code"], 429);
    assert_eq!(v["error"]["details"][0]["retryDelay"], "3s");
    let v: Value = serde_json::from_slice(&error_body(&status_error(503), None)).unwrap();
    assert_eq!(v["error"]["status"], "UNAVAILABLE");
    assert_eq!(google_status(500), "INTERNAL");
    assert_eq!(missing_key().status, 403);
}
