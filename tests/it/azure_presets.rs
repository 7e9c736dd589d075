//! Azure OpenAI URLs and credentials, OpenAI-compatible presets, and /v1/embeddings through
//! the real gateway against the emulator (which checks Azure's URL rules).

use crate::common;

use crate::common::{Emulator, Gateway, KEY, post};
use serde_json::{Value, json};

const EXTRA: &str = r#"
  - { name: az, match: { model: "az" }, targets: [ { provider: emu-azure, model: "my-gpt4o-deployment" } ] }
  - { name: az1, match: { model: "az1" }, targets: [ { provider: emu-azure-v1, model: "my-gpt4o-deployment" } ] }
  - { name: mistral, match: { model: "mistral" }, targets: [ { provider: emu-mistral, model: "mistral-small-latest" } ] }
  - { name: embed, match: { model: "embed" }, targets: [ { provider: emu-openai, model: "text-embedding-3-small" } ] }
  - { name: embed-az, match: { model: "embed-az" }, targets: [ { provider: emu-azure, model: "emb-deployment" } ] }
  - { name: embed-claude, match: { model: "embed-claude" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ] }
  - { name: embed-failover, match: { model: "embed-failover" }, targets: [ { provider: emu-openai, model: "text-embedding-3-small#status=503" } ], fallback: [ { provider: emu-azure, model: "emb-deployment" } ] }
"#;

fn start(emu: &Emulator) -> Gateway {
    let providers = r#"  - { name: emu-azure, kind: azure, base_url: "http://{EMU}", api_key: "az-upstream-key", api_version: "2024-10-21" }
  - { name: emu-azure-v1, kind: azure, base_url: "http://{EMU}/openai/v1", api_key: "az-upstream-key" }
  - { name: emu-mistral, kind: mistral, base_url: "http://{EMU}/v1", api_key: "mistral-upstream-key" }
"#;
    let routes = common::ROUTES.replacen("routes:\n", &format!("{providers}routes:\n"), 1);
    let (yaml, port, admin) = common::config(emu, &format!("{routes}{EXTRA}"), "");
    Gateway::start(&yaml, port, admin)
}

fn last_request(emu: &Emulator) -> Value {
    emu.requests().last().cloned().expect("a recorded request")
}

/// Classic deployment URLs carry deployment and api-version, the key goes in `api-key`, and
/// Azure's leading filter chunk never reaches the client.
#[test]
fn azure_deployment_and_v1_urls() {
    let emu = Emulator::start();
    let gw = start(&emu);
    let r = gw.chat(&json!({"model": "az", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let req = last_request(&emu);
    assert_eq!(
        req["path"],
        "/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(req["headers"]["api-key"], "az-upstream-key");
    assert!(req["headers"].get("authorization").is_none());

    let r = gw.chat(
        &json!({"model": "az", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let events = r.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    for e in &events[..events.len() - 1] {
        let v: Value = serde_json::from_str(e).unwrap();
        assert!(
            v.get("prompt_filter_results").is_none(),
            "filter chunk leaked: {e}"
        );
    }

    let r = gw.chat(&json!({"model": "az1", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let req = last_request(&emu);
    assert_eq!(req["path"], "/openai/v1/chat/completions");
    assert_eq!(req["model"], "my-gpt4o-deployment");
}

/// A preset needs only a kind name: it speaks OpenAI with a Bearer key.
#[test]
fn preset_is_openai_compatible() {
    let emu = Emulator::start();
    let gw = start(&emu);
    let r = gw.chat(&json!({"model": "mistral", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let req = last_request(&emu);
    assert_eq!(req["path"], "/v1/chat/completions");
    assert_eq!(
        req["headers"]["authorization"],
        "Bearer mistral-upstream-key"
    );
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-mistral"));
}

fn embed(gw: &Gateway, body: &Value) -> common::Reply {
    post(
        &gw.url("/v1/embeddings"),
        &body.to_string(),
        &[("authorization", &format!("Bearer {KEY}"))],
    )
}

/// Embeddings route like chat: pass-through to OpenAI and Azure, failover, clear errors.
#[test]
fn embeddings_route_and_fail_over() {
    let emu = Emulator::start();
    let gw = start(&emu);
    let r = embed(&gw, &json!({"model": "embed", "input": ["a b", "c"]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    assert_eq!(last_request(&emu)["model"], "text-embedding-3-small");

    let r = embed(&gw, &json!({"model": "embed-az", "input": "x"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        last_request(&emu)["path"],
        "/openai/deployments/emb-deployment/embeddings?api-version=2024-10-21"
    );

    let r = embed(&gw, &json!({"model": "embed-failover", "input": "x"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-attempts"), Some("2"));
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-azure"));

    let r = embed(&gw, &json!({"model": "embed-claude", "input": "x"}));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error()["param"], "model");
    let r = embed(&gw, &json!({"model": "embed", "input": []}));
    assert_eq!(
        (r.status, r.error()["param"].as_str()),
        (400, Some("input"))
    );
    let r = embed(&gw, &json!({"model": "nope", "input": "x"}));
    assert_eq!(r.status, 404);
    let log = gw.access_log(7);
    assert!(
        log.iter()
            .any(|l| l["path"] == "/v1/embeddings" && l["status"] == 200)
    );
}
