//! The background service appending queued audit events to the JSON-lines file.
//!
//! The file (and its directory) is created on the first event, with mode 0600 (owner read and
//! write only; an existing file keeps its mode). Lines are buffered and flushed every
//! [`FLUSH_INTERVAL`], on a flush request (graceful shutdown) and when the last handle is
//! dropped. A file that cannot be opened or written is reopened on the next event; the events
//! lost meanwhile are counted (`write_error`) and logged at most every [`LOG_EVERY`].

use super::{AuditEvent, Message, dropped};
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Longest a written line stays in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// Events taken from the queue at once.
const BATCH: usize = 256;
/// Least time between two error lines about the audit file.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Background service owning the queue's receiving end.
pub struct AuditWriter {
    path: PathBuf,
    rx: parking_lot::Mutex<Option<mpsc::Receiver<Message>>>,
}

impl AuditWriter {
    pub(crate) fn new(path: PathBuf, rx: mpsc::Receiver<Message>) -> Self {
        Self {
            path,
            rx: parking_lot::Mutex::new(Some(rx)),
        }
    }

    /// Writes events until every handle is dropped. With `shutdown`, also flushes as soon as
    /// shutdown starts (and keeps writing: in-flight requests may still record).
    pub async fn run(&self, mut shutdown: Option<ShutdownWatch>) {
        let Some(mut rx) = self.rx.lock().take() else {
            return;
        };
        let mut file = AuditFile {
            path: &self.path,
            out: None,
            last_error: None,
        };
        let mut batch = Vec::with_capacity(BATCH);
        let mut tick = tokio::time::interval(FLUSH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                n = rx.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    for msg in batch.drain(..) {
                        match msg {
                            Message::Event(event) => file.write(&event),
                            Message::Flush(ack) => {
                                file.flush();
                                let _ = ack.send(());
                            }
                        }
                    }
                }
                _ = tick.tick() => file.flush(),
                changed = wait_shutdown(&mut shutdown) => {
                    file.flush();
                    if changed.is_err() || changed.is_ok_and(|down| down) {
                        shutdown = None;
                    }
                }
            }
        }
        file.flush();
    }
}

/// Resolves when the shutdown flag changes (`Ok(flag)`), never without a watch.
async fn wait_shutdown(shutdown: &mut Option<ShutdownWatch>) -> Result<bool, ()> {
    match shutdown {
        Some(watch) => match watch.changed().await {
            Ok(()) => Ok(*watch.borrow()),
            Err(_) => Err(()),
        },
        None => std::future::pending().await,
    }
}

#[async_trait]
impl BackgroundService for AuditWriter {
    async fn start(&self, shutdown: ShutdownWatch) {
        self.run(Some(shutdown)).await;
    }
}

/// The audit file, opened lazily and reopened after a failure.
struct AuditFile<'a> {
    path: &'a Path,
    out: Option<BufWriter<File>>,
    last_error: Option<Instant>,
}

impl AuditFile<'_> {
    fn write(&mut self, event: &AuditEvent) {
        let mut line = match serde_json::to_vec(event) {
            Ok(line) => line,
            Err(e) => {
                dropped("write_error", 1);
                self.error(&format!("cannot serialize an event: {e}"));
                return;
            }
        };
        line.push(b'\n');
        if self.out.is_none() {
            match open(self.path) {
                Ok(f) => self.out = Some(BufWriter::with_capacity(64 * 1024, f)),
                Err(e) => {
                    dropped("write_error", 1);
                    self.error(&format!("cannot open {}: {e}", self.path.display()));
                    return;
                }
            }
        }
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = out.write_all(&line) {
                dropped("write_error", 1);
                self.out = None;
                self.error(&format!("cannot write {}: {e}", self.path.display()));
            }
        }
    }

    fn flush(&mut self) {
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = out.flush() {
                self.out = None;
                self.error(&format!("cannot flush {}: {e}", self.path.display()));
            }
        }
    }

    fn error(&mut self, what: &str) {
        if self.last_error.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            log::error!("audit: {what}; events are dropped until the file is writable");
            self.last_error = Some(Instant::now());
        }
    }
}

/// Opens `path` for appending, creating it (mode 0600) and its directory.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
