//! The Anthropic rendering of [`GatewayError`], used on the Anthropic Messages endpoints
//! (`/v1/messages`, `/v1/messages/count_tokens`).
//!
//! Body: `{"type":"error","error":{"type","message"},"request_id"}`
//! (docs/wire/anthropic.md §5, §6.3).
//! Status: the gateway's own status, except that every overload (`Overloaded`, `NoProvider`)
//! is Anthropic's 529 `overloaded_error`: Anthropic clients (the SDKs, Claude Code) treat 529
//! as "retry later" and show it as an overload, while a 503 would surface as a generic
//! server error. The `retry-after` header is kept either way.

use super::{ErrorKind, GatewayError};
use bytes::Bytes;
use serde::Serialize;

impl ErrorKind {
    /// The Anthropic `error.type` string.
    pub fn anthropic_type(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest | ErrorKind::MethodNotAllowed | ErrorKind::Upstream => {
                "invalid_request_error"
            }
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::NotFound => "not_found_error",
            ErrorKind::PayloadTooLarge => "request_too_large",
            ErrorKind::RateLimited | ErrorKind::BudgetExceeded => "rate_limit_error",
            ErrorKind::Overloaded | ErrorKind::NoProvider => "overloaded_error",
            ErrorKind::Timeout => "timeout_error",
            ErrorKind::UpstreamFailure | ErrorKind::Internal => "api_error",
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: Body<'a>,
    request_id: &'a str,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

impl GatewayError {
    /// The HTTP status on an Anthropic endpoint (529 for overload, see the module docs).
    pub fn anthropic_status(&self) -> u16 {
        match self.kind {
            ErrorKind::Overloaded | ErrorKind::NoProvider => 529,
            _ => self.status,
        }
    }

    /// The Anthropic error envelope as JSON bytes.
    pub fn anthropic_body(&self, request_id: &str) -> Bytes {
        let body = Envelope {
            kind: "error",
            error: Body {
                kind: self.kind.anthropic_type(),
                message: &self.message,
            },
            request_id,
        };
        serde_json::to_vec(&body)
            .map(Bytes::from)
            .unwrap_or_else(|_| Bytes::from_static(br#"{"type":"error","error":{"type":"api_error","message":"internal gateway error"}}"#))
    }

    /// The error as an Anthropic `event: error` SSE event, for streams that already started.
    pub fn anthropic_sse_event(&self, request_id: &str) -> Bytes {
        let body = self.anthropic_body(request_id);
        let mut out = Vec::with_capacity(body.len() + 24);
        out.extend_from_slice(b"event: error\ndata: ");
        out.extend_from_slice(&body);
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each gateway error class becomes the Anthropic type and status the SDK maps to its
    /// exception classes.
    #[test]
    fn anthropic_types_and_statuses() {
        let cases = [
            (
                GatewayError::bad_param("max_tokens", "m"),
                400,
                "invalid_request_error",
            ),
            (GatewayError::unauthorized("m"), 401, "authentication_error"),
            (GatewayError::unknown_model("x"), 404, "not_found_error"),
            (
                GatewayError::new(413, ErrorKind::PayloadTooLarge, "m"),
                413,
                "request_too_large",
            ),
            (
                GatewayError::new(429, ErrorKind::RateLimited, "m"),
                429,
                "rate_limit_error",
            ),
            (
                GatewayError::new(503, ErrorKind::Overloaded, "m"),
                529,
                "overloaded_error",
            ),
            (
                GatewayError::new(503, ErrorKind::NoProvider, "m"),
                529,
                "overloaded_error",
            ),
            (
                GatewayError::new(502, ErrorKind::UpstreamFailure, "m"),
                502,
                "api_error",
            ),
            (
                GatewayError::new(504, ErrorKind::Timeout, "m"),
                504,
                "timeout_error",
            ),
            (
                GatewayError::new(403, ErrorKind::PermissionDenied, "m"),
                403,
                "permission_error",
            ),
        ];
        for (e, status, kind) in cases {
            assert_eq!(e.anthropic_status(), status, "{e}");
            let v: serde_json::Value = serde_json::from_slice(&e.anthropic_body("req_1")).unwrap();
            assert_eq!(v["type"], "error");
            assert_eq!(v["error"]["type"], kind, "{e}");
            assert_eq!(v["error"]["message"], e.message.as_ref());
            assert_eq!(v["request_id"], "req_1");
        }
    }

    /// In-stream errors are named `error` events carrying the same body.
    #[test]
    fn sse_event_is_named() {
        let ev = GatewayError::new(503, ErrorKind::Overloaded, "busy").anthropic_sse_event("r");
        let text = std::str::from_utf8(&ev).unwrap();
        let data = text.strip_prefix("event: error\ndata: ").unwrap();
        assert!(data.ends_with("\n\n"));
        let v: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
        assert_eq!(v["error"]["type"], "overloaded_error");
    }
}
