//! The provider-independent half of every NDJSON stream translator (one JSON object per line,
//! no SSE framing, as Ollama streams): incremental line framing tolerant of `\r\n`, blank lines
//! and a last line without a newline, with a line size limit; each complete line goes to the
//! provider's [`NdjsonMachine`].

use super::{StreamState, malformed_stream, truncated_stream};
use crate::error::GatewayError;
use crate::translate::Usage;
use bytes::BytesMut;

/// Longest line accepted before the stream is declared malformed.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// A provider's line state machine (semantics only; framing is the driver's).
pub trait NdjsonMachine {
    /// Translates one non-empty line, appending OpenAI chunks to `out`.
    fn line(&mut self, line: &str, out: &mut BytesMut) -> Result<(), GatewayError>;
    /// The provider signalled the normal end of the stream.
    fn is_done(&self) -> bool;
    /// Configured provider name, for errors.
    fn provider(&self) -> &str;
    /// Real output (content, tool call, reasoning, finish) went out.
    fn has_output(&self) -> bool;
    /// Usage so far.
    fn usage(&self) -> Usage;
}

/// Line framing plus a provider state machine.
#[derive(Debug)]
pub struct NdjsonTranslator<M> {
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned for a newline (none found).
    scanned: usize,
    max_line: usize,
    machine: M,
}

impl<M: NdjsonMachine> NdjsonTranslator<M> {
    /// Drives `machine` with the default line limit.
    pub fn new(machine: M) -> Self {
        Self::with_limit(machine, DEFAULT_MAX_LINE_BYTES)
    }

    /// Drives `machine`, rejecting lines longer than `max_line` bytes.
    pub fn with_limit(machine: M, max_line: usize) -> Self {
        Self {
            buf: Vec::with_capacity(4096),
            scanned: 0,
            max_line,
            machine,
        }
    }

    /// The state machine.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// Feeds upstream bytes.
    pub fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<StreamState, GatewayError> {
        if self.machine.is_done() {
            return Ok(StreamState::Complete);
        }
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(nl) = self.buf[start + self.scanned..]
            .iter()
            .position(|b| *b == b'\n')
        {
            let end = start + self.scanned + nl;
            self.scanned = 0;
            let res = Self::dispatch(&mut self.machine, &self.buf[start..end], out);
            start = end + 1;
            if let Err(e) = res {
                self.buf.drain(..start);
                return Err(e);
            }
            if self.machine.is_done() {
                self.buf.clear();
                return Ok(StreamState::Complete);
            }
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > self.max_line {
            return Err(malformed_stream(format_args!(
                "upstream stream line exceeds {} bytes",
                self.max_line
            )));
        }
        Ok(StreamState::Open)
    }

    /// End of the upstream body: a last line without a newline is still a line; a stream
    /// without its terminal line is a truncation.
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        if !self.machine.is_done() && !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.scanned = 0;
            if let Err(e) = Self::dispatch(&mut self.machine, &rest, out) {
                // A last line cut mid-way is a truncation, not a provider's malformed output.
                return Err(if e.code.as_deref() == Some("stream_malformed") {
                    truncated_stream(self.machine.provider())
                } else {
                    e
                });
            }
        }
        if self.machine.is_done() {
            Ok(())
        } else {
            Err(truncated_stream(self.machine.provider()))
        }
    }

    fn dispatch(machine: &mut M, raw: &[u8], out: &mut BytesMut) -> Result<(), GatewayError> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| malformed_stream("upstream stream is not valid UTF-8"))?;
        if line.trim().is_empty() {
            return Ok(());
        }
        machine.line(line, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Echo {
        lines: Vec<String>,
        done: bool,
    }

    impl NdjsonMachine for Echo {
        fn line(&mut self, line: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
            if line == "bad" {
                return Err(malformed_stream("bad line"));
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"|");
            self.done = line == "end";
            self.lines.push(line.to_string());
            Ok(())
        }
        fn is_done(&self) -> bool {
            self.done
        }
        fn provider(&self) -> &str {
            "p"
        }
        fn has_output(&self) -> bool {
            !self.lines.is_empty()
        }
        fn usage(&self) -> Usage {
            Usage::default()
        }
    }

    fn run(input: &[u8], cut: usize) -> (String, Result<(), String>) {
        let mut t = NdjsonTranslator::with_limit(Echo::default(), 64);
        let mut out = BytesMut::new();
        let mut res = t
            .feed(&input[..cut], &mut out)
            .and_then(|_| t.feed(&input[cut..], &mut out))
            .map(|_| ());
        if res.is_ok() {
            res = t.finish(&mut out);
        }
        (
            String::from_utf8(out.to_vec()).unwrap(),
            res.map_err(|e| e.to_string()),
        )
    }

    /// CRLF, blank lines, multi-byte characters split anywhere and a final line without a
    /// newline all frame the same way.
    #[test]
    fn framing_at_every_split() {
        let input = "a\r\n\n  \nhé✓\r\nend".as_bytes();
        for cut in 0..=input.len() {
            assert_eq!(
                run(input, cut),
                ("a|hé✓|end|".to_string(), Ok(())),
                "cut {cut}"
            );
        }
    }

    /// Missing terminal line is a truncation; a cut-off last line too; long lines are refused.
    #[test]
    fn truncation_and_limits() {
        let (out, res) = run(b"a\nb\n", 1);
        assert_eq!(out, "a|b|");
        assert!(res.unwrap_err().contains("ended the stream"));
        let (_, res) = run(b"a\nbad", 0);
        assert!(res.unwrap_err().contains("ended the stream"));
        let (_, res) = run(b"bad\nend\n", 0);
        assert!(res.unwrap_err().contains("bad line"));
        let long = vec![b'x'; 100];
        let (_, res) = run(&long, 50);
        assert!(res.unwrap_err().contains("exceeds 64 bytes"));
        // Bytes after the terminal line are ignored.
        assert_eq!(run(b"end\ntrailing", 2).0, "end|");
    }
}
