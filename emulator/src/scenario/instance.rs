//! A minimal JSON instance of a JSON Schema (or Gemini's OpenAPI-style `Schema`): what the
//! emulator answers when a request asks for structured output.
//!
//! Objects carry their required properties (all of them when none is listed), strings are
//! `"example"` (or a value of their `format`), integers and numbers 1 (moved into
//! `minimum`/`maximum`), booleans true, arrays one item (or `minItems`), enums and `const`
//! their first value, `anyOf`/`oneOf` their first non-null branch, local `$ref`s are followed.

use serde_json::{Map, Value, json};

/// Deepest nesting followed (recursive schemas end in `null` there).
const MAX_DEPTH: usize = 12;

/// A value that validates against `schema`.
pub fn instance(schema: &Value) -> Value {
    value(schema, schema, 0)
}

/// A value that validates against `schema`, a part of `root` (which its `$ref`s name).
pub fn instance_in(schema: &Value, root: &Value) -> Value {
    value(schema, root, 0)
}

fn value(s: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let Some(obj) = s.as_object() else {
        return json!("example");
    };
    if let Some(target) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| resolve(root, r))
    {
        return value(target, root, depth + 1);
    }
    if let Some(c) = obj.get("const") {
        return c.clone();
    }
    if let Some(first) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = obj.get(key).and_then(Value::as_array) {
            let pick = branches
                .iter()
                .find(|b| type_name(b).as_deref() != Some("null"))
                .or(branches.first());
            if let Some(b) = pick {
                return value(b, root, depth + 1);
            }
        }
    }
    let ty = type_name(s).unwrap_or_else(|| {
        if obj.contains_key("properties") {
            "object".into()
        } else if obj.contains_key("items") {
            "array".into()
        } else {
            "string".into()
        }
    });
    match ty.as_str() {
        "object" => object(obj, root, depth),
        "array" => {
            let n = obj
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let item = obj
                .get("items")
                .map_or(json!("example"), |i| value(i, root, depth + 1));
            Value::Array((0..n).map(|_| item.clone()).collect())
        }
        "integer" => json!(bounded(obj, 1.0) as i64),
        "number" => json!(bounded(obj, 1.0)),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => string(obj),
    }
}

/// The schema's type, lower case (Gemini writes `OBJECT`); the first non-null of a list.
fn type_name(s: &Value) -> Option<String> {
    match s.get("type")? {
        Value::String(t) => Some(t.to_ascii_lowercase()),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| !t.eq_ignore_ascii_case("null"))
            .or(Some("null"))
            .map(str::to_ascii_lowercase),
        _ => None,
    }
}

fn object(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let props = obj.get("properties").and_then(Value::as_object);
    let keys: Vec<&str> = match (obj.get("required").and_then(Value::as_array), props) {
        (Some(req), _) if !req.is_empty() => req.iter().filter_map(Value::as_str).collect(),
        (_, Some(p)) => p.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let mut out = Map::new();
    for key in keys {
        let v = props
            .and_then(|p| p.get(key))
            .map_or(json!("example"), |p| value(p, root, depth + 1));
        out.insert(key.to_owned(), v);
    }
    Value::Object(out)
}

/// `preferred` moved into `[minimum, maximum]`.
fn bounded(obj: &Map<String, Value>, preferred: f64) -> f64 {
    let mut v = preferred;
    if let Some(min) = obj.get("minimum").and_then(Value::as_f64) {
        v = v.max(min);
    }
    if let Some(min) = obj.get("exclusiveMinimum").and_then(Value::as_f64) {
        v = v.max(min + 1.0);
    }
    if let Some(max) = obj.get("maximum").and_then(Value::as_f64) {
        v = v.min(max);
    }
    v
}

fn string(obj: &Map<String, Value>) -> Value {
    let s = match obj.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "00:00:00",
        Some("email") => "user@example.com",
        Some("uri" | "url") => "https://example.com/",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        _ => "example",
    };
    let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let mut s = s.to_owned();
    while (s.chars().count() as u64) < min {
        s.push('x');
    }
    json!(s)
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    if reference == "#" {
        return Some(root);
    }
    let mut at = root;
    for seg in reference.strip_prefix("#/")?.split('/') {
        at = at.get(seg.replace("~1", "/").replace("~0", "~").as_str())?;
    }
    Some(at)
}

/// `text` cut at char boundaries into `n` streaming fragments (fewer when shorter).
pub fn fragments(text: &str, n: usize) -> Vec<String> {
    let size = text.len().div_ceil(n.max(1)).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(text[start..end].to_owned());
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pydantic-style schema: nested model by `$ref`, optional by anyOf-null, enum, list.
    #[test]
    fn pydantic_schema() {
        let schema = json!({
            "$defs": {"Pet": {"type": "object", "properties": {"kind": {"enum": ["cat", "dog"]}}, "required": ["kind"]}},
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer", "minimum": 18},
                "score": {"type": "number"},
                "ok": {"type": "boolean"},
                "nick": {"anyOf": [{"type": "null"}, {"type": "string"}]},
                "pets": {"type": "array", "items": {"$ref": "#/$defs/Pet"}},
                "when": {"type": "string", "format": "date-time"}
            },
            "required": ["name", "age", "score", "ok", "nick", "pets", "when"]
        });
        assert_eq!(
            instance(&schema),
            json!({"name": "example", "age": 18, "score": 1.0, "ok": true, "nick": "example",
                "pets": [{"kind": "cat"}], "when": "2024-01-01T00:00:00Z"})
        );
    }

    /// Gemini's upper-case types; recursion ends; fragments rebuild the text.
    #[test]
    fn gemini_types_recursion_fragments() {
        let g = json!({"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}, "l": {"type": "ARRAY", "items": {"type": "STRING"}}}});
        assert_eq!(instance(&g), json!({"n": 1, "l": ["example"]}));
        let r =
            json!({"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]});
        assert!(instance(&r).is_object());
        let text = "{\"a\":\"é✓\"}";
        let f = fragments(text, 3);
        assert!(f.len() >= 3);
        assert_eq!(f.concat(), text);
    }
}
