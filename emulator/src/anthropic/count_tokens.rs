//! Anthropic `POST /v1/messages/count_tokens`: `{"input_tokens": n}` where n is the emulator's
//! own tokenizer ([`scenario::tokenize`]) over every string under `system`, `messages` and
//! `tools`, so tests can tell a forwarded count from the gateway's local estimate.

use bytes::Bytes;
use pingora::protocols::http::ServerSession;
use serde_json::Value;

use crate::anthropic;
use crate::delivery::{self, Head, Outcome};
use crate::error::ApiError;
use crate::scenario::{self, next_id};

/// Counts the tokens of a request body.
pub fn count(body: &Value) -> usize {
    fn walk(v: &Value, n: &mut usize) {
        match v {
            Value::String(s) => *n += scenario::tokenize(s).len(),
            Value::Array(a) => a.iter().for_each(|x| walk(x, n)),
            Value::Object(o) => o.values().for_each(|x| walk(x, n)),
            _ => {}
        }
    }
    let mut n = 0;
    for key in ["system", "messages", "tools"] {
        if let Some(v) = body.get(key) {
            walk(v, &mut n);
        }
    }
    n
}

/// Answers one count request (`authorized`: an API key was sent).
pub async fn answer(s: &mut ServerSession, authorized: bool, body: &[u8]) -> Outcome {
    let id = next_id();
    let mut head = Head::json(200);
    head.headers.push(("request-id", format!("req_emu{id}")));
    let error = if !authorized {
        Some(ApiError::new(
            401,
            "x-api-key header is required (switchyard-emulator)",
        ))
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.get("messages").is_some_and(Value::is_array) => {
                let out = format!("{{\"input_tokens\":{}}}", count(&v));
                return delivery::send_full(s, &head, Bytes::from(out), None).await;
            }
            Ok(_) => Some(ApiError::bad_request(
                "messages: Field required (switchyard-emulator)",
            )),
            Err(e) => Some(ApiError::bad_request(format!(
                "invalid JSON: {e} (switchyard-emulator)"
            ))),
        }
    };
    let e = error.unwrap_or_else(|| ApiError::bad_request("invalid request"));
    head.status = e.status;
    delivery::send_full(s, &head, Bytes::from(anthropic::error_body(&e, id)), None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings under system, messages and tools are counted; other fields are not.
    #[test]
    fn counts_request_strings() {
        let v: Value = serde_json::from_str(r#"{"model":"a b c","system":"one two","messages":[{"role":"user","content":"three four five"}]}"#).unwrap();
        assert_eq!(count(&v), 2 + 1 + 3);
    }
}
