//! Per-request state, created by `new_ctx`, filled by the handlers, read by `logging`.

use crate::config::ProviderSettings;
use crate::error::ErrorKind;
use crate::keys::Principal;
use crate::lifecycle::InFlightGuard;
use crate::proxy::Snapshot;
use crate::translate::Usage;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which API a request addressed (a bounded label for logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endpoint {
    #[default]
    Unknown,
    Health,
    Models,
    ChatCompletions,
    Embeddings,
    /// Anthropic Messages API (`POST /v1/messages`).
    Messages,
    /// Anthropic `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `GET /v1/key/info`: the calling key's limits and remaining rate and budget.
    KeyInfo,
    /// `GET /v1/usage`: the calling key's spend by day and model.
    Usage,
}

impl Endpoint {
    /// A model API call: reads a JSON body and is routed to a provider.
    pub fn reads_body(self) -> bool {
        matches!(
            self,
            Endpoint::ChatCompletions
                | Endpoint::Embeddings
                | Endpoint::Messages
                | Endpoint::CountTokens
        )
    }

    /// The model API it calls, as the ledger and audit trail name it; `None` for requests
    /// that are not billed.
    pub fn api_label(self) -> Option<&'static str> {
        match self {
            Endpoint::ChatCompletions => Some("chat"),
            Endpoint::Embeddings => Some("embeddings"),
            Endpoint::Messages => Some("messages"),
            Endpoint::CountTokens
            | Endpoint::Health
            | Endpoint::Models
            | Endpoint::KeyInfo
            | Endpoint::Usage
            | Endpoint::Unknown => None,
        }
    }

    /// An Anthropic-format endpoint: errors are Anthropic-shaped and carry `request-id`.
    pub fn is_anthropic(self) -> bool {
        matches!(self, Endpoint::Messages | Endpoint::CountTokens)
    }
}

/// Everything known about one request.
#[derive(Debug)]
pub struct RequestCtx {
    pub start: Instant,
    pub request_id: String,
    pub endpoint: Endpoint,
    pub snapshot: Option<Arc<Snapshot>>,
    pub principal: Option<Principal>,
    pub route: Option<String>,
    /// The provider of the last attempt (the one that answered, on success).
    pub provider: Option<Arc<ProviderSettings>>,
    pub requested_model: Option<String>,
    pub served_model: Option<String>,
    pub stream: bool,
    pub attempts: u32,
    /// Targets tried or skipped, as `provider/model:outcome`, for the access log.
    pub tried: Vec<String>,
    pub status: u16,
    pub error: Option<ErrorKind>,
    pub usage: Usage,
    /// Generated text written to the client in a relayed stream.
    pub relayed: crate::stream::delta_count::DeltaCount,
    /// The relayed stream was cut before its end (see [`super::observe::partial`]).
    pub partial: bool,
    /// A provider's answer was committed to the client (so the request is priced).
    pub served: bool,
    /// Parameters the serving target dropped or approximated (`x-switchyard-lossy`).
    pub lossy: Vec<&'static str>,
    /// Cost in micro-dollars, once known (set before the headers of a non-streaming answer).
    pub cost_micros: Option<u64>,
    /// When the first response body byte was written to the client.
    pub first_byte: Option<Instant>,
    /// Time spent waiting on providers, over all attempts.
    pub upstream_time: Duration,
    /// Time spent reading the client's request body.
    pub body_time: Duration,
    /// The request body was read completely (or there was none).
    pub body_consumed: bool,
    /// The planner's prompt token count, when it made one.
    pub prompt_estimate: Option<u64>,
    /// Limits reserved for this request, settled in `logging`.
    pub admitted: Option<super::admit::Admitted>,
    /// Prompt and response captured for the audit trail (keys with `audit: true` only).
    pub capture: Option<Box<Capture>>,
    _in_flight: InFlightGuard,
}

impl RequestCtx {
    /// A fresh context counted as in flight until dropped.
    pub fn new(in_flight: InFlightGuard) -> Self {
        Self {
            start: Instant::now(),
            request_id: String::new(),
            endpoint: Endpoint::Unknown,
            snapshot: None,
            principal: None,
            route: None,
            provider: None,
            requested_model: None,
            served_model: None,
            stream: false,
            attempts: 0,
            tried: Vec::new(),
            status: 0,
            error: None,
            usage: Usage::default(),
            relayed: Default::default(),
            partial: false,
            served: false,
            lossy: Vec::new(),
            cost_micros: None,
            first_byte: None,
            upstream_time: Duration::ZERO,
            body_time: Duration::ZERO,
            body_consumed: false,
            prompt_estimate: None,
            admitted: None,
            capture: None,
            _in_flight: in_flight,
        }
    }

    /// Name of the provider that served (or last failed), for headers and logs.
    pub fn provider_name(&self) -> Option<&str> {
        self.provider.as_deref().map(|p| p.name.as_str())
    }

    /// Latency the gateway itself added: total minus provider and request-body time.
    pub fn overhead(&self) -> Duration {
        self.start
            .elapsed()
            .saturating_sub(self.upstream_time)
            .saturating_sub(self.body_time)
    }
}

/// The audit capture of one request: the client's body and what was sent back, each cut at
/// `limit` bytes (the audit module redacts and marks the cut).
#[derive(Debug)]
pub struct Capture {
    pub request: bytes::Bytes,
    pub response: Vec<u8>,
    pub limit: usize,
}

impl RequestCtx {
    /// Starts capturing when the calling key is audited and the audit trail is on.
    pub fn start_capture(&mut self, audit_on: bool, limit: usize, body: &bytes::Bytes) {
        if audit_on && self.principal.as_ref().is_some_and(|p| p.key.audit) {
            // A little over the limit, so the audit module can tell that it cut.
            let keep = body.len().min(limit.saturating_add(1));
            self.capture = Some(Box::new(Capture {
                request: body.slice(..keep),
                response: Vec::new(),
                limit,
            }));
        }
    }

    /// Records bytes sent to the client (no-op unless capturing).
    pub fn captured(&mut self, bytes: &[u8]) {
        if let Some(c) = self.capture.as_deref_mut() {
            let room = c.limit.saturating_add(1).saturating_sub(c.response.len());
            c.response
                .extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }
}

/// A request id from the client's `x-request-id` if it is safe to echo, else a new one.
pub fn request_id(client: Option<&[u8]>) -> String {
    if let Some(id) = client.filter(|id| {
        (1..=128).contains(&id.len())
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }) {
        return String::from_utf8_lossy(id).into_owned();
    }
    let mut rng = fastrand::Rng::new();
    format!("{:016x}{:08x}", rng.u64(..), rng.u32(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only model API calls are billed, under the ledger's API names.
    #[test]
    fn api_labels() {
        for (e, label) in [
            (Endpoint::ChatCompletions, Some("chat")),
            (Endpoint::Embeddings, Some("embeddings")),
            (Endpoint::Messages, Some("messages")),
            (Endpoint::Health, None),
            (Endpoint::Models, None),
            (Endpoint::Unknown, None),
            (Endpoint::CountTokens, None),
            (Endpoint::KeyInfo, None),
        ] {
            assert_eq!(e.api_label(), label, "{e:?}");
        }
    }

    /// Safe client ids are echoed; unsafe ones are replaced.
    #[test]
    fn request_ids() {
        assert_eq!(request_id(Some(b"abc-123.X_y")), "abc-123.X_y");
        for bad in [&b""[..], b"a b", b"a\r\nb", &[b'x'; 200]] {
            let id = request_id(Some(bad));
            assert_eq!(id.len(), 24, "{bad:?}");
        }
        assert_ne!(request_id(None), request_id(None));
    }
}
