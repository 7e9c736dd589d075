//! The ledger's sink: writes a batch of rows in one transaction (the queue and the batching
//! loop are [`crate::batch`]'s).
//!
//! A store that cannot be reached (Postgres down at start or later) is reconnected with
//! exponential backoff; meanwhile at most one batch is held and the queue fills, so further
//! rows are dropped at `record` (`queue_full`). A batch the store rejects is retried a few
//! times, then dropped (`store_error`). A flush (graceful shutdown) writes everything queued
//! before it, or drops and counts what cannot be written.

use super::{BATCH_INTERVAL, BATCH_MAX, CHANNEL_CAPACITY, DropReason, LedgerTarget, Row, dropped};
use crate::batch::{self, Policy, Sink};
use async_trait::async_trait;
use std::time::Duration;
use tokio::time::Instant;

/// Failed writes of one batch before it is dropped.
const MAX_WRITE_FAILURES: u32 = 3;
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// How the ledger batches: up to [`BATCH_MAX`] rows per transaction, a row waits at most
/// [`BATCH_INTERVAL`]; no periodic flush (each write is committed).
pub(crate) const POLICY: Policy = Policy {
    capacity: CHANNEL_CAPACITY,
    max_batch: BATCH_MAX,
    linger: BATCH_INTERVAL,
    pause: batch::PAUSE,
    flush_every: None,
};

/// A place rows are written to.
#[async_trait]
pub trait Store: Send {
    /// Writes `rows` in one transaction (all or nothing).
    async fn write(&mut self, rows: &[Row]) -> Result<(), StoreError>;
}

/// Why a write failed.
#[derive(Debug)]
pub enum StoreError {
    /// The connection is gone: reconnect, keep the batch.
    Disconnected(String),
    /// The store rejected the batch.
    Failed(String),
}

/// Opens a store (connecting and running migrations).
#[async_trait]
pub trait Connect: Send + Sync {
    async fn connect(&self) -> Result<Box<dyn Store>, String>;
}

#[async_trait]
impl Connect for LedgerTarget {
    async fn connect(&self) -> Result<Box<dyn Store>, String> {
        match self {
            LedgerTarget::Off => Err("ledger is off".into()),
            LedgerTarget::Sqlite(path) => Ok(Box::new(super::sqlite::open(path.clone()).await?)),
            LedgerTarget::Postgres(url) => Ok(Box::new(super::postgres::open(url).await?)),
        }
    }
}

/// Background service writing queued rows.
pub type LedgerWriter = batch::Writer<LedgerSink>;

/// Writes batches to the store it (re)connects to.
pub struct LedgerSink {
    connect: Box<dyn Connect>,
    store: Option<Box<dyn Store>>,
    /// Failed writes of the held batch.
    failures: u32,
    backoff: Duration,
    /// No (re)connection attempt before this.
    retry_at: Instant,
}

impl LedgerSink {
    pub(crate) fn new(connect: Box<dyn Connect>) -> Self {
        Self {
            connect,
            store: None,
            failures: 0,
            backoff: BACKOFF_MIN,
            retry_at: Instant::now(),
        }
    }

    async fn try_connect(&mut self) {
        if self.store.is_some() || Instant::now() < self.retry_at {
            return;
        }
        match self.connect.connect().await {
            Ok(store) => {
                self.store = Some(store);
                self.backoff = BACKOFF_MIN;
            }
            Err(e) => {
                log::error!(
                    "ledger: store unavailable ({e}); retrying in {:?}, rows queue meanwhile",
                    self.backoff
                );
                self.retry_at = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
            }
        }
    }

    /// Writes `rows`. `final_` (flush or close): whatever cannot be written now is dropped and
    /// counted instead of held.
    async fn write_rows(&mut self, rows: &mut Vec<Row>, final_: bool) {
        if rows.is_empty() {
            return;
        }
        if final_ {
            self.retry_at = Instant::now();
        }
        self.try_connect().await;
        let Some(store) = self.store.as_mut() else {
            if final_ {
                drop_all(rows, "store unavailable at flush");
            }
            return;
        };
        match store.write(rows).await {
            Ok(()) => {
                rows.clear();
                self.failures = 0;
            }
            Err(StoreError::Disconnected(e)) => {
                log::error!("ledger: store connection lost: {e}");
                self.store = None;
                self.retry_at = Instant::now() + self.backoff;
                if final_ {
                    drop_all(rows, &e);
                }
            }
            Err(StoreError::Failed(e)) => {
                self.failures += 1;
                if final_ || self.failures >= MAX_WRITE_FAILURES {
                    self.failures = 0;
                    drop_all(rows, &e);
                } else {
                    log::warn!("ledger: batch write failed ({e}); retrying");
                }
            }
        }
    }
}

/// Drops and counts `rows` (`store_error`).
fn drop_all(rows: &mut Vec<Row>, detail: &str) {
    let n = rows.len();
    rows.clear();
    dropped(DropReason::StoreError, n, detail);
}

#[async_trait]
impl Sink for LedgerSink {
    type Item = Row;

    async fn start(&mut self) {
        self.try_connect().await;
    }

    async fn write(&mut self, batch: &mut Vec<Row>) {
        self.write_rows(batch, false).await;
    }

    async fn finish(&mut self, batch: &mut Vec<Row>) {
        self.write_rows(batch, true).await;
    }

    /// A held batch is retried after the backoff (or the batch interval, if sooner).
    fn retry_in(&self) -> Duration {
        BATCH_INTERVAL.min(self.backoff)
    }
}
