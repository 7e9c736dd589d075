//! OpenAI → Cohere v2 request translation.

use super::*;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::provider;
use serde_json::{Value, json};

fn translate(body: Value) -> Result<Value, GatewayError> {
    let text = body.to_string();
    let req = ChatRequest::parse(text.as_bytes()).unwrap();
    let up = build_request(&provider(ProviderKind::Cohere), &req, "command-a-03-2025")?;
    assert_eq!(up.path, "/v2/chat");
    assert!(up.headers.is_empty());
    Ok(serde_json::from_slice(&up.body).unwrap())
}

/// The full mapping: roles, parts, tool calls with tool_plan, results, tools, sampling.
#[test]
fn full_conversation() {
    let out = translate(json!({
        "model": "alias",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
            ]},
            {"role": "assistant", "content": "", "reasoning_content": "I will check.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "12:00"}]},
            {"role": "assistant", "content": "Done."},
            {"role": "user", "content": "Thanks"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": "required",
        "max_tokens": 100, "temperature": 1.5, "top_p": 1.0, "seed": 3, "stop": ["END"],
        "frequency_penalty": 1.5, "presence_penalty": -1.0,
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object", "properties": {}}}},
        "stream": true
    })).unwrap();
    assert_eq!(
        out,
        json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
                ]},
                {"role": "assistant", "tool_plan": "I will check.", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                ]},
                {"role": "tool", "content": "18 C", "tool_call_id": "call_1"},
                {"role": "tool", "content": "12:00", "tool_call_id": "call_2"},
                {"role": "assistant", "content": "Done."},
                {"role": "user", "content": "Thanks"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": "REQUIRED",
            "stream": true, "max_tokens": 100, "temperature": 1.5, "p": 0.99, "seed": 3,
            "stop_sequences": ["END"], "frequency_penalty": 1.0, "presence_penalty": 0.0,
            "response_format": {"type": "json_object", "json_schema": {"type": "object", "properties": {}}}
        })
    );
}

/// Tool choice: auto omitted, none → NONE, a named function narrows the tools + REQUIRED.
#[test]
fn tool_choice() {
    let tools = json!([{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}]);
    let base = |choice: Value| json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": choice});
    let out = translate(base(json!("auto"))).unwrap();
    assert!(out.get("tool_choice").is_none());
    assert_eq!(out["tools"].as_array().unwrap().len(), 2);
    assert_eq!(
        translate(base(json!("none"))).unwrap()["tool_choice"],
        "NONE"
    );
    let out = translate(base(json!({"type": "function", "function": {"name": "b"}}))).unwrap();
    assert_eq!(
        (
            out["tool_choice"].as_str(),
            out["tools"].as_array().unwrap().len()
        ),
        (Some("REQUIRED"), 1)
    );
    assert_eq!(out["tools"][0]["function"]["name"], "b");
    let e = translate(base(json!({"type": "function", "function": {"name": "c"}}))).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
    // No tools: no tool_choice either.
    let out = translate(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "none", "response_format": {"type": "json_object"}})).unwrap();
    assert!(out.get("tool_choice").is_none());
    assert_eq!(out["response_format"], json!({"type": "json_object"}));
    assert_eq!(out["stream"], false);
}

/// Client mistakes and unsupported parameters are 400s naming the field.
#[test]
fn rejections() {
    let msg = json!([{"role": "user", "content": "x"}]);
    for (extra, param) in [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
    ] {
        let mut body = json!({"model": "m", "messages": msg});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(translate(body).unwrap_err().param.as_deref(), Some(param));
    }
    let out =
        translate(json!({"model": "m", "messages": msg, "logit_bias": {"1": 2}, "user": "u"}))
            .unwrap();
    assert!(out.get("logit_bias").is_none() && out.get("user").is_none());
    let cases = [
        (
            json!([{"role": "user", "content": [{"type": "file", "file": {}}]}]),
            "messages[0].content[0].type",
        ),
        (
            json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]),
            "messages[0].content[0].image_url",
        ),
        (
            json!([{"role": "tool", "content": "x"}]),
            "messages[0].tool_call_id",
        ),
        (
            json!([{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{bad"}}]}]),
            "messages[0].tool_calls[0].function.arguments",
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
}

/// Cohere v2 takes `system` messages anywhere: a mid-conversation one stays in place.
#[test]
fn mid_conversation_system_stays_in_place() {
    let out = translate(json!({"model": "m", "messages": [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "text", "text": "Now formal."}]}
    ]}))
    .unwrap();
    assert_eq!(
        out["messages"],
        json!([
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "Now formal."}
        ])
    );
}
