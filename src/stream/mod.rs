//! Stream framing, kept apart from provider semantics: [`sse::SseParser`] turns arbitrary
//! upstream byte chunks into complete Server-Sent Events.

pub mod sse;

pub use sse::{SseError, SseEvent, SseParser};
