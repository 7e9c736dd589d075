//! Unit tests of the Anthropic JSON and SSE rendering.

use super::*;
use crate::directives::Directives;
use crate::scenario::{Conversation, Style, ToolSpec, plan};
use serde_json::json;

const CTX: Ctx<'static> = Ctx {
    id: 9,
    model: "claude-haiku-4-5",
    no_usage: false,
};

/// Parse `event: X\ndata: Y\n\n` frames; checks that the event name equals `data.type`.
fn parse(events: &[Bytes]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let s = std::str::from_utf8(e).unwrap();
            let body = s.strip_suffix("\n\n").unwrap();
            let (ev, data) = body.split_once('\n').unwrap();
            let name = ev.strip_prefix("event: ").unwrap();
            let v: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(v["type"], name);
            v
        })
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn style() -> Style {
    Style {
        tool_preamble: Some(TOOL_PREAMBLE),
        thinking: false,
    }
}

#[test]
fn text_stream_matches_transcript_a() {
    let p = plan(&Conversation::default(), &Directives::default(), style());
    let ev = parse(&render_sse(&p, &CTX));
    let t = types(&ev);
    assert_eq!(&t[..3], &["message_start", "content_block_start", "ping"]);
    assert_eq!(
        &t[t.len() - 3..],
        &["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(ev[0]["message"]["usage"]["output_tokens"], 1);
    assert_eq!(ev[0]["message"]["usage"]["input_tokens"], 10);
    assert!(ev[0]["message"]["stop_reason"].is_null());
    assert_eq!(ev[1]["content_block"], json!({"type":"text","text":""}));
    let text: String = ev
        .iter()
        .filter(|e| e["type"] == "content_block_delta")
        .map(|e| e["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, p.text());
    let md = &ev[ev.len() - 2];
    assert_eq!(
        md["delta"],
        json!({"stop_reason":"end_turn","stop_sequence":null})
    );
    assert_eq!(md["usage"]["output_tokens"], 11);
    let raw = render_sse(&p, &CTX);
    assert_eq!(
        raw[2].as_ref(),
        b"event: ping\ndata: {\"type\": \"ping\"}\n\n"
    );
}

#[test]
fn tool_stream_matches_transcript_b() {
    let conv = Conversation {
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            schema: json!({"type":"object","properties":{"location":{"type":"string"},"days":{"type":"integer"}}}),
        }],
        ..Default::default()
    };
    let d = Directives {
        parallel_tools: true,
        ..Default::default()
    };
    let p = plan(&conv, &d, style());
    let ev = parse(&render_sse(&p, &CTX));
    let starts: Vec<&Value> = ev
        .iter()
        .filter(|e| e["type"] == "content_block_start")
        .collect();
    assert_eq!(starts.len(), 3);
    assert_eq!(starts[0]["content_block"]["type"], "text");
    for (k, s) in starts[1..].iter().enumerate() {
        let idx = s["index"].as_u64().unwrap();
        assert_eq!(idx, k as u64 + 1);
        assert_eq!(s["content_block"]["input"], json!({}));
        let pieces: Vec<&str> = ev
            .iter()
            .filter(|e| e["type"] == "content_block_delta" && e["index"] == idx)
            .map(|e| e["delta"]["partial_json"].as_str().unwrap())
            .collect();
        assert_eq!(pieces[0], "");
        assert!(pieces.len() >= 3);
        let input: Value = serde_json::from_str(&pieces.concat()).unwrap();
        assert_eq!(input, p.tool_calls[k].input);
    }
    assert_eq!(ev[ev.len() - 2]["delta"]["stop_reason"], "tool_use");
}

#[test]
fn thinking_stream_and_json() {
    let d = Directives::default();
    let s = Style {
        tool_preamble: None,
        thinking: true,
    };
    let p = plan(&Conversation::default(), &d, s);
    let ev = parse(&render_sse(&p, &CTX));
    assert_eq!(
        ev[1]["content_block"],
        json!({"type":"thinking","thinking":"","signature":""})
    );
    let sig_pos = ev
        .iter()
        .position(|e| e["delta"]["type"] == "signature_delta")
        .unwrap();
    assert_eq!(
        ev[sig_pos + 1],
        json!({"type":"content_block_stop","index":0})
    );
    let v: Value = serde_json::from_slice(&render_json(&p, &CTX)).unwrap();
    assert_eq!(v["content"][0]["type"], "thinking");
    assert_eq!(v["content"][1]["type"], "text");
    assert_eq!(v["usage"]["output_tokens"], p.usage.output_tokens);
}

#[test]
fn json_shape_and_stop_sequence() {
    let conv = Conversation {
        stop: vec!["emulator".into()],
        ..Default::default()
    };
    let d = Directives {
        cache_read: 3,
        cache_write: 4,
        ..Default::default()
    };
    let p = plan(&conv, &d, style());
    let v: Value = serde_json::from_slice(&render_json(&p, &CTX)).unwrap();
    assert_eq!(v["id"], "msg_emu9");
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"],
        json!([{"type":"text","text":"Hello from the Switchyard "}])
    );
    assert_eq!(v["stop_reason"], "stop_sequence");
    assert_eq!(v["stop_sequence"], "emulator");
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert_eq!(v["usage"]["cache_read_input_tokens"], 3);
    assert_eq!(v["usage"]["cache_creation_input_tokens"], 4);
    let raw = String::from_utf8(render_json(&p, &CTX)).unwrap();
    assert!(raw.starts_with(r#"{"id":"msg_emu9","type":"message","role":"assistant","model":"claude-haiku-4-5","content":"#));
}

#[test]
fn no_usage_and_error_event() {
    let ctx = Ctx {
        no_usage: true,
        ..CTX
    };
    let p = plan(&Conversation::default(), &Directives::default(), style());
    let v: Value = serde_json::from_slice(&render_json(&p, &ctx)).unwrap();
    assert!(v.get("usage").is_none());
    let ev = parse(&render_sse(&p, &ctx));
    assert!(
        ev.iter()
            .all(|e| e.get("usage").is_none() && e["message"].get("usage").is_none())
    );
    let err = parse(&[stream_error_event()]);
    assert_eq!(err[0]["error"]["type"], "overloaded_error");
}
