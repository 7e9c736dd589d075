//! Process lifecycle: counts requests in flight and ends a graceful shutdown as soon as they
//! are done.
//!
//! Pingora's SIGTERM handling stops the listeners, then sleeps the whole grace period even when
//! nothing is running. [`ShutdownWatcher`] watches the same shutdown signal, waits until the
//! in-flight count reaches zero (or the grace period ends), flushes the access log and the usage
//! ledger and exits, so `systemctl stop` takes as long as the last request needs and no longer.
//! The same signal ends the old process of a zero-downtime upgrade (SIGQUIT: Pingora hands the
//! listening sockets to the new process, waits 5 s, then starts this graceful shutdown).
//!
//! "Zero" must be final before the process exits. Right after the shutdown signal a keep-alive
//! connection may still start one more request: Pingora closes idle keep-alive connections only
//! once its accept loops have ended, and a request already received on a connection is served.
//! So the count must still be zero [`SETTLE`] later, and again after the flush (which takes a
//! while); otherwise the watcher waits again.

use crate::access_log::AccessLog;
use crate::ledger::Ledger;
use crate::metrics::METRICS;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the in-flight count must stay at zero before the process counts as drained.
const SETTLE: Duration = Duration::from_millis(100);

/// Shared count of requests in flight.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts a new request until the guard drops.
    pub fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        METRICS.active_requests.inc();
        InFlightGuard(self.0.clone())
    }

    /// Requests in flight now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// Decrements the in-flight count when the request context is dropped (also on panic).
#[derive(Debug)]
pub struct InFlightGuard(Arc<AtomicUsize>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        METRICS.active_requests.dec();
    }
}

/// Ends the process once a graceful shutdown has drained.
pub struct ShutdownWatcher {
    pub in_flight: InFlight,
    pub access_log: AccessLog,
    pub ledger: Ledger,
    pub audit: crate::audit::AuditLog,
    pub grace: Duration,
}

#[async_trait]
impl BackgroundService for ShutdownWatcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                return;
            }
        }
        let started = Instant::now();
        log::info!(
            "shutdown: waiting for {} request(s) in flight (grace period {:?})",
            self.in_flight.count(),
            self.grace
        );
        loop {
            self.drain(started).await;
            self.access_log.flush(Duration::from_secs(2)).await;
            self.ledger.flush(Duration::from_secs(10)).await;
            self.audit.flush(Duration::from_secs(5)).await;
            let left = self.in_flight.count();
            if left == 0 {
                break;
            }
            if started.elapsed() >= self.grace {
                log::warn!("shutdown: grace period over with {left} request(s) still in flight");
                break;
            }
        }
        log::info!("shutdown complete after {:?}", started.elapsed());
        // The gateway's one `process::exit` (clippy.toml disallows it elsewhere): Pingora would
        // sleep out the rest of the grace period before returning from `run_forever`, and
        // everything worth keeping was flushed above. Startup failures return an exit code
        // from `main` instead.
        #[allow(clippy::disallowed_methods)]
        std::process::exit(0);
    }
}

impl ShutdownWatcher {
    /// Returns once no request has been in flight for [`SETTLE`], or the grace period is over.
    async fn drain(&self, started: Instant) {
        while started.elapsed() < self.grace {
            if self.in_flight.count() == 0 {
                tokio::time::sleep(SETTLE).await;
                if self.in_flight.count() == 0 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
