//! Prompt-cache breakpoints from OpenAI-format clients and from `/v1/messages`, per kind.

use crate::providers::settings::{ProviderKind, ProviderSettings};
use crate::providers::testutil::provider;
use crate::translate::request::ChatRequest;
use serde_json::{Value, json};

fn build(p: &ProviderSettings, model: &str, body: &Value) -> Value {
    let raw = body.to_string();
    let req = ChatRequest::parse(raw.as_bytes()).unwrap();
    let up = crate::providers::build_request(p, &req, raw.as_bytes(), model, Default::default())
        .unwrap();
    serde_json::from_slice(&up.body).unwrap()
}

const EPH: fn() -> Value = || json!({"type": "ephemeral"});

/// LiteLLM/OpenRouter-style breakpoints: on a system part, a tool, a tool result and the last
/// user part.
fn marked() -> Value {
    json!({
        "model": "m",
        "tools": [
            {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}, "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Long instructions.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "a", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}, {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]}
        ]
    })
}

#[test]
fn anthropic_cache_control_end_to_end() {
    let out = build(
        &provider(ProviderKind::Anthropic),
        "claude-sonnet-4-5",
        &marked(),
    );
    assert_eq!(
        out["system"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    assert!(out["tools"][0].get("cache_control").is_none());
    assert_eq!(out["tools"][1]["cache_control"], EPH());
    // The tool result and the later user text share the last user turn.
    let last = &out["messages"][2]["content"];
    assert_eq!(last[0]["type"], "tool_result");
    assert_eq!(last[0]["cache_control"], EPH());
    assert!(last[1].get("cache_control").is_none());
    assert_eq!(last[2]["cache_control"], EPH());
    // Four breakpoints at most: the tool's, the earliest in the prefix, gives way.
    let mut five = marked();
    five["messages"][1]["cache_control"] = EPH();
    let out = build(
        &provider(ProviderKind::Anthropic),
        "claude-sonnet-4-5",
        &five,
    );
    assert!(out["tools"][1].get("cache_control").is_none());
    assert_eq!(out["messages"][0]["content"][0]["cache_control"], EPH());
}

/// `prompt_cache: auto`: tools, system and the last user turn, only when the client set none.
#[test]
fn automatic_breakpoints() {
    let mut p = provider(ProviderKind::Anthropic);
    p.prompt_cache_auto = true;
    let plain = json!({"model": "m",
    "tools": [{"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}}],
    "messages": [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"}
    ]});
    let out = build(&p, "claude-sonnet-4-5", &plain);
    assert_eq!(out["tools"][0]["cache_control"], EPH());
    assert_eq!(out["system"][0]["cache_control"], EPH());
    assert_eq!(out["messages"][2]["content"][0]["cache_control"], EPH());
    assert!(
        out["messages"][0]["content"][0]
            .get("cache_control")
            .is_none()
    );
    // Off by default.
    let out = build(
        &provider(ProviderKind::Anthropic),
        "claude-sonnet-4-5",
        &plain,
    );
    assert!(out["system"][0].get("cache_control").is_none());
    // The client's own breakpoints win over the automatic ones.
    let out = build(&p, "claude-sonnet-4-5", &marked());
    assert!(out["tools"][0].get("cache_control").is_none());
}

/// Bedrock: a `cachePoint` block after each marked block.
#[test]
fn bedrock_cache_points() {
    let out = build(
        &provider(ProviderKind::Bedrock),
        "anthropic.claude-sonnet-4-5-v1:0",
        &marked(),
    );
    let point = json!({"cachePoint": {"type": "default"}});
    assert_eq!(out["system"][1], point);
    assert_eq!(out["toolConfig"]["tools"][2], point);
    let last = out["messages"][2]["content"].as_array().unwrap();
    assert!(last[0].get("toolResult").is_some());
    assert_eq!(last[1], point);
    assert_eq!(last.last().unwrap(), &point);
}

/// OpenAI-format targets get the body without breakpoints (they reject unknown fields and
/// cache by themselves); OpenRouter keeps them.
#[test]
fn openai_strips_cache_control() {
    let out = build(&provider(ProviderKind::OpenAi), "gpt-4o", &marked());
    let text = out.to_string();
    assert!(!text.contains("cache_control"), "{text}");
    assert_eq!(out["messages"][4]["content"][1]["text"], "Be brief.");
    let mut openrouter = provider(ProviderKind::OpenAi);
    openrouter.preset = Some("openrouter");
    let out = build(&openrouter, "anthropic/claude-sonnet-4.5", &marked());
    assert_eq!(out["messages"][4]["content"][1]["cache_control"], EPH());
}

/// Claude Code's breakpoints (system, tools, last block) survive `/v1/messages` translation
/// and reach a Bedrock target as cache points.
#[test]
fn messages_breakpoints_reach_bedrock() {
    use crate::frontends::anthropic_messages::request::{MessagesRequest, to_openai};
    let body = json!({
        "model": "m", "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are Claude Code."}, {"type": "text", "text": "Env.", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "Read", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x", "cache_control": {"type": "ephemeral"}}]}
        ]
    });
    let raw = body.to_string();
    let req = MessagesRequest::parse(raw.as_bytes(), false).unwrap();
    let ir: Value = serde_json::from_slice(&to_openai(&req).unwrap()).unwrap();
    assert_eq!(ir["messages"][0]["cache_control"], EPH());
    assert_eq!(ir["tools"][0]["cache_control"], EPH());
    assert_eq!(ir["messages"][3]["cache_control"], EPH());
    let out = build(
        &provider(ProviderKind::Bedrock),
        "anthropic.claude-sonnet-4-5-v1:0",
        &ir,
    );
    let point = json!({"cachePoint": {"type": "default"}});
    assert_eq!(out["system"].as_array().unwrap().last().unwrap(), &point);
    assert_eq!(out["toolConfig"]["tools"][1], point);
    assert_eq!(out["messages"][2]["content"][1], point);
}
