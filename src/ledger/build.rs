//! Building a ledger [`Row`] from a finished request's context.

use super::Row;
use crate::error::ErrorKind;
use crate::proxy::ctx::{Endpoint, RequestCtx};
use std::time::{Duration, SystemTime};

/// The endpoint label stored in the row; `None` for requests that get no row.
pub fn endpoint_label(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::ChatCompletions => Some("chat"),
        Endpoint::Embeddings => Some("embeddings"),
        Endpoint::Messages => Some("messages"),
        Endpoint::CountTokens
        | Endpoint::Health
        | Endpoint::Models
        | Endpoint::KeyInfo
        | Endpoint::Usage
        | Endpoint::Unknown => None,
    }
}

/// The row of a finished model API request (`None` for health, model lists and the like).
/// `status` is the final status, `key_name` the calling key's name and `cost_micros` the
/// priced cost (`None` when unpriced). `key_id` is the principal's stable key id.
pub fn row(
    ctx: &RequestCtx,
    status: u16,
    key_name: Option<&str>,
    cost_micros: Option<u64>,
) -> Option<Row> {
    let endpoint = endpoint_label(ctx.endpoint)?;
    let u = ctx.usage;
    Some(Row {
        ts: SystemTime::now()
            .checked_sub(ctx.start.elapsed())
            .unwrap_or_else(SystemTime::now),
        request_id: ctx.request_id.clone(),
        key_name: key_name.filter(|k| !k.is_empty()).map(str::to_string),
        key_id: match &ctx.principal {
            Some(p) => Some(p.id().to_string()),
            None => key_name.filter(|k| !k.is_empty()).map(str::to_string),
        },
        team: ctx
            .principal
            .as_ref()
            .and_then(|p| p.team().map(str::to_string)),
        route: ctx.route.clone(),
        provider: ctx.provider_name().map(str::to_string),
        requested_model: ctx.requested_model.clone(),
        served_model: ctx.served_model.clone(),
        attempts: ctx.attempts,
        status,
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        cached_tokens: u.cached_tokens,
        cache_write_tokens: u.cache_write_tokens,
        reasoning_tokens: u.reasoning_tokens,
        cost_micros,
        latency_ms: ms(ctx.start.elapsed()),
        ttfb_ms: ctx.first_byte.map(|fb| ms(fb.duration_since(ctx.start))),
        overhead_ms: ms(ctx.overhead()),
        cache_hit: false,
        error_kind: ctx.error.map(ErrorKind::as_str),
        stream: ctx.stream,
        endpoint,
    })
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
