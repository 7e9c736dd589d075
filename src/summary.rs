//! [`RequestSummary`]: everything known about one finished request, built once in the
//! `logging` phase. Metrics, the access-log line, the ledger row, the audit event and limit
//! settlement all derive from it, so they agree field for field and none of them needs the
//! proxy's request context.

use crate::error::ErrorKind;
use crate::translate::Usage;
use std::time::{Duration, SystemTime};

/// How a request is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// Not served by a provider: nothing to price.
    NotServed,
    /// Cost in micro-dollars.
    Priced(u64),
    /// The model has no known prices.
    UnknownModel,
    /// The provider reported no usage (cut stream, or a provider that omits it).
    NoUsage,
}

impl Charge {
    /// The cost, when priced.
    pub fn micros(self) -> Option<u64> {
        match self {
            Charge::Priced(c) => Some(c),
            _ => None,
        }
    }

    /// `Some(false)` for a served request whose cost is unknown (the access log's `priced`).
    pub fn unpriced(self) -> Option<bool> {
        matches!(self, Charge::UnknownModel | Charge::NoUsage).then_some(false)
    }
}

/// One finished request.
#[derive(Debug, Clone)]
pub struct RequestSummary<'a> {
    pub request_id: &'a str,
    /// Wall-clock time the request arrived.
    pub started: SystemTime,
    pub method: &'a str,
    pub path: &'a str,
    pub client: Option<String>,
    /// The model API it called, as the ledger names it (`chat`, `embeddings`, `messages`);
    /// `None` for requests that are not billed (health, model lists, token counts, …).
    pub api: Option<&'static str>,
    /// A model API call (a routed request; counted in the request metrics).
    pub routed: bool,
    /// Final status (499 when the client went away).
    pub status: u16,
    pub key_name: Option<&'a str>,
    /// Stable id of the calling key.
    pub key_id: Option<&'a str>,
    pub team: Option<&'a str>,
    pub route: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub requested_model: Option<&'a str>,
    pub served_model: Option<&'a str>,
    pub attempts: u32,
    pub stream: bool,
    /// The stream was cut before its end (by the client or the provider); `usage` holds
    /// what was generated, estimated where the provider did not report it.
    pub partial: bool,
    pub usage: Usage,
    pub charge: Charge,
    pub duration: Duration,
    pub ttfb: Option<Duration>,
    /// Latency the gateway added: total minus provider and request-body time.
    pub overhead: Duration,
    pub error: Option<ErrorKind>,
    /// Every target tried or skipped, as `provider/model:outcome`.
    pub tried: &'a [String],
    /// Parameters the serving target dropped or approximated.
    pub lossy: &'a [&'static str],
}

impl RequestSummary<'_> {
    /// Prompt plus completion tokens (what TPM limits settle).
    pub fn tokens(&self) -> u64 {
        self.usage.prompt_tokens + self.usage.completion_tokens
    }
}

/// Milliseconds with microsecond precision, as logs and the ledger store durations.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
