//! Parsing of the inbound OpenAI request and its error messages.

use super::*;

fn err(body: &str) -> GatewayError {
    ChatRequest::parse(body.as_bytes()).expect_err("should be rejected")
}

/// A full request parses; subtrees decode on demand.
#[test]
fn parses_full_request() {
    let body = br#"{"model":"gpt-4o","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}],
      "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}},
      "stop":"END","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":99,"max_tokens":5,"temperature":0.5,"unknown_field":{"x":1}}"#;
    let r = ChatRequest::parse(body).unwrap();
    assert_eq!(r.model(), "gpt-4o");
    assert!(r.is_stream() && r.include_usage());
    assert_eq!(r.max_output_tokens(), Some(99));
    let msgs = r.messages().unwrap();
    assert_eq!(msgs.len(), 4);
    assert!(matches!(&msgs[0].content, Some(Content::Text(t)) if t == "Be terse."));
    let Some(Content::Parts(parts)) = &msgs[1].content else {
        panic!("parts expected")
    };
    assert_eq!(
        parts[1].image_url.as_ref().unwrap().url,
        "data:image/png;base64,AAAA"
    );
    assert_eq!(
        msgs[2].tool_calls.as_ref().unwrap()[0].function.arguments,
        "{\"a\":1}"
    );
    assert_eq!(msgs[3].tool_call_id.as_deref(), Some("call_1"));
    assert_eq!(
        r.tools().unwrap()[0]
            .function
            .as_ref()
            .unwrap()
            .parameters
            .unwrap()
            .get(),
        "{\"type\":\"object\"}"
    );
    assert_eq!(
        r.tool_choice().unwrap(),
        Some(ToolChoice::Function("f".into()))
    );
    assert_eq!(r.stop().unwrap(), vec![Cow::Borrowed("END")]);
    assert!(r.has_tools());
    let span = r.model_span(body).unwrap();
    assert_eq!(&body[span.start..span.end], b"\"gpt-4o\"");
}

/// Missing, empty or mistyped required fields name the parameter.
#[test]
fn required_fields() {
    assert_eq!(
        err(r#"{"messages":[{"role":"user","content":"x"}]}"#)
            .param
            .as_deref(),
        Some("model")
    );
    assert_eq!(err(r#"{"model":"m"}"#).param.as_deref(), Some("messages"));
    assert_eq!(
        err(r#"{"model":"m","messages":[]}"#).param.as_deref(),
        Some("messages")
    );
    assert_eq!(
        err(r#"{"model":"m","messages":{}}"#).param.as_deref(),
        Some("messages")
    );
    assert_eq!(
        err(r#"{"model":7,"messages":[1]}"#).param.as_deref(),
        Some("model")
    );
    assert_eq!(
        err(r#"{"model":"","messages":[1]}"#).param.as_deref(),
        Some("model")
    );
}

/// Malformed JSON is a 400 without a param.
#[test]
fn invalid_json() {
    for body in [
        "",
        "   ",
        "{",
        "not json",
        "[1,2]",
        "{\"model\":\"m\",\"messages\":[{}]} trailing",
        "null",
    ] {
        let e = err(body);
        assert_eq!(e.status, 400, "{body}");
    }
    assert_eq!(
        err(r#"[{"model":"m"},[1]]"#).message,
        "The request body must be a JSON object."
    );
    let e = err("{\"model\": \"m\",");
    assert!(e.message.contains("parse the JSON"), "{}", e.message);
}

/// Mistyped optional fields name their path.
#[test]
fn type_errors_name_path() {
    let e = err(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#);
    assert_eq!(e.param.as_deref(), Some("temperature"));
    let r = ChatRequest::parse(br#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"robot","content":"y"}]}"#).unwrap();
    let e = r.messages().unwrap_err();
    assert_eq!(
        e.param.as_deref(),
        Some("messages[1].role"),
        "{}",
        e.message
    );
}

/// Sampling parameters outside OpenAI's ranges are rejected.
#[test]
fn ranges() {
    let base = |extra: &str| {
        format!(r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}],{extra}}}"#)
    };
    assert_eq!(
        err(&base(r#""temperature":2.5"#)).param.as_deref(),
        Some("temperature")
    );
    assert_eq!(
        err(&base(r#""temperature":-0.1"#)).param.as_deref(),
        Some("temperature")
    );
    assert_eq!(err(&base(r#""top_p":1.5"#)).param.as_deref(), Some("top_p"));
    assert_eq!(
        err(&base(r#""max_tokens":0"#)).param.as_deref(),
        Some("max_tokens")
    );
    assert!(ChatRequest::parse(base(r#""temperature":2"#).as_bytes()).is_ok());
}

/// Escaped model names decode; tool_choice and stop accept every OpenAI form.
#[test]
fn forms() {
    let r = ChatRequest::parse(
        br#"{"model":"a\/b","messages":[1],"tool_choice":"required","stop":["a","b"]}"#,
    )
    .unwrap();
    assert_eq!(r.model(), "a/b");
    assert_eq!(r.tool_choice().unwrap(), Some(ToolChoice::Required));
    assert_eq!(r.stop().unwrap().len(), 2);
    let r =
        ChatRequest::parse(br#"{"model":"m","messages":[1],"tool_choice":"sometimes"}"#).unwrap();
    assert_eq!(
        r.tool_choice().unwrap_err().param.as_deref(),
        Some("tool_choice")
    );
    let r = ChatRequest::parse(br#"{"model":"m","messages":[1],"stop":null,"tools":[]}"#).unwrap();
    assert!(r.stop().unwrap().is_empty());
    assert!(!r.has_tools());
}
