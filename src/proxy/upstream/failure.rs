//! [`AttemptFailure`]: why one attempt at one target produced nothing the client can be given.
//!
//! The failure is classified once, where it happens ([`super::Attempt`]), and then answers every
//! question the rest of the request path asks about it: the metrics label, whether another
//! target may be tried, whether the same target may be tried again, the breaker verdict, the
//! Retry-After window to honour, and the error the client sees if it is the last one.

use crate::error::{ErrorKind, GatewayError};
use crate::routing::classify::is_context_window_error;
use crate::routing::health::FailureKind;
use std::time::Duration;

/// Why an attempt failed, and the error the client sees if it is the last failure. Nothing
/// of it has reached the client.
#[derive(Debug)]
pub struct AttemptFailure {
    cause: Cause,
    error: GatewayError,
}

/// What went wrong in an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// DNS, connect, TLS or the request write failed; no answer was read.
    Connect,
    /// No first byte within the attempt's deadline (or the connector timed out).
    Timeout,
    /// 429, with the provider's own `retry-after` (seconds) when it sent one.
    RateLimited { retry_after: Option<u64> },
    /// 503 or Anthropic's 529: the provider is shedding load.
    Overloaded { retry_after: Option<u64> },
    /// Any other 5xx.
    ServerStatus,
    /// A 400/413/422 saying the prompt does not fit the model's context window: another target
    /// may have a larger one.
    ContextWindow,
    /// Any other 4xx. `failover` is set for statuses that are about this provider rather than
    /// the request (401/403 on the gateway's own credentials, 404 unknown model, 408, 409).
    ClientStatus { failover: bool },
    /// The stream's first events were an error, or it ended before any output.
    Stream,
    /// A non-streaming body could not be read to its end.
    Read,
    /// A 2xx body the translator could not decode (or a decoded refusal, by its status).
    InvalidResponse,
    /// The gateway could not even build the request (a bug): no verdict on the target.
    Internal,
}

impl AttemptFailure {
    /// A failure of `cause` the client would see as `error`.
    pub fn new(cause: Cause, error: GatewayError) -> Self {
        Self { cause, error }
    }

    /// See [`Cause::Connect`].
    pub fn connect(error: GatewayError) -> Self {
        Self::new(Cause::Connect, error)
    }

    /// See [`Cause::Timeout`].
    pub fn timeout(error: GatewayError) -> Self {
        Self::new(Cause::Timeout, error)
    }

    /// See [`Cause::Read`].
    pub fn read(error: GatewayError) -> Self {
        Self::new(Cause::Read, error)
    }

    /// See [`Cause::InvalidResponse`].
    pub fn invalid_response(error: GatewayError) -> Self {
        Self::new(Cause::InvalidResponse, error)
    }

    /// See [`Cause::Internal`].
    pub fn internal(error: GatewayError) -> Self {
        Self::new(Cause::Internal, error)
    }

    /// An error the stream translator reported before any output.
    pub fn stream(error: GatewayError) -> Self {
        Self::new(Cause::Stream, error)
    }

    /// Classifies a non-2xx answer: `status` is the provider's, `body` its error body (for the
    /// context-window phrasings), `error` the decoded client-facing error.
    pub fn from_status(
        status: u16,
        body: &[u8],
        error: GatewayError,
        retry_after: Option<u64>,
    ) -> Self {
        if is_context_window_error(status, body) {
            let error = error.with_code("context_length_exceeded");
            return Self::new(Cause::ContextWindow, error);
        }
        let cause = match status {
            429 => Cause::RateLimited { retry_after },
            // 529 is mapped to a client-facing 503 by the decoder.
            s if s >= 500 && error.status == 503 => Cause::Overloaded { retry_after },
            s if s >= 500 => Cause::ServerStatus,
            s => Cause::ClientStatus {
                failover: matches!(s, 401 | 403 | 404 | 408 | 409),
            },
        };
        Self::new(cause, error)
    }

    /// The metrics and access-log label (`upstream_attempts{outcome}`, `tried`).
    pub fn label(&self) -> &'static str {
        match self.cause {
            Cause::Connect => "connect_error",
            Cause::Timeout => "timeout",
            Cause::RateLimited { .. } => "status_429",
            Cause::Overloaded { .. } | Cause::ServerStatus => "status_5xx",
            Cause::ContextWindow => "context_window",
            Cause::ClientStatus { .. } => "status_4xx",
            Cause::Stream => "stream_error",
            Cause::Read => "read_error",
            Cause::InvalidResponse => "invalid_response",
            Cause::Internal => "internal",
        }
    }

    /// The breaker verdict; `None` when the failure says nothing about the target.
    pub fn kind(&self) -> Option<FailureKind> {
        Some(match self.cause {
            Cause::Connect => FailureKind::Connect,
            Cause::Timeout => FailureKind::Timeout,
            Cause::RateLimited { .. } => FailureKind::RateLimited,
            Cause::Overloaded { .. } | Cause::ServerStatus => FailureKind::Server,
            Cause::ContextWindow => FailureKind::ContextWindow,
            Cause::ClientStatus { .. } => FailureKind::Client,
            Cause::Stream | Cause::Read => FailureKind::Stream,
            Cause::InvalidResponse => {
                FailureKind::from_status(self.error.status).unwrap_or(FailureKind::Server)
            }
            Cause::Internal => return None,
        })
    }

    /// Whether another target may be tried. A failure that is the request's own fault (a 400
    /// the provider decoded, a refusal) goes straight to the client.
    pub fn fails_over(&self) -> bool {
        match self.cause {
            Cause::Connect
            | Cause::Timeout
            | Cause::RateLimited { .. }
            | Cause::Overloaded { .. }
            | Cause::ServerStatus
            | Cause::ContextWindow
            | Cause::Read => true,
            Cause::ClientStatus { failover } => failover,
            Cause::Stream | Cause::InvalidResponse => {
                self.error.status == 429 || self.error.status >= 500
            }
            Cause::Internal => false,
        }
    }

    /// Whether trying the same target again later in this request may help: only after a
    /// failure that says something about its health.
    pub fn repeatable(&self) -> bool {
        self.kind().is_some_and(FailureKind::counts_against_health)
    }

    /// How long the target should get no requests: the provider's own Retry-After on a 429 or
    /// an overload.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.cause {
            Cause::RateLimited { retry_after } | Cause::Overloaded { retry_after } => {
                retry_after.map(Duration::from_secs)
            }
            _ => None,
        }
    }

    /// The error the client sees if this is the last failure.
    pub fn error(&self) -> &GatewayError {
        &self.error
    }

    /// See [`Self::error`].
    pub fn into_error(self) -> GatewayError {
        self.error
    }
}

/// A provider that could not be reached or dropped the exchange.
pub fn unreachable(name: &str, detail: &str) -> GatewayError {
    GatewayError::new(
        502,
        ErrorKind::UpstreamFailure,
        format!("provider {name} is unreachable: {detail}"),
    )
    .with_code("upstream_unreachable")
}

/// A provider that did not answer within its first-byte deadline.
pub fn first_byte_timeout(name: &str) -> GatewayError {
    GatewayError::new(
        504,
        ErrorKind::Timeout,
        format!("provider {name} did not answer within its first-byte timeout"),
    )
    .with_code("upstream_timeout")
}

#[cfg(test)]
mod tests;
