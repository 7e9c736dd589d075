//! Incremental Server-Sent Events parser (WHATWG event-stream rules).
//!
//! Bytes arrive split anywhere: inside a field name, between `\r` and `\n`, inside a UTF-8
//! character. The parser only ever interprets complete lines, so the events it yields are the
//! same whatever the split. It accepts `\n`, `\r\n` and `\r` line endings, several `data:` lines
//! per event (joined with `\n`), `event:` names, and ignores comments (`:`), `id:` and `retry:`.

use std::fmt;

/// Largest event (or unterminated line) accepted before the stream is declared malformed.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One complete event. `event` is empty when the stream sent no `event:` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    pub event: &'a str,
    pub data: &'a str,
}

/// Why a stream cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    InvalidUtf8,
    EventTooLarge(usize),
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::InvalidUtf8 => f.write_str("upstream stream is not valid UTF-8"),
            SseError::EventTooLarge(n) => write!(f, "upstream stream event exceeds {n} bytes"),
        }
    }
}

impl std::error::Error for SseError {}

/// Incremental parser; feed bytes, then drain events.
#[derive(Debug)]
pub struct SseParser {
    buf: Vec<u8>,
    pos: usize,
    /// The previous line ended with `\r` as the last buffered byte; a leading `\n` belongs to it.
    skip_lf: bool,
    event: String,
    data: String,
    has_data: bool,
    /// The previous call returned an event whose fields must be cleared first.
    dispatched: bool,
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the default event size limit.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that rejects events or lines longer than `max_event_bytes`.
    pub fn with_limit(max_event_bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(4096),
            pos: 0,
            skip_lf: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
            dispatched: false,
            max_event_bytes,
        }
    }

    /// Appends upstream bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes buffered but not yet part of a complete line.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete event, if the buffered bytes hold one.
    pub fn next_event(&mut self) -> Result<Option<SseEvent<'_>>, SseError> {
        self.reset_if_dispatched();
        loop {
            if self.skip_lf && self.pos < self.buf.len() {
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                }
                self.skip_lf = false;
            }
            let rest = &self.buf[self.pos..];
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.compact();
                if self.pending_bytes() > self.max_event_bytes {
                    return Err(SseError::EventTooLarge(self.max_event_bytes));
                }
                return Ok(None);
            };
            let line_start = self.pos;
            let line_end = line_start + end;
            let mut next = line_end + 1;
            if self.buf[line_end] == b'\r' {
                if next < self.buf.len() {
                    if self.buf[next] == b'\n' {
                        next += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
            self.pos = next;
            if line_end == line_start {
                if self.has_data {
                    self.dispatched = true;
                    return Ok(Some(self.current()));
                }
                self.event.clear();
                continue;
            }
            self.process_line(line_start, line_end)?;
        }
    }

    /// At the end of the upstream body: interprets a last line without terminator and returns
    /// a final event that lacked its blank line. Later calls return `None`.
    pub fn finish(&mut self) -> Result<Option<SseEvent<'_>>, SseError> {
        self.reset_if_dispatched();
        if self.pos < self.buf.len() {
            let (start, end) = (self.pos, self.buf.len());
            self.pos = end;
            self.process_line(start, end)?;
        }
        if self.has_data {
            self.dispatched = true;
            return Ok(Some(self.current()));
        }
        Ok(None)
    }

    fn current(&self) -> SseEvent<'_> {
        SseEvent {
            event: &self.event,
            data: &self.data,
        }
    }

    fn reset_if_dispatched(&mut self) {
        if self.dispatched {
            self.dispatched = false;
            self.event.clear();
            self.data.clear();
            self.has_data = false;
        }
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    fn process_line(&mut self, start: usize, end: usize) -> Result<(), SseError> {
        let line = std::str::from_utf8(&self.buf[start..end]).map_err(|_| SseError::InvalidUtf8)?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
                if self.data.len() > self.max_event_bytes {
                    return Err(SseError::EventTooLarge(self.max_event_bytes));
                }
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
