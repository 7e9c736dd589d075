//! Per-vendor quirks of OpenAI-compatible presets, applied to the pass-through body.
//!
//! Mistral accepts only tool-call ids of exactly nine ASCII letters and digits and answers 400
//! to anything else, so a conversation that started on another provider (`call_…`,
//! `toolu_…`) cannot continue there. Foreign ids in `tool_calls[].id` and `tool_call_id` are
//! rewritten to a stable nine-character hash, so a call and its result still pair up.

use crate::error::GatewayError;
use serde_json::Value;

/// True for ids Mistral accepts.
fn mistral_ok(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A stable nine-character alphanumeric id for `id` (FNV-1a, base 62).
fn mistral_id(id: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..9)
        .map(|_| {
            let c = ALPHABET[(h % 62) as usize] as char;
            h /= 62;
            c
        })
        .collect()
}

/// Rewrites foreign tool-call ids for Mistral; `None` when the body needs no change.
pub fn mistral_body(body: &[u8]) -> Result<Option<Vec<u8>>, GatewayError> {
    // Cheap pre-check: no tool call ids at all (most requests).
    if memchr::memmem::find(body, b"\"tool_call").is_none() {
        return Ok(None);
    }
    let mut v: Value = serde_json::from_slice(body).map_err(|_| GatewayError::internal())?;
    let mut changed = false;
    let mut fix = |slot: &mut Value| {
        if let Some(id) = slot.as_str().filter(|id| !mistral_ok(id)) {
            *slot = Value::String(mistral_id(id));
            changed = true;
        }
    };
    for m in v
        .get_mut("messages")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(id) = m.get_mut("tool_call_id") {
            fix(id);
        }
        for call in m
            .get_mut("tool_calls")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(id) = call.get_mut("id") {
                fix(id);
            }
        }
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&v)
        .map(Some)
        .map_err(|_| GatewayError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Foreign ids become valid, stable and still paired; valid ids and other bodies are untouched.
    #[test]
    fn mistral_ids() {
        let body = json!({"model": "m", "messages": [
            {"role": "assistant", "tool_calls": [{"id": "toolu_01ABC", "type": "function", "function": {"name": "f", "arguments": "{}"}}, {"id": "abcDEF123", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_01ABC", "content": "1"},
            {"role": "tool", "tool_call_id": "abcDEF123", "content": "2"}
        ]});
        let out: Value =
            serde_json::from_slice(&mistral_body(body.to_string().as_bytes()).unwrap().unwrap())
                .unwrap();
        let new = out["messages"][0]["tool_calls"][0]["id"].as_str().unwrap();
        assert!(mistral_ok(new), "{new}");
        assert_eq!(out["messages"][1]["tool_call_id"], new);
        assert_eq!(out["messages"][0]["tool_calls"][1]["id"], "abcDEF123");
        assert_eq!(out["messages"][2]["tool_call_id"], "abcDEF123");
        assert_ne!(mistral_id("toolu_01ABC"), mistral_id("toolu_01ABD"));
        let plain = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(mistral_body(plain.to_string().as_bytes()).unwrap(), None);
    }
}
