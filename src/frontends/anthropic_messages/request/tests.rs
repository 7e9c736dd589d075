use super::*;
use crate::translate::request::ChatRequest;

fn translate(body: &Value) -> Value {
    let raw = serde_json::to_vec(body).unwrap();
    let req = MessagesRequest::parse(&raw, false).unwrap();
    let out = to_openai(&req).unwrap();
    // The translation is a valid OpenAI request for the gateway's own parser.
    ChatRequest::parse(&out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn refused(body: &Value) -> GatewayError {
    let raw = serde_json::to_vec(body).unwrap();
    let req = MessagesRequest::parse(&raw, false).unwrap();
    to_openai(&req).unwrap_err()
}

/// The docs/wire/anthropic.md §2.3 example (tool round trip with image) in OpenAI form.
#[test]
fn tool_round_trip_with_image() {
    let v = translate(&json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Be kind.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo"}},
                {"type": "text", "text": "What is in this image, and what's the weather in Paris?"}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "I'll check the weather."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "{\"temp_c\":18}"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "content": [{"type": "text", "text": "boom"}], "is_error": true},
                {"type": "text", "text": "Thanks"}
            ]}
        ],
        "tools": [{"name": "get_weather", "description": "Get current weather",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "temperature": 0.2,
        "top_k": 5,
        "stop_sequences": ["\n\nEND"],
        "metadata": {"user_id": "user-123"},
        "stream": true
    }));
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert_eq!(v["max_completion_tokens"], 1024);
    assert!(v.get("max_tokens").is_none());
    assert_eq!(
        v["messages"][0],
        json!({"role": "system", "content": "You are terse.\n\nBe kind.", "cache_control": {"type": "ephemeral"}})
    );
    assert_eq!(
        v["messages"][1]["content"],
        json!([
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo"}},
            {"type": "text", "text": "What is in this image, and what's the weather in Paris?"}
        ])
    );
    assert_eq!(
        v["messages"][2],
        json!({"role": "assistant", "content": "I'll check the weather.", "tool_calls": [
            {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
        ], "reasoning_details": [
            {"type": "reasoning.text", "text": "hmm", "signature": "sig", "format": "anthropic-claude-v1", "index": 0}
        ]})
    );
    assert_eq!(
        v["messages"][3],
        json!({"role": "tool", "tool_call_id": "toolu_01", "content": "{\"temp_c\":18}"})
    );
    assert_eq!(
        v["messages"][4],
        json!({"role": "tool", "tool_call_id": "toolu_02", "content": "[tool error] boom"})
    );
    assert_eq!(
        v["messages"][5],
        json!({"role": "user", "content": "Thanks"})
    );
    assert_eq!(v["messages"].as_array().unwrap().len(), 6);
    assert_eq!(
        v["tools"][0]["function"]["parameters"]["required"],
        json!(["city"])
    );
    assert_eq!(v["tool_choice"], "auto");
    assert_eq!(v["parallel_tool_calls"], false);
    assert_eq!(v["temperature"], 0.2);
    assert!(v.get("top_k").is_none());
    assert_eq!(v["stop"], json!(["\n\nEND"]));
    assert_eq!(v["user"], "user-123");
    assert_eq!(v["stream"], true);
    assert_eq!(v["stream_options"], json!({"include_usage": true}));
}

/// Tool choices map to their OpenAI equivalents; URL images stay URLs.
#[test]
fn tool_choices_and_url_images() {
    let tools = json!([{"name": "f", "input_schema": {"type": "object"}}]);
    for (choice, want) in [
        (json!({"type": "any"}), json!("required")),
        (json!({"type": "none"}), json!("none")),
        (
            json!({"type": "tool", "name": "f"}),
            json!({"type": "function", "function": {"name": "f"}}),
        ),
    ] {
        let v = translate(
            &json!({"model": "m", "max_tokens": 5, "tools": tools, "tool_choice": choice,
            "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]}),
        );
        assert_eq!(v["tool_choice"], want);
        assert!(v.get("parallel_tool_calls").is_none());
        assert_eq!(
            v["messages"][0]["content"][0]["image_url"]["url"],
            "https://x/y.png"
        );
        assert!(v.get("stream").is_none());
    }
}

/// Server tools, unknown blocks, PDFs and bad roles are 400s naming the field.
#[test]
fn refusals_name_the_field() {
    let e = refused(
        &json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
    );
    assert_eq!((e.status, e.param.as_deref()), (400, Some("tools.0.type")));
    assert!(e.message.contains("web_search_20250305"));
    let e = refused(
        &json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "search_result", "x": 1}]}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages.0.content.0.type"));
    let e = refused(
        &json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}]}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages.0.content.0.source"));
    let e = refused(
        &json!({"model": "m", "max_tokens": 5, "messages": [{"role": "bot", "content": "hi"}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages.0.role"));
    let e = refused(
        &json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]}),
    );
    assert_eq!(e.param.as_deref(), Some("messages.1.content.0"));
}

/// A mid-conversation system message (string or text blocks, `cache_control` ignored) stays
/// a system message at its position; an empty one is dropped.
#[test]
fn mid_conversation_system_stays_in_place() {
    let v = translate(&json!({
        "model": "m", "max_tokens": 5, "system": "Top.",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "Tools changed.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Be brief."}]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "more"},
            {"role": "system", "content": "Now formal."},
            {"role": "system", "content": ""}
        ]
    }));
    let roles: Vec<&str> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "system", "assistant", "user", "system"]
    );
    assert_eq!(v["messages"][0]["content"], "Top.");
    assert_eq!(v["messages"][2]["content"], "Tools changed.\n\nBe brief.");
    assert_eq!(v["messages"][5]["content"], "Now formal.");
}

/// `output_config.format` (and the beta's `output_format`) become a strict `json_schema`
/// `response_format`; `effort` alone adds nothing; other format types are refused.
#[test]
fn structured_output_becomes_response_format() {
    let schema =
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
    let hi = json!([{"role": "user", "content": "hi"}]);
    let want = json!({"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": true}});
    let v = translate(&json!({"model": "m", "max_tokens": 5, "messages": hi,
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": schema}}}));
    assert_eq!(v["response_format"], want);
    let v = translate(&json!({"model": "m", "max_tokens": 5, "messages": hi,
        "output_format": {"type": "json_schema", "schema": schema}}));
    assert_eq!(v["response_format"], want);
    let v = translate(
        &json!({"model": "m", "max_tokens": 5, "messages": hi, "output_config": {"effort": "low"}}),
    );
    assert!(v.get("response_format").is_none());
    let e = refused(&json!({"model": "m", "max_tokens": 5, "messages": hi,
        "output_config": {"format": {"type": "text"}}}));
    assert_eq!(e.param.as_deref(), Some("output_config.format.type"));
    let e = refused(&json!({"model": "m", "max_tokens": 5, "messages": hi,
        "output_config": {"format": {"type": "json_schema"}}}));
    assert_eq!(e.param.as_deref(), Some("output_config.format.schema"));
}

/// The fields Claude Code sends (thinking, context_management, output_config.effort, a
/// deferred tool, tool_reference results) translate without a refusal.
#[test]
fn claude_code_request_translates() {
    let v = translate(&json!({
        "model": "m", "max_tokens": 32000, "stream": true,
        "thinking": {"type": "adaptive"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": "{\"session_id\":\"s\"}"},
        "tools": [
            {"name": "Read", "description": "Reads a file", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}},
            {"name": "Later", "description": "deferred", "input_schema": {"type": "object"}, "defer_loading": true, "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "find a tool", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {"query": "select:Later"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "tool_reference", "tool_name": "Later"}]}]},
            {"role": "system", "content": "Later is loaded."}
        ]
    }));
    let names: Vec<&str> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Read", "Later"]);
    assert_eq!(
        v["messages"][2],
        json!({"role": "tool", "tool_call_id": "toolu_1", "content": "[tool loaded: Later]"})
    );
    assert_eq!(
        v["messages"][3],
        json!({"role": "system", "content": "Later is loaded."})
    );
    assert!(v.get("thinking").is_none() && v.get("response_format").is_none());
}

/// The envelope requires model, messages and (except for count_tokens) max_tokens.
#[test]
fn envelope_validation() {
    let cases: [(&[u8], Option<&str>); 5] = [
        (br#"{"max_tokens":1,"messages":[]}"#, Some("model")),
        (br#"{"model":"m","max_tokens":1}"#, Some("messages")),
        (br#"{"model":"m","messages":[]}"#, Some("max_tokens")),
        (
            br#"{"model":7,"max_tokens":1,"messages":[]}"#,
            Some("model"),
        ),
        (b"[1]", None),
    ];
    for (body, param) in cases {
        let e = MessagesRequest::parse(body, false).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            e.param.as_deref(),
            param,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(MessagesRequest::parse(br#"{"model":"m","messages":[]}"#, true).is_ok());
}

/// Pass-through splices only the model value.
#[test]
fn splice_replaces_only_model() {
    let raw = br#"{"model": "claude" ,"max_tokens":5,"messages":[],"thinking":{"type":"enabled","budget_tokens":1024}}"#;
    let req = MessagesRequest::parse(raw, false).unwrap();
    let out = splice_model(raw, req.model_span(raw).unwrap(), "claude-\"x\"");
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"{"model": "claude-\"x\"" ,"max_tokens":5,"messages":[],"thinking":{"type":"enabled","budget_tokens":1024}}"#
    );
}

/// The gateway's own validation errors use Anthropic's wording.
#[test]
fn validation_wording_matches_anthropic() {
    let msg = |body: &[u8]| MessagesRequest::parse(body, false).unwrap_err().message;
    assert!(msg(b"{\"model\":").starts_with("The request body is not valid JSON: "));
    assert!(msg(b"[1, 2").starts_with("The request body is not valid JSON: "));
    assert_eq!(msg(b"[1]"), "Input should be a valid dictionary");
    assert_eq!(
        msg(br#"{"model":"m","max_tokens":1}"#),
        "messages: Field required"
    );
    assert_eq!(
        msg(br#"{"model":"m","max_tokens":1,"messages":{}}"#),
        "messages: Input should be a valid list"
    );
    assert_eq!(
        msg(br#"{"model":"m","max_tokens":"9","messages":[]}"#),
        "max_tokens: Input should be a valid integer"
    );
    assert_eq!(
        msg(br#"{"model":"m","max_tokens":9,"stream":"yes","messages":[]}"#),
        "stream: Input should be a valid boolean"
    );
    let e = MessagesRequest::parse(
        br#"{"model":"m","max_tokens":9,"stop_sequences":[1],"messages":[]}"#,
        false,
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "stop_sequences.0: Input should be a valid string"
    );
}

/// `thinking` becomes the IR's reasoning ask; a bad `thinking` names its field.
#[test]
fn thinking_maps_to_reasoning() {
    let base = |thinking: Value| {
        json!({"model": "m", "max_tokens": 4096, "thinking": thinking,
               "messages": [{"role": "user", "content": "hi"}]})
    };
    let v = translate(&base(json!({"type": "enabled", "budget_tokens": 2048})));
    assert_eq!(v["reasoning"], json!({"max_tokens": 2048}));
    let v = translate(&base(json!({"type": "adaptive"})));
    assert_eq!(v["reasoning"], json!({"enabled": true}));
    let v = translate(&base(json!({"type": "disabled"})));
    assert_eq!(v["reasoning_effort"], "none");
    let raw = serde_json::to_vec(&base(json!({"type": "enabled", "budget_tokens": 2048}))).unwrap();
    let req = MessagesRequest::parse(&raw, false).unwrap();
    let ir = to_openai(&req).unwrap();
    let ask = ChatRequest::parse(&ir).unwrap().reasoning().unwrap();
    assert_eq!(ask.max_tokens, Some(2048));
    assert_eq!(
        refused(&base(json!({"type": "on"}))).param.as_deref(),
        Some("thinking.type")
    );
    assert_eq!(
        refused(&base(json!({"type": "enabled"}))).param.as_deref(),
        Some("thinking.budget_tokens")
    );
}
