//! Usage ledger: one row per model API request (chat, embeddings, messages), written off the
//! request path.
//!
//! `logging()` builds a [`Row`] from the request context and queues it
//! ([`crate::batch::Queue`]); it never waits. The [`writer::LedgerWriter`] background service
//! writes rows in batches (up to [`BATCH_MAX`] rows, or once the first has waited
//! [`BATCH_INTERVAL`]) in one transaction to SQLite or Postgres, and the shutdown watcher
//! flushes everything queued before the process exits.
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

use crate::batch::{self, Queue, Rejected};
use crate::metrics::METRICS;
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

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
    /// The stream was cut (by the client or the provider): tokens the provider did not
    /// report are estimated (see [`crate::billing::partial`]).
    pub partial: bool,
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

/// Schema version 3, shared by both stores: `partial` marks a stream cut before its end,
/// billed with what was generated.
pub const MIGRATION_3: &str =
    "ALTER TABLE requests ADD COLUMN partial BOOLEAN NOT NULL DEFAULT FALSE;";

/// Handle used by the request path.
#[derive(Debug, Clone)]
pub struct Ledger {
    queue: Queue<Row>,
}

impl Ledger {
    /// Creates the handle and its writer service (`None` when the ledger is off).
    pub fn new(target: &LedgerTarget) -> (Self, Option<LedgerWriter>) {
        Self::with_capacity(target, CHANNEL_CAPACITY)
    }

    /// As [`Ledger::new`] with a queue of `capacity` rows.
    pub fn with_capacity(target: &LedgerTarget, capacity: usize) -> (Self, Option<LedgerWriter>) {
        if *target == LedgerTarget::Off {
            return (Self::off(), None);
        }
        let (ledger, writer) = Self::with_connect(Box::new(target.clone()), capacity);
        (ledger, Some(writer))
    }

    /// A handle and its writer service writing to the stores `connect` opens.
    pub(crate) fn with_connect(
        connect: Box<dyn writer::Connect>,
        capacity: usize,
    ) -> (Self, LedgerWriter) {
        let policy = batch::Policy {
            capacity,
            ..writer::POLICY
        };
        let (queue, writer) = batch::channel(policy, writer::LedgerSink::new(connect), |r| {
            let reason = match r {
                Rejected::Full => DropReason::QueueFull,
                Rejected::Closed => DropReason::Closed,
            };
            dropped(reason, 1, "");
        });
        (Self { queue }, writer)
    }

    /// A handle that records nothing.
    pub fn off() -> Self {
        Self {
            queue: Queue::off(),
        }
    }

    /// Queues a row; drops (and counts) it when the queue is full. Never waits.
    pub fn record(&self, row: Row) {
        self.queue.record(row);
    }

    /// Waits until everything queued so far is written (or dropped), bounded by `timeout`.
    pub async fn flush(&self, timeout: Duration) {
        self.queue.flush(timeout).await;
    }
}
