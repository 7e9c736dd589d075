//! Unit tests of Cohere request validation, embeddings and error bodies.

use super::*;

#[test]
fn chat_request_into_conversation() {
    let r = parse(&json!({"model": "command-a", "stream": true, "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "tool_plan": "plan", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "result"}
    ], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
       "tool_choice": "REQUIRED", "max_tokens": 7, "p": 0.5, "stop_sequences": ["END"]})).unwrap();
    assert!(r.stream);
    assert_eq!(r.conv.images, 1);
    assert_eq!(r.conv.tool_result.as_deref(), Some("result"));
    assert_eq!(r.conv.tool_choice, ToolChoice::Any);
    assert_eq!(r.conv.max_tokens, Some(7));
    assert_eq!(r.conv.prompt_chars, 9 + 4 + 2 + 4 + 6);
}

#[test]
fn chat_request_rejections() {
    let user = json!([{"role": "user", "content": "x"}]);
    for (body, needle) in [
        (json!({"model": "m", "messages": []}), "non-empty"),
        (
            json!({"model": "m", "messages": user, "p": 1.0}),
            "p must be between",
        ),
        (
            json!({"model": "m", "messages": user, "frequency_penalty": -1}),
            "frequency_penalty",
        ),
        (
            json!({"model": "m", "messages": user, "tool_choice": "REQUIRED"}),
            "only be specified with tools",
        ),
        (
            json!({"model": "m", "messages": user, "tool_choice": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]}),
            "REQUIRED, NONE",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "zz", "content": "x"}]}),
            "does not match",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}]}]}),
            "must be a string",
        ),
        (
            json!({"model": "m", "messages": [{"role": "developer", "content": "x"}]}),
            "must be one of",
        ),
    ] {
        let e = parse(&body).unwrap_err();
        assert!(e.message.contains(needle), "{} / {needle}", e.message);
    }
}

#[test]
fn embeddings_and_errors() {
    let body = json!({"model": "embed-v4.0", "texts": ["a", "b"], "input_type": "search_document", "embedding_types": ["float"], "output_dimension": 3});
    let out: Value = serde_json::from_slice(&embed(&body, 1).unwrap()).unwrap();
    assert_eq!(out["embeddings"]["float"].as_array().unwrap().len(), 2);
    assert_eq!(out["embeddings"]["float"][1].as_array().unwrap().len(), 3);
    assert_eq!(out["meta"]["billed_units"]["input_tokens"], 2);
    assert!(
        embed(&json!({"texts": ["a"], "embedding_types": ["float"]}), 1)
            .unwrap_err()
            .message
            .contains("input_type")
    );
    let v: Value = serde_json::from_slice(&error_body(&status_error(500), 4)).unwrap();
    assert_eq!(v["id"], "err_emu4");
    assert!(v["message"].as_str().unwrap().contains("status=500"));
}
