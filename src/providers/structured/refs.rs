//! `$ref` checks of a structured-output schema: references must be local (`#/…`) and resolve,
//! and, for providers that cannot take them, must not be recursive. Problems name the JSON
//! path of the offending `$ref` (`response_format.json_schema.schema.properties.x.$ref`).

use serde_json::Value;

/// What is wrong with a `$ref`, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefProblem {
    /// Not a local reference, or pointing at nothing.
    Unresolved(String),
    /// Leads back to a schema it is part of.
    Recursive(String),
}

/// Most schema nodes visited (shared definitions are walked once per use).
const BUDGET: usize = 20_000;

/// The first `$ref` problem of `schema`, whose path is `base`.
pub fn check(schema: &Value, base: &str) -> Option<RefProblem> {
    let mut walk = Walk {
        root: schema,
        stack: Vec::new(),
        budget: BUDGET,
    };
    walk.node(schema, base).err()
}

struct Walk<'a> {
    root: &'a Value,
    stack: Vec<&'a str>,
    budget: usize,
}

impl<'a> Walk<'a> {
    fn node(&mut self, v: &'a Value, path: &str) -> Result<(), RefProblem> {
        if self.budget == 0 {
            return Ok(());
        }
        self.budget -= 1;
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.node(item, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    self.reference(r, &format!("{path}.$ref"))?;
                }
                for (k, child) in map {
                    match k.as_str() {
                        // Data, and definitions (checked where they are used).
                        "enum" | "const" | "default" | "examples" | "$defs" | "definitions" => {}
                        "properties" | "patternProperties" => {
                            if let Value::Object(props) = child {
                                for (name, s) in props {
                                    self.node(s, &format!("{path}.{k}.{name}"))?;
                                }
                            }
                        }
                        _ => self.node(child, &format!("{path}.{k}"))?,
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn reference(&mut self, r: &'a str, at: &str) -> Result<(), RefProblem> {
        if r == "#" || self.stack.contains(&r) {
            return Err(RefProblem::Recursive(at.to_string()));
        }
        let target = resolve(self.root, r).ok_or_else(|| RefProblem::Unresolved(at.to_string()))?;
        self.stack.push(r);
        let out = self.node(target, at.strip_suffix(".$ref").unwrap_or(at));
        self.stack.pop();
        out
    }
}

/// A local JSON pointer reference (`#/$defs/X`) into `root`.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let mut at = root;
    for seg in reference.strip_prefix("#/")?.split('/') {
        at = at.get(seg.replace("~1", "/").replace("~0", "~").as_str())?;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "response_format.json_schema.schema";

    #[test]
    fn local_shared_refs_are_fine() {
        let s = json!({"$defs": {"P": {"type": "object", "properties": {"n": {"type": "string"}}}},
            "type": "object", "properties": {"a": {"$ref": "#/$defs/P"}, "b": {"type": "array", "items": {"$ref": "#/$defs/P"}}}});
        assert_eq!(check(&s, BASE), None);
    }

    #[test]
    fn problems_name_the_path() {
        let direct = json!({"type": "object", "properties": {"x": {"$ref": "#"}}});
        assert_eq!(
            check(&direct, BASE),
            Some(RefProblem::Recursive(format!("{BASE}.properties.x.$ref")))
        );
        let via_defs = json!({"$defs": {"N": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}}}},
            "type": "object", "properties": {"head": {"$ref": "#/$defs/N"}}});
        assert_eq!(
            check(&via_defs, BASE),
            Some(RefProblem::Recursive(format!(
                "{BASE}.properties.head.properties.next.anyOf[0].$ref"
            )))
        );
        let missing = json!({"type": "object", "properties": {"y": {"$ref": "#/$defs/Nope"}}});
        assert_eq!(
            check(&missing, BASE),
            Some(RefProblem::Unresolved(format!("{BASE}.properties.y.$ref")))
        );
        let external =
            json!({"type": "object", "properties": {"z": {"$ref": "https://example.com/s.json"}}});
        assert_eq!(
            check(&external, BASE),
            Some(RefProblem::Unresolved(format!("{BASE}.properties.z.$ref")))
        );
    }
}
