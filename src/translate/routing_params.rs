//! Gateway-only request parameters in the OpenAI body, OpenRouter style: `models` (an ordered
//! list of models tried after `model`) and `provider` (`order`, `sort`, `allow_fallbacks`).
//! They are parsed here with 400s naming the parameter, and cut out of pass-through bodies
//! (OpenAI rejects unknown parameters) by byte spans, so the rest of the body is forwarded
//! untouched.

use super::request::{ChatRequest, Content, Role, Span};
use crate::error::GatewayError;
use serde_json::Value;
use serde_json::value::RawValue;

/// Most entries accepted in `models`.
pub const MAX_MODELS: usize = 16;

/// Parses `models`: an array of non-empty model names (at most [`MAX_MODELS`]).
pub fn parse_models(raw: Option<&RawValue>) -> Result<Vec<String>, GatewayError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let bad = || {
        GatewayError::bad_param(
            "models",
            format!("Invalid 'models': expected an array of at most {MAX_MODELS} model names."),
        )
    };
    if raw.get() == "null" {
        return Ok(Vec::new());
    }
    let list: Vec<String> = serde_json::from_str(raw.get()).map_err(|_| bad())?;
    if list.len() > MAX_MODELS || list.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(list)
}

/// Text of the last `user` message (string content, or its text parts joined by newlines);
/// `None` without one or when `messages` does not decode.
pub fn last_user_text(req: &ChatRequest<'_>) -> Option<String> {
    let messages = req.messages().ok()?;
    let last = messages.iter().rev().find(|m| m.role == Role::User)?;
    match last.content.as_ref()? {
        Content::Text(t) => Some(t.to_string()),
        Content::Parts(parts) => {
            let texts: Vec<&str> = parts.iter().filter_map(|p| p.text.as_deref()).collect();
            Some(texts.join("\n"))
        }
    }
}

/// Parses `provider` (OpenRouter's provider preferences).
pub fn parse_provider(raw: Option<&RawValue>) -> Result<Option<ProviderPrefs>, GatewayError> {
    let Some(raw) = raw else { return Ok(None) };
    let v: serde_json::Value = serde_json::from_str(raw.get())
        .map_err(|_| GatewayError::bad_param("provider", "`provider` must be an object"))?;
    if v.is_null() {
        return Ok(None);
    }
    ProviderPrefs::from_json(&v).map(Some)
}

/// The byte ranges that remove the members whose values are `values` from the top-level
/// object `body` (key, colon, value and one adjacent comma), merged and sorted. `None` when a
/// member's key cannot be located textually (an escaped key): the caller re-serialises.
pub fn member_removals(body: &[u8], values: &[Span]) -> Option<Vec<Span>> {
    let mut out: Vec<Span> = Vec::with_capacity(values.len());
    for v in values {
        let colon = skip_ws_back(body, v.start)?;
        if body.get(colon)? != &b':' {
            return None;
        }
        let close = skip_ws_back(body, colon)?;
        if body.get(close)? != &b'"' {
            return None;
        }
        // Keys that need no escapes: the previous quote opens the key.
        let open = body[..close].iter().rposition(|b| *b == b'"')?;
        if body[open + 1..close].contains(&b'\\') {
            return None;
        }
        out.push(Span {
            start: open,
            end: v.end,
        });
    }
    out.sort_by_key(|s| s.start);
    // Runs of adjacent members (only a comma between them) are removed together.
    let mut runs: Vec<Span> = Vec::with_capacity(out.len());
    for s in out {
        match runs.last_mut() {
            Some(last) if only_comma_between(body, last.end, s.start) => last.end = s.end,
            _ => runs.push(s),
        }
    }
    // Each run takes one comma along: the one before it, else the one after it.
    let mut merged = Vec::with_capacity(runs.len());
    for mut r in runs {
        let before = skip_ws_back(body, r.start)?;
        if body.get(before) == Some(&b',') {
            r.start = before;
        } else {
            let after = skip_ws(body, r.end);
            if body.get(after) == Some(&b',') {
                r.end = skip_ws(body, after + 1);
            }
        }
        merged.push(r);
    }
    Some(merged)
}

fn only_comma_between(body: &[u8], from: usize, to: usize) -> bool {
    from <= to && {
        let gap = &body[from..to];
        gap.iter().filter(|b| **b == b',').count() == 1
            && gap.iter().all(|b| *b == b',' || b.is_ascii_whitespace())
    }
}

/// Index of the last non-whitespace byte before `at`.
fn skip_ws_back(body: &[u8], at: usize) -> Option<usize> {
    body[..at].iter().rposition(|b| !b.is_ascii_whitespace())
}

/// Index of the first non-whitespace byte at or after `at`.
fn skip_ws(body: &[u8], at: usize) -> usize {
    body[at.min(body.len())..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(body.len(), |p| at + p)
}

/// `body` without the top-level keys `names`, re-serialised (the slow path for bodies whose
/// keys are escaped).
pub fn without_keys(body: &[u8], names: &[&str]) -> Result<Vec<u8>, GatewayError> {
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|_| GatewayError::internal())?;
    for n in names {
        v.remove(*n);
    }
    serde_json::to_vec(&v).map_err(|_| GatewayError::internal())
}

/// `provider.sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSort {
    Price,
    Latency,
    Throughput,
}

impl ProviderSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "price" => Some(Self::Price),
            "latency" => Some(Self::Latency),
            "throughput" => Some(Self::Throughput),
            _ => None,
        }
    }
}

/// The `provider` object of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPrefs {
    /// Provider names to try first, in this order.
    pub order: Vec<String>,
    pub sort: Option<ProviderSort>,
    /// False: only the providers in `order` (or, without `order`, only the first choice).
    pub allow_fallbacks: bool,
}

impl Default for ProviderPrefs {
    fn default() -> Self {
        Self {
            order: Vec::new(),
            sort: None,
            allow_fallbacks: true,
        }
    }
}

impl ProviderPrefs {
    /// Parses the value of the body's `provider` field (`null` gives the defaults).
    pub fn from_json(v: &Value) -> Result<Self, GatewayError> {
        let mut p = Self::default();
        let obj = match v {
            Value::Null => return Ok(p),
            Value::Object(o) => o,
            _ => {
                return Err(GatewayError::bad_param(
                    "provider",
                    "`provider` must be an object",
                ));
            }
        };
        match obj.get("order") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let Some(name) = item.as_str() else {
                        return Err(GatewayError::bad_param(
                            "provider.order",
                            "`provider.order` must be an array of provider names",
                        ));
                    };
                    p.order.push(name.to_owned());
                }
            }
            Some(_) => {
                return Err(GatewayError::bad_param(
                    "provider.order",
                    "`provider.order` must be an array of provider names",
                ));
            }
        }
        match obj.get("sort") {
            None | Some(Value::Null) => {}
            Some(s) => {
                p.sort = Some(s.as_str().and_then(ProviderSort::parse).ok_or_else(|| {
                    GatewayError::bad_param(
                        "provider.sort",
                        "`provider.sort` must be one of `price`, `latency`, `throughput`",
                    )
                })?);
            }
        }
        match obj.get("allow_fallbacks") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => p.allow_fallbacks = *b,
            Some(_) => {
                return Err(GatewayError::bad_param(
                    "provider.allow_fallbacks",
                    "`provider.allow_fallbacks` must be a boolean",
                ));
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(body: &str, keys: &[&str]) -> String {
        let v: std::collections::HashMap<String, Box<RawValue>> =
            serde_json::from_str(body).unwrap();
        let spans: Vec<Span> = keys
            .iter()
            .map(|k| {
                let raw = v[*k].get();
                let start = body.find(raw).unwrap();
                Span {
                    start,
                    end: start + raw.len(),
                }
            })
            .collect();
        let cuts = member_removals(body.as_bytes(), &spans).unwrap();
        let mut out = String::new();
        let mut at = 0;
        for c in cuts {
            out.push_str(&body[at..c.start]);
            at = c.end;
        }
        out.push_str(&body[at..]);
        out
    }

    /// Members are removed wherever they sit, adjacent ones included; the result is JSON.
    #[test]
    fn removes_members_anywhere() {
        let cases = [
            (r#"{"models":["a"],"model":"m"}"#, r#"{"model":"m"}"#),
            (r#"{"model":"m","models":["a"]}"#, r#"{"model":"m"}"#),
            (
                r#"{"model":"m", "models" : ["a"] , "x":1}"#,
                r#"{"model":"m" , "x":1}"#,
            ),
            (
                r#"{"a":1,"models":["a"],"provider":{"sort":"price"}}"#,
                r#"{"a":1}"#,
            ),
            (
                r#"{"provider":{"order":["x"]},"models":["a"],"a":1}"#,
                r#"{"a":1}"#,
            ),
        ];
        for (body, want) in cases {
            let keys: Vec<&str> = ["models", "provider"]
                .into_iter()
                .filter(|k| body.contains(&format!("\"{k}\"")))
                .collect();
            let got = strip(body, &keys);
            assert_eq!(got, want, "{body}");
            serde_json::from_str::<serde_json::Value>(&got).unwrap();
        }
    }

    /// An escaped key is not located textually; the slow path removes it.
    #[test]
    fn escaped_keys_take_the_slow_path() {
        let body = r#"{"mod\u0065ls":["a"],"model":"m"}"#;
        let start = body.find("[\"a\"]").unwrap();
        let span = Span {
            start,
            end: start + 5,
        };
        assert!(member_removals(body.as_bytes(), &[span]).is_none());
        let out = without_keys(body.as_bytes(), &["models"]).unwrap();
        assert_eq!(out, br#"{"model":"m"}"#);
    }

    /// `models` and `provider` errors name the parameter.
    #[test]
    fn parse_errors_name_the_param() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        assert_eq!(
            parse_models(Some(&raw(r#"["a","b"]"#))).unwrap(),
            vec!["a", "b"]
        );
        for bad in [r#""a""#, r#"[1]"#, r#"[""]"#] {
            let e = parse_models(Some(&raw(bad))).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("models"), "{bad}");
        }
        let e = parse_provider(Some(&raw(r#"{"sort":"fast"}"#))).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("provider.sort"));
        let e = parse_provider(Some(&raw("[]"))).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("provider"));
        let p = parse_provider(Some(&raw(r#"{"order":["a"],"allow_fallbacks":false}"#)))
            .unwrap()
            .unwrap();
        assert_eq!((p.order.len(), p.allow_fallbacks), (1, false));
    }
}
