//! `${VAR}` / `${VAR:-default}` substitution over every string of the parsed YAML tree.
//!
//! Substitution runs on parsed YAML values, never on the raw text, so a secret containing
//! YAML syntax (`:`, `#`, quotes) cannot change the document's structure. Every substituted
//! value is remembered so that error messages can be scrubbed of it.

use serde_yaml::Value;

/// Looks up an environment variable; injected so tests need not touch the process env.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Replaces `${VAR}` and `${VAR:-default}` in every string of `value`, in place.
/// Returns the substituted values (to scrub from error messages) or an error naming the path.
pub fn substitute(value: &mut Value, lookup: Lookup<'_>) -> Result<Vec<String>, String> {
    let mut substituted = Vec::new();
    walk(value, &mut String::new(), lookup, &mut substituted)?;
    Ok(substituted)
}

fn walk(
    value: &mut Value,
    path: &mut String,
    lookup: Lookup<'_>,
    out: &mut Vec<String>,
) -> Result<(), String> {
    match value {
        Value::String(s) if s.contains("${") => {
            *s = expand(s, lookup, out).map_err(|e| format!("{}: {e}", display_path(path)))?;
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, lookup, out)?;
                path.truncate(len);
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k.as_str().unwrap_or("?"));
                walk(v, path, lookup, out)?;
                path.truncate(len);
            }
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, path, lookup, out)?,
        _ => {}
    }
    Ok(())
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

/// Expands one string. `$${` is not special; a literal `${` can be written `$${`.
fn expand(input: &str, lookup: Lookup<'_>, out: &mut Vec<String>) -> Result<String, String> {
    let mut result = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('$') {
            // `$${` escapes to a literal `${`.
            result.push_str(&rest[..start - 1]);
            result.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        result.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unterminated `${` in value".to_string())?;
        let expr = &after[..end];
        let (name, default) = match expr.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (expr, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("invalid environment variable name `{name}`"));
        }
        let value = match (lookup(name), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_string(),
            (None, None) => {
                return Err(format!(
                    "environment variable {name} is not set (write ${{{name}:-}} to allow it to be empty)"
                ));
            }
        };
        if !value.is_empty() {
            out.push(value.clone());
        }
        result.push_str(&value);
        rest = &after[end + 1..];
    }
    result.push_str(rest);
    Ok(result)
}

/// Replaces every substituted value in `message` with `***`.
pub fn scrub(message: &str, secrets: &[String]) -> String {
    let mut msg = message.to_string();
    for s in secrets {
        if s.len() >= 3 {
            msg = msg.replace(s.as_str(), "***");
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("sk-secret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(yaml: &str) -> Result<(Value, Vec<String>), String> {
        let mut v: Value = serde_yaml::from_str(yaml).unwrap();
        let subs = substitute(&mut v, &env)?;
        Ok((v, subs))
    }

    /// Variables, defaults and escapes expand; the substituted secret is recorded.
    #[test]
    fn expands_variables_defaults_and_escapes() {
        let (v, subs) =
            run("a: \"${KEY}\"\nb: \"x-${MISSING:-dflt}-y\"\nc: \"$${KEY}\"\nd: \"${EMPTY}\"")
                .unwrap();
        assert_eq!(v["a"].as_str(), Some("sk-secret"));
        assert_eq!(v["b"].as_str(), Some("x-dflt-y"));
        assert_eq!(v["c"].as_str(), Some("${KEY}"));
        assert_eq!(v["d"].as_str(), Some(""));
        assert!(subs.contains(&"sk-secret".to_string()));
    }

    /// A missing variable without default is an error naming the field path.
    #[test]
    fn missing_variable_names_path() {
        let err = run("providers:\n  - api_key: \"${NOPE}\"").unwrap_err();
        assert!(err.starts_with("providers[0].api_key:"), "{err}");
        assert!(err.contains("NOPE"), "{err}");
    }

    /// A secret containing YAML syntax stays one plain string.
    #[test]
    fn secret_with_yaml_syntax_stays_a_string() {
        let mut v: Value = serde_yaml::from_str("k: \"${X}\"").unwrap();
        let look = |_: &str| Some("a: b # {c}".to_string());
        substitute(&mut v, &look).unwrap();
        assert_eq!(v["k"].as_str(), Some("a: b # {c}"));
    }

    /// Scrubbing removes substituted values from messages.
    #[test]
    fn scrub_hides_values() {
        let m = scrub("invalid type: string \"sk-secret\"", &["sk-secret".into()]);
        assert_eq!(m, "invalid type: string \"***\"");
    }
}
