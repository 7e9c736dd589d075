//! Unit tests of the Cohere JSON and typed-SSE rendering.

use super::*;
use crate::directives::Directives;
use crate::scenario::{Conversation, Style, ToolSpec, plan};

const CTX: Ctx = Ctx {
    id: 3,
    no_usage: false,
};

/// Parse `event: X\ndata: Y\n\n` frames; the event name equals `data.type`.
fn parse(events: &[Bytes]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let s = std::str::from_utf8(e)
                .unwrap()
                .strip_suffix("\n\n")
                .unwrap();
            let (ev, data) = s.split_once('\n').unwrap();
            let v: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(v["type"], ev.strip_prefix("event: ").unwrap());
            v
        })
        .collect()
}

fn types(ev: &[Value]) -> Vec<&str> {
    ev.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn style() -> Style {
    Style {
        tool_preamble: Some(TOOL_PLAN),
        thinking: false,
    }
}

#[test]
fn text_stream_and_json() {
    let p = plan(&Conversation::default(), &Directives::default(), style());
    let ev = parse(&render_sse(&p, &CTX));
    let t = types(&ev);
    assert_eq!(&t[..2], &["message-start", "content-start"]);
    assert_eq!(&t[t.len() - 2..], &["content-end", "message-end"]);
    let text: String = ev
        .iter()
        .filter_map(|e| {
            e.pointer("/delta/message/content/text")
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(text, p.text());
    let end = ev.last().unwrap();
    assert_eq!(end["delta"]["finish_reason"], "COMPLETE");
    assert_eq!(
        end["delta"]["usage"]["tokens"]["output_tokens"],
        p.usage.output_tokens
    );
    let body: Value = serde_json::from_slice(&render_json(&p, &CTX)).unwrap();
    assert_eq!(body["message"]["content"][0]["text"], p.text());
    assert_eq!(body["finish_reason"], "COMPLETE");
    assert!(body["message"].get("tool_calls").is_none());
}

#[test]
fn tool_stream_and_json() {
    let conv = Conversation {
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            schema: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        }],
        ..Conversation::default()
    };
    let p = plan(&conv, &Directives::default(), style());
    let ev = parse(&render_sse(&p, &CTX));
    let t = types(&ev);
    assert!(
        t.contains(&"tool-plan-delta")
            && t.contains(&"tool-call-start")
            && t.contains(&"tool-call-end")
    );
    assert!(!t.contains(&"content-delta"));
    let args: String = ev
        .iter()
        .filter_map(|e| {
            e.pointer("/delta/message/tool_calls/function/arguments")
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(ev.last().unwrap()["delta"]["finish_reason"], "TOOL_CALL");
    let body: Value = serde_json::from_slice(&render_json(&p, &CTX)).unwrap();
    assert_eq!(body["message"]["tool_plan"], TOOL_PLAN);
    assert_eq!(
        body["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Paris\"}"
    );
    let err = parse(&[stream_error_event()]);
    assert_eq!(err[0]["delta"]["finish_reason"], "ERROR");
}
