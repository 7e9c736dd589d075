//! End-to-end chat completions through the real gateway and emulator.

use crate::common;

use crate::common::{Emulator, Gateway, KEY};
use serde_json::{Value, json};

fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

/// (id, name, arguments) of each streamed tool call.
type ToolCalls = Vec<(String, String, String)>;

/// Assembles an OpenAI stream the way the SDK does: (content, tool calls, finish, usage).
fn assemble(events: &[String]) -> (String, ToolCalls, Option<String>, Option<Value>) {
    assert_eq!(
        events.last().map(String::as_str),
        Some("[DONE]"),
        "stream must end with [DONE]"
    );
    let mut content = String::new();
    let mut tools: ToolCalls = Vec::new();
    let mut finish = None;
    let mut usage = None;
    let mut ids = std::collections::HashSet::new();
    for e in &events[..events.len() - 1] {
        let v: Value = serde_json::from_str(e).unwrap_or_else(|err| panic!("bad chunk {e}: {err}"));
        assert!(v.get("error").is_none(), "unexpected error event {e}");
        assert_eq!(v["object"], "chat.completion.chunk");
        ids.insert(v["id"].as_str().unwrap().to_string());
        if v["usage"].is_object() {
            usage = Some(v["usage"].clone());
        }
        let Some(c) = v["choices"].get(0) else {
            continue;
        };
        content.push_str(c["delta"]["content"].as_str().unwrap_or(""));
        for tc in c["delta"]["tool_calls"].as_array().into_iter().flatten() {
            let i = tc["index"].as_u64().unwrap() as usize;
            if i == tools.len() {
                tools.push((
                    tc["id"].as_str().expect("id on first fragment").into(),
                    tc["function"]["name"].as_str().unwrap().into(),
                    String::new(),
                ));
            }
            tools[i]
                .2
                .push_str(tc["function"]["arguments"].as_str().unwrap_or(""));
        }
        if let Some(f) = c["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
    }
    assert_eq!(ids.len(), 1, "all chunks share one id");
    (content, tools, finish, usage)
}

const REPLY: &str = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok";

/// Non-streaming through both provider kinds, with the routing headers.
#[test]
fn non_streaming_both_kinds() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    for (model, provider, served) in [
        ("claude", "emu-anthropic", "claude-haiku-4-5"),
        ("gpt", "emu-openai", "gpt-4o-mini"),
    ] {
        let r = gw.chat(&json!({"model": model, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-switchyard-provider"), Some(provider));
        assert_eq!(r.header("x-switchyard-attempts"), Some("1"));
        assert!(r.header("x-request-id").is_some());
        let v = r.json();
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["model"], served);
        assert_eq!(v["choices"][0]["message"]["content"], REPLY);
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
        assert_eq!(v["usage"]["completion_tokens"], 11);
    }
    let reqs = emu.requests();
    let anth = reqs
        .iter()
        .find(|r| r["path"] == "/v1/messages")
        .expect("anthropic request");
    assert_eq!(
        anth["body"]["system"],
        json!([{"type": "text", "text": "Be brief."}])
    );
    assert_eq!(anth["body"]["max_tokens"], 4096);
    assert_eq!(anth["headers"]["x-api-key"], "sk-ant-upstream");
    assert!(
        anth["headers"].get("authorization").is_none(),
        "client key must not reach the provider"
    );
    let oai = reqs
        .iter()
        .find(|r| r["path"] == "/v1/chat/completions")
        .expect("openai request");
    assert_eq!(oai["headers"]["authorization"], "Bearer sk-oai-upstream");
}

/// Streaming through both kinds: role chunk first, content, finish, usage when asked, [DONE].
#[test]
fn streaming_both_kinds() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    for model in ["claude", "gpt"] {
        for include_usage in [true, false] {
            let r = gw.chat(&json!({"model": model, "messages": user("Hi"), "stream": true, "stream_options": {"include_usage": include_usage}}));
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(
                r.header("content-type")
                    .unwrap()
                    .starts_with("text/event-stream")
            );
            let events = r.events();
            let first: Value = serde_json::from_str(&events[0]).unwrap();
            assert_eq!(first["choices"][0]["delta"]["role"], "assistant", "{model}");
            let (content, tools, finish, usage) = assemble(&events);
            assert_eq!(content, REPLY, "{model}");
            assert!(tools.is_empty());
            assert_eq!(finish.as_deref(), Some("stop"));
            assert_eq!(
                usage.is_some(),
                include_usage,
                "{model} include_usage={include_usage}"
            );
            if let Some(u) = usage {
                assert_eq!(u["completion_tokens"], 11);
            }
        }
    }
}

/// An upstream that splits every event at awkward bytes (inside UTF-8) gives the same stream.
#[test]
fn awkward_splits_give_identical_streams() {
    let emu = Emulator::start();
    let extra = r#"
  - { name: claude-split, match: { model: "claude-split" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#split=3" } ] }
  - { name: gpt-split, match: { model: "gpt-split" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini#split=5" } ] }
"#;
    let gw = Gateway::with_routes(&emu, extra);
    for (plain, split) in [("claude", "claude-split"), ("gpt", "gpt-split")] {
        let body = |m: &str| json!({"model": m, "messages": user("Hi"), "stream": true, "stream_options": {"include_usage": true}});
        let a = assemble(&gw.chat(&body(plain)).events());
        let b = assemble(&gw.chat(&body(split)).events());
        assert_eq!(a, b, "{plain} vs {split}");
    }
}

/// Tool calls: offered tools, forced choice, parallel calls, then a tool-result turn.
#[test]
fn tool_calls_round_trip() {
    let emu = Emulator::start();
    let extra = r#"
  - { name: claude-par, match: { model: "claude-par" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5#tool=parallel" } ] }
"#;
    let gw = Gateway::with_routes(&emu, extra);
    let tools = json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}
    ]);
    for model in ["claude", "gpt"] {
        let r = gw.chat(&json!({"model": model, "messages": user("Weather in Paris?"), "tools": tools, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}));
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        let call = &v["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls", "{model}");
        assert_eq!(call["function"]["name"], "get_weather");
        let args: Value =
            serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args, json!({"city": "Paris"}));
        // Streamed: arguments assemble across fragments, id on the first one.
        let s = gw.chat(
            &json!({"model": model, "messages": user("Weather?"), "tools": tools, "stream": true}),
        );
        let (_, calls, finish, _) = assemble(&s.events());
        assert_eq!(finish.as_deref(), Some("tool_calls"));
        assert_eq!(calls.len(), 1);
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].2).unwrap(),
            json!({"city": "Paris"})
        );
        // The tool result turn.
        let id = call["id"].as_str().unwrap();
        let follow = gw.chat(&json!({"model": model, "tools": tools, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": id, "content": "{\"temp_c\":18}"}
        ]}));
        assert_eq!(follow.status, 200, "{}", follow.body);
        assert_eq!(
            follow.json()["choices"][0]["message"]["content"],
            "Tool result received: {\"temp_c\":18}"
        );
    }
    let par = gw.chat(
        &json!({"model": "claude-par", "messages": user("Both?"), "tools": tools, "stream": true}),
    );
    let (_, calls, _, _) = assemble(&par.events());
    assert_eq!(calls.len(), 2, "parallel tool calls get indexes 0 and 1");
    assert_ne!(calls[0].0, calls[1].0);
}

/// Images as data: URLs and https URLs reach Anthropic as image blocks.
#[test]
fn images() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let r = gw.chat(&json!({"model": "claude", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}}
    ]}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("I see 2 image(s).")
    );
    let req = emu
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/v1/messages")
        .unwrap();
    let blocks = &req["body"]["messages"][0]["content"];
    assert_eq!(
        blocks[1],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}})
    );
    assert_eq!(
        blocks[2],
        json!({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}})
    );
}

/// A 1 MiB body is forwarded whole (beyond Pingora's 64 KiB replay buffer), also on failover.
#[test]
fn one_mebibyte_body_with_failover() {
    let emu = Emulator::start();
    let extra = r#"
  - name: big
    match: { model: "big" }
    targets: [ { provider: emu-openai, model: "gpt-4o-mini#status=503" } ]
    # ~524k estimated tokens: above the catalog's 200k window, so the window is raised.
    fallback: [ { provider: emu-anthropic, model: "claude-haiku-4-5", context_window: 2000000 } ]
"#;
    let gw = Gateway::with_routes(&emu, extra);
    let text = "é".repeat(512 * 1024);
    let r = gw.chat(&json!({"model": "big", "messages": user(&text)}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-anthropic"));
    let reqs = emu.requests();
    let oai = reqs
        .iter()
        .find(|r| r["path"] == "/v1/chat/completions")
        .unwrap();
    assert_eq!(
        oai["body"]["messages"][0]["content"]
            .as_str()
            .unwrap()
            .len(),
        text.len()
    );
    let anth = reqs.iter().find(|r| r["path"] == "/v1/messages").unwrap();
    assert_eq!(
        anth["body"]["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap(),
        text
    );
}

/// `provider/model` bypasses routes; /v1/models lists routes and targets.
#[test]
fn direct_provider_and_models() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    let r = gw.chat(&json!({"model": "emu-anthropic/claude-opus-4-1", "messages": user("Hi")}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["model"], "claude-opus-4-1");
    assert!(r.header("x-switchyard-route").is_none());
    let list = common::get(
        &gw.url("/v1/models"),
        &[("authorization", &format!("Bearer {KEY}"))],
    )
    .json();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(list["object"], "list");
    assert!(
        ids.contains(&"claude")
            && ids.contains(&"gpt")
            && ids.contains(&"emu-anthropic/claude-haiku-4-5"),
        "{ids:?}"
    );
    let one = common::get(
        &gw.url("/v1/models/emu-openai%2Fgpt-4o-mini"),
        &[("authorization", &format!("Bearer {KEY}"))],
    );
    assert_eq!(one.json()["id"], "emu-openai/gpt-4o-mini");
}

// conformance: chat thinking_round_trip anthropic translated
/// Reasoning through the gateway: `reasoning_effort` turns on Anthropic thinking (the emulator
/// enforces the real API's rules), the answer carries the reasoning and its signature, and the
/// next turn, sent back as the client got it, passes the emulator's signature check; a history
/// without the signature still works (thinking is left off rather than refused).
#[test]
fn reasoning_signature_round_trip() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let first = gw.chat(
        &json!({"model": "claude", "reasoning_effort": "low", "max_tokens": 4000,
        "temperature": 0.5, "tools": tools, "messages": user("Weather in Paris?")}),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let message = first.json()["choices"][0]["message"].clone();
    assert!(
        !message["reasoning_content"]
            .as_str()
            .unwrap_or_else(|| panic!("{message}"))
            .is_empty()
    );
    let detail = &message["reasoning_details"][0];
    assert_eq!(detail["type"], "reasoning.text");
    assert!(!detail["signature"].as_str().unwrap().is_empty());
    let id = message["tool_calls"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{message}"))
        .to_string();
    let follow = |assistant: Value| {
        gw.chat(&json!({"model": "claude", "reasoning_effort": "low", "max_tokens": 4000, "tools": tools, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            assistant,
            {"role": "tool", "tool_call_id": id, "content": "{\"temp_c\":18}"}
        ]}))
    };
    let second = follow(message.clone());
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(
        second.json()["choices"][0]["message"]["reasoning_details"][0]["signature"].is_string()
    );
    let mut unsigned = message.clone();
    unsigned
        .as_object_mut()
        .unwrap()
        .remove("reasoning_details");
    let third = follow(unsigned);
    assert_eq!(third.status, 200, "{}", third.body);
    assert!(
        third.json()["choices"][0]["message"]
            .get("reasoning_details")
            .is_none()
    );
    // Streamed: the signature arrives as a `reasoning_details` delta after the reasoning text.
    let s = gw.chat(
        &json!({"model": "claude", "reasoning_effort": "medium", "max_tokens": 4000,
        "stream": true, "messages": user("hi")}),
    );
    let sigs: Vec<Value> = s
        .events()
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["reasoning_details"]
                .get(0)
                .cloned()
        })
        .collect();
    assert_eq!(sigs.len(), 1, "{}", s.body);
    assert_eq!(sigs[0]["signature"], detail["signature"]);
}

/// A parameter the target drops or approximates is named in `x-switchyard-lossy` and in the
/// access log; a request that loses nothing has no such header.
#[test]
fn lossy_parameters_are_reported() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    let r = gw.chat(
        &json!({"model": "claude", "messages": user("hi"), "seed": 7,
        "temperature": 1.5, "presence_penalty": 0.5}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("x-switchyard-lossy"),
        Some("seed,presence_penalty,temperature")
    );
    let clean = gw.chat(&json!({"model": "claude", "messages": user("hi"), "temperature": 0.5}));
    assert_eq!(clean.header("x-switchyard-lossy"), None);
    // The OpenAI kind takes everything as sent.
    let openai = gw.chat(&json!({"model": "gpt", "messages": user("hi"), "seed": 7}));
    assert_eq!(openai.header("x-switchyard-lossy"), None);
    let lines = gw.access_log(3);
    let lossy: Vec<&Value> = lines.iter().filter_map(|l| l.get("lossy")).collect();
    assert_eq!(
        lossy,
        vec![&json!(["seed", "presence_penalty", "temperature"])]
    );
}
