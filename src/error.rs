//! Request-time errors and the one place that turns them into OpenAI-shaped responses.
//!
//! Every failure a client can see (bad input, auth, routing, provider errors, timeouts) is a
//! [`GatewayError`]. [`GatewayError::body`] renders the OpenAI error envelope
//! `{"error":{"message","type","param","code"}}`; `proxy::respond` writes it with the status,
//! `retry-after` and Switchyard headers. Messages never contain secrets. On the Anthropic
//! Messages endpoints the same errors render Anthropic-shaped (`error/anthropic.rs`).

mod anthropic;

use bytes::Bytes;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

/// Low-cardinality error class, used for metrics, the access log and the OpenAI `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    /// A key, team or gateway budget is spent (OpenAI `insufficient_quota`).
    BudgetExceeded,
    PermissionDenied,
    /// A provider answered with an error we pass on (4xx other than the above).
    Upstream,
    /// A provider failed (5xx, broken connection, unparsable answer).
    UpstreamFailure,
    Overloaded,
    Timeout,
    NoProvider,
    Internal,
}

impl ErrorKind {
    /// Stable label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Authentication => "authentication",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::BudgetExceeded => "budget_exceeded",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Upstream => "upstream_error",
            ErrorKind::UpstreamFailure => "upstream_failure",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Timeout => "timeout",
            ErrorKind::NoProvider => "no_provider",
            ErrorKind::Internal => "internal",
        }
    }

    /// The OpenAI error `type` string.
    fn openai_type(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest
            | ErrorKind::NotFound
            | ErrorKind::MethodNotAllowed
            | ErrorKind::PayloadTooLarge
            | ErrorKind::Upstream => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::BudgetExceeded => "insufficient_quota",
            ErrorKind::Overloaded | ErrorKind::NoProvider => "service_unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::UpstreamFailure => "upstream_error",
            ErrorKind::Internal => "server_error",
        }
    }
}

/// A client-visible error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub status: u16,
    pub kind: ErrorKind,
    pub message: Cow<'static, str>,
    pub param: Option<Cow<'static, str>>,
    pub code: Option<Cow<'static, str>>,
    /// Seconds for `retry-after`, when known.
    pub retry_after: Option<u64>,
    /// Retrying the same request cannot succeed soon (sent as `x-should-retry: false`).
    pub final_answer: bool,
}

impl GatewayError {
    /// Builds an error of `kind` with `status`.
    pub fn new(status: u16, kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
            retry_after: None,
            final_answer: false,
        }
    }

    /// 400 invalid request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, ErrorKind::InvalidRequest, message)
    }

    /// 400 naming the offending request parameter.
    pub fn bad_param(
        param: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::bad_request(message).with_param(param)
    }

    /// 401 with the OpenAI `invalid_api_key` code.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(401, ErrorKind::Authentication, message).with_code("invalid_api_key")
    }

    /// 404 for a model no route or provider serves.
    pub fn unknown_model(model: &str) -> Self {
        let shown: String = model.chars().take(200).collect();
        Self::new(
            404,
            ErrorKind::NotFound,
            format!("The model `{shown}` does not exist or is not routed by this gateway. GET /v1/models lists the available models."),
        )
        .with_param("model")
        .with_code("model_not_found")
    }

    /// 500 for a gateway bug; the detail goes to the log, not the client.
    pub fn internal() -> Self {
        Self::new(500, ErrorKind::Internal, "internal gateway error")
    }

    /// Sets `param`.
    pub fn with_param(mut self, param: impl Into<Cow<'static, str>>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets `code`.
    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Marks the error as one a retry cannot fix (`x-should-retry: false`).
    pub fn final_answer(mut self) -> Self {
        self.final_answer = true;
        self
    }

    /// Sets the `retry-after` seconds.
    pub fn with_retry_after(mut self, secs: Option<u64>) -> Self {
        self.retry_after = secs;
        self
    }

    /// The OpenAI error envelope as JSON bytes.
    pub fn body(&self) -> Bytes {
        let body = Envelope {
            error: Body {
                message: &self.message,
                kind: self.kind.openai_type(),
                param: self.param.as_deref(),
                code: self.code.as_deref(),
            },
        };
        // Serializing plain strings cannot fail; fall back to a fixed body regardless.
        serde_json::to_vec(&body)
            .map(Bytes::from)
            .unwrap_or_else(|_| Bytes::from_static(br#"{"error":{"message":"internal gateway error","type":"server_error","param":null,"code":null}}"#))
    }

    /// The error as one in-band SSE event, for streams that already started.
    pub fn sse_event(&self) -> Bytes {
        let body = self.body();
        let mut out = Vec::with_capacity(body.len() + 8);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&body);
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status,
            self.kind.as_str(),
            self.message
        )
    }
}

impl std::error::Error for GatewayError {}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body is the OpenAI envelope with all four fields.
    #[test]
    fn body_is_openai_shaped() {
        let e = GatewayError::bad_param("messages", "`messages` is required");
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["error"]["message"], "`messages` is required");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], "messages");
        assert!(v["error"]["code"].is_null());
        assert_eq!(e.status, 400);
    }

    /// Unknown models are 404 with code model_not_found, and long names are cut.
    #[test]
    fn unknown_model_is_404() {
        let e = GatewayError::unknown_model(&"x".repeat(1000));
        assert_eq!(e.status, 404);
        assert_eq!(e.code.as_deref(), Some("model_not_found"));
        assert!(e.message.len() < 400);
    }

    /// The SSE form is one data event.
    #[test]
    fn sse_event_frame() {
        let ev = GatewayError::internal().sse_event();
        assert!(ev.starts_with(b"data: {\"error\":"));
        assert!(ev.ends_with(b"\n\n"));
    }
}
