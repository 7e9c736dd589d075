//! Stream framing, kept apart from provider semantics: [`sse::SseParser`] turns arbitrary
//! upstream byte chunks into complete Server-Sent Events; [`json_scan`] probes JSON events
//! without parsing them; [`delta_count::DeltaCount`] measures the generated text relayed.

pub mod delta_count;
pub mod json_scan;
pub mod sse;

pub use sse::{SseError, SseEvent, SseParser};
