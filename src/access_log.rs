//! JSON access log: one line per request, written off the request path.
//!
//! `logging()` renders a line and `try_send`s it into a bounded channel; the [`AccessLogWriter`]
//! background service writes lines in batches to stdout or a file and flushes on shutdown.
//! When the channel is full the line is dropped and counted
//! (`switchyard_access_log_dropped_total`); the request never waits. Lines carry key *names*,
//! never key values or headers.

use crate::metrics::METRICS;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use serde::Serialize;
use std::io::Write;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Where access-log lines go (`server.access_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogTarget {
    Stdout,
    Off,
    File(String),
}

const CHANNEL_CAPACITY: usize = 16 * 1024;

enum Message {
    Line(Vec<u8>),
    Flush(oneshot::Sender<()>),
}

/// One access log record.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub ts: String,
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_model: Option<&'a str>,
    pub attempts: u32,
    pub stream: bool,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    /// Cost of a served request in USD, when its prices and usage are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// `false` for a served request whose cost is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priced: Option<bool>,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttfb_ms: Option<f64>,
    pub overhead_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The calling key's team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<&'a str>,
    /// Every target tried, in order, as `provider/model:outcome` (also skips).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub tried: &'a [String],
}

/// Handle used by the request path.
#[derive(Debug, Clone)]
pub struct AccessLog {
    tx: Option<mpsc::Sender<Message>>,
}

impl AccessLog {
    /// Creates the handle and its writer service (`None` when the log is off).
    pub fn new(target: &AccessLogTarget) -> (Self, Option<AccessLogWriter>) {
        if *target == AccessLogTarget::Off {
            return (Self { tx: None }, None);
        }
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        (
            Self { tx: Some(tx) },
            Some(AccessLogWriter {
                target: target.clone(),
                rx: parking_lot::Mutex::new(Some(rx)),
            }),
        )
    }

    /// Queues a record; drops (and counts) it when the writer is behind.
    pub fn record(&self, rec: &Record<'_>) {
        let Some(tx) = &self.tx else { return };
        let Ok(mut line) = serde_json::to_vec(rec) else {
            return;
        };
        line.push(b'\n');
        if tx.try_send(Message::Line(line)).is_err() {
            METRICS.access_log_dropped.inc();
        }
    }

    /// Waits until everything queued so far is written and flushed (bounded by `timeout`).
    pub async fn flush(&self, timeout: Duration) {
        let Some(tx) = &self.tx else { return };
        let (ack, done) = oneshot::channel();
        if tx.send_timeout(Message::Flush(ack), timeout).await.is_ok() {
            let _ = tokio::time::timeout(timeout, done).await;
        }
    }
}

/// Background service writing queued lines.
pub struct AccessLogWriter {
    target: AccessLogTarget,
    rx: parking_lot::Mutex<Option<mpsc::Receiver<Message>>>,
}

impl AccessLogWriter {
    fn open(&self) -> Box<dyn Write + Send> {
        match &self.target {
            AccessLogTarget::File(path) => match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                Ok(f) => Box::new(std::io::BufWriter::with_capacity(64 * 1024, f)),
                Err(e) => {
                    log::error!("cannot open access log {path}: {e}; writing to stdout");
                    Box::new(std::io::BufWriter::with_capacity(
                        64 * 1024,
                        std::io::stdout(),
                    ))
                }
            },
            _ => Box::new(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stdout(),
            )),
        }
    }
}

#[async_trait]
impl BackgroundService for AccessLogWriter {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let Some(mut rx) = self.rx.lock().take() else {
            return;
        };
        let mut out = self.open();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let mut watching = true;
        let mut inbox = Vec::with_capacity(1024);
        loop {
            tokio::select! {
                n = rx.recv_many(&mut inbox, 1024) => {
                    if n == 0 {
                        break;
                    }
                    let mut flushed = false;
                    for msg in inbox.drain(..) {
                        match msg {
                            Message::Line(line) => { let _ = out.write_all(&line); }
                            Message::Flush(ack) => { let _ = out.flush(); let _ = ack.send(()); flushed = true; }
                        }
                    }
                    if !flushed {
                        // Lines accumulate meanwhile without waking this thread once per
                        // request (see the ledger writer).
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                _ = tick.tick() => { let _ = out.flush(); }
                changed = shutdown.changed(), if watching => {
                    // Keep serving after shutdown starts: in-flight requests still log, and the
                    // lifecycle watcher asks for the final flush.
                    let _ = out.flush();
                    watching = changed.is_ok() && !*shutdown.borrow();
                }
            }
        }
        let _ = out.flush();
    }
}

/// Current time as RFC 3339 UTC with milliseconds.
pub fn timestamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}
