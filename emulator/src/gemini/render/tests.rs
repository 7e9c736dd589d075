use super::*;
use crate::directives::Directives;
use crate::scenario::{self, Conversation, Style, ToolSpec};

fn ctx(thinking: bool) -> Ctx<'static> {
    Ctx {
        id: 9,
        model: "gemini-2.5-flash",
        no_usage: false,
        thinking,
    }
}

fn plan(tools: bool, thinking: bool) -> Plan {
    let mut conv = Conversation {
        prompt_chars: 40,
        ..Conversation::default()
    };
    if tools {
        conv.tools.push(ToolSpec {
            name: "get_weather".into(),
            schema: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        });
    }
    let style = Style {
        tool_preamble: None,
        thinking,
    };
    scenario::plan(&conv, &Directives::default(), style)
}

/// JSON: thought part, text, usage with thoughts apart from candidates.
#[test]
fn json_with_thinking() {
    let p = plan(false, true);
    let v: Value = serde_json::from_slice(&render_json(&p, &ctx(true))).unwrap();
    let parts = &v["candidates"][0]["content"]["parts"];
    assert_eq!(parts[0]["thought"], true);
    assert_eq!(parts[1]["text"], crate::scenario::DEFAULT_REPLY);
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    let u = &v["usageMetadata"];
    assert_eq!(u["candidatesTokenCount"], 11);
    assert_eq!(
        u["thoughtsTokenCount"].as_u64(),
        Some(p.thinking.len() as u64)
    );
    assert_eq!(
        u["totalTokenCount"].as_u64().unwrap(),
        u["promptTokenCount"].as_u64().unwrap() + 11 + p.thinking.len() as u64
    );
}

/// SSE: `data:` events with CRLF separators, one per token, calls whole with the signature
/// on the first, finishReason only on the last event.
#[test]
fn sse_tool_call() {
    let p = plan(true, true);
    let events = render_sse(&p, &ctx(true));
    let values: Vec<Value> = events
        .iter()
        .map(|e| {
            let s = std::str::from_utf8(e).unwrap();
            assert!(s.starts_with("data: ") && s.ends_with("\r\n\r\n"));
            serde_json::from_str(s[6..].trim_end()).unwrap()
        })
        .collect();
    assert_eq!(values.len(), p.thinking.len() + 1);
    let last = values.last().unwrap();
    let part = &last["candidates"][0]["content"]["parts"][0];
    assert_eq!(part["functionCall"]["args"], json!({"city": "Paris"}));
    assert_eq!(
        part["thoughtSignature"],
        json!(signature(p.tool_calls[0].id))
    );
    assert!(
        values[..values.len() - 1]
            .iter()
            .all(|v| v["candidates"][0].get("finishReason").is_none())
    );
    let no_sig = render_json(&p, &ctx(false));
    assert!(
        !String::from_utf8(no_sig)
            .unwrap()
            .contains("thoughtSignature")
    );
}

/// Embeddings: one unit vector per request, sized by outputDimensionality, deterministic.
#[test]
fn embeddings() {
    let body = json!({"requests": [
        {"model": "models/e", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 4},
        {"model": "models/e", "content": {"parts": [{"text": "b"}]}}
    ]});
    let v: Value = serde_json::from_slice(&embed(&body, "e").unwrap()).unwrap();
    let a = v["embeddings"][0]["values"].as_array().unwrap();
    assert_eq!(a.len(), 4);
    let norm: f64 = a.iter().map(|x| x.as_f64().unwrap().powi(2)).sum();
    assert!((norm - 1.0).abs() < 1e-3);
    assert_eq!(v["embeddings"][1]["values"].as_array().unwrap().len(), 768);
    assert_eq!(embed(&body, "e").unwrap(), embed(&body, "e").unwrap());
    assert_eq!(embed(&body, "other").unwrap_err().status, 400);
}
