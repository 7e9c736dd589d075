//! JSON Schema → the OpenAPI-subset `Schema` Gemini's `parameters` and `responseSchema`
//! accept (docs/wire/gemini.md §6, docs/wire/edge-cases.md §18).
//!
//! Gemini rejects unknown schema keywords with a 400 (`Unknown name "additionalProperties"`),
//! so the schema is rebuilt from a whitelist: `type` becomes upper case (`["string","null"]`
//! becomes `STRING` + `nullable`), `oneOf` becomes `anyOf`, `const` becomes a one-value `enum`,
//! local `$ref`s (`#/$defs/X`, `#/definitions/X`) are inlined, `format`s Gemini does not know
//! are dropped, and everything else Gemini does not accept (`$schema`, `additionalProperties`,
//! `strict`, `$id`, `allOf`, `not`, `if`/`then`, `patternProperties`, …) is removed.

use serde_json::{Map, Value};

/// Keywords copied unchanged.
const PLAIN: [&str; 12] = [
    "title",
    "description",
    "maxItems",
    "minItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "minimum",
    "maximum",
];

/// Deepest `$ref` inlining (recursive schemas are cut there).
const MAX_DEPTH: usize = 16;

/// Cleans `schema`, resolving references against itself.
pub fn clean(schema: &Value) -> Value {
    clean_at(schema, schema, 0)
}

/// True when `schema` is an object schema with no properties (Gemini rejects an empty
/// `properties` map, so such a tool is declared without `parameters`).
pub fn is_empty_object(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("OBJECT")
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    if reference == "#" {
        return Some(root);
    }
    let path = reference.strip_prefix("#/")?;
    let mut at = root;
    for seg in path.split('/') {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        at = at.get(seg.as_str())?;
    }
    Some(at)
}

fn clean_at(schema: &Value, root: &Value, depth: usize) -> Value {
    let Some(obj) = schema.as_object() else {
        return Value::Object(Map::new());
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        return match resolve(root, r) {
            Some(target) if depth < MAX_DEPTH => {
                let mut inlined = clean_at(target, root, depth + 1);
                // Sibling annotations of a `$ref` win over the referenced schema's.
                if let (Some(m), Some(d)) = (inlined.as_object_mut(), obj.get("description")) {
                    m.insert("description".into(), d.clone());
                }
                inlined
            }
            _ => Value::Object(Map::new()),
        };
    }
    let mut out = Map::new();
    let mut nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);
    match obj.get("type") {
        Some(Value::String(t)) if t == "null" => nullable = true,
        Some(Value::String(t)) => {
            out.insert("type".into(), Value::String(t.to_ascii_uppercase()));
        }
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            nullable |= names.contains(&"null");
            if let Some(t) = names.iter().find(|t| **t != "null") {
                out.insert("type".into(), Value::String(t.to_ascii_uppercase()));
            }
        }
        _ => {}
    }
    for key in PLAIN {
        if let Some(v) = obj.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(v) = obj.get("default").filter(|v| !v.is_null()) {
        out.insert("default".into(), v.clone());
    }
    let ty = out.get("type").and_then(Value::as_str).unwrap_or("");
    if let Some(f) = obj.get("format").and_then(Value::as_str) {
        let known = matches!(
            (ty, f),
            ("STRING", "enum" | "date-time")
                | ("INTEGER", "int32" | "int64")
                | ("NUMBER", "float" | "double")
        );
        if known {
            out.insert("format".into(), Value::String(f.into()));
        }
    }
    let values = obj
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| obj.get("const").map(|c| vec![c.clone()]));
    if let Some(values) = values {
        // Gemini enums are strings; a null member means nullable.
        nullable |= values.iter().any(Value::is_null);
        let strings: Vec<Value> = values.into_iter().filter(Value::is_string).collect();
        if !strings.is_empty() {
            out.entry("type")
                .or_insert_with(|| Value::String("STRING".into()));
            out.insert("enum".into(), Value::Array(strings));
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let cleaned: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), clean_at(v, root, depth)))
            .collect();
        if let Some(req) = obj.get("required").and_then(Value::as_array) {
            let req: Vec<Value> = req
                .iter()
                .filter(|r| r.as_str().is_some_and(|r| cleaned.contains_key(r)))
                .cloned()
                .collect();
            if !req.is_empty() {
                out.insert("required".into(), Value::Array(req));
            }
        }
        if !cleaned.is_empty() {
            out.insert("properties".into(), Value::Object(cleaned));
        }
    }
    if let Some(items) = obj.get("items").filter(|i| i.is_object()) {
        out.insert("items".into(), clean_at(items, root, depth));
    }
    let alternatives = obj
        .get("anyOf")
        .or_else(|| obj.get("oneOf"))
        .and_then(Value::as_array);
    if let Some(alts) = alternatives {
        let mut kept = Vec::with_capacity(alts.len());
        for a in alts {
            if a.get("type").and_then(Value::as_str) == Some("null") {
                nullable = true;
            } else {
                kept.push(clean_at(a, root, depth));
            }
        }
        match kept.len() {
            0 => {}
            // `anyOf: [X, null]` is just a nullable X.
            1 if out.is_empty() => {
                if let Some(Value::Object(only)) = kept.pop() {
                    out = only;
                }
            }
            _ => {
                out.insert("anyOf".into(), Value::Array(kept));
            }
        }
    }
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Rejected keywords go, accepted ones stay, types are upper-cased, refs are inlined.
    #[test]
    fn cleans_openai_strict_schema() {
        let s = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "strict": true,
            "$defs": {"unit": {"type": "string", "enum": ["c", "f"], "description": "unit"}},
            "properties": {
                "city": {"type": "string", "minLength": 1, "format": "uri"},
                "when": {"type": ["string", "null"], "format": "date-time"},
                "unit": {"$ref": "#/$defs/unit"},
                "days": {"type": "array", "items": {"type": "integer", "format": "int32", "exclusiveMinimum": 0}},
                "mode": {"const": "fast"},
                "extra": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "pick": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
            },
            "required": ["city", "ghost"]
        });
        let c = clean(&s);
        assert_eq!(
            c,
            json!({
                "type": "OBJECT",
                "required": ["city"],
                "properties": {
                    "city": {"type": "STRING", "minLength": 1},
                    "when": {"type": "STRING", "format": "date-time", "nullable": true},
                    "unit": {"type": "STRING", "enum": ["c", "f"], "description": "unit"},
                    "days": {"type": "ARRAY", "items": {"type": "INTEGER", "format": "int32"}},
                    "mode": {"type": "STRING", "enum": ["fast"]},
                    "extra": {"type": "NUMBER", "nullable": true},
                    "pick": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]}
                }
            })
        );
        assert!(!is_empty_object(&c));
        assert!(is_empty_object(&clean(
            &json!({"type": "object", "properties": {}})
        )));
    }

    /// A recursive schema is cut at the depth limit instead of looping.
    #[test]
    fn recursive_ref_terminates() {
        let s = json!({"type": "object", "properties": {"next": {"$ref": "#"}}});
        let c = clean(&s);
        let mut at = &c;
        let mut depth = 0;
        while let Some(n) = at.get("properties").and_then(|p| p.get("next")) {
            at = n;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH + 1);
    }
}
