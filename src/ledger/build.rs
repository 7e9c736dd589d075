//! Building a ledger [`Row`] from a finished request's [`RequestSummary`].

use super::Row;
use crate::error::ErrorKind;
use crate::summary::{RequestSummary, ms};

/// The row of a finished model API request (`None` for health, model lists and the like).
/// An empty key name is no key; the key id falls back to the name for keys without one.
pub fn row(s: &RequestSummary<'_>) -> Option<Row> {
    let endpoint = s.api?;
    let key_name = s.key_name.filter(|k| !k.is_empty());
    let u = s.usage;
    Some(Row {
        ts: s.started,
        request_id: s.request_id.to_string(),
        key_name: key_name.map(str::to_string),
        key_id: s.key_id.or(key_name).map(str::to_string),
        team: s.team.map(str::to_string),
        route: s.route.map(str::to_string),
        provider: s.provider.map(str::to_string),
        requested_model: s.requested_model.map(str::to_string),
        served_model: s.served_model.map(str::to_string),
        attempts: s.attempts,
        status: s.status,
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        cached_tokens: u.cached_tokens,
        cache_write_tokens: u.cache_write_tokens,
        reasoning_tokens: u.reasoning_tokens,
        cost_micros: s.charge.micros(),
        latency_ms: ms(s.duration),
        ttfb_ms: s.ttfb.map(ms),
        overhead_ms: ms(s.overhead),
        cache_hit: false,
        error_kind: s.error.map(ErrorKind::as_str),
        stream: s.stream,
        endpoint,
        partial: s.partial,
    })
}
