//! Unit tests of Ollama request validation, embeddings and error bodies.

use super::*;

fn ok(v: Value) -> ChatRequest {
    parse(&v).unwrap()
}

#[test]
fn chat_request_into_conversation() {
    let r = ok(json!({"model": "llama3.2", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?", "images": ["iVBORw0KGgo="]},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "18 C", "tool_name": "get_weather"}
    ], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
       "options": {"num_predict": 5, "stop": ["END"]}, "format": "json"}));
    assert!(r.stream, "Ollama streams by default");
    assert_eq!(r.conv.images, 1);
    assert_eq!(r.conv.tool_result.as_deref(), Some("18 C"));
    assert_eq!(r.conv.max_tokens, Some(5));
    assert_eq!(r.conv.stop, vec!["END".to_string()]);
    assert_eq!(r.conv.tools[0].name, "get_weather");
    assert_eq!(r.conv.prompt_chars, 9 + 8 + 16 + 4);
    assert!(!ok(json!({"model": "m", "messages": [], "stream": false})).stream);
}

#[test]
fn chat_request_rejections() {
    for (body, needle) in [
        (json!({"messages": []}), "model is required"),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            "cannot unmarshal array",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x", "images": ["data:image/png;base64,AAAA"]}]}),
            "illegal base64",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}]}),
            "cannot unmarshal string",
        ),
        (
            json!({"model": "m", "messages": [{"role": "developer", "content": "x"}]}),
            "invalid role",
        ),
        (
            json!({"model": "m", "messages": [], "format": "xml"}),
            "invalid format",
        ),
    ] {
        let e = parse(&body).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains(needle), "{} / {needle}", e.message);
    }
}

#[test]
fn embeddings_and_errors() {
    let out: Value = serde_json::from_slice(
        &embed(
            &json!({"model": "all-minilm", "input": ["a", "bb"], "dimensions": 4}),
            "all-minilm",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(out["embeddings"].as_array().unwrap().len(), 2);
    assert_eq!(out["embeddings"][0].as_array().unwrap().len(), 4);
    assert_eq!(out["prompt_eval_count"], 2);
    let one: Value =
        serde_json::from_slice(&embed(&json!({"input": "a", "dimensions": 4}), "m").unwrap())
            .unwrap();
    assert_eq!(
        one["embeddings"][0], out["embeddings"][0],
        "same text, same vector"
    );
    let default: Value =
        serde_json::from_slice(&embed(&json!({"input": "a"}), "m").unwrap()).unwrap();
    assert_eq!(default["embeddings"][0].as_array().unwrap().len(), 8);
    assert!(embed(&json!({"input": 3}), "m").is_err());
    let v: Value = serde_json::from_slice(&error_body(&status_error(429))).unwrap();
    assert!(v["error"].as_str().unwrap().contains("status=429"));
}
