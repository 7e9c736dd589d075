//! Audit trail: optional per-key capture of prompts and responses, off by default.
//!
//! For keys with capture on, the request path calls [`AuditLog::record`]: the request and
//! response texts are redacted ([`redact::Redactor`]) and capped at `max_bytes` *before* the
//! event is queued ([`crate::batch::Queue`]); the request never waits.
//! The [`writer::AuditWriter`] background service appends one JSON line per event to a file
//! (default [`DEFAULT_PATH`], created with mode 0600 in a created directory) and flushes on
//! shutdown. Events that cannot be kept are counted in `switchyard_audit_dropped_total{reason}`.

pub mod redact;
pub mod writer;

#[cfg(test)]
mod tests;

use chrono::{DateTime, SecondsFormat, Utc};
use prometheus::{IntCounterVec, Opts};
use serde::{Deserialize, Serialize, Serializer};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

pub use redact::{RedactRule, Redactor};
pub use writer::AuditWriter;

/// Default audit file, relative to the working directory.
pub const DEFAULT_PATH: &str = "./data/audit.jsonl";
/// Default cap of each captured text, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 32 * 1024;
/// Events the queue holds before new ones are dropped.
pub const CHANNEL_CAPACITY: usize = 4096;

/// `switchyard_audit_dropped_total{reason}`: `queue_full`, `closed`, `write_error`.
pub static AUDIT_DROPPED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "static metric definition; a bad name is a bug caught by the unit tests"
    )]
    let c = IntCounterVec::new(
        Opts::new(
            "switchyard_audit_dropped_total",
            "Audit events dropped, by reason (queue full, writer gone, file write failed)",
        ),
        &["reason"],
    )
    .expect("metric");
    // Registering twice (several gateways in one test process) is harmless.
    let _ = prometheus::register(Box::new(c.clone()));
    c
});

/// Counts `n` dropped events.
pub(crate) fn dropped(reason: &str, n: u64) {
    AUDIT_DROPPED.with_label_values(&[reason]).inc_by(n);
}

/// The `audit` settings (the integrator embeds this in the server config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The JSON-lines file.
    #[serde(default = "default_path")]
    pub path: PathBuf,
    /// Cap of each captured text, in bytes (the cut is marked).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Redactions on top of the built-in ones.
    #[serde(default)]
    pub redact: Vec<RedactRule>,
}

fn default_path() -> PathBuf {
    PathBuf::from(DEFAULT_PATH)
}

fn default_max_bytes() -> usize {
    DEFAULT_MAX_BYTES
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            path: default_path(),
            max_bytes: DEFAULT_MAX_BYTES,
            redact: Vec::new(),
        }
    }
}

/// One captured exchange, as written (one JSON line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    #[serde(serialize_with = "rfc3339_millis")]
    pub ts: SystemTime,
    pub request_id: String,
    pub key_id: String,
    pub key_name: String,
    /// `chat`, `embeddings`, `messages`.
    pub endpoint: String,
    pub model: Option<String>,
    pub status: u16,
    /// The request body (redacted and capped by [`AuditLog::record`]).
    pub request: String,
    /// The response body, or the assembled streamed text (redacted and capped).
    pub response: String,
}

fn rfc3339_millis<S: Serializer>(ts: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&DateTime::<Utc>::from(*ts).to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Handle used by the request path (cheap to clone).
#[derive(Debug, Clone)]
pub struct AuditLog {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    queue: crate::batch::Queue<AuditEvent>,
    redactor: Redactor,
    max_bytes: usize,
}

impl AuditLog {
    /// The handle and its writer service. `secrets`: every configured provider key and admin
    /// token (redacted wherever they appear). Fails on an invalid redaction pattern.
    pub fn new(config: &AuditConfig, secrets: &[&str]) -> Result<(Self, AuditWriter), String> {
        Self::with_capacity(config, secrets, CHANNEL_CAPACITY)
    }

    /// As [`AuditLog::new`] with a queue of `capacity` events.
    pub fn with_capacity(
        config: &AuditConfig,
        secrets: &[&str],
        capacity: usize,
    ) -> Result<(Self, AuditWriter), String> {
        let redactor = Redactor::new(&config.redact)?.with_secrets(secrets);
        // The drop counter shows in /metrics from the start, not only after the first drop.
        LazyLock::force(&AUDIT_DROPPED);
        let (queue, writer) = writer::channel(config.path.clone(), capacity);
        let inner = Inner {
            queue,
            redactor,
            max_bytes: config.max_bytes,
        };
        Ok((
            Self {
                inner: Some(Arc::new(inner)),
            },
            writer,
        ))
    }

    /// A handle that captures nothing (audit not configured).
    pub fn off() -> Self {
        Self { inner: None }
    }

    /// Whether events are kept at all (callers may skip assembling texts otherwise).
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Redacts and caps the texts, then queues the event; drops (and counts) it when the
    /// queue is full. Never waits.
    pub fn record(&self, mut event: AuditEvent) {
        let Some(inner) = &self.inner else { return };
        event.request = redact::redact_capped(&inner.redactor, &event.request, inner.max_bytes);
        event.response = redact::redact_capped(&inner.redactor, &event.response, inner.max_bytes);
        inner.queue.record(event);
    }

    /// Waits until everything queued so far is written and flushed, bounded by `timeout`
    /// (the shutdown watcher calls it).
    pub async fn flush(&self, timeout: Duration) {
        let Some(inner) = &self.inner else { return };
        inner.queue.flush(timeout).await;
    }
}
