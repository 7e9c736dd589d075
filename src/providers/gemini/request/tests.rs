//! OpenAI → Gemini request translation.

use super::*;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::provider;
use serde_json::json;

fn build(body: serde_json::Value) -> Result<(String, serde_json::Value), GatewayError> {
    let raw = body.to_string();
    let req = ChatRequest::parse(raw.as_bytes())?;
    let up = build_request(&provider(ProviderKind::Gemini), &req, "gemini-2.5-flash")?;
    Ok((up.path, serde_json::from_slice(&up.body).unwrap()))
}

/// Roles: leading system/developer → systemInstruction, later ones a `<system-reminder>` user
/// part in place; consecutive turns merge; a leading
/// assistant turn gets a user turn before it; sampling parameters go to generationConfig.
#[test]
fn roles_and_generation_config() {
    let (path, v) = build(json!({
        "model": "g",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "a"},
            {"role": "developer", "content": [{"type": "text", "text": "Dev."}]},
            {"role": "user", "content": [{"type": "text", "text": "b"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "c"}]}
        ],
        "temperature": 0.3, "top_p": 0.9, "max_completion_tokens": 77, "stop": "END",
        "seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5, "n": 1
    }))
    .unwrap();
    assert_eq!(path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(
        v["systemInstruction"],
        json!({"parts": [{"text": "Be terse."}]})
    );
    assert_eq!(
        v["contents"],
        json!([
            {"role": "user", "parts": [{"text": "."}]},
            {"role": "model", "parts": [{"text": "Hello."}]},
            {"role": "user", "parts": [{"text": "a"},
                {"text": "<system-reminder>\nDev.\n</system-reminder>"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "c"}]}
        ])
    );
    assert_eq!(
        v["generationConfig"],
        json!({"temperature": 0.3, "topP": 0.9, "maxOutputTokens": 77, "stopSequences": ["END"],
               "seed": 7, "presencePenalty": 0.5, "frequencyPenalty": -0.5})
    );
    assert!(v.get("tools").is_none() && v.get("toolConfig").is_none());
}

/// Streaming uses the SSE method; the model is one encoded path segment; a versioned base
/// URL keeps its version.
#[test]
fn paths() {
    let (path, v) = build(
        json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    )
    .unwrap();
    assert_eq!(
        path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert!(v.get("generationConfig").is_none());
    assert_eq!(
        method_path("", "gem#status=429;x=a b/c", "generateContent"),
        "/v1beta/models/gem%23status%3D429%3Bx%3Da%20b%2Fc:generateContent"
    );
    assert_eq!(method_path("/v1", "models/g-1", "x"), "/v1/models/g-1:x");
    assert_eq!(
        method_path("/google/v1beta", "g", "x"),
        "/google/v1beta/models/g:x"
    );
    assert_eq!(method_path("/proxy", "g", "x"), "/proxy/v1beta/models/g:x");
}

/// Images: data URLs inline, https and gs:// URLs as fileData with a guessed MIME type.
#[test]
fn images() {
    let (_, v) = build(json!({"model": "g", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What?"},
        {"type": "image_url", "image_url": {"url": "data:image/PNG;base64,iVBORw0KGgo=", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?x=1.png#y"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/photo"}},
        {"type": "image_url", "image_url": {"url": "gs://bucket/a.png"}}
    ]}]}))
    .unwrap();
    assert_eq!(
        v["contents"][0]["parts"],
        json!([
            {"text": "What?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?x=1.png#y"}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/photo"}},
            {"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/a.png"}}
        ])
    );
    for bad in ["ftp://x/a.png", "data:image/png,abc", "data:;base64,abc"] {
        let e = build(
            json!({"model": "g", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": bad}}]}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.param.as_deref(),
            Some("messages[0].content[0].image_url"),
            "{bad}"
        );
    }
}

/// Tools: declarations with cleaned schemas; tool_choice modes; no-parameter tools omit
/// `parameters`.
#[test]
fn tools_and_choice() {
    let tools = json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather", "strict": true,
         "parameters": {"type": "object", "additionalProperties": false, "$schema": "x",
                        "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
        {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "ping"}}
    ]);
    let msgs = json!([{"role": "user", "content": "x"}]);
    let (_, v) = build(json!({"model": "g", "messages": msgs, "tools": tools})).unwrap();
    assert_eq!(
        v["tools"],
        json!([{"functionDeclarations": [
            {"name": "get_weather", "description": "Weather", "parameters":
                {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}},
            {"name": "now"},
            {"name": "ping"}
        ]}])
    );
    assert!(v.get("toolConfig").is_none());
    let cases = [
        (json!("auto"), json!({"mode": "AUTO"})),
        (json!("none"), json!({"mode": "NONE"})),
        (json!("required"), json!({"mode": "ANY"})),
        (
            json!({"type": "function", "function": {"name": "now"}}),
            json!({"mode": "ANY", "allowedFunctionNames": ["now"]}),
        ),
    ];
    for (choice, want) in cases {
        let (_, v) =
            build(json!({"model": "g", "messages": msgs, "tools": tools, "tool_choice": choice}))
                .unwrap();
        assert_eq!(v["toolConfig"]["functionCallingConfig"], want);
    }
    let e = build(json!({"model": "g", "messages": msgs, "tools": [{"type": "web_search"}]}))
        .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[0].type"));
}

/// Tool round trip: calls become functionCall parts with the signature their id carries;
/// results become functionResponse parts named after the call, ahead of user text.
#[test]
fn tool_results_and_signatures() {
    let signed = ids::call_id("r1", 0, Some("CiUB+/sig=="));
    let (_, v) = build(json!({"model": "g", "messages": [
        {"role": "user", "content": "Weather and time?"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": signed, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_r1_1", "type": "function", "function": {"name": "get_time", "arguments": ""}}
        ]},
        {"role": "tool", "tool_call_id": "call_r1_1", "content": "noon"},
        {"role": "tool", "tool_call_id": signed, "content": [{"type": "text", "text": "18 C"}]},
        {"role": "user", "content": "Thanks"}
    ]}))
    .unwrap();
    assert_eq!(
        v["contents"][1],
        json!({"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "CiUB+/sig=="},
            {"functionCall": {"name": "get_time", "args": {}}}
        ]})
    );
    assert_eq!(
        v["contents"][2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "get_time", "response": {"output": "noon"}}},
            {"functionResponse": {"name": "get_weather", "response": {"output": "18 C"}}},
            {"text": "Thanks"}
        ]})
    );
    assert_eq!(v["contents"].as_array().unwrap().len(), 3);
}

/// Client mistakes are 400s naming the field.
#[test]
fn client_errors() {
    let cases = [
        (
            json!([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "r"}]),
            "messages[1].tool_call_id",
        ),
        (
            json!([{"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (json!([{"role": "system", "content": "only"}]), "messages"),
        (
            json!([{"role": "function", "content": "x", "name": "f"}]),
            "messages[0].role",
        ),
    ];
    for (messages, param) in cases {
        let e = build(json!({"model": "g", "messages": messages})).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some(param)));
    }
    let e = build(json!({"model": "g", "messages": [{"role": "user", "content": "x"}], "n": 2}))
        .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("n"));
    let e = build(
        json!({"model": "g", "messages": [{"role": "user", "content": "x"}], "logprobs": true}),
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("logprobs"));
    // `user` is dropped by default.
    let (_, v) =
        build(json!({"model": "g", "messages": [{"role": "user", "content": "x"}], "user": "u1"}))
            .unwrap();
    assert!(!v.to_string().contains("u1"));
}

/// response_format: JSON mode and JSON schema (cleaned).
#[test]
fn response_format() {
    let msgs = json!([{"role": "user", "content": "x"}]);
    let (_, v) =
        build(json!({"model": "g", "messages": msgs, "response_format": {"type": "json_object"}}))
            .unwrap();
    assert_eq!(
        v["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    let (_, v) = build(json!({"model": "g", "messages": msgs, "response_format": {"type": "json_schema",
        "json_schema": {"name": "s", "strict": true, "schema": {"type": "object", "additionalProperties": false,
            "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}})).unwrap();
    assert_eq!(
        v["generationConfig"],
        json!({"responseMimeType": "application/json", "responseSchema":
            {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}, "required": ["a"]}})
    );
    let (_, v) =
        build(json!({"model": "g", "messages": msgs, "response_format": {"type": "text"}}))
            .unwrap();
    assert!(v.get("generationConfig").is_none());
}

/// A recursive or dangling `$ref` in a response schema is refused with its JSON path:
/// responseSchema inlines references, so it has no finite form.
#[test]
fn response_schema_refs_refused_by_path() {
    let msgs = json!([{"role": "user", "content": "x"}]);
    let with = |schema: serde_json::Value| {
        build(
            json!({"model": "g", "messages": msgs, "response_format": {"type": "json_schema",
            "json_schema": {"name": "s", "schema": schema}}}),
        )
    };
    let e = with(json!({"type": "object", "properties": {"child": {"$ref": "#"}}})).unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(
        e.param.as_deref(),
        Some("response_format.json_schema.schema.properties.child.$ref")
    );
    assert!(e.message.contains("recursive"), "{}", e.message);
    let e = with(json!({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}}))
        .unwrap_err();
    assert_eq!(
        e.param.as_deref(),
        Some("response_format.json_schema.schema.properties.x.$ref")
    );
    // Shared, non-recursive definitions are inlined as before.
    let (_, v) = with(
        json!({"$defs": {"P": {"type": "object", "properties": {"n": {"type": "string"}}}},
        "type": "object", "properties": {"a": {"$ref": "#/$defs/P"}}}),
    )
    .unwrap();
    assert_eq!(
        v["generationConfig"]["responseSchema"]["properties"]["a"]["properties"]["n"]["type"],
        "STRING"
    );
}
