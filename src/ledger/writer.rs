//! The background service writing queued rows in batches.
//!
//! Rows are gathered until [`BATCH_MAX`] are pending or [`BATCH_INTERVAL`] has passed, then
//! written in one transaction. A store that cannot be reached (Postgres down at start or
//! later) is reconnected with exponential backoff; meanwhile at most one batch is held and the
//! queue fills, so further rows are dropped at `record` (`queue_full`). A batch the store
//! rejects is retried a few times, then dropped (`store_error`). A flush (graceful shutdown)
//! writes everything queued before it, or drops and counts what cannot be written.

use super::{BATCH_INTERVAL, BATCH_MAX, DropReason, LedgerTarget, Message, Row, dropped};
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Failed writes of one batch before it is dropped.
const MAX_WRITE_FAILURES: u32 = 3;
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// After taking what is queued, the writer sleeps this long before it waits on the queue
/// again (well under the batch interval, far under the queue's capacity at any real rate).
const COALESCE: Duration = Duration::from_millis(10);

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

/// Background service owning the queue's receiving end.
pub struct LedgerWriter {
    connect: Box<dyn Connect>,
    rx: parking_lot::Mutex<Option<mpsc::Receiver<Message>>>,
}

impl LedgerWriter {
    pub(crate) fn new(target: LedgerTarget, rx: mpsc::Receiver<Message>) -> Self {
        Self::with_connect(Box::new(target), rx)
    }

    pub(crate) fn with_connect(connect: Box<dyn Connect>, rx: mpsc::Receiver<Message>) -> Self {
        Self {
            connect,
            rx: parking_lot::Mutex::new(Some(rx)),
        }
    }

    /// Runs until every handle is dropped.
    pub async fn run(&self) {
        let Some(rx) = self.rx.lock().take() else {
            return;
        };
        Batcher {
            connect: &*self.connect,
            store: None,
            pending: Vec::with_capacity(BATCH_MAX),
            failures: 0,
            backoff: BACKOFF_MIN,
            retry_at: Instant::now(),
        }
        .run(rx)
        .await;
    }
}

#[async_trait]
impl BackgroundService for LedgerWriter {
    async fn start(&self, _shutdown: ShutdownWatch) {
        // Keeps running after shutdown starts: in-flight requests still record rows, and the
        // shutdown watcher asks for the final flush.
        self.run().await;
    }
}

struct Batcher<'a> {
    connect: &'a dyn Connect,
    store: Option<Box<dyn Store>>,
    pending: Vec<Row>,
    /// Failed writes of the pending batch.
    failures: u32,
    backoff: Duration,
    /// No (re)connection attempt before this.
    retry_at: Instant,
}

impl Batcher<'_> {
    async fn run(mut self, mut rx: mpsc::Receiver<Message>) {
        self.try_connect().await;
        let mut deadline: Option<Instant> = None;
        let mut inbox: Vec<Message> = Vec::with_capacity(BATCH_MAX);
        loop {
            let full = self.pending.len() >= BATCH_MAX;
            let wake = deadline.unwrap_or_else(|| Instant::now() + BATCH_INTERVAL);
            tokio::select! {
                n = rx.recv_many(&mut inbox, BATCH_MAX), if !full => {
                    if n == 0 {
                        self.write(true).await;
                        return;
                    }
                    let mut flushed = false;
                    for msg in inbox.drain(..) {
                        match msg {
                            Message::Row(row) => {
                                self.pending.push(*row);
                                deadline.get_or_insert_with(|| Instant::now() + BATCH_INTERVAL);
                                if self.pending.len() >= BATCH_MAX {
                                    self.write(false).await;
                                }
                            }
                            Message::Flush(ack) => {
                                self.write(true).await;
                                let _ = ack.send(());
                                flushed = true;
                            }
                        }
                    }
                    if !flushed && self.pending.len() < BATCH_MAX {
                        // Let rows accumulate without a waiting receiver: senders then wake
                        // nobody, so a busy gateway pays one cross-thread wake per
                        // COALESCE instead of one per request.
                        tokio::time::sleep(COALESCE).await;
                    }
                },
                _ = tokio::time::sleep_until(wake), if deadline.is_some() || full => {
                    self.write(false).await;
                }
            }
            deadline = if self.pending.is_empty() {
                None
            } else {
                // Retry a held batch after the backoff (or the batch interval, if sooner).
                Some(Instant::now() + BATCH_INTERVAL.min(self.backoff))
            };
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

    /// Writes the pending batch. `final_` (flush or close): whatever cannot be written now is
    /// dropped and counted instead of held.
    async fn write(&mut self, final_: bool) {
        if self.pending.is_empty() {
            return;
        }
        if final_ {
            self.retry_at = Instant::now();
        }
        self.try_connect().await;
        let Some(store) = self.store.as_mut() else {
            if final_ {
                let n = self.pending.len();
                self.pending.clear();
                dropped(DropReason::StoreError, n, "store unavailable at flush");
            }
            return;
        };
        match store.write(&self.pending).await {
            Ok(()) => {
                self.pending.clear();
                self.failures = 0;
            }
            Err(StoreError::Disconnected(e)) => {
                log::error!("ledger: store connection lost: {e}");
                self.store = None;
                self.retry_at = Instant::now() + self.backoff;
                if final_ {
                    let n = self.pending.len();
                    self.pending.clear();
                    dropped(DropReason::StoreError, n, &e);
                }
            }
            Err(StoreError::Failed(e)) => {
                self.failures += 1;
                if final_ || self.failures >= MAX_WRITE_FAILURES {
                    let n = self.pending.len();
                    self.pending.clear();
                    self.failures = 0;
                    dropped(DropReason::StoreError, n, &e);
                } else {
                    log::warn!("ledger: batch write failed ({e}); retrying");
                }
            }
        }
    }
}
