//! The `gemini` kind through the real gateway against the emulator's Gemini API: JSON and
//! SSE translation, the tool round trip with thought signatures, failover on 429, blocked
//! prompts and embeddings.

use crate::common;

use crate::common::{Emulator, Gateway, KEY, post};
use serde_json::{Value, json};

const REPLY: &str = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok";

const CONFIG: &str = r#"
providers:
  - { name: emu-gemini, kind: gemini, base_url: "http://{EMU}", api_key: "g-upstream-key", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "sk-oai-upstream", first_byte_timeout: 2s, stream_idle_timeout: 2s }
routes:
  - { name: gemini, match: { model: "gemini" }, targets: [ { provider: emu-gemini, model: "gemini-2.5-flash" } ] }
  - { name: thinker, match: { model: "thinker" }, targets: [ { provider: emu-gemini, model: "gemini-3-pro#thinking=1" } ] }
  - { name: g429, match: { model: "g429" }, targets: [ { provider: emu-gemini, model: "gemini-2.5-flash#status=429;retry_after=3" } ], fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
  - { name: only429, match: { model: "only429" }, targets: [ { provider: emu-gemini, model: "gemini-2.5-flash#status=429;retry_after=5" } ] }
  - { name: blocked, match: { model: "blocked" }, targets: [ { provider: emu-gemini, model: "gemini-2.5-flash#block=PROHIBITED_CONTENT" } ], fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
  - { name: cut, match: { model: "cut" }, targets: [ { provider: emu-gemini, model: "gemini-2.5-flash#drop_after=4" } ] }
  - { name: gemb, match: { model: "gemb" }, targets: [ { provider: emu-gemini, model: "text-embedding-004" } ] }
"#;

fn setup() -> (Emulator, Gateway) {
    let emu = Emulator::start();
    let (yaml, port, admin) = common::config(&emu, CONFIG, "");
    let gw = Gateway::start(&yaml, port, admin);
    (emu, gw)
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "additionalProperties": false,
                       "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// The last request the emulator saw on a Gemini path.
fn last_gemini(emu: &Emulator) -> Value {
    emu.requests()
        .into_iter()
        .rev()
        .find(|r| r["path"].as_str().unwrap_or("").contains("/models/"))
        .expect("a Gemini request")
}

/// Assembled content, tool calls (id, name, args), finish reason and usage of an SSE reply.
fn assemble(events: &[String]) -> (String, Vec<(String, String, String)>, String, Value) {
    let (mut text, mut calls, mut finish, mut usage) =
        (String::new(), Vec::new(), String::new(), Value::Null);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    for e in &events[..events.len() - 1] {
        let c: Value = serde_json::from_str(e).unwrap();
        if !c["usage"].is_null() {
            usage = c["usage"].clone();
        }
        let Some(ch) = c["choices"].get(0) else {
            continue;
        };
        text.push_str(ch["delta"]["content"].as_str().unwrap_or(""));
        for tc in ch["delta"]["tool_calls"].as_array().into_iter().flatten() {
            calls.push((
                tc["id"].as_str().unwrap().to_owned(),
                tc["function"]["name"].as_str().unwrap().to_owned(),
                tc["function"]["arguments"].as_str().unwrap().to_owned(),
            ));
        }
        if let Some(f) = ch["finish_reason"].as_str() {
            finish = f.to_owned();
        }
    }
    (text, calls, finish, usage)
}

/// JSON and SSE: native paths, key header and body shape upstream; OpenAI shapes back.
#[test]
fn json_and_stream() {
    let (emu, gw) = setup();
    let msgs =
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]);
    let r = gw.chat(&json!({"model": "gemini", "messages": msgs, "max_tokens": 100}));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], REPLY);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 11);
    assert_eq!(v["model"], "gemini-2.5-flash");
    let up = last_gemini(&emu);
    assert_eq!(
        up["path"],
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(up["headers"]["x-goog-api-key"], "g-upstream-key");
    assert!(up["headers"].get("authorization").is_none());
    assert_eq!(
        up["body"]["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );
    assert_eq!(up["body"]["generationConfig"]["maxOutputTokens"], 100);

    let r = gw.chat(&json!({"model": "gemini", "messages": msgs, "stream": true,
                            "stream_options": {"include_usage": true}}));
    assert_eq!(r.status, 200, "{}", r.body);
    let (text, calls, finish, usage) = assemble(&r.events());
    assert_eq!(
        (text.as_str(), calls.len(), finish.as_str()),
        (REPLY, 0, "stop")
    );
    assert_eq!(usage["completion_tokens"], 11);
    assert_eq!(
        last_gemini(&emu)["path"],
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
}

/// A thinking model's tool call carries its thought signature in the id; the follow-up
/// turn sends it back on the functionCall part (the emulator refuses it otherwise).
#[test]
fn tool_round_trip_with_signature() {
    let (emu, gw) = setup();
    for stream in [false, true] {
        let ask = json!([{"role": "user", "content": "Weather in Paris?"}]);
        let r = gw.chat(
            &json!({"model": "thinker", "messages": ask, "tools": tools(), "stream": stream}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let (id, name, args) = if stream {
            let (_, calls, finish, _) = assemble(&r.events());
            assert_eq!(finish, "tool_calls");
            calls[0].clone()
        } else {
            let v = r.json();
            assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
            assert!(v["choices"][0]["message"]["reasoning_content"].is_string());
            let c = &v["choices"][0]["message"]["tool_calls"][0];
            (
                c["id"].as_str().unwrap().to_owned(),
                c["function"]["name"].as_str().unwrap().to_owned(),
                c["function"]["arguments"].as_str().unwrap().to_owned(),
            )
        };
        assert!(id.contains("__thought__"), "{id}");
        assert_eq!(name, "get_weather");
        assert_eq!(
            serde_json::from_str::<Value>(&args).unwrap(),
            json!({"city": "Paris"})
        );
        // additionalProperties was cleaned away, or the emulator would have refused the tools.
        let up = last_gemini(&emu);
        assert!(
            up["body"]["tools"][0]["functionDeclarations"][0]["parameters"]
                .get("additionalProperties")
                .is_none()
        );

        let follow = |call_id: &str| {
            gw.chat(&json!({"model": "thinker", "tools": tools(), "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
                {"role": "tool", "tool_call_id": call_id, "content": "18 C and sunny"}
            ]}))
        };
        let r = follow(&id);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json()["choices"][0]["message"]["content"],
            "Tool result received: 18 C and sunny"
        );
        let sent = &last_gemini(&emu)["body"]["contents"];
        assert_eq!(sent[1]["parts"][0]["functionCall"]["name"], "get_weather");
        assert!(sent[1]["parts"][0]["thoughtSignature"].is_string());
        assert_eq!(
            sent[2]["parts"][0]["functionResponse"],
            json!({"name": "get_weather", "response": {"output": "18 C and sunny"}})
        );
        // Without the signature the (emulated) Gemini 3 model refuses the history.
        let stripped = id.split("__thought__").next().unwrap();
        let r = follow(stripped);
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.error()["message"]
                .as_str()
                .unwrap()
                .contains("thought_signature")
        );
    }
}

/// 429 fails over to the next target; with nowhere to go the client gets 429 + retry-after.
#[test]
fn rate_limit_failover() {
    let (emu, gw) = setup();
    let msgs = json!([{"role": "user", "content": "Hi"}]);
    for stream in [false, true] {
        let r = gw.chat(&json!({"model": "g429", "messages": msgs, "stream": stream}));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
        // The first 429 carried Retry-After: 3, so the second request skips that target.
        let expected = if stream { "1" } else { "2" };
        assert_eq!(r.header("x-switchyard-attempts"), Some(expected));
    }
    assert_eq!(emu.count("gemini-2.5-flash#status=429;retry_after=3"), 1);
    let r = gw.chat(&json!({"model": "only429", "messages": msgs}));
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("5"));
    let e = r.error();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("RESOURCE_EXHAUSTED"),
        "{e}"
    );
}

/// A blocked prompt is a 400 `content_filter` naming the reason, streaming or not, and is not
/// retried elsewhere (another provider would see the same prompt).
#[test]
fn blocked_prompt() {
    let (_emu, gw) = setup();
    for stream in [false, true] {
        let r = gw.chat(&json!({"model": "blocked", "messages": [{"role": "user", "content": "x"}], "stream": stream}));
        assert_eq!(r.status, 400, "stream={stream}: {}", r.body);
        let e = r.error();
        assert_eq!(e["code"], "content_filter");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("PROHIBITED_CONTENT")
        );
    }
}

/// A stream cut before its finishReason ends with an error, never a clean `[DONE]`.
#[test]
fn truncated_stream() {
    let (_emu, gw) = setup();
    let r = gw.chat(
        &json!({"model": "cut", "messages": [{"role": "user", "content": "Hi"}], "stream": true}),
    );
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("[DONE]"), "{}", r.body);
    assert!(r.body.contains("\"error\""), "{}", r.body);
}

/// Embeddings go to batchEmbedContents and come back as an OpenAI list.
#[test]
fn embeddings() {
    let (emu, gw) = setup();
    let r = post(
        &gw.url("/v1/embeddings"),
        &json!({"model": "gemb", "input": ["a", "b"], "dimensions": 8}).to_string(),
        &[("authorization", &format!("Bearer {KEY}"))],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][1]["embedding"].as_array().unwrap().len(), 8);
    let up = last_gemini(&emu);
    assert_eq!(
        up["path"],
        "/v1beta/models/text-embedding-004:batchEmbedContents"
    );
    assert_eq!(
        up["body"]["requests"][0]["model"],
        "models/text-embedding-004"
    );
}
