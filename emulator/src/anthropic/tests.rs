//! Unit tests of Anthropic request validation and error bodies.

use super::*;
use serde_json::json;

fn base(messages: Value) -> Value {
    json!({"model":"claude-haiku-4-5","max_tokens":100,"messages":messages})
}

fn err(v: Value) -> String {
    parse(&v).unwrap_err().message
}

#[test]
fn minimal_request() {
    let r = parse(&base(json!([{"role":"user","content":"hello"}]))).unwrap();
    assert_eq!(r.conv.prompt_chars, 5);
    assert_eq!(r.conv.max_tokens, Some(100));
    assert!(!r.stream);
}

#[test]
fn max_tokens_rules() {
    let m = json!([{"role":"user","content":"x"}]);
    assert_eq!(
        err(json!({"model":"c","messages":m})),
        "max_tokens: Field required"
    );
    assert!(err(json!({"model":"c","max_tokens":"9","messages":m})).contains("valid integer"));
    assert!(
        err(json!({"model":"c","max_tokens":0,"messages":m}))
            .contains("greater than or equal to 1")
    );
}

#[test]
fn message_rules() {
    assert!(err(base(json!([]))).contains("at least one message"));
    assert!(
        err(base(json!([{"role":"system","content":"x"}]))).contains("Unexpected role \"system\"")
    );
    assert!(err(base(json!([{"role":"bot","content":"x"}]))).contains("'user' or 'assistant'"));
    let e = err(base(
        json!([{"role":"user","content":[{"type":"text","text":""}]}]),
    ));
    assert_eq!(
        e,
        "messages.0.content.0.text: text content blocks must be non-empty"
    );
    assert!(err(base(json!([{"role":"user","content":""}]))).contains("non-empty content"));
    let e = err(
        json!({"model":"c","max_tokens":5,"system":[{"type":"text","text":""}],"messages":[{"role":"user","content":"x"}]}),
    );
    assert!(e.contains("text content blocks must be non-empty"));
}

#[test]
fn tool_pairing() {
    let call = json!({"role":"assistant","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]});
    let e = err(base(
        json!([{"role":"user","content":"q"}, call, {"role":"user","content":"no result"}]),
    ));
    assert!(e.starts_with("messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1."), "{e}");
    let e = err(base(json!([{"role":"user","content":"q"}, call,
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"},{"type":"tool_result","tool_use_id":"toolu_2","content":"r"}]}])));
    assert!(
        e.starts_with(
            "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_2."
        ),
        "{e}"
    );
    let e = err(base(
        json!([{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9"}]}]),
    ));
    assert!(e.contains("unexpected `tool_use_id`"));
    let bad_id = json!({"role":"assistant","content":[{"type":"tool_use","id":"toolu.1","name":"f","input":{}}]});
    let e = err(base(json!([{"role":"user","content":"q"}, bad_id])));
    assert_eq!(
        e,
        "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
    );
    let ok = parse(&base(json!([{"role":"user","content":"q"}, call,
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"{\"temp\":18}"}]}]}])))
    .unwrap();
    assert_eq!(ok.conv.tool_result.as_deref(), Some("{\"temp\":18}"));
}

#[test]
fn image_rules() {
    let img = |src: Value| {
        base(
            json!([{"role":"user","content":[{"type":"image","source":src},{"type":"text","text":"what?"}]}]),
        )
    };
    let r = parse(&img(
        json!({"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}),
    ))
    .unwrap();
    assert_eq!(r.conv.images, 1);
    assert!(
        err(img(
            json!({"type":"base64","media_type":"image/bmp","data":"AAAA"})
        ))
        .contains("media_type")
    );
    assert!(
        err(img(
            json!({"type":"base64","media_type":"image/png","data":"not base64!"})
        ))
        .contains("base64")
    );
    assert!(parse(&img(json!({"type":"url","url":"https://x/y.png"}))).is_ok());
    assert!(err(img(json!({"type":"url"}))).contains("url.url"));
    assert!(
        valid_base64("QUJD")
            && valid_base64("QQ==")
            && !valid_base64("Q===")
            && !valid_base64("QUJ")
    );
}

#[test]
fn params() {
    let mut v = base(json!([{"role":"user","content":"x"}]));
    v["temperature"] = json!(1.5);
    assert!(err(v.clone()).contains("less than or equal to 1"));
    v["temperature"] = json!(0.5);
    v["tools"] = json!([{"name":"f","input_schema":{"type":"array"}}]);
    assert_eq!(
        err(v.clone()),
        "tools.0.custom.input_schema.type: Input should be 'object'"
    );
    v["tools"] = json!([{"type":"web_search_20250305","name":"web_search"},{"name":"f","input_schema":{"type":"object"}}]);
    v["tool_choice"] = json!({"type":"sometimes"});
    assert!(err(v.clone()).contains("'auto', 'any', 'tool', 'none'"));
    v["tool_choice"] = json!({"type":"tool","name":"f"});
    v["stop_sequences"] = json!(["END"]);
    v["stream"] = json!(true);
    let r = parse(&v).unwrap();
    assert_eq!(r.conv.tools.len(), 1);
    assert_eq!(r.conv.tool_choice, ToolChoice::Named("f".into()));
    assert_eq!(r.conv.stop, vec!["END".to_string()]);
    assert!(r.stream);
}

#[test]
fn error_bodies() {
    let v: Value = serde_json::from_slice(&error_body(&status_error(529), 3)).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "overloaded_error");
    assert_eq!(v["request_id"], "req_emu3");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("switchyard-emulator")
    );
    for (s, t) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (504, "timeout_error"),
        (418, "invalid_request_error"),
    ] {
        assert_eq!(error_type(s), t);
    }
}

/// Without the beta a `role: "system"` message gets the real API's refusal; with it, a system
/// message after a user turn is accepted, counts as prompt text and does not hide a trailing
/// tool result; the placement rules still apply.
#[test]
fn mid_conversation_system_messages() {
    let user = json!({"role":"user","content":"hello"});
    let sys = json!({"role":"system","content":[{"type":"text","text":"Be terse.","cache_control":{"type":"ephemeral"}}]});
    let body = base(json!([user, sys]));
    assert_eq!(parse(&body).unwrap_err().message, UNEXPECTED_SYSTEM);
    assert!(!allows_mid_system(Some("claude-code-20250219")));
    assert!(allows_mid_system(Some(
        "claude-code-20250219, mid-conversation-system-2026-04-07"
    )));
    let r = parse_with(&body, true).unwrap();
    assert_eq!(r.conv.prompt_chars, 5 + 9);

    let call = json!({"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]});
    let result = json!({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"42"}]});
    let r = parse_with(&base(json!([user, call, result, sys])), true).unwrap();
    assert_eq!(r.conv.tool_result.as_deref(), Some("42"));

    let e = parse_with(&base(json!([sys, user])), true).unwrap_err();
    assert!(
        e.message
            .starts_with("messages.0: a system message cannot be the first")
    );
    let e = parse_with(&base(json!([user, sys, sys])), true).unwrap_err();
    assert!(e.message.contains("consecutive system messages"));
    let img = json!({"role":"system","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]});
    let e = parse_with(&base(json!([user, img])), true).unwrap_err();
    assert_eq!(
        e.message,
        "messages.1.content.0: system messages may only contain text blocks"
    );
}
