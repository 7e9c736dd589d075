//! Settlement of limit reservations with each request's real tokens and cost.
//!
//! The in-process counter store settles inline in the `logging` phase (a few map updates
//! under a lock, no I/O), so a concurrency slot is free the moment its request is done. With
//! a remote store (Redis) the `logging` phase queues the settlement on a bounded queue and one
//! background service settles in batches (concurrently within a batch, so round trips
//! overlap). No task is spawned per request; if the queue is ever full, that settlement runs
//! on a task of its own rather than being lost (counted in `switchyard_settle_overflow_total`).

use crate::metrics::METRICS;
use crate::proxy::GatewayState;
use crate::proxy::admit::{self, Admitted};
use crate::summary::RequestSummary;
use async_trait::async_trait;
use futures::FutureExt as _;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Settlements queued before the overflow path is taken.
const QUEUE: usize = 16 * 1024;
/// Settlements handled together (and in flight at once).
const BATCH: usize = 256;

/// One admitted request's settlement.
#[derive(Debug)]
pub struct Settlement {
    admitted: Admitted,
    tokens: u64,
    cost_micros: u64,
}

impl Settlement {
    async fn run(self, state: &GatewayState) {
        admit::settle(state, self.admitted, self.tokens, self.cost_micros).await;
    }
}

/// The request path's end of the queue.
#[derive(Debug, Clone)]
pub struct Settlements {
    tx: mpsc::Sender<Settlement>,
}

/// The queue's receiving end, until [`SettleService::new`] takes it.
pub struct Inbox(mpsc::Receiver<Settlement>);

/// A new queue.
pub fn queue() -> (Settlements, Inbox) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Settlements { tx }, Inbox(rx))
}

impl Settlements {
    /// Settles `admitted` with the tokens and cost of `summary` (the same cost the ledger row
    /// carries, so counters and ledger agree exactly): inline for the in-process store, else
    /// queued. Never waits.
    pub fn settle(
        &self,
        state: &Arc<GatewayState>,
        admitted: Admitted,
        summary: &RequestSummary<'_>,
    ) {
        let settlement = Settlement {
            admitted,
            tokens: summary.tokens(),
            cost_micros: summary.charge.micros().unwrap_or(0),
        };
        if state.quota.completes_inline() {
            // The in-process store never waits: one poll completes the whole settlement.
            if settlement.run(state).now_or_never().is_none() {
                log::error!("limits: an inline settlement did not complete; its reservation stays");
            }
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(s) | mpsc::error::TrySendError::Closed(s)) =
            self.tx.try_send(settlement)
        {
            METRICS.settle_overflow.inc();
            let state = state.clone();
            // Rare: rather than wait or lose the settlement, run it on its own.
            crate::task::spawn_named("limit settlement overflow", async move {
                s.run(&state).await;
            });
        }
    }
}

/// The background service that settles queued reservations. It runs until the server's
/// runtimes stop, so requests that finish during the shutdown grace period still settle.
pub struct SettleService {
    inbox: parking_lot::Mutex<Option<Inbox>>,
    state: Arc<GatewayState>,
}

impl SettleService {
    /// The service settling `inbox` against `state`'s counters.
    pub fn new(inbox: Inbox, state: Arc<GatewayState>) -> Self {
        Self {
            inbox: parking_lot::Mutex::new(Some(inbox)),
            state,
        }
    }
}

#[async_trait]
impl BackgroundService for SettleService {
    async fn start(&self, _shutdown: ShutdownWatch) {
        let Some(Inbox(mut rx)) = self.inbox.lock().take() else {
            return;
        };
        let mut batch = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            let settles = batch.drain(..).map(|s| s.run(&self.state));
            futures::future::join_all(settles).await;
        }
    }
}
