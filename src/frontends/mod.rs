//! Client formats: the APIs clients speak to the gateway, each in a folder of its own, on top
//! of the providers (which know nothing of them).
//!
//! Streams cross from providers to client formats as typed events
//! ([`crate::translate::events::ChunkSink`]): a provider's translator decodes its native
//! stream and calls the sink of the request's client format, which renders OpenAI chunks,
//! Anthropic Messages events, …; whole answers are decoded into a typed `Answer` that the client
//! format renders. Requests go the other way through the gateway's request IR, the chat form as a
//! typed, lazily decoded view ([`crate::translate::request::ChatRequest`]): chat completions is
//! the identity over it, other formats convert into it once per request. [`ClientStream`] is
//! what the relay drives for one answer.
//!
//! - [`anthropic_messages`]: `POST /v1/messages` and `/v1/messages/count_tokens`.

pub mod anthropic_messages;

use crate::error::GatewayError;
use crate::providers::sse_driver::SseMachine;
use crate::providers::{StreamState, StreamTranslator};
use crate::translate::Usage;
use anthropic_messages::{RelayStream, ToAnthropic};
use bytes::BytesMut;

/// A provider's stream as the client's format needs it.
pub enum ClientStream {
    /// A provider's translator writing the client format's events: OpenAI chat chunks by
    /// default, or the sink of the client format ([`crate::translate::events`]).
    Translated(StreamTranslator),
    /// An Anthropic provider's stream relayed to an Anthropic Messages client.
    AnthropicRelay(RelayStream),
    /// Any other kind's stream, to OpenAI chunks, then to Anthropic Messages events.
    ToAnthropic(Box<ToAnthropic>),
}

impl ClientStream {
    /// Feeds upstream bytes, appending complete client events to `out`. An `Err` is a provider
    /// error event or a malformed stream: the stream must end.
    pub fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<StreamState, GatewayError> {
        match self {
            ClientStream::Translated(s) => s.feed(chunk, out),
            ClientStream::AnthropicRelay(s) => s.feed(chunk, out),
            ClientStream::ToAnthropic(s) => s.feed(chunk, out),
        }
    }

    /// The upstream body ended cleanly: flushes what is left. An `Err` means the stream was
    /// truncated (no terminal event).
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), GatewayError> {
        match self {
            ClientStream::Translated(s) => s.finish(out),
            ClientStream::AnthropicRelay(s) => s.finish(out),
            ClientStream::ToAnthropic(s) => s.finish(out),
        }
    }

    /// True once the stream carried real output: from then on an error can no longer be
    /// hidden by failing over.
    pub fn has_output(&self) -> bool {
        match self {
            ClientStream::Translated(s) => s.has_output(),
            ClientStream::AnthropicRelay(s) => s.machine().has_output(),
            ClientStream::ToAnthropic(s) => s.has_output(),
        }
    }

    /// Usage seen so far (final once the stream completed).
    pub fn usage(&self) -> Usage {
        match self {
            ClientStream::Translated(s) => s.usage(),
            ClientStream::AnthropicRelay(s) => s.machine().usage(),
            ClientStream::ToAnthropic(s) => s.usage(),
        }
    }
}
