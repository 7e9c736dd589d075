//! Unit tests of the Ollama JSON and NDJSON rendering.

use super::*;
use crate::directives::Directives;
use crate::scenario::{Conversation, Style, ToolSpec, plan};
use serde_json::json;

const CTX: Ctx<'static> = Ctx {
    model: "llama3.2",
    no_usage: false,
    no_done: false,
};

fn lines(events: &[Bytes]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let s = std::str::from_utf8(e).unwrap();
            assert!(s.ends_with('\n') && s.matches('\n').count() == 1, "{s:?}");
            serde_json::from_str(s).unwrap()
        })
        .collect()
}

fn tool_conv() -> Conversation {
    Conversation {
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            schema: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        }],
        ..Conversation::default()
    }
}

#[test]
fn text_stream_ends_with_done_line() {
    let d = Directives {
        thinking: true,
        ..Directives::default()
    };
    let p = plan(
        &Conversation::default(),
        &d,
        Style {
            tool_preamble: None,
            thinking: true,
        },
    );
    let ev = lines(&render_ndjson(&p, &CTX));
    let thinking: String = ev
        .iter()
        .filter_map(|e| e["message"]["thinking"].as_str())
        .collect();
    assert_eq!(thinking, p.thinking_text());
    let text: String = ev
        .iter()
        .map(|e| e["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, p.text());
    let last = ev.last().unwrap();
    assert_eq!(
        (last["done"].as_bool(), last["done_reason"].as_str()),
        (Some(true), Some("stop"))
    );
    assert_eq!(last["eval_count"], p.usage.output_tokens);
    assert!(
        ev[..ev.len() - 1]
            .iter()
            .all(|e| e["done"] == false && e.get("eval_count").is_none())
    );
    let cut = render_ndjson(
        &p,
        &Ctx {
            no_done: true,
            ..CTX
        },
    );
    assert!(lines(&cut).iter().all(|e| e["done"] == false));
}

#[test]
fn tool_calls_are_whole_with_object_arguments() {
    let d = Directives {
        parallel_tools: true,
        ..Directives::default()
    };
    let p = plan(&tool_conv(), &d, Style::default());
    let ev = lines(&render_ndjson(&p, &CTX));
    let calls: Vec<&Value> = ev
        .iter()
        .filter_map(|e| e["message"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["function"]["arguments"], json!({"city": "Paris"}));
    assert_eq!(calls[1]["function"]["index"], 1);
    let body: Value = serde_json::from_slice(&render_json(&p, &CTX)).unwrap();
    assert_eq!(
        body["message"]["tool_calls"][1]["function"]["arguments"],
        json!({"city": "London"})
    );
    assert_eq!(body["done_reason"], "stop");
    assert!(body["prompt_eval_count"].as_u64().unwrap() > 0);
    let quiet: Value = serde_json::from_slice(&render_json(
        &p,
        &Ctx {
            no_usage: true,
            ..CTX
        },
    ))
    .unwrap();
    assert!(quiet.get("eval_count").is_none());
    let err: Value = serde_json::from_slice(&stream_error_event()).unwrap();
    assert!(err["error"].is_string());
}
