//! The provider-independent half of every SSE stream translator: feeds bytes to the
//! [`SseParser`] and each complete event to the provider's [`SseMachine`], and decides at the
//! end of the upstream body whether the stream completed or was truncated.

use super::{StreamState, malformed_stream, truncated_stream};
use crate::error::GatewayError;
use crate::stream::SseParser;
use crate::translate::Usage;
use bytes::BytesMut;

/// A provider's event state machine (semantics only; framing is the driver's).
pub trait SseMachine {
    /// Translates one event's `data`, appending OpenAI chunks to `out`.
    fn event(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError>;
    /// The provider signalled the normal end of the stream.
    fn is_done(&self) -> bool;
    /// The body ended without the terminal event: return true after completing `out` when the
    /// stream is provably complete anyway, false to report a truncation.
    fn complete_at_eof(&mut self, _out: &mut BytesMut) -> bool {
        false
    }
    /// Configured provider name, for errors.
    fn provider(&self) -> &str;
    /// Real output (content, tool call, reasoning, finish) went out.
    fn has_output(&self) -> bool;
    /// Usage so far.
    fn usage(&self) -> Usage;
}

/// SSE framing plus a provider state machine.
#[derive(Debug)]
pub struct SseTranslator<M> {
    sse: SseParser,
    machine: M,
}

impl<M: SseMachine> SseTranslator<M> {
    /// Drives `machine` from a fresh parser.
    pub fn new(machine: M) -> Self {
        Self {
            sse: SseParser::new(),
            machine,
        }
    }

    /// The state machine.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The state machine, for configuration before the first byte.
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// Feeds upstream bytes.
    pub fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<StreamState, GatewayError> {
        if self.machine.is_done() {
            return Ok(StreamState::Complete);
        }
        self.sse.feed(chunk);
        while let Some(ev) = self.sse.next_event().map_err(malformed_stream)? {
            self.machine.event(ev.data, out)?;
            if self.machine.is_done() {
                return Ok(StreamState::Complete);
            }
        }
        Ok(StreamState::Open)
    }

    /// End of the upstream body.
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        if !self.machine.is_done() {
            if let Some(ev) = self.sse.finish().map_err(malformed_stream)? {
                // A last event cut mid-way is a truncation, not a provider's malformed output.
                if let Err(e) = self.machine.event(ev.data, out) {
                    return Err(if e.code.as_deref() == Some("stream_malformed") {
                        truncated_stream(self.machine.provider())
                    } else {
                        e
                    });
                }
            }
        }
        if self.machine.is_done() || self.machine.complete_at_eof(out) {
            Ok(())
        } else {
            Err(truncated_stream(self.machine.provider()))
        }
    }
}
