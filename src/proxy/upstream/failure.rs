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

/// Why an attempt failed; nothing of it has reached the client.
#[derive(Debug)]
pub enum AttemptFailure {
    /// DNS, connect, TLS or the request write failed; no answer was read.
    Connect(GatewayError),
    /// No first byte within the attempt's deadline (or the connector timed out).
    Timeout(GatewayError),
    /// 429, with the provider's own `retry-after` when it sent one.
    RateLimited {
        error: GatewayError,
        retry_after: Option<u64>,
    },
    /// 503 or Anthropic's 529: the provider is shedding load.
    Overloaded {
        error: GatewayError,
        retry_after: Option<u64>,
    },
    /// Any other 5xx.
    ServerStatus(GatewayError),
    /// A 400/413/422 saying the prompt does not fit the model's context window: another target
    /// may have a larger one.
    ContextWindow(GatewayError),
    /// Any other 4xx. `failover` is set for statuses that are about this provider rather than
    /// the request (401/403 on the gateway's own credentials, 404 unknown model, 408, 409).
    ClientStatus { error: GatewayError, failover: bool },
    /// The stream's first events were an error, or it ended before any output.
    Stream(GatewayError),
    /// A non-streaming body could not be read to its end.
    Read(GatewayError),
    /// A 2xx body the translator could not decode (or a decoded refusal, by its status).
    InvalidResponse(GatewayError),
    /// The gateway could not even build the request (a bug): no verdict on the target.
    Internal(GatewayError),
}

impl AttemptFailure {
    /// Classifies a non-2xx answer: `status` is the provider's, `body` its error body (for the
    /// context-window phrasings), `error` the decoded client-facing error.
    pub fn from_status(
        status: u16,
        body: &[u8],
        error: GatewayError,
        retry_after: Option<u64>,
    ) -> Self {
        if is_context_window_error(status, body) {
            return Self::ContextWindow(error.with_code("context_length_exceeded"));
        }
        match status {
            429 => Self::RateLimited { error, retry_after },
            // 529 is mapped to a client-facing 503 by the decoder.
            s if s >= 500 && error.status == 503 => Self::Overloaded { error, retry_after },
            s if s >= 500 => Self::ServerStatus(error),
            s => Self::ClientStatus {
                error,
                failover: matches!(s, 401 | 403 | 404 | 408 | 409),
            },
        }
    }

    /// An error the stream translator reported before any output.
    pub fn stream(error: GatewayError) -> Self {
        Self::Stream(error)
    }

    /// The metrics and access-log label (`upstream_attempts{outcome}`, `tried`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect_error",
            Self::Timeout(_) => "timeout",
            Self::RateLimited { .. } => "status_429",
            Self::Overloaded { .. } | Self::ServerStatus(_) => "status_5xx",
            Self::ContextWindow(_) => "context_window",
            Self::ClientStatus { .. } => "status_4xx",
            Self::Stream(_) => "stream_error",
            Self::Read(_) => "read_error",
            Self::InvalidResponse(_) => "invalid_response",
            Self::Internal(_) => "internal",
        }
    }

    /// The breaker verdict; `None` when the failure says nothing about the target.
    pub fn kind(&self) -> Option<FailureKind> {
        Some(match self {
            Self::Connect(_) => FailureKind::Connect,
            Self::Timeout(_) => FailureKind::Timeout,
            Self::RateLimited { .. } => FailureKind::RateLimited,
            Self::Overloaded { .. } | Self::ServerStatus(_) => FailureKind::Server,
            Self::ContextWindow(_) => FailureKind::ContextWindow,
            Self::ClientStatus { .. } => FailureKind::Client,
            Self::Stream(_) | Self::Read(_) => FailureKind::Stream,
            Self::InvalidResponse(e) => {
                FailureKind::from_status(e.status).unwrap_or(FailureKind::Server)
            }
            Self::Internal(_) => return None,
        })
    }

    /// Whether another target may be tried. A failure that is the request's own fault (a 400
    /// the provider decoded, a refusal) goes straight to the client.
    pub fn fails_over(&self) -> bool {
        match self {
            Self::Connect(_)
            | Self::Timeout(_)
            | Self::RateLimited { .. }
            | Self::Overloaded { .. }
            | Self::ServerStatus(_)
            | Self::ContextWindow(_)
            | Self::Read(_) => true,
            Self::ClientStatus { failover, .. } => *failover,
            Self::Stream(e) | Self::InvalidResponse(e) => e.status == 429 || e.status >= 500,
            Self::Internal(_) => false,
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
        match self {
            Self::RateLimited { retry_after, .. } | Self::Overloaded { retry_after, .. } => {
                retry_after.map(Duration::from_secs)
            }
            _ => None,
        }
    }

    /// The error the client sees if this is the last failure.
    pub fn error(&self) -> &GatewayError {
        match self {
            Self::Connect(e)
            | Self::Timeout(e)
            | Self::RateLimited { error: e, .. }
            | Self::Overloaded { error: e, .. }
            | Self::ServerStatus(e)
            | Self::ContextWindow(e)
            | Self::ClientStatus { error: e, .. }
            | Self::Stream(e)
            | Self::Read(e)
            | Self::InvalidResponse(e)
            | Self::Internal(e) => e,
        }
    }

    /// See [`Self::error`].
    pub fn into_error(self) -> GatewayError {
        match self {
            Self::Connect(e)
            | Self::Timeout(e)
            | Self::RateLimited { error: e, .. }
            | Self::Overloaded { error: e, .. }
            | Self::ServerStatus(e)
            | Self::ContextWindow(e)
            | Self::ClientStatus { error: e, .. }
            | Self::Stream(e)
            | Self::Read(e)
            | Self::InvalidResponse(e)
            | Self::Internal(e) => e,
        }
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
