//! The `bedrock` kind end to end: the real gateway signs and translates, the emulator verifies
//! every SigV4 signature and speaks Converse, ConverseStream (binary event stream) and
//! InvokeModel.

use crate::common;

use crate::common::{Emulator, Gateway, KEY, post};
use serde_json::{Value, json};

const REPLY: &str = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok";
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// AWS's documentation example key pair, the one the emulator knows.
const CONFIG: &str = r#"
providers:
  - { name: emu-bedrock, kind: bedrock, base_url: "http://{EMU}", region: us-east-1, aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: emu-bedrock-badsig, kind: bedrock, base_url: "http://{EMU}", region: us-east-1, aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "not-the-secret", aws_session_token: "TOKEN", health_check: false }
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "sk-oai-upstream" }
routes:
  - { name: br, match: { model: "br" }, targets: [ { provider: emu-bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0" } ] }
  - { name: br-split, match: { model: "br-split" }, targets: [ { provider: emu-bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0#split=3" } ] }
  - { name: br-midstream, match: { model: "br-midstream" }, targets: [ { provider: emu-bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0#error_after=4" } ], fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
  - { name: br-drop, match: { model: "br-drop" }, targets: [ { provider: emu-bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0#drop_after=3;chunk_ms=5" } ] }
  - { name: br-throttled, match: { model: "br-throttled" }, targets: [ { provider: emu-bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0#status=429" } ], fallback: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
  - { name: br-throttled-only, match: { model: "br-throttled-only" }, targets: [ { provider: emu-bedrock, model: "anthropic.claude-3-haiku-20240307-v1:0#status=429" } ] }
  - { name: br-badsig, match: { model: "br-badsig" }, targets: [ { provider: emu-bedrock-badsig, model: "anthropic.claude-3-haiku-20240307-v1:0" } ] }
  - { name: titan, match: { model: "titan" }, targets: [ { provider: emu-bedrock, model: "amazon.titan-embed-text-v2:0" } ] }
  - { name: cohere, match: { model: "cohere" }, targets: [ { provider: emu-bedrock, model: "cohere.embed-english-v3" } ] }
"#;

fn start() -> (Emulator, Gateway) {
    let emu = Emulator::start();
    let (yaml, port, admin) = common::config(&emu, CONFIG, "");
    let gw = Gateway::start(&yaml, port, admin);
    (emu, gw)
}

fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// (id, name, arguments) of one streamed tool call.
type Call = (String, String, String);

/// Text, tool calls, finish reason and usage assembled from the SSE data payloads.
fn assemble(events: &[String]) -> (String, Vec<Call>, Option<String>, Option<Value>) {
    let mut text = String::new();
    let mut calls: Vec<Call> = Vec::new();
    let (mut finish, mut usage) = (None, None);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    for e in &events[..events.len() - 1] {
        let c: Value = serde_json::from_str(e).unwrap();
        assert!(c.get("error").is_none(), "error event {e}");
        if !c["usage"].is_null() {
            usage = Some(c["usage"].clone());
        }
        let Some(choice) = c["choices"].get(0) else {
            continue;
        };
        text.push_str(choice["delta"]["content"].as_str().unwrap_or(""));
        for tc in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let i = tc["index"].as_u64().unwrap() as usize;
            if i == calls.len() {
                calls.push((
                    tc["id"].as_str().unwrap().into(),
                    tc["function"]["name"].as_str().unwrap().into(),
                    String::new(),
                ));
            }
            calls[i]
                .2
                .push_str(tc["function"]["arguments"].as_str().unwrap_or(""));
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
    }
    (text, calls, finish, usage)
}

/// JSON chat: translated reply and usage; the upstream request went to the encoded Converse
/// path, signed, with a Converse body (the emulator verified the signature).
#[test]
fn json_chat_is_signed_and_translated() {
    let (emu, gw) = start();
    let r = gw.chat(&json!({"model": "br", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 100}));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], REPLY);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["model"], MODEL);
    assert_eq!(v["usage"]["completion_tokens"], 11);
    let reqs = emu.requests();
    let last = reqs.last().unwrap();
    assert_eq!(
        last["path"],
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    let auth = last["headers"]["authorization"].as_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/us-east-1/bedrock/aws4_request"),
        "{auth}"
    );
    let body: Value = last["body"].clone();
    assert_eq!(body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(body["inferenceConfig"]["maxTokens"], 100);
}

/// Streaming through the binary event stream, delivered in 3-byte pieces: the client gets the
/// same text, finish and usage chunk as from the JSON answer.
#[test]
fn stream_split_into_three_byte_pieces() {
    let (emu, gw) = start();
    for model in ["br", "br-split"] {
        let r = gw.chat(&json!({"model": model, "messages": user("Hi"), "stream": true, "stream_options": {"include_usage": true}}));
        assert_eq!(r.status, 200, "{}", r.body);
        let (text, calls, finish, usage) = assemble(&r.events());
        assert_eq!(text, REPLY, "{model}");
        assert!(calls.is_empty());
        assert_eq!(finish.as_deref(), Some("stop"));
        assert_eq!(usage.unwrap()["completion_tokens"], 11);
    }
    let reqs = emu.requests();
    let last = reqs.last().unwrap();
    assert!(
        last["path"]
            .as_str()
            .unwrap()
            .ends_with("%23split%3D3/converse-stream")
    );
    assert_eq!(
        last["headers"]["accept"],
        "application/vnd.amazon.eventstream"
    );
}

/// Tool round trip, JSON and streamed: a forced call, then the result sent back as a
/// toolResult, which the emulator (validating toolUse/toolResult pairing) acknowledges.
#[test]
fn tool_round_trip() {
    let (emu, gw) = start();
    let r = gw.chat(
        &json!({"model": "br", "messages": user("Weather in Paris?"), "tools": tools(),
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let msg = v["choices"][0]["message"].clone();
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    let call = &msg["tool_calls"][0];
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris"})
    );
    let sent: Value = emu.requests().last().unwrap()["body"].clone();
    assert_eq!(
        sent["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
    let follow = gw.chat(&json!({"model": "br", "tools": tools(), "messages": [
        {"role": "user", "content": "Weather in Paris?"}, msg,
        {"role": "tool", "tool_call_id": call["id"], "content": "18 C and sunny"}]}));
    assert_eq!(follow.status, 200, "{}", follow.body);
    assert_eq!(
        follow.json()["choices"][0]["message"]["content"],
        "Tool result received: 18 C and sunny"
    );
    let r = gw.chat(&json!({"model": "br-split", "messages": user("Weather?"), "tools": tools(), "stream": true}));
    let (_, calls, finish, _) = assemble(&r.events());
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert_eq!(calls[0].1, "get_weather");
    assert!(calls[0].0.starts_with("tooluse_"));
    assert_eq!(
        serde_json::from_str::<Value>(&calls[0].2).unwrap(),
        json!({"city": "Paris"})
    );
}

/// ThrottlingException (429) before any output fails over; alone it reaches the client as
/// 429 with retry-after; an exception frame after output becomes an in-band error, and so
/// does a connection dropped mid-stream.
#[test]
fn throttling_and_stream_exceptions() {
    let (emu, gw) = start();
    let r = gw.chat(&json!({"model": "br-throttled", "messages": user("Hi")}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
    assert_eq!(emu.count(&format!("{MODEL}#status=429")), 1);
    let r = gw.chat(&json!({"model": "br-throttled-only", "messages": user("Hi")}));
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    let e = r.error();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("ThrottlingException"),
        "{e}"
    );
    let r = gw.chat(&json!({"model": "br-midstream", "messages": user("Hi"), "stream": true}));
    assert_eq!(r.status, 200);
    let events = r.events();
    let last: Value =
        serde_json::from_str(events.iter().rev().find(|e| *e != "[DONE]").unwrap()).unwrap();
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("modelStreamErrorException"),
        "{last}"
    );
    // A connection dropped after three frames (text already sent) is reported in-band.
    let r = gw.chat(&json!({"model": "br-drop", "messages": user("Hi"), "stream": true}));
    let events = r.events();
    assert_ne!(events.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "stream_interrupted", "{last}");
}

/// A wrong secret: the emulator answers 403 InvalidSignatureException as AWS does, and the
/// client gets a 502 that says the provider rejected the gateway's credentials.
#[test]
fn bad_signature_is_a_clear_502() {
    let (emu, gw) = start();
    let r = gw.chat(&json!({"model": "br-badsig", "messages": user("Hi")}));
    assert_eq!(r.status, 502, "{}", r.body);
    let msg = r.error()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("emu-bedrock-badsig")
            && msg.contains("credentials")
            && msg.contains("InvalidSignatureException"),
        "{msg}"
    );
    let reqs = emu.requests();
    assert_eq!(
        reqs.last().unwrap()["headers"]["x-amz-security-token"],
        "TOKEN"
    );
}

fn embed(gw: &Gateway, body: Value) -> common::Reply {
    post(
        &gw.url("/v1/embeddings"),
        &body.to_string(),
        &[("authorization", &format!("Bearer {KEY}"))],
    )
}

/// Titan (one input per call; several are a 400 naming `input`) and Cohere embeddings.
#[test]
fn embeddings_titan_and_cohere() {
    let (emu, gw) = start();
    let r = embed(
        &gw,
        json!({"model": "titan", "input": "hello world", "dimensions": 256}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 256);
    assert_eq!(v["usage"]["prompt_tokens"], 2);
    assert_eq!(
        emu.requests().last().unwrap()["path"],
        "/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    let r = embed(&gw, json!({"model": "titan", "input": ["a", "b"]}));
    assert_eq!(r.status, 400);
    assert_eq!(r.error()["param"], "input");
    let r = embed(
        &gw,
        json!({"model": "cohere", "input": ["a", "b", "c"], "encoding_format": "float"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
    assert_eq!(v["data"][2]["index"], 2);
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 1024);
    let sent: Value = emu.requests().last().unwrap()["body"].clone();
    assert_eq!(sent["input_type"], "search_document");
}
