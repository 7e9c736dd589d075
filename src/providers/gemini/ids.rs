//! Tool-call ids for Gemini, which has no call ids but hands out thought signatures that must
//! come back on the next turn.
//!
//! The gateway makes up `call_<request>_<n>` ids and, when a `functionCall` part carries a
//! `thoughtSignature`, appends it: `call_<request>_<n>__thought__<sig>` where `<sig>` is the
//! signature's bytes in unpadded base64url. The whole id therefore stays within
//! `[A-Za-z0-9_-]`, which every OpenAI client passes through unchanged and which other
//! providers accept as a tool-call id if the history is later sent elsewhere. The separator
//! is LiteLLM's; a suffix that is not valid base64url (LiteLLM puts the raw signature there)
//! is used as is.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Between the call id and the encoded signature.
pub const SEPARATOR: &str = "__thought__";

/// The id of the `n`-th tool call of a response to gateway request `request_id`.
pub fn call_id(request_id: &str, n: usize, signature: Option<&str>) -> String {
    let mut id = String::with_capacity(16 + request_id.len());
    id.push_str("call_");
    id.extend(
        request_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(32),
    );
    id.push('_');
    id.push_str(&n.to_string());
    if let Some(sig) = signature.filter(|s| !s.is_empty()) {
        id.push_str(SEPARATOR);
        id.push_str(&URL_SAFE_NO_PAD.encode(sig.as_bytes()));
    }
    id
}

/// The thought signature carried by a tool-call id, if any.
pub fn signature(id: &str) -> Option<String> {
    let (_, encoded) = id.split_once(SEPARATOR)?;
    if encoded.is_empty() {
        return None;
    }
    match URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    {
        Some(sig) => Some(sig),
        None => Some(encoded.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures with every base64 character survive, and the id stays in `[A-Za-z0-9_-]`.
    #[test]
    fn round_trip() {
        for sig in ["CiUBVKhc7+/x==", "a", "Zm9v/YmFy+", &"Q".repeat(3000)] {
            let id = call_id("req-1.a/b", 3, Some(sig));
            assert!(id.starts_with("call_req1ab_3__thought__"), "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
                "{id}"
            );
            assert_eq!(signature(&id).as_deref(), Some(sig));
        }
        assert_eq!(call_id("r", 0, None), "call_r_0");
        assert_eq!(signature("call_r_0"), None);
        assert_eq!(signature("call_r_0__thought__"), None);
        // LiteLLM-style raw signature (not base64url) is taken verbatim.
        assert_eq!(
            signature("call_x__thought__CiUB+/==").as_deref(),
            Some("CiUB+/==")
        );
    }
}
