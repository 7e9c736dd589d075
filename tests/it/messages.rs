//! The Anthropic Messages API inbound end to end: pass-through to an Anthropic provider and
//! translation for an OpenAI provider, JSON and streaming, tools, errors and count_tokens.

use crate::common;

use crate::common::{Emulator, Gateway, KEY, Reply, post};
use serde_json::{Value, json};

const REPLY: &str = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok";

const EXTRA: &str = r#"
  - { name: claude-overloaded, match: { model: "claude-overloaded" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#status=529" } ] }
  - { name: claude-cut, match: { model: "claude-cut" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#drop_after=6" } ] }
  - { name: gpt-cut, match: { model: "gpt-cut" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini#drop_after=6" } ] }
  - { name: claude-then-gpt, match: { model: "claude-then-gpt" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#status=529" } ], fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
"#;

fn start() -> (Emulator, Gateway) {
    let emu = Emulator::start();
    let (yaml, port, admin) = common::config(
        &emu,
        &format!("{}{EXTRA}", common::ROUTES),
        ", max_body_bytes: 4096",
    );
    let gw = Gateway::start(&yaml, port, admin);
    (emu, gw)
}

fn messages(gw: &Gateway, body: &Value, extra: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("x-api-key", KEY), ("anthropic-version", "2023-06-01")];
    headers.extend_from_slice(extra);
    post(
        &gw.url("/v1/messages?beta=true"),
        &body.to_string(),
        &headers,
    )
}

fn hi(model: &str) -> Value {
    json!({"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]})
}

/// Named events `(event, data)`, checking each name equals `data.type`.
fn events(r: &Reply) -> Vec<(String, Value)> {
    r.body
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap().to_string();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

/// Text and (name, input) tool calls of a complete stream; checks the event order.
fn assemble(evs: &[(String, Value)]) -> (String, Vec<(String, Value)>, Value) {
    assert_eq!(evs.first().unwrap().0, "message_start");
    assert_eq!(evs.last().unwrap().0, "message_stop");
    let mut text = String::new();
    let mut tools = Vec::new();
    let mut args = String::new();
    let mut delta = Value::Null;
    for (name, d) in evs {
        match name.as_str() {
            "content_block_start" if d["content_block"]["type"] == "tool_use" => {
                tools.push((
                    d["content_block"]["name"].as_str().unwrap().to_string(),
                    Value::Null,
                ));
                args.clear();
            }
            "content_block_delta" => match d["delta"]["type"].as_str().unwrap() {
                "text_delta" => text.push_str(d["delta"]["text"].as_str().unwrap()),
                "input_json_delta" => args.push_str(d["delta"]["partial_json"].as_str().unwrap()),
                _ => {}
            },
            "content_block_stop" if !args.is_empty() => {
                tools.last_mut().unwrap().1 = serde_json::from_str(&args).unwrap();
                args.clear();
            }
            "message_delta" => delta = d.clone(),
            _ => {}
        }
    }
    (text, tools, delta)
}

/// Anthropic target: the body reaches the provider unchanged except `model`, with the
/// client's anthropic-beta and the provider's key; the answer comes back unchanged.
#[test]
fn passthrough_json_and_stream() {
    let (emu, gw) = start();
    let body = json!({"model": "claude", "max_tokens": 100, "metadata": {"user_id": "u1"},
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]}]});
    let r = messages(
        &gw,
        &body,
        &[("anthropic-beta", "prompt-caching-2024-07-31")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("request-id").is_some());
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-anthropic"));
    let v = r.json();
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["text"], REPLY);
    assert_eq!(v["usage"]["output_tokens"], 11);
    let reqs = emu.requests();
    let up = reqs.iter().find(|r| r["path"] == "/v1/messages").unwrap();
    let mut want = body.clone();
    want["model"] = json!("claude-haiku-4-5");
    assert_eq!(up["body"], want, "only the model is changed");
    assert_eq!(up["headers"]["anthropic-beta"], "prompt-caching-2024-07-31");
    assert_eq!(up["headers"]["anthropic-version"], "2023-06-01");
    assert_eq!(up["headers"]["x-api-key"], "sk-ant-upstream");

    let mut s = body.clone();
    s["stream"] = json!(true);
    let r = messages(&gw, &s, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let (text, tools, delta) = assemble(&events(&r));
    assert_eq!(text, REPLY);
    assert!(tools.is_empty());
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_usage_logged(&gw, 2);
}

/// OpenAI target: the request is translated, the answer comes back as an Anthropic message.
#[test]
fn translated_json_and_stream() {
    let (emu, gw) = start();
    let mut body = hi("gpt");
    body["system"] = json!("Be brief.");
    body["stop_sequences"] = json!(["END"]);
    let r = messages(&gw, &body, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["type"], "message");
    assert!(v["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(v["content"], json!([{"type": "text", "text": REPLY}]));
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["output_tokens"], 11);
    assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0);
    let up = emu
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/v1/chat/completions")
        .unwrap();
    assert_eq!(up["body"]["model"], "gpt-4o-mini");
    assert_eq!(
        up["body"]["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(up["body"]["max_completion_tokens"], 100);
    assert_eq!(up["body"]["stop"], json!(["END"]));

    body["stream"] = json!(true);
    let r = messages(&gw, &body, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let evs = events(&r);
    assert_eq!(evs[1].0, "ping");
    let (text, _, delta) = assemble(&evs);
    assert_eq!(text, REPLY);
    assert_eq!(delta["usage"]["output_tokens"], 11);
    assert!(delta["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert_usage_logged(&gw, 2);
}

/// The gateway's accounting saw the usage of each of the `n` Messages requests.
fn assert_usage_logged(gw: &Gateway, n: usize) {
    let log: Vec<Value> = gw
        .access_log(n + 1)
        .into_iter()
        .filter(|l| l["path"] == "/v1/messages")
        .collect();
    assert_eq!(log.len(), n, "{log:?}");
    for l in &log {
        assert_eq!(l["completion_tokens"], 11, "{l}");
        assert!(l["prompt_tokens"].as_u64().unwrap() > 0, "{l}");
    }
}

/// Tool use round trip through both kinds, streaming: tool_use block with an object input,
/// then a tool_result turn answered with text.
#[test]
fn tool_round_trip() {
    let (_emu, gw) = start();
    let tools = json!([{"name": "get_weather", "description": "Weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    for model in ["claude", "gpt"] {
        let ask = json!({"role": "user", "content": "Weather in Paris?"});
        let r = messages(
            &gw,
            &json!({"model": model, "max_tokens": 200, "stream": true, "tools": tools, "messages": [ask]}),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let (_, calls, delta) = assemble(&events(&r));
        assert_eq!(delta["delta"]["stop_reason"], "tool_use", "{model}");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].0, "get_weather");
        assert!(calls[0].1["city"].is_string(), "{model}: {:?}", calls[0].1);
        let r = messages(
            &gw,
            &json!({"model": model, "max_tokens": 200, "tools": tools, "messages": [ask,
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": calls[0].1}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}]}]}),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json()["content"][0]["text"],
            "Tool result received: 18C",
            "{model}"
        );
    }
}

fn assert_error(r: &Reply, status: u16, kind: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let v = r.json();
    assert_eq!(v["type"], "error", "{}", r.body);
    assert_eq!(v["error"]["type"], kind, "{}", r.body);
    assert!(v["error"]["message"].is_string());
    assert!(r.header("request-id").is_some());
}

/// Every error on the Messages endpoints is Anthropic-shaped with the right status.
#[test]
fn errors_are_anthropic_shaped() {
    let (_emu, gw) = start();
    let url = gw.url("/v1/messages");
    let r = post(&url, &hi("claude").to_string(), &[]);
    assert_error(&r, 401, "authentication_error");
    let r = post(
        &url,
        &hi("claude").to_string(),
        &[("x-api-key", "sk-wrong")],
    );
    assert_error(&r, 401, "authentication_error");
    let r = post(
        &url,
        &hi("claude").to_string(),
        &[("authorization", &format!("Bearer {KEY}"))],
    );
    assert_eq!(r.status, 200, "Bearer works too: {}", r.body);
    let r = messages(&gw, &json!({"model": "gpt", "messages": []}), &[]);
    assert_error(&r, 400, "invalid_request_error");
    let r = post(&url, "{not json", &[("x-api-key", KEY)]);
    assert_error(&r, 400, "invalid_request_error");
    let r = messages(&gw, &hi("no-such-model"), &[]);
    assert_error(&r, 404, "not_found_error");
    let mut big = hi("gpt");
    big["messages"][0]["content"] = json!("x".repeat(5000));
    assert_error(&messages(&gw, &big, &[]), 413, "request_too_large");
    let r = common::get(&url, &[("x-api-key", KEY)]);
    assert_error(&r, 405, "invalid_request_error");
    let mut server_tool = hi("gpt");
    server_tool["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
    assert_error(
        &messages(&gw, &server_tool, &[]),
        400,
        "invalid_request_error",
    );
    let r = messages(&gw, &hi("claude-overloaded"), &[]);
    assert_error(&r, 529, "overloaded_error");
    assert!(r.header("retry-after").is_some());
    // An Anthropic overload before the first byte fails over to the translated fallback.
    let r = messages(&gw, &hi("claude-then-gpt"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
    assert_eq!(r.json()["content"][0]["text"], REPLY);
}

/// A stream cut mid-way ends with an Anthropic `event: error`, never `message_stop`.
#[test]
fn cut_streams_end_with_error_event() {
    let (_emu, gw) = start();
    for model in ["claude-cut", "gpt-cut"] {
        let mut body = hi(model);
        body["stream"] = json!(true);
        let r = messages(&gw, &body, &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        let evs = events(&r);
        assert_eq!(evs.first().unwrap().0, "message_start", "{model}");
        let (last, data) = evs.last().unwrap();
        assert_eq!(last, "error", "{model}: {}", r.body);
        assert_eq!(data["error"]["type"], "api_error");
        assert!(evs.iter().all(|(n, _)| n != "message_stop"));
    }
}

/// count_tokens: forwarded to an Anthropic first target, estimated locally otherwise.
#[test]
fn count_tokens_both_ways() {
    let (emu, gw) = start();
    let body = json!({"model": "claude", "system": "one two", "messages": [{"role": "user", "content": "three four five"}]});
    let url = gw.url("/v1/messages/count_tokens?beta=true");
    let r = post(&url, &body.to_string(), &[("x-api-key", KEY)]);
    assert_eq!(r.status, 200, "{}", r.body);
    // The emulator's own count (one per word, roles included): 2 + 1 + 3.
    assert_eq!(r.json(), json!({"input_tokens": 6}));
    let up = emu
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/v1/messages/count_tokens")
        .unwrap();
    assert_eq!(up["body"]["model"], "claude-haiku-4-5");
    let mut local = body.clone();
    local["model"] = json!("gpt");
    let r = post(&url, &local.to_string(), &[("x-api-key", KEY)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-token-count"), Some("estimate"));
    let n = r.json()["input_tokens"].as_u64().unwrap();
    assert!((5..40).contains(&n), "o200k estimate {n}");
    assert_error(
        &post(&url, &local.to_string(), &[]),
        401,
        "authentication_error",
    );
    let r = post(
        &url,
        &json!({"model": "nope", "messages": []}).to_string(),
        &[("x-api-key", KEY)],
    );
    assert_error(&r, 404, "not_found_error");
}

/// Claude Code's first contact and its mid-conversation system messages: `HEAD /` is a bare
/// 200; a `role: "system"` message stays in place for a translated target; an Anthropic
/// target gets it as sent, and the emulator's Anthropic refuses it (with the real API's
/// wording, relayed) unless the beta is on; server tools are refused naming the tool.
#[test]
fn claude_code_first_requests() {
    use std::io::{Read, Write};
    let (emu, gw) = start();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    s.write_all(b"HEAD / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(
        raw.ends_with("\r\n\r\n"),
        "HEAD answer has no body: {raw:?}"
    );
    assert_eq!(common::get(&gw.url("/"), &[]).status, 200);

    let sys = json!({"role": "system", "content": [{"type": "text", "text": "Tools changed.", "cache_control": {"type": "ephemeral"}}]});
    let body = |model: &str| {
        json!({"model": model, "max_tokens": 50, "system": "Top.",
            "messages": [{"role": "user", "content": "Hi"}, sys]})
    };
    let r = messages(&gw, &body("gpt"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let up = emu.requests();
    let up = up
        .iter()
        .find(|r| r["path"] == "/v1/chat/completions")
        .unwrap();
    assert_eq!(
        up["body"]["messages"],
        json!([{"role": "system", "content": "Top."}, {"role": "user", "content": "Hi"},
               {"role": "system", "content": "Tools changed."}])
    );

    let r = messages(&gw, &body("claude"), &[]);
    assert_error(&r, 400, "invalid_request_error");
    assert_eq!(
        r.json()["error"]["message"],
        "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role."
    );
    let beta = (
        "anthropic-beta",
        "claude-code-20250219,mid-conversation-system-2026-04-07",
    );
    let r = messages(&gw, &body("claude"), &[beta]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["content"][0]["text"], REPLY);

    let mut server_tool = hi("gpt");
    server_tool["tools"] = json!([{"type": "bash_20250124", "name": "bash"}]);
    let r = messages(&gw, &server_tool, &[]);
    assert_error(&r, 400, "invalid_request_error");
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("tools.0: 'bash_20250124' (tool 'bash') is not supported on model 'gpt'"),
        "{msg}"
    );
}
