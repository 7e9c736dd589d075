//! OpenAI → Ollama request translation.

use super::*;
use crate::providers::settings::{ParamAction, ParamPolicy, ProviderKind};
use crate::providers::testutil::provider;
use serde_json::{Value, json};

fn translate_with(
    p: &ProviderSettings,
    body: Value,
) -> Result<(Value, UpstreamRequest), GatewayError> {
    let text = body.to_string();
    let req = ChatRequest::parse(text.as_bytes()).unwrap();
    let up = build_request(p, &req, "llama3.2")?;
    assert_eq!(up.path, "/api/chat");
    Ok((serde_json::from_slice(&up.body).unwrap(), up))
}

fn translate(body: Value) -> Result<Value, GatewayError> {
    translate_with(&provider(ProviderKind::Ollama), body).map(|(v, _)| v)
}

/// The full mapping: roles, images, tool calls and named results, tools, options, format.
#[test]
fn full_conversation() {
    let (out, up) = translate_with(&provider(ProviderKind::Ollama), json!({
        "model": "local",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
                {"type": "text", "text": "And the weather?"}
            ]},
            {"role": "assistant", "content": null, "reasoning_content": "Need weather.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_2", "content": "12:00"},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "18 C"}]},
            {"role": "developer", "content": "Use Celsius."}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": "auto",
        "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 300, "seed": 7,
        "stop": "END", "presence_penalty": 0.5, "frequency_penalty": -0.5,
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
        "stream": true, "stream_options": {"include_usage": true}
    })).unwrap();
    assert_eq!(
        out,
        json!({
            "model": "llama3.2",
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "What is this?\nAnd the weather?", "images": ["iVBORw0KGgo="]},
                {"role": "assistant", "content": "", "thinking": "Need weather.", "tool_calls": [
                    {"id": "call_1", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                    {"id": "call_2", "function": {"name": "get_time", "arguments": {}}}
                ]},
                {"role": "tool", "content": "12:00", "tool_name": "get_time", "tool_call_id": "call_2"},
                {"role": "tool", "content": "18 C", "tool_name": "get_weather", "tool_call_id": "call_1"},
                {"role": "system", "content": "Use Celsius."}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "format": {"type": "object"},
            "options": {"temperature": 0.2, "top_p": 0.9, "num_predict": 300, "seed": 7, "stop": ["END"], "presence_penalty": 0.5, "frequency_penalty": -0.5},
            "stream": true
        })
    );
    assert_eq!(up.headers.len(), 1);
    assert_eq!(up.headers[0].1, "application/x-ndjson");
}

/// `stream: false` is explicit; json_object → "json"; no options object when none are set.
#[test]
fn minimal_and_json_mode() {
    let out = translate(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}})).unwrap();
    assert_eq!(
        out,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "format": "json", "stream": false})
    );
}

/// Tool choice: none drops tools, a named function narrows them, an unknown name is a 400.
#[test]
fn tool_choice() {
    let tools = json!([
        {"type": "function", "function": {"name": "a"}},
        {"type": "function", "function": {"name": "b", "parameters": {"type": "object", "properties": {}}}}
    ]);
    let base = |choice: Value| json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": choice});
    let out = translate(base(json!("none"))).unwrap();
    assert!(out.get("tools").is_none());
    let out = translate(base(json!({"type": "function", "function": {"name": "b"}}))).unwrap();
    assert_eq!(out["tools"].as_array().unwrap().len(), 1);
    assert_eq!(out["tools"][0]["function"]["name"], "b");
    let out = translate(base(json!("required"))).unwrap();
    assert_eq!(out["tools"].as_array().unwrap().len(), 2);
    assert_eq!(
        out["tools"][0]["function"]["parameters"],
        json!({"type": "object", "properties": {}})
    );
    let e = translate(base(
        json!({"type": "function", "function": {"name": "zzz"}}),
    ))
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
}

/// Client mistakes are 400s naming the field.
#[test]
fn rejections() {
    let cases = [
        (
            json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]),
            "messages[0].content[0].image_url",
        ),
        (
            json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}]}]),
            "messages[0].content[0].image_url",
        ),
        (
            json!([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]),
            "messages[0].content[0].type",
        ),
        (
            json!([{"role": "tool", "tool_call_id": "nope", "content": "x"}]),
            "messages[0].tool_call_id",
        ),
        (
            json!([{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            json!([{"role": "function", "name": "f", "content": "x"}]),
            "messages[0].role",
        ),
    ];
    for (messages, param) in cases {
        let e = translate(json!({"model": "m", "messages": messages})).unwrap_err();
        assert_eq!(
            (e.status, e.param.as_deref()),
            (400, Some(param)),
            "{}",
            e.message
        );
    }
    let e = translate(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}})).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("response_format"));
}

/// Unsupported parameters follow the policy: n and logprobs rejected, logit_bias dropped.
#[test]
fn unsupported_params() {
    let msg = json!([{"role": "user", "content": "x"}]);
    let e = translate(json!({"model": "m", "messages": msg, "n": 2})).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("n"));
    let e = translate(json!({"model": "m", "messages": msg, "logprobs": true})).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("logprobs"));
    let out =
        translate(json!({"model": "m", "messages": msg, "logit_bias": {"1": 5}, "user": "u"}))
            .unwrap();
    assert!(out.get("logit_bias").is_none() && out.get("user").is_none());
    let mut p = provider(ProviderKind::Ollama);
    p.params = ParamPolicy {
        all: None,
        overrides: vec![("n".into(), ParamAction::Drop)],
    };
    let (out, up) = translate_with(&p, json!({"model": "m", "messages": msg, "n": 3})).unwrap();
    assert!(out.get("n").is_none());
    assert!(up.headers.is_empty());
}

/// Ollama's chat API takes `system` messages anywhere: a mid-conversation one stays in place.
#[test]
fn mid_conversation_system_stays_in_place() {
    let out = translate(json!({"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": [{"type": "text", "text": "Now formal."}]}
    ]}))
    .unwrap();
    let roles: Vec<&str> = out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "system"]);
    assert_eq!(out["messages"][2]["content"], "Now formal.");
}
