//! Usage ledger: one row per model API request (chat, embeddings, messages), written off the
//! request path.
//!
//! `logging()` builds a [`Row`] from the request context and `try_send`s it into a bounded
//! channel; it never waits. The [`writer::LedgerWriter`] background service writes rows in
//! batches (up to [`BATCH_MAX`] rows or every [`BATCH_INTERVAL`]) in one transaction to SQLite
//! or Postgres, and the shutdown watcher flushes everything queued before the process exits.
//! Rows that cannot be kept (queue full, store failure) are counted in
//! `switchyard_ledger_dropped_total{reason}` and logged at most every few seconds.
//! Rows carry key *names*, never key values.

pub mod build;
pub mod postgres;
pub mod query;
pub mod sqlite;
pub mod target;
pub mod writer;

#[cfg(test)]
mod tests;

use crate::metrics::METRICS;
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, oneshot};

pub use target::LedgerTarget;
pub use writer::LedgerWriter;

/// Rows the queue holds before new rows are dropped.
pub const CHANNEL_CAPACITY: usize = 16 * 1024;
/// Most rows written in one transaction.
pub const BATCH_MAX: usize = 500;
/// Longest a queued row waits before its batch is written.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(250);

/// One ledger row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub ts: SystemTime,
    pub request_id: String,
    pub key_name: Option<String>,
    /// Stable id of the calling key (the config name for config keys, `key_…` for keys made
    /// through the admin API); budgets and `/v1/usage` are keyed by it.
    pub key_id: Option<String>,
    pub team: Option<String>,
    pub route: Option<String>,
    pub provider: Option<String>,
    pub requested_model: Option<String>,
    pub served_model: Option<String>,
    pub attempts: u32,
    pub status: u16,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    /// `None` when the request is unpriced (unknown prices or no usage) or was not served.
    pub cost_micros: Option<u64>,
    pub latency_ms: f64,
    pub ttfb_ms: Option<f64>,
    pub overhead_ms: f64,
    pub cache_hit: bool,
    pub error_kind: Option<&'static str>,
    pub stream: bool,
    pub endpoint: &'static str,
}

/// Why rows were dropped (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The queue was full (the writer is behind or the store is unreachable).
    QueueFull,
    /// The writer is gone.
    Closed,
    /// The store rejected the batch or was unreachable at a final flush.
    StoreError,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::Closed => "closed",
            DropReason::StoreError => "store_error",
        }
    }
}

/// Counts `n` dropped rows and logs (at most every 10 s, with the total since the last line).
pub fn dropped(reason: DropReason, n: usize, detail: &str) {
    if n == 0 {
        return;
    }
    METRICS
        .ledger_dropped
        .with_label_values(&[reason.as_str()])
        .inc_by(n as u64);
    static LAST: LazyLock<Mutex<(Option<Instant>, usize)>> =
        LazyLock::new(|| Mutex::new((None, 0)));
    let mut last = LAST.lock();
    last.1 += n;
    if last
        .0
        .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
    {
        log::error!(
            "ledger: dropped {} row(s) since the last report (latest reason: {}{}{})",
            last.1,
            reason.as_str(),
            if detail.is_empty() { "" } else { ": " },
            detail
        );
        *last = (Some(Instant::now()), 0);
    }
}

/// Schema version 2, shared by both stores (plain SQL both accept): the calling key's id on
/// each row, and the virtual keys made through the admin API (digests only, never keys).
pub const MIGRATION_2: &str = "ALTER TABLE requests ADD COLUMN key_id TEXT;
    CREATE INDEX requests_key_id_ts ON requests (key_id, ts);
    CREATE TABLE virtual_keys (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        revoked_at BIGINT
    );";

pub(crate) enum Message {
    Row(Box<Row>),
    Flush(oneshot::Sender<()>),
}

/// Handle used by the request path.
#[derive(Debug, Clone)]
pub struct Ledger {
    tx: Option<mpsc::Sender<Message>>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Row(_) => "Row",
            Message::Flush(_) => "Flush",
        })
    }
}

impl Ledger {
    /// Creates the handle and its writer service (`None` when the ledger is off).
    pub fn new(target: &LedgerTarget) -> (Self, Option<LedgerWriter>) {
        Self::with_capacity(target, CHANNEL_CAPACITY)
    }

    /// As [`Ledger::new`] with a queue of `capacity` rows.
    pub fn with_capacity(target: &LedgerTarget, capacity: usize) -> (Self, Option<LedgerWriter>) {
        if *target == LedgerTarget::Off {
            return (Self { tx: None }, None);
        }
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Self { tx: Some(tx) },
            Some(LedgerWriter::new(target.clone(), rx)),
        )
    }

    /// A handle that records nothing.
    pub fn off() -> Self {
        Self { tx: None }
    }

    /// Queues a row; drops (and counts) it when the queue is full. Never waits.
    pub fn record(&self, row: Row) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(Message::Row(Box::new(row))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => dropped(DropReason::QueueFull, 1, ""),
            Err(mpsc::error::TrySendError::Closed(_)) => dropped(DropReason::Closed, 1, ""),
        }
    }

    /// Waits until everything queued so far is written (or dropped), bounded by `timeout`.
    pub async fn flush(&self, timeout: Duration) {
        let Some(tx) = &self.tx else { return };
        let (ack, done) = oneshot::channel();
        if tx.send_timeout(Message::Flush(ack), timeout).await.is_ok() {
            let _ = tokio::time::timeout(timeout, done).await;
        }
    }
}
