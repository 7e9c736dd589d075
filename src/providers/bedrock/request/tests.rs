use super::*;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::provider;
use serde_json::json;

fn convert(body: Value) -> Result<Value, GatewayError> {
    let raw = body.to_string();
    let req = ChatRequest::parse(raw.as_bytes()).unwrap();
    let out = converse_body(
        &provider(ProviderKind::Bedrock),
        &req,
        "anthropic.claude-3-haiku",
    )?
    .body;
    Ok(serde_json::from_slice(&out).unwrap())
}

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// System prompts, images, merged turns, tool calls and results, tool choice and inference
/// parameters map to the Converse shapes of docs/wire/bedrock.md §2.
#[test]
fn full_conversation() {
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let v = convert(json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}},
                {"type": "text", "text": "Weather?"}]},
            {"role": "developer", "content": "Use metric."},
            {"role": "user", "content": "In Paris."},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call 2", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":18}"},
            {"role": "tool", "tool_call_id": "call 2", "content": "sunny"},
            {"role": "user", "content": "Thanks"}
        ],
        "tools": tools,
        "tool_choice": "required",
        "max_completion_tokens": 300,
        "temperature": 1.5,
        "top_p": 0.9,
        "stop": ["END", "  "],
        "seed": 3,
        "user": "u1"
    }))
    .unwrap();
    assert_eq!(v["system"], json!([{"text": "Be terse."}]));
    assert_eq!(
        v["messages"],
        json!([
            {"role": "user", "content": [
                {"image": {"format": "png", "source": {"bytes": PNG}}},
                {"text": "Weather?"},
                {"text": "<system-reminder>\nUse metric.\n</system-reminder>"},
                {"text": "In Paris."}]},
            {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "call_2", "name": "get_weather", "input": {}}}]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "call_1", "content": [{"json": {"temp_c": 18}}], "status": "success"}},
                {"toolResult": {"toolUseId": "call_2", "content": [{"text": "sunny"}], "status": "success"}},
                {"text": "Thanks"}]}
        ])
    );
    assert_eq!(
        v["inferenceConfig"],
        json!({"maxTokens": 300, "temperature": 1.0, "topP": 0.9, "stopSequences": ["END"]})
    );
    assert_eq!(
        v["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather",
            "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}],
            "toolChoice": {"any": {}}})
    );
    // Dropped by default: seed, user.
    assert!(v.get("seed").is_none() && v.get("user").is_none());
}

/// Tool choice: auto and a named tool map; absent sends no toolChoice; default max tokens.
#[test]
fn tool_choice_and_defaults() {
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let base = |choice: Value| {
        let mut b =
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": tools});
        if !choice.is_null() {
            b["tool_choice"] = choice;
        }
        convert(b).unwrap()
    };
    assert_eq!(
        base(json!("auto"))["toolConfig"]["toolChoice"],
        json!({"auto": {}})
    );
    assert_eq!(
        base(json!({"type": "function", "function": {"name": "f"}}))["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "f"}})
    );
    let v = base(Value::Null);
    assert!(v["toolConfig"].get("toolChoice").is_none());
    assert_eq!(
        v["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(v["inferenceConfig"]["maxTokens"], 4096);
}

/// `tool_choice: "none"` (and no tools at all) send no toolConfig; tool history becomes text,
/// so Bedrock never sees tool blocks without a toolConfig and the model cannot call a tool.
#[test]
fn no_usable_tools_flattens_history() {
    let history = json!([
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}
    ]);
    for extra in [
        json!({}),
        json!({"tools": [{"type": "function", "function": {"name": "get_weather"}}], "tool_choice": "none"}),
    ] {
        let mut b = json!({"model": "m", "messages": history});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        let v = convert(b).unwrap();
        assert!(v.get("toolConfig").is_none(), "{v}");
        assert_eq!(
            v["messages"],
            json!([
                {"role": "user", "content": [{"text": "Weather?"}]},
                {"role": "assistant", "content": [{"text": "[tool call call_1: get_weather({\"city\":\"Paris\"})]"}]},
                {"role": "user", "content": [{"text": "[tool result call_1: 18 C]"}]}
            ])
        );
    }
}

/// Client mistakes are 400s naming the field: an https image (Bedrock cannot fetch URLs),
/// an unsupported image type, bad tool arguments, `n` > 1, a system-only conversation.
#[test]
fn rejections_name_the_field() {
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "x"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}]}),
            "messages[0].content[1].image_url",
            "cannot fetch",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AAAA"}}]}]}),
            "messages[0].content[0].image_url",
            "bmp",
        ),
        (
            json!({"model": "m", "tools": [{"type": "function", "function": {"name": "f"}}], "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}),
            "messages[1].tool_calls[0].function.arguments",
            "not valid JSON",
        ),
        (
            json!({"model": "m", "n": 2, "messages": [{"role": "user", "content": "x"}]}),
            "n",
            "Bedrock Converse API",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": "x"}]}),
            "messages",
            "at least one",
        ),
    ];
    for (body, param, text) in cases {
        let e = convert(body).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some(param)));
        assert!(e.message.contains(text), "{}", e.message);
    }
}

/// A conversation starting with the assistant gets a placeholder user turn; a final
/// assistant prefill loses trailing whitespace.
#[test]
fn leading_assistant_and_prefill() {
    let v = convert(json!({"model": "m", "messages": [
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "Answer"},
        {"role": "assistant", "content": "The answer is "}
    ]}))
    .unwrap();
    assert_eq!(
        v["messages"][0],
        json!({"role": "user", "content": [{"text": "."}]})
    );
    assert_eq!(
        v["messages"][3]["content"],
        json!([{"text": "The answer is"}])
    );
}

/// The request goes to the encoded model path, signed, with the stream `accept` type.
#[test]
fn path_and_headers() {
    let raw = br#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}"#;
    let req = ChatRequest::parse(raw).unwrap();
    let p = provider(ProviderKind::Bedrock);
    let up = build_request(&p, &req, "us.anthropic.claude-3-haiku-20240307-v1:0#x").unwrap();
    assert_eq!(
        up.path,
        "/model/us.anthropic.claude-3-haiku-20240307-v1%3A0%23x/converse-stream"
    );
    let names: Vec<&str> = up.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"authorization") && names.contains(&"x-amz-date"));
    assert!(
        up.headers
            .iter()
            .any(|(k, v)| k == "accept" && v == "application/vnd.amazon.eventstream")
    );
    let raw = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let req = ChatRequest::parse(raw).unwrap();
    assert!(
        build_request(&p, &req, "m")
            .unwrap()
            .path
            .ends_with("/m/converse")
    );
}

fn with_answer(extra: Value) -> (Value, bool) {
    let mut b = json!({"model": "m", "messages": [{"role": "user", "content": "Who?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "P",
            "schema": {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}}}}}});
    b.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let raw = b.to_string();
    let req = ChatRequest::parse(raw.as_bytes()).unwrap();
    let c = converse_body(
        &provider(ProviderKind::Bedrock),
        &req,
        "anthropic.claude-3-haiku",
    )
    .unwrap();
    (serde_json::from_slice(&c.body).unwrap(), c.tool_answer)
}

/// Structured output: the answer tool carries the schema as given, and the model must call it.
#[test]
fn structured_output_answer_tool() {
    let (out, flag) = with_answer(json!({}));
    assert!(flag);
    assert_eq!(
        out["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "json_answer",
            "description": crate::providers::structured::ANSWER_TOOL_DESCRIPTION,
            "inputSchema": {"json": {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}}}}}}],
            "toolChoice": {"tool": {"name": "json_answer"}}})
    );
    let (out, _) = with_answer(json!({"response_format": {"type": "json_object"}}));
    assert_eq!(
        out["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
        json!({"type": "object"})
    );
    // Client tools stay, and the model must call one of the tools.
    let tools = json!([{"type": "function", "function": {"name": "lookup"}}]);
    let (out, _) = with_answer(json!({"tools": tools}));
    assert_eq!(out["toolConfig"]["tools"][0]["toolSpec"]["name"], "lookup");
    assert_eq!(
        out["toolConfig"]["tools"][1]["toolSpec"]["name"],
        "json_answer"
    );
    assert_eq!(out["toolConfig"]["toolChoice"], json!({"any": {}}));
    // Plain requests carry no answer tool.
    let (out, flag) = with_answer(json!({"response_format": {"type": "text"}}));
    assert!(!flag && out.get("toolConfig").is_none());
}
