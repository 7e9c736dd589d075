//! Reasoning across provider kinds: the ask mapped to each native knob, and signed thoughts
//! surviving a round trip through an OpenAI-format client.

use crate::providers::ModelFacts;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::{ctx, provider};
use crate::translate::request::ChatRequest;
use serde_json::{Value, json};

fn build(kind: ProviderKind, model: &str, body: &Value) -> Value {
    build_with(&provider(kind), model, body)
}

fn build_with(
    p: &crate::providers::settings::ProviderSettings,
    model: &str,
    body: &Value,
) -> Value {
    build_caps(p, model, body, &["tools", "reasoning"])
}

/// Builds with the catalog listing `caps` for the model.
fn build_caps(
    p: &crate::providers::settings::ProviderSettings,
    model: &str,
    body: &Value,
    caps: &[&str],
) -> Value {
    let caps: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    let facts = ModelFacts {
        capabilities: &caps,
    };
    let raw = body.to_string();
    let req = ChatRequest::parse(raw.as_bytes()).unwrap();
    let up = crate::providers::build_request(p, &req, raw.as_bytes(), model, facts).unwrap();
    serde_json::from_slice(&up.body).unwrap()
}

fn chat(extra: Value) -> Value {
    let mut v =
        json!({"model": "m", "messages": [{"role": "user", "content": "Why is the sky blue?"}]});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v
}

/// `reasoning_effort` becomes a thinking budget (its share of the output cap); sampling
/// parameters thinking forbids are dropped.
#[test]
fn anthropic_budget_from_effort() {
    let out = build(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5",
        &chat(
            json!({"reasoning_effort": "high", "max_tokens": 10000, "temperature": 0.3, "top_p": 0.5}),
        ),
    );
    assert_eq!(
        out["thinking"],
        json!({"type": "enabled", "budget_tokens": 8000})
    );
    assert_eq!(out["max_tokens"], 10000);
    assert!(out.get("temperature").is_none() && out.get("top_p").is_none());
    // OpenRouter's form with an explicit budget larger than the cap: the cap makes room.
    let out = build(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5",
        &chat(json!({"reasoning": {"max_tokens": 2000}, "max_tokens": 1000, "temperature": 0.3})),
    );
    assert_eq!(out["thinking"]["budget_tokens"], 2000);
    assert_eq!(out["max_tokens"], 3000);
    // No ask, or `none`: no thinking, temperature kept.
    for extra in [
        json!({"temperature": 0.3}),
        json!({"temperature": 0.3, "reasoning_effort": "none"}),
    ] {
        let out = build(ProviderKind::Anthropic, "claude-sonnet-4-5", &chat(extra));
        assert!(out.get("thinking").is_none());
        assert_eq!(out["temperature"], 0.3);
    }
}

/// An Anthropic answer with signed thinking, returned to an OpenAI client and sent back with
/// the tool result, reaches Anthropic with the same signature at the head of the turn.
#[test]
fn anthropic_signature_round_trip() {
    let answer = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBCkYIBxgCKkD"},
            {"type": "redacted_thinking", "data": "ENCRYPTED"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 20}
    });
    let d = crate::providers::decode_response(
        ProviderKind::Anthropic,
        answer.to_string().as_bytes(),
        &ctx(false),
        "claude-sonnet-4-5",
    )
    .unwrap();
    let completion: Value = serde_json::from_slice(&d.body).unwrap();
    let message = completion["choices"][0]["message"].clone();
    assert_eq!(message["reasoning_content"], "Need the weather.");
    assert_eq!(
        message["reasoning_details"],
        json!([
            {"type": "reasoning.text", "text": "Need the weather.", "signature": "EqQBCkYIBxgCKkD", "format": "anthropic-claude-v1", "index": 0},
            {"type": "reasoning.encrypted", "data": "ENCRYPTED", "format": "anthropic-claude-v1", "index": 1}
        ])
    );
    let follow_up = json!({
        "model": "m", "reasoning_effort": "medium", "max_tokens": 4096,
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            message,
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"}
        ]
    });
    let out = build(ProviderKind::Anthropic, "claude-sonnet-4-5", &follow_up);
    assert_eq!(out["thinking"]["budget_tokens"], 2048);
    let turn = &out["messages"][1];
    assert_eq!(turn["role"], "assistant");
    assert_eq!(
        turn["content"][0],
        json!({"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBCkYIBxgCKkD"})
    );
    assert_eq!(
        turn["content"][1],
        json!({"type": "redacted_thinking", "data": "ENCRYPTED"})
    );
    assert_eq!(turn["content"][2]["type"], "tool_use");
    // LiteLLM's spelling works the same.
    let mut litellm = follow_up.clone();
    let m = litellm["messages"][1].as_object_mut().unwrap();
    m.remove("reasoning_details");
    m.insert(
        "thinking_blocks".into(),
        json!([{"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBCkYIBxgCKkD"}]),
    );
    let out = build(ProviderKind::Anthropic, "claude-sonnet-4-5", &litellm);
    assert_eq!(
        out["messages"][1]["content"][0]["signature"],
        "EqQBCkYIBxgCKkD"
    );
}

/// A tool-calling history without its thinking blocks (a client that dropped them) is sent
/// without thinking rather than refused by Anthropic; a forced tool does the same.
#[test]
fn anthropic_thinking_off_when_it_cannot_be_sent() {
    let unsigned = json!({
        "model": "m", "reasoning_effort": "high",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "ok"}
        ]
    });
    let out = build(ProviderKind::Anthropic, "claude-sonnet-4-5", &unsigned);
    assert!(out.get("thinking").is_none());
    let forced = chat(json!({
        "reasoning_effort": "high", "tool_choice": "required",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    }));
    let out = build(ProviderKind::Anthropic, "claude-sonnet-4-5", &forced);
    assert!(out.get("thinking").is_none());
}

// conformance: chat reasoning,thinking_round_trip bedrock translated
/// Claude on Bedrock: thinking in `additionalModelRequestFields`, signed reasoning back as
/// `reasoningContent`; other Bedrock models get no thinking field.
#[test]
fn bedrock_claude_thinking() {
    let body = json!({
        "model": "m", "reasoning_effort": "low", "max_tokens": 8000,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "reasoning_details": [
                {"type": "reasoning.text", "text": "greet", "signature": "sig1", "format": "anthropic-claude-v1"}
            ]},
            {"role": "user", "content": "again"}
        ]
    });
    let out = build(
        ProviderKind::Bedrock,
        "anthropic.claude-sonnet-4-5-v1:0",
        &body,
    );
    assert_eq!(
        out["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 1600}})
    );
    assert_eq!(
        out["messages"][1]["content"][0],
        json!({"reasoningContent": {"reasoningText": {"text": "greet", "signature": "sig1"}}})
    );
    let out = build(ProviderKind::Bedrock, "amazon.nova-pro-v1:0", &body);
    assert!(out.get("additionalModelRequestFields").is_none());
}

// conformance: chat reasoning gemini,ollama,cohere translated
/// Gemini gets a `thinkingConfig` within the model's range; other kinds their own knob.
#[test]
fn gemini_ollama_cohere_knobs() {
    let out = build(
        ProviderKind::Gemini,
        "gemini-2.5-flash",
        &chat(json!({"reasoning_effort": "medium", "max_tokens": 2000})),
    );
    assert_eq!(
        out["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 1000, "includeThoughts": true})
    );
    assert_eq!(out["generationConfig"]["maxOutputTokens"], 3000);
    let out = build(
        ProviderKind::Gemini,
        "gemini-2.5-flash",
        &chat(json!({"reasoning": {"effort": "high", "exclude": true}})),
    );
    assert_eq!(
        out["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 19660, "includeThoughts": false})
    );
    let out = build(
        ProviderKind::Ollama,
        "qwen3",
        &chat(json!({"reasoning_effort": "low"})),
    );
    assert_eq!(out["think"], true);
    let out = build(
        ProviderKind::Ollama,
        "gpt-oss:20b",
        &chat(json!({"reasoning_effort": "high"})),
    );
    assert_eq!(out["think"], "high");
    let out = build(ProviderKind::Ollama, "qwen3", &chat(json!({})));
    assert!(out.get("think").is_none());
    let out = build(
        ProviderKind::Cohere,
        "command-a-reasoning",
        &chat(json!({"reasoning": {"max_tokens": 3000}})),
    );
    assert_eq!(
        out["thinking"],
        json!({"type": "enabled", "token_budget": 3000})
    );
    let out = build(
        ProviderKind::Cohere,
        "command-a-reasoning",
        &chat(json!({"reasoning_effort": "none"})),
    );
    assert_eq!(out["thinking"], json!({"type": "disabled"}));
}

// conformance: chat reasoning openai native
/// OpenAI takes `reasoning_effort` as is; OpenRouter's `reasoning` object becomes one, and
/// thinking blocks in the history are removed (OpenAI rejects unknown message fields) except
/// for OpenRouter, which verifies them.
#[test]
fn openai_pass_through() {
    let out = build(
        ProviderKind::OpenAi,
        "o4-mini",
        &chat(json!({"reasoning_effort": "xhigh"})),
    );
    assert_eq!(out["reasoning_effort"], "xhigh");
    let out = build(
        ProviderKind::OpenAi,
        "o4-mini",
        &chat(json!({"reasoning": {"effort": "low", "exclude": false}})),
    );
    assert_eq!(out["reasoning_effort"], "low");
    assert!(out.get("reasoning").is_none());
    let out = build(
        ProviderKind::OpenAi,
        "o4-mini",
        &chat(json!({"reasoning": {"max_tokens": 20000}, "reasoning_effort": "minimal"})),
    );
    assert_eq!(out["reasoning_effort"], "minimal");
    assert!(out.get("reasoning").is_none());
    let history = json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "reasoning_details": [{"type": "reasoning.text", "text": "t", "signature": "s"}]},
            {"role": "user", "content": "again"}
        ]
    });
    let out = build(ProviderKind::OpenAi, "gpt-4o", &history);
    assert_eq!(
        out["messages"][1],
        json!({"role": "assistant", "content": "hello"})
    );
    let mut openrouter = provider(ProviderKind::OpenAi);
    openrouter.preset = Some("openrouter");
    let out = build_with(&openrouter, "anthropic/claude-sonnet-4.5", &history);
    assert_eq!(out["messages"][1]["reasoning_details"][0]["signature"], "s");
}

/// A model the catalog does not list as reasoning gets no reasoning knob the client did not
/// name itself: Claude Code's default `thinking: adaptive` must not break a route to a
/// non-reasoning model.
#[test]
fn no_reasoning_knob_without_the_capability() {
    let ask = chat(json!({"reasoning": {"enabled": true}, "temperature": 0.3}));
    let out = build_caps(
        &provider(ProviderKind::Anthropic),
        "claude-3-5-haiku",
        &ask,
        &["tools"],
    );
    assert!(out.get("thinking").is_none());
    assert_eq!(out["temperature"], 0.3);
    let out = build_caps(
        &provider(ProviderKind::OpenAi),
        "gpt-4o-mini",
        &ask,
        &["tools"],
    );
    assert!(out.get("reasoning_effort").is_none() && out.get("reasoning").is_none());
    // The client's own reasoning_effort is its choice: passed through.
    let own = chat(json!({"reasoning_effort": "low"}));
    let out = build_caps(&provider(ProviderKind::OpenAi), "gpt-4o-mini", &own, &[]);
    assert_eq!(out["reasoning_effort"], "low");
    // OpenRouter takes its own `reasoning` object as is.
    let mut openrouter = provider(ProviderKind::OpenAi);
    openrouter.preset = Some("openrouter");
    let or = chat(json!({"reasoning": {"max_tokens": 3000}}));
    let out = build_caps(&openrouter, "anthropic/claude-sonnet-4.5", &or, &[]);
    assert_eq!(out["reasoning"], json!({"max_tokens": 3000}));
    assert!(out.get("reasoning_effort").is_none());
}
