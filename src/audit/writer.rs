//! The audit trail's sink: appends queued events to the JSON-lines file (the queue and the
//! batching loop are [`crate::batch`]'s).
//!
//! The file (and its directory) is created on the first event, with mode 0600 (owner read and
//! write only; an existing file keeps its mode). Lines are buffered and flushed every
//! [`FLUSH_INTERVAL`], on a flush request (graceful shutdown) and when the last handle is
//! dropped. A file that cannot be opened or written is reopened on the next event; the events
//! lost meanwhile are counted (`write_error`) and logged at most every [`LOG_EVERY`].

use super::{AuditEvent, dropped};
use crate::batch::{self, Policy, Queue, Sink};
use async_trait::async_trait;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest a written line stays in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// Least time between two error lines about the audit file.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Background service appending queued events to the file.
pub type AuditWriter = batch::Writer<AuditFile>;

/// A queue of `capacity` events and the writer appending them to `path`.
pub(crate) fn channel(path: PathBuf, capacity: usize) -> (Queue<AuditEvent>, AuditWriter) {
    let policy = Policy {
        capacity,
        max_batch: 256,
        linger: Duration::ZERO,
        pause: batch::PAUSE,
        flush_every: Some(FLUSH_INTERVAL),
    };
    let sink = AuditFile {
        path,
        out: None,
        last_error: None,
    };
    batch::channel(policy, sink, |r| dropped(r.as_str(), 1))
}

#[async_trait]
impl Sink for AuditFile {
    type Item = AuditEvent;

    async fn write(&mut self, batch: &mut Vec<AuditEvent>) {
        for event in batch.drain(..) {
            self.write_event(&event);
        }
    }

    async fn flush(&mut self) {
        self.flush_out();
    }
}

/// The audit file, opened lazily and reopened after a failure.
pub struct AuditFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    last_error: Option<Instant>,
}

impl AuditFile {
    fn write_event(&mut self, event: &AuditEvent) {
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
            match open(&self.path) {
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

    fn flush_out(&mut self) {
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
