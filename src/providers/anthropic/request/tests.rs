//! OpenAI → Anthropic request translation.

use super::*;
use crate::config::Config;
use serde_json::{Value, json};

fn provider() -> std::sync::Arc<ProviderSettings> {
    let c = Config::from_yaml(
        "providers: [{name: claude, kind: anthropic, base_url: \"https://api.anthropic.com\", api_key: sk-ant-x, default_max_tokens: 1234}]\nkeys: [{name: k, key: abcdefghijk}]",
        &|_| None,
    )
    .unwrap();
    c.providers[0].clone()
}

fn translate(body: Value) -> Result<Value, GatewayError> {
    translate_with(body, &[]).map(|(v, _)| v)
}

/// The body and the answer-tool flag, for a model with catalog `capabilities`.
fn translate_with(body: Value, capabilities: &[String]) -> Result<(Value, bool), GatewayError> {
    let text = body.to_string();
    let req = ChatRequest::parse(text.as_bytes()).unwrap();
    let facts = ModelFacts { capabilities };
    let up = build_request(&provider(), &req, "claude-haiku-4-5", facts)?;
    assert_eq!(up.path, "/v1/messages");
    Ok((serde_json::from_slice(&up.body).unwrap(), up.tool_answer))
}

/// The full mapping: system hoisting, images, tool calls and results, tools, choice, params.
#[test]
fn full_conversation() {
    let out = translate(json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,iVBORw0KGgo=", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
            ]},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call.2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":18}"},
            {"role": "developer", "content": [{"type": "text", "text": "Use Celsius."}]},
            {"role": "tool", "tool_call_id": "call.2", "content": [{"type": "text", "text": "12:00"}]},
            {"role": "user", "content": "Thanks"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {}}}
        ],
        "tool_choice": "required",
        "parallel_tool_calls": false,
        "stop": ["END", "  "],
        "temperature": 1.7,
        "top_p": 0.9,
        "max_completion_tokens": 300,
        "user": "user-123",
        "stream": true,
        "seed": 7
    }))
    .unwrap();
    assert_eq!(
        out,
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 300,
            "system": [{"type": "text", "text": "Be terse."}],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this, and the weather?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "iVBORw0KGgo="}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
                ]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "call_2", "name": "get_time", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "{\"temp_c\":18}"}]},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "12:00"}]},
                    {"type": "text", "text": "<system-reminder>\nUse Celsius.\n</system-reminder>"},
                    {"type": "text", "text": "Thanks"}
                ]}
            ],
            "temperature": 1.0,
            "top_p": 0.9,
            "stop_sequences": ["END"],
            "stream": true,
            "tools": [
                {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
                {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "metadata": {"user_id": "user-123"}
        })
    );
}

/// Defaults: max_tokens from the provider; named tool choice; none; no stream flag.
#[test]
fn defaults_and_choices() {
    let base = |extra: Value| {
        let mut b = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        translate(b).unwrap()
    };
    let out = base(json!({}));
    assert_eq!(out["max_tokens"], 1234);
    assert!(out.get("stream").is_none());
    assert!(out.get("tool_choice").is_none());
    assert_eq!(base(json!({"max_tokens": 9}))["max_tokens"], 9);
    assert_eq!(
        base(json!({"tool_choice": {"type": "function", "function": {"name": "f"}}}))["tool_choice"],
        json!({"type": "tool", "name": "f"})
    );
    assert_eq!(
        base(json!({"tool_choice": "none"}))["tool_choice"],
        json!({"type": "none"})
    );
    assert_eq!(
        base(json!({"tool_choice": "auto"}))["tool_choice"],
        json!({"type": "auto"})
    );
    assert_eq!(
        base(json!({"parallel_tool_calls": false}))["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
}

/// Conversation repairs: merged turns, leading assistant, trailing whitespace, history tools.
#[test]
fn conversation_repairs() {
    let out = translate(json!({"model": "m", "messages": [
        {"role": "assistant", "content": "Earlier answer"},
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "found"},
        {"role": "assistant", "content": "The answer is   "}
    ]}))
    .unwrap();
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(
        msgs[0],
        json!({"role": "user", "content": [{"type": "text", "text": "."}]})
    );
    assert_eq!(msgs[1]["role"], "assistant");
    assert_eq!(
        msgs[2]["content"],
        json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])
    );
    assert_eq!(
        msgs[5]["content"],
        json!([{"type": "text", "text": "The answer is"}])
    );
    assert_eq!(
        out["tools"][0]["name"], "lookup",
        "tools declared from history"
    );
    assert_eq!(out["tool_choice"], json!({"type": "none"}));
}

/// Inputs Anthropic cannot take are refused with the parameter named.
#[test]
fn refusals_name_the_parameter() {
    let msg =
        |content: Value| json!({"model": "m", "messages": [{"role": "user", "content": content}]});
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}),
            "n",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": true}),
            "logprobs",
        ),
        (
            msg(json!([{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AA=="}}])),
            "messages[0].content[0].image_url",
        ),
        (
            msg(json!([{"type": "image_url", "image_url": {"url": "data:image/png,rawdata"}}])),
            "messages[0].content[0].image_url",
        ),
        (
            msg(json!([{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}])),
            "messages[0].content[0].image_url",
        ),
        (
            msg(json!([{"type": "input_audio", "input_audio": {}}])),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{bad"}}]}]}),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]}),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "function", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": "only system"}]}),
            "messages",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "custom", "custom": {}}]}),
            "tools[0].type",
        ),
    ];
    for (body, param) in cases {
        let e = translate(body.clone()).expect_err(&body.to_string());
        assert_eq!(e.status, 400, "{body}");
        assert_eq!(e.param.as_deref(), Some(param), "{body}: {}", e.message);
    }
}

/// Parameters with no Anthropic meaning but harmless to drop are dropped.
#[test]
fn best_effort_params_are_dropped() {
    let out = translate(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": 1, "presence_penalty": 0.5, "frequency_penalty": 0.1, "logit_bias": {"1": 2}, "response_format": {"type": "text"}, "n": 1})).unwrap();
    for k in [
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "response_format",
        "n",
    ] {
        assert!(out.get(k).is_none(), "{k}");
    }
}

/// Only leading system messages form `system`; a later one becomes a `<system-reminder>` user
/// text at its position: after an assistant turn it opens the next user turn (which the
/// following user message joins), and as the last message it ends the conversation.
#[test]
fn later_system_messages_stay_in_place() {
    let out = translate(json!({"model": "m", "messages": [
        {"role": "system", "content": "One."},
        {"role": "developer", "content": "Two."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "Formal now."},
        {"role": "user", "content": "again"},
        {"role": "assistant", "content": "ok"},
        {"role": "system", "content": [{"type": "text", "text": "Last."}, {"type": "text", "text": "Really."}]}
    ]}))
    .unwrap();
    assert_eq!(
        out["system"],
        json!([{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}])
    );
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\nFormal now.\n</system-reminder>"},
                {"type": "text", "text": "again"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\nLast.\n\nReally.\n</system-reminder>"}]}
        ])
    );
}

fn structured(extra: Value) -> Value {
    let mut b = json!({"model": "m", "messages": [{"role": "user", "content": "Who?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "P", "strict": true,
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}});
    b.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    b
}

/// A model the catalog lists with `response_schema` gets native `output_config.format`, its
/// objects closed; no tool, no answer flag.
#[test]
fn structured_native_output_config() {
    let caps = vec!["tools".to_string(), "response_schema".to_string()];
    let (out, flag) = translate_with(structured(json!({})), &caps).unwrap();
    assert_eq!(
        out["output_config"],
        json!({"format": {"type": "json_schema", "schema": {"type": "object",
            "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false}}})
    );
    assert!(out.get("tools").is_none() && out.get("tool_choice").is_none());
    assert!(!flag);
}

/// Other models, json_object, and schemas native output refuses use the forced answer tool.
#[test]
fn structured_answer_tool() {
    let (out, flag) = translate_with(structured(json!({})), &[]).unwrap();
    assert!(flag);
    assert!(out.get("output_config").is_none());
    assert_eq!(
        out["tools"],
        json!([{"name": "json_answer", "description": crate::providers::structured::ANSWER_TOOL_DESCRIPTION,
            "input_schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}])
    );
    assert_eq!(
        out["tool_choice"],
        json!({"type": "tool", "name": "json_answer", "disable_parallel_tool_use": true})
    );
    let caps = vec!["response_schema".to_string()];
    let (out, flag) = translate_with(
        structured(json!({"response_format": {"type": "json_object"}})),
        &caps,
    )
    .unwrap();
    assert!(flag);
    assert_eq!(out["tools"][0]["input_schema"], json!({"type": "object"}));
    let bounded = json!({"response_format": {"type": "json_schema", "json_schema": {"name": "P",
        "schema": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}}}});
    let (out, flag) = translate_with(structured(bounded), &caps).unwrap();
    assert!(flag && out.get("output_config").is_none());
    assert_eq!(
        out["tools"][0]["input_schema"]["properties"]["n"]["minimum"],
        1
    );
}

/// With the client's own tools: theirs are kept, the model must call some tool (`any`), or
/// the client's forced function; a client tool named json_answer is refused.
#[test]
fn structured_answer_tool_with_client_tools() {
    let tools = json!([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]);
    let (out, _) = translate_with(structured(json!({"tools": tools})), &[]).unwrap();
    let names: Vec<_> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("lookup"), json!("json_answer")]);
    assert_eq!(out["tool_choice"], json!({"type": "any"}));
    let forced = json!({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "lookup"}}});
    let (out, _) = translate_with(structured(forced), &[]).unwrap();
    assert_eq!(
        out["tool_choice"],
        json!({"type": "tool", "name": "lookup"})
    );
    let none = json!({"tools": tools, "tool_choice": "none"});
    let (out, _) = translate_with(structured(none), &[]).unwrap();
    assert_eq!(out["tool_choice"]["name"], "json_answer");
    let clash = json!({"tools": [{"type": "function", "function": {"name": "json_answer"}}]});
    let e = translate_with(structured(clash), &[]).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[0].function.name"));
}
