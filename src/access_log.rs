//! JSON access log: one line per request, written off the request path.
//!
//! `logging()` renders a line and queues it ([`crate::batch::Queue`]); the [`AccessLogWriter`]
//! background service writes lines in batches to stdout or a file and flushes on shutdown.
//! When the channel is full the line is dropped and counted
//! (`switchyard_access_log_dropped_total`); the request never waits. Lines carry key *names*,
//! never key values or headers.

use crate::batch::{self, Policy, Queue, Sink};
use crate::metrics::METRICS;
use async_trait::async_trait;
use serde::Serialize;
use std::io::Write;
use std::time::Duration;

/// Where access-log lines go (`server.access_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogTarget {
    Stdout,
    Off,
    File(String),
}

/// How the writer batches: lines go to the buffered output once taken, which is flushed every
/// 200 ms, on a flush request and when shutdown starts.
const POLICY: Policy = Policy {
    capacity: 16 * 1024,
    max_batch: 1024,
    linger: Duration::ZERO,
    pause: batch::PAUSE,
    flush_every: Some(Duration::from_millis(200)),
};

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
    /// `true` for a stream cut before its end, billed with what was generated.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
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
    /// Parameters the serving target dropped or approximated.
    #[serde(skip_serializing_if = "<[&str]>::is_empty")]
    pub lossy: &'a [&'static str],
}

/// Handle used by the request path.
#[derive(Debug, Clone)]
pub struct AccessLog {
    queue: Queue<Vec<u8>>,
}

/// Background service writing queued lines.
pub type AccessLogWriter = batch::Writer<LineSink>;

impl AccessLog {
    /// Creates the handle and its writer service (`None` when the log is off).
    pub fn new(target: &AccessLogTarget) -> (Self, Option<AccessLogWriter>) {
        if *target == AccessLogTarget::Off {
            return (
                Self {
                    queue: Queue::off(),
                },
                None,
            );
        }
        let sink = LineSink {
            target: target.clone(),
            out: None,
        };
        let (queue, writer) = batch::channel(POLICY, sink, |_| METRICS.access_log_dropped.inc());
        (Self { queue }, Some(writer))
    }

    /// Queues a record; drops (and counts) it when the writer is behind.
    pub fn record(&self, rec: &Record<'_>) {
        if !self.queue.is_on() {
            return;
        }
        let Ok(mut line) = serde_json::to_vec(rec) else {
            return;
        };
        line.push(b'\n');
        self.queue.record(line);
    }

    /// Waits until everything queued so far is written and flushed (bounded by `timeout`).
    pub async fn flush(&self, timeout: Duration) {
        self.queue.flush(timeout).await;
    }
}

/// Writes lines to stdout or the log file (opened when the writer starts).
pub struct LineSink {
    target: AccessLogTarget,
    out: Option<Box<dyn Write + Send>>,
}

impl LineSink {
    fn open(&self) -> Box<dyn Write + Send> {
        let stdout = || {
            Box::new(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stdout(),
            ))
        };
        match &self.target {
            AccessLogTarget::File(path) => match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                Ok(f) => Box::new(std::io::BufWriter::with_capacity(64 * 1024, f)),
                Err(e) => {
                    log::error!("cannot open access log {path}: {e}; writing to stdout");
                    stdout()
                }
            },
            _ => stdout(),
        }
    }
}

#[async_trait]
impl Sink for LineSink {
    type Item = Vec<u8>;

    async fn start(&mut self) {
        self.out = Some(self.open());
    }

    async fn write(&mut self, batch: &mut Vec<Vec<u8>>) {
        if self.out.is_none() {
            self.out = Some(self.open());
        }
        if let Some(out) = self.out.as_mut() {
            for line in batch.iter() {
                let _ = out.write_all(line);
            }
        }
        batch.clear();
    }

    async fn flush(&mut self) {
        if let Some(out) = self.out.as_mut() {
            let _ = out.flush();
        }
    }
}

/// Current time as RFC 3339 UTC with milliseconds.
pub fn timestamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(id: &str) -> Record<'_> {
        Record {
            ts: "2026-11-26T10:00:00.000Z".into(),
            request_id: id,
            method: "POST",
            path: "/v1/chat/completions",
            status: 200,
            key: Some("ci"),
            route: None,
            provider: None,
            model: None,
            served_model: None,
            attempts: 1,
            stream: false,
            partial: false,
            prompt_tokens: 1,
            completion_tokens: 2,
            cached_tokens: 0,
            reasoning_tokens: 0,
            cost_usd: None,
            priced: None,
            duration_ms: 1.5,
            ttfb_ms: None,
            overhead_ms: 0.1,
            error: None,
            client: None,
            team: None,
            tried: &[],
            lossy: &[],
        }
    }

    fn ids(path: &std::path::Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["request_id"].to_string()
            })
            .collect()
    }

    #[tokio::test]
    async fn lines_reach_the_file_on_flush_and_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let target = AccessLogTarget::File(path.to_string_lossy().into_owned());
        let (log, writer) = AccessLog::new(&target);
        let writer = writer.unwrap();
        let task = tokio::spawn(async move { writer.run(None).await });
        log.record(&rec("a"));
        log.record(&rec("b"));
        log.flush(Duration::from_secs(5)).await;
        assert_eq!(ids(&path), ["\"a\"", "\"b\""]);
        log.record(&rec("c"));
        drop(log);
        task.await.unwrap();
        assert_eq!(
            ids(&path),
            ["\"a\"", "\"b\"", "\"c\""],
            "flushed when the last handle drops"
        );
    }

    #[tokio::test]
    async fn full_queue_drops_and_counts_and_off_records_nothing() {
        let (off, writer) = AccessLog::new(&AccessLogTarget::Off);
        assert!(writer.is_none());
        let before = METRICS.access_log_dropped.get();
        off.record(&rec("x"));
        off.flush(Duration::from_millis(1)).await;
        let (log, _writer) = AccessLog::new(&AccessLogTarget::Stdout);
        for _ in 0..POLICY.capacity + 2 {
            log.record(&rec("y"));
        }
        // Other tests in this process may drop lines too: at least these two.
        assert!(METRICS.access_log_dropped.get() - before >= 2);
    }
}
