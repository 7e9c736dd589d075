//! The `ollama` and `cohere` kinds through the real gateway against the emulator: JSON, streams,
//! a tool round trip, failover from injected 500/429, and embeddings.

use crate::common::{Emulator, Gateway, KEY, config, post};
use serde_json::{Value, json};

const CONFIG: &str = r#"
providers:
  - { name: emu-ollama, kind: ollama, base_url: "http://{EMU}", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: emu-cohere, kind: cohere, base_url: "http://{EMU}", api_key: "co-upstream", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "sk-oai-upstream" }
routes:
  - { name: llama, match: { model: "llama" }, targets: [ { provider: emu-ollama, model: "llama3.2" } ] }
  - { name: command, match: { model: "command" }, targets: [ { provider: emu-cohere, model: "command-a-03-2025" } ] }
  - { name: llama-500, match: { model: "llama-500" }, targets: [ { provider: emu-ollama, model: "llama3.2#status=500" } ], fallback: [ { provider: emu-cohere, model: "command-a-03-2025" } ] }
  - { name: command-429, match: { model: "command-429" }, targets: [ { provider: emu-cohere, model: "command-a#status=429;retry_after=3" } ], fallback: [ { provider: emu-ollama, model: "llama3.2" } ] }
  - { name: llama-first-error, match: { model: "llama-first-error" }, targets: [ { provider: emu-ollama, model: "llama3.2#error_after=0" } ], fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
  - { name: llama-mid-error, match: { model: "llama-mid-error" }, targets: [ { provider: emu-ollama, model: "llama3.2#error_after=3" } ] }
  - { name: command-mid-error, match: { model: "command-mid-error" }, targets: [ { provider: emu-cohere, model: "command-a#error_after=4" } ] }
  - { name: llama-thinking, match: { model: "llama-thinking" }, targets: [ { provider: emu-ollama, model: "qwen3#thinking=1;split=5" } ] }
  - { name: llama-embed, match: { model: "llama-embed" }, targets: [ { provider: emu-ollama, model: "all-minilm" } ] }
  - { name: cohere-embed, match: { model: "cohere-embed" }, targets: [ { provider: emu-cohere, model: "embed-v4.0" } ] }
"#;

const REPLY: &str = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok";

fn setup() -> (Emulator, Gateway) {
    let emu = Emulator::start();
    let (yaml, port, admin) = config(&emu, CONFIG, "");
    let gw = Gateway::start(&yaml, port, admin);
    (emu, gw)
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// Chunks of an OpenAI stream reply: (content, reasoning, finish, usage, saw [DONE]).
fn assemble(events: &[String]) -> (String, String, Option<String>, Option<Value>, bool) {
    let (mut text, mut reasoning, mut finish, mut usage) =
        (String::new(), String::new(), None, None);
    let mut done = false;
    for e in events {
        if e == "[DONE]" {
            done = true;
            continue;
        }
        let c: Value = serde_json::from_str(e).unwrap();
        if c["usage"].is_object() {
            usage = Some(c["usage"].clone());
        }
        if let Some(ch) = c["choices"].get(0) {
            text.push_str(ch["delta"]["content"].as_str().unwrap_or(""));
            reasoning.push_str(ch["delta"]["reasoning_content"].as_str().unwrap_or(""));
            if let Some(f) = ch["finish_reason"].as_str() {
                finish = Some(f.to_string());
            }
        }
    }
    (text, reasoning, finish, usage, done)
}

/// Non-streaming and streaming text from both kinds, with the translated upstream requests.
#[test]
fn json_and_stream() {
    let (emu, gw) = setup();
    for model in ["llama", "command"] {
        let r = gw.chat(&json!({"model": model, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 50, "temperature": 0.3}));
        assert_eq!(r.status, 200, "{model}: {}", r.body);
        let v = r.json();
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["choices"][0]["message"]["content"], REPLY);
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert_eq!(v["usage"]["completion_tokens"], 11);
        assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
        let s = gw.chat(&json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": true, "stream_options": {"include_usage": true}}));
        assert_eq!(s.status, 200, "{model}: {}", s.body);
        assert!(
            s.header("content-type")
                .unwrap()
                .starts_with("text/event-stream")
        );
        let (text, _, finish, usage, done) = assemble(&s.events());
        assert_eq!(
            (text.as_str(), finish.as_deref(), done),
            (REPLY, Some("stop"), true),
            "{model}"
        );
        assert_eq!(usage.unwrap()["completion_tokens"], 11);
    }
    let reqs = emu.requests();
    let ollama: Vec<&Value> = reqs.iter().filter(|r| r["path"] == "/api/chat").collect();
    assert_eq!(ollama.len(), 2);
    assert_eq!(ollama[0]["body"]["stream"], false);
    assert_eq!(
        ollama[0]["body"]["options"],
        json!({"temperature": 0.3, "num_predict": 50})
    );
    assert_eq!(ollama[1]["body"]["stream"], true);
    assert_eq!(ollama[1]["headers"]["accept"], "application/x-ndjson");
    assert!(
        ollama[0]["headers"].get("authorization").is_none(),
        "no key, no auth header"
    );
    let cohere: Vec<&Value> = reqs.iter().filter(|r| r["path"] == "/v2/chat").collect();
    assert_eq!(cohere.len(), 2);
    assert_eq!(cohere[0]["headers"]["authorization"], "Bearer co-upstream");
    assert_eq!(cohere[0]["body"]["max_tokens"], 50);
    assert_eq!(
        cohere[0]["body"]["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
}

/// Tool call then tool result, streamed and not, for both kinds.
#[test]
fn tool_round_trip() {
    let (emu, gw) = setup();
    for model in ["llama", "command"] {
        let r = gw.chat(&json!({"model": model, "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": tools(), "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}));
        assert_eq!(r.status, 200, "{model}: {}", r.body);
        let v = r.json();
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls", "{model}");
        let msg = v["choices"][0]["message"].clone();
        let call = &msg["tool_calls"][0];
        assert!(call["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert_eq!(
            serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
            json!({"city": "Paris"})
        );
        let follow = gw.chat(&json!({"model": model, "tools": tools(), "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            msg,
            {"role": "tool", "tool_call_id": call["id"], "content": "18 C and sunny"}
        ]}));
        assert_eq!(follow.status, 200, "{model}: {}", follow.body);
        assert_eq!(
            follow.json()["choices"][0]["message"]["content"],
            "Tool result received: 18 C and sunny"
        );
        let s = gw.chat(&json!({"model": model, "messages": [{"role": "user", "content": "Weather?"}], "tools": tools(), "stream": true}));
        let events = s.events();
        let (_, _, finish, _, done) = assemble(&events);
        assert_eq!(
            (finish.as_deref(), done),
            (Some("tool_calls"), true),
            "{model}"
        );
        let args: String = events
            .iter()
            .filter(|e| *e != "[DONE]")
            .filter_map(|e| {
                let c: Value = serde_json::from_str(e).unwrap();
                c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(
            serde_json::from_str::<Value>(&args).unwrap(),
            json!({"city": "Paris"})
        );
    }
    let reqs = emu.requests();
    let tool_msg = reqs
        .iter()
        .filter(|r| r["path"] == "/api/chat")
        .find_map(|r| {
            r["body"]["messages"]
                .as_array()
                .and_then(|m| m.iter().find(|m| m["role"] == "tool").cloned())
        })
        .unwrap();
    assert_eq!(tool_msg["tool_name"], "get_weather");
    let cohere_first = reqs.iter().find(|r| r["path"] == "/v2/chat").unwrap();
    assert_eq!(cohere_first["body"]["tool_choice"], "REQUIRED");
}

/// Injected 500 and 429 fail over to the other kind; an error as the first NDJSON line too.
#[test]
fn failover() {
    let (emu, gw) = setup();
    for (model, stream) in [
        ("llama-500", false),
        ("llama-500", true),
        ("command-429", false),
        ("command-429", true),
        ("llama-first-error", true),
    ] {
        let r = gw.chat(&json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": stream}));
        assert_eq!(r.status, 200, "{model} stream={stream}: {}", r.body);
        // The first 429 carried Retry-After: 3, so the second request skips that target.
        let expected = if model == "command-429" && stream {
            "1"
        } else {
            "2"
        };
        assert_eq!(r.header("x-switchyard-attempts"), Some(expected), "{model}");
        let text = if stream {
            assemble(&r.events()).0
        } else {
            r.json()["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(text, REPLY, "{model}");
    }
    assert_eq!(emu.count("llama3.2#status=500"), 2);
    assert_eq!(emu.count("command-a#status=429;retry_after=3"), 1);
}

/// Errors after output: an in-band error event ends the OpenAI stream; thinking is relayed.
#[test]
fn mid_stream_errors_and_thinking() {
    let (_emu, gw) = setup();
    for model in ["llama-mid-error", "command-mid-error"] {
        let r = gw.chat(&json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": true}));
        assert_eq!(r.status, 200);
        let events = r.events();
        assert!(!events.iter().any(|e| e == "[DONE]"), "{model}: {}", r.body);
        let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
        assert!(last["error"]["message"].is_string(), "{model}: {}", r.body);
    }
    let r = gw.chat(&json!({"model": "llama-thinking", "messages": [{"role": "user", "content": "Hi"}], "stream": true}));
    let (text, reasoning, finish, _, done) = assemble(&r.events());
    assert_eq!(
        (text.as_str(), finish.as_deref(), done),
        (REPLY, Some("stop"), true)
    );
    assert!(
        reasoning.starts_with("The user wants an answer"),
        "{reasoning}"
    );
    let j = gw
        .chat(&json!({"model": "llama-thinking", "messages": [{"role": "user", "content": "Hi"}]}))
        .json();
    assert!(j["choices"][0]["message"]["reasoning_content"].is_string());
}

/// `/v1/embeddings` for both kinds: OpenAI list, usage, upstream request shapes.
#[test]
fn embeddings() {
    let (emu, gw) = setup();
    let auth = format!("Bearer {KEY}");
    for model in ["llama-embed", "cohere-embed"] {
        let r = post(
            &gw.url("/v1/embeddings"),
            &json!({"model": model, "input": ["hello", "world"], "dimensions": 4}).to_string(),
            &[("authorization", &auth)],
        );
        assert_eq!(r.status, 200, "{model}: {}", r.body);
        let v = r.json();
        assert_eq!(v["object"], "list");
        assert_eq!(v["data"].as_array().unwrap().len(), 2);
        assert_eq!(v["data"][1]["index"], 1);
        assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 4);
        assert_ne!(v["data"][0]["embedding"], v["data"][1]["embedding"]);
        assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    }
    let reqs = emu.requests();
    let o = reqs.iter().find(|r| r["path"] == "/api/embed").unwrap();
    assert_eq!(
        o["body"],
        json!({"model": "all-minilm", "input": ["hello", "world"], "dimensions": 4})
    );
    let c = reqs.iter().find(|r| r["path"] == "/v2/embed").unwrap();
    assert_eq!(c["body"]["input_type"], "search_document");
    assert_eq!(c["body"]["output_dimension"], 4);
    let img = gw.chat(&json!({"model": "llama", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}]}));
    assert_eq!(img.status, 400);
    assert_eq!(img.error()["param"], "messages[0].content[0].image_url");
}
