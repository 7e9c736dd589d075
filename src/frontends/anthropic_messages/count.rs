//! Local token estimate for `count_tokens` when the model is not served by an Anthropic
//! provider: the `o200k_base` tokenizer (tiktoken) over the text of `system`, every message
//! (text, thinking, tool inputs as JSON, tool results) and the tool definitions (name,
//! description, schema as JSON), plus a small per-message overhead; every image or non-text
//! document counts a fixed [`MEDIA_TOKENS`]. The result is an estimate: other providers'
//! tokenizers differ, typically by a few percent for English text.

use serde_json::Value;
use serde_json::value::RawValue;

/// Fixed estimate for one image or binary document (Anthropic's ≈1.15 megapixel image cost).
pub const MEDIA_TOKENS: u64 = 1_600;
/// Per-message framing overhead (role and separators), as in OpenAI's chat accounting.
const PER_MESSAGE: u64 = 3;

/// What was collected for counting.
#[derive(Debug, Default)]
struct Collected {
    text: String,
    media: u64,
    messages: u64,
}

/// Estimated input tokens for the `system`, `messages` and `tools` subtrees.
pub fn estimate(parts: [Option<&RawValue>; 3]) -> u64 {
    let mut c = Collected::default();
    let [system, messages, tools] = parts;
    if let Some(v) = parse(system) {
        walk(&v, &mut c);
    }
    if let Some(Value::Array(list)) = parse(messages) {
        c.messages = list.len() as u64;
        for m in &list {
            walk(m.get("content").unwrap_or(&Value::Null), &mut c);
        }
    }
    if let Some(Value::Array(list)) = parse(tools) {
        for t in &list {
            for key in ["name", "description"] {
                if let Some(s) = t.get(key).and_then(Value::as_str) {
                    push(&mut c.text, s);
                }
            }
            if let Some(schema) = t.get("input_schema") {
                push(&mut c.text, &schema.to_string());
            }
        }
    }
    total(&c)
}

/// Estimated input tokens of an OpenAI Chat Completions request: message contents, assistant
/// tool calls (name and arguments) and tool definitions (name, description, parameters).
pub fn estimate_openai(messages: Option<&RawValue>, tools: Option<&RawValue>) -> u64 {
    let mut c = Collected::default();
    if let Some(Value::Array(list)) = parse(messages) {
        c.messages = list.len() as u64;
        for m in &list {
            walk(m.get("content").unwrap_or(&Value::Null), &mut c);
            for call in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let f = call.get("function").unwrap_or(&Value::Null);
                for key in ["name", "arguments"] {
                    if let Some(s) = f.get(key).and_then(Value::as_str) {
                        push(&mut c.text, s);
                    }
                }
            }
        }
    }
    if let Some(Value::Array(list)) = parse(tools) {
        for t in &list {
            let f = t.get("function").unwrap_or(t);
            for key in ["name", "description"] {
                if let Some(s) = f.get(key).and_then(Value::as_str) {
                    push(&mut c.text, s);
                }
            }
            if let Some(schema) = f.get("parameters") {
                push(&mut c.text, &schema.to_string());
            }
        }
    }
    total(&c)
}

fn total(c: &Collected) -> u64 {
    let bpe = tiktoken_rs::o200k_base_singleton();
    let text_tokens = bpe.encode_ordinary(&c.text).len() as u64;
    text_tokens + c.media * MEDIA_TOKENS + c.messages * PER_MESSAGE + PER_MESSAGE
}

fn parse(raw: Option<&RawValue>) -> Option<Value> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

fn push(text: &mut String, s: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(s);
}

/// Collects the countable text of a content value (string, block or list of blocks).
fn walk(v: &Value, c: &mut Collected) {
    match v {
        Value::String(s) => push(&mut c.text, s),
        Value::Array(items) => items.iter().for_each(|i| walk(i, c)),
        Value::Object(block) => match block.get("type").and_then(Value::as_str) {
            Some("image" | "image_url" | "input_audio" | "file") => c.media += 1,
            Some("document") => match block.get("source") {
                Some(src) if src.get("type").and_then(Value::as_str) == Some("text") => {
                    walk(src.get("data").unwrap_or(&Value::Null), c);
                }
                _ => c.media += 1,
            },
            Some("tool_use") => {
                if let Some(n) = block.get("name").and_then(Value::as_str) {
                    push(&mut c.text, n);
                }
                if let Some(input) = block.get("input") {
                    push(&mut c.text, &input.to_string());
                }
            }
            Some("tool_result") => walk(block.get("content").unwrap_or(&Value::Null), c),
            Some("thinking") => walk(block.get("thinking").unwrap_or(&Value::Null), c),
            _ => walk(block.get("text").unwrap_or(&Value::Null), c),
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    /// Text grows the count; images add the fixed estimate; tools and tool inputs count.
    #[test]
    fn estimates_grow_with_content() {
        let short = raw(r#"[{"role":"user","content":"Hi"}]"#);
        let long = raw(
            r#"[{"role":"user","content":[{"type":"text","text":"Tell me a long story about the sea and the ships that sail on it."}]}]"#,
        );
        let img = raw(
            r#"[{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]"#,
        );
        let tool = raw(
            r#"[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"get_weather","input":{"city":"Paris"}}]}]"#,
        );
        let a = estimate([None, Some(&short), None]);
        let b = estimate([None, Some(&long), None]);
        let c = estimate([None, Some(&img), None]);
        let d = estimate([None, Some(&tool), None]);
        assert_eq!(a, 1 + 2 * PER_MESSAGE, "\"Hi\" is one o200k token");
        assert!(b > a + 10);
        assert_eq!(c, a + MEDIA_TOKENS);
        assert!(d > a + 5);
        let tools = raw(
            r#"[{"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]"#,
        );
        let oa = raw(
            r#"[{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]"#,
        );
        assert_eq!(estimate_openai(Some(&short), None), a);
        assert_eq!(estimate_openai(Some(&oa), None), a + MEDIA_TOKENS);
        let oa_tools = raw(
            r#"[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object"}}}]"#,
        );
        assert!(estimate_openai(Some(&short), Some(&oa_tools)) > a + 5);
        let sys = raw(r#""You are terse.""#);
        assert!(estimate([Some(&sys), Some(&short), Some(&tools)]) > a + 15);
    }
}
