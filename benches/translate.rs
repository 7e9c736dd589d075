//! Request translation cost per request: parsing the OpenAI body (`ChatRequest::parse`),
//! building the native request for each provider kind (`providers::build_request`), and both
//! together. The body is a typical chat: a system prompt, three turns and one tool. OpenAI is
//! the pass-through baseline (the body is spliced, not re-encoded); Bedrock includes its
//! SigV4 signature.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup: a failed step aborts the run

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard::config::Config;
use switchyard::providers::build_request;
use switchyard::translate::request::ChatRequest;

/// One provider of each benchmarked kind (the Bedrock key pair is AWS's documentation example).
const CONFIG: &str = r#"
providers:
  - { name: openai, kind: openai, base_url: "https://api.openai.com/v1", api_key: "sk-bench-openai" }
  - { name: anthropic, kind: anthropic, base_url: "https://api.anthropic.com", api_key: "sk-ant-bench" }
  - { name: gemini, kind: gemini, api_key: "gemini-bench-key" }
  - { name: bedrock, kind: bedrock, region: us-east-1, aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
keys: [ { name: bench, key: sk-bench-client-key } ]
"#;

/// The model each provider is asked for.
const MODELS: &[(&str, &str)] = &[
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("gemini", "gemini-2.5-flash"),
    ("bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
];

/// System prompt, user / assistant / user turns, one function tool (about 1.3 KB).
const BODY: &str = r#"{
  "model": "bench",
  "messages": [
    {"role": "system", "content": "You are a concise travel assistant. Answer in at most three sentences, cite the tool when you use it, and never invent prices."},
    {"role": "user", "content": "I am flying from Lisbon to Oslo on Friday. What should I pack for the weather there?"},
    {"role": "assistant", "content": "Oslo in late November is usually cold and damp: expect 0 to 5 °C, short days and some rain or sleet. Pack a warm waterproof coat, layers and shoes with grip."},
    {"role": "user", "content": "Can you check the actual forecast for Oslo this Friday and tell me if I need an umbrella?"}
  ],
  "tools": [
    {"type": "function", "function": {
      "name": "get_forecast",
      "description": "Daily weather forecast for a city",
      "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "date": {"type": "string", "description": "ISO date, e.g. 2026-11-27"},
        "units": {"type": "string", "enum": ["metric", "imperial"]}
      }, "required": ["city", "date"]}
    }}
  ],
  "tool_choice": "auto",
  "temperature": 0.3,
  "max_tokens": 400,
  "stream": true,
  "stream_options": {"include_usage": true}
}"#;

fn translate(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, &|_| None).expect("bench config loads");
    let body = BODY.as_bytes();
    let parsed = ChatRequest::parse(body).expect("bench body parses");

    let mut g = c.benchmark_group("request");
    g.bench_function("parse", |b| {
        b.iter(|| ChatRequest::parse(black_box(body)).map(|r| r.has_tools()))
    });
    for &(name, model) in MODELS {
        let provider = config
            .providers
            .iter()
            .find(|p| p.name == name)
            .expect("provider configured");
        // Check once outside the timed loop that the translation succeeds.
        build_request(provider, &parsed, body, model, Default::default())
            .expect("translation succeeds");
        g.bench_function(format!("build/{name}"), |b| {
            b.iter(|| {
                build_request(
                    provider,
                    black_box(&parsed),
                    body,
                    model,
                    Default::default(),
                )
            })
        });
        g.bench_function(format!("parse+build/{name}"), |b| {
            b.iter(|| {
                let req = ChatRequest::parse(black_box(body))?;
                build_request(provider, &req, body, model, Default::default())
            })
        });
    }
    g.finish();
}

/// The same chat asking for structured output (a pydantic-style schema with a nested model):
/// Anthropic native (`output_config`, a model the catalog lists with `response_schema`), the
/// Anthropic and Bedrock answer tool, against the plain Anthropic build.
fn structured(c: &mut Criterion) {
    let config = Config::from_yaml(CONFIG, &|_| None).expect("bench config loads");
    let mut v: serde_json::Value = serde_json::from_str(BODY).expect("bench body is JSON");
    v["response_format"] = serde_json::json!({"type": "json_schema", "json_schema": {"name": "Trip", "strict": true,
        "schema": {"type": "object", "additionalProperties": false, "required": ["city", "umbrella", "items", "stay"],
            "$defs": {"Stay": {"type": "object", "additionalProperties": false, "required": ["hotel", "nights"],
                "properties": {"hotel": {"type": "string"}, "nights": {"type": "integer"}}}},
            "properties": {"city": {"type": "string"}, "umbrella": {"type": "boolean"},
                "items": {"type": "array", "items": {"type": "string"}}, "stay": {"$ref": "#/$defs/Stay"}}}}});
    let text = v.to_string();
    let body = text.as_bytes();
    let parsed = ChatRequest::parse(body).expect("bench body parses");
    let native = ["response_schema".to_string()];
    let cases: [(&str, &str, &[String]); 3] = [
        ("anthropic-native", "anthropic", &native),
        ("anthropic-tool", "anthropic", &[]),
        ("bedrock-tool", "bedrock", &[]),
    ];
    let mut g = c.benchmark_group("structured");
    for (label, name, capabilities) in cases {
        let provider = config
            .providers
            .iter()
            .find(|p| p.name == name)
            .expect("provider configured");
        let model = MODELS.iter().find(|m| m.0 == name).expect("model").1;
        let facts = switchyard::providers::ModelFacts { capabilities };
        build_request(provider, &parsed, body, model, facts).expect("translation succeeds");
        g.bench_function(format!("build/{label}"), |b| {
            b.iter(|| build_request(provider, black_box(&parsed), body, model, facts))
        });
    }
    g.finish();
}

criterion_group!(benches, translate, structured);
criterion_main!(benches);
