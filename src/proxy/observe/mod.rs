//! The `logging` phase: one [`RequestSummary`] per finished request, and from it the metrics,
//! the access-log line, the ledger row, limit settlement and the audit event. Never awaits.

pub mod partial;
pub mod pricing;
pub mod settle;

use super::GatewayState;
use super::ctx::RequestCtx;
use crate::access_log::Record;
use crate::error::ErrorKind;
use crate::metrics::{METRICS, model_label};
use crate::summary::{RequestSummary, ms};
use pingora::proxy::Session;
use std::sync::Arc;
use std::time::SystemTime;

/// Records a finished request everywhere it is recorded.
pub fn observe(state: &Arc<GatewayState>, session: &Session, ctx: &mut RequestCtx) {
    let model = ctx
        .served_model
        .as_deref()
        .map(model_label)
        .unwrap_or_default();
    let charge = pricing::observe(ctx, ctx.provider_name().unwrap_or(""), &model);
    let admitted = ctx.admitted.take();
    let req = session.req_header();
    let summary = summarize(ctx, session, req.method.as_str(), req.uri.path(), charge);
    metrics(&summary, &model);
    state.access_log.record(&access_record(&summary));
    if let Some(row) = crate::ledger::build::row(&summary) {
        state.ledger.record(row);
    }
    // The same cost the ledger row carries, so counters and ledger agree exactly.
    if let Some(admitted) = admitted {
        state.settlements.settle(state, admitted, &summary);
    }
    if let (Some(c), Some(p)) = (ctx.capture.as_deref(), ctx.principal.as_ref()) {
        state.audit.record(crate::audit::AuditEvent {
            ts: SystemTime::now(),
            request_id: summary.request_id.to_string(),
            key_id: p.key.id.to_string(),
            key_name: p.key.name.to_string(),
            endpoint: summary.api.unwrap_or("other").to_string(),
            model: summary
                .served_model
                .or(summary.requested_model)
                .map(str::to_string),
            status: summary.status,
            request: String::from_utf8_lossy(&c.request).into_owned(),
            response: String::from_utf8_lossy(&c.response).into_owned(),
        });
    }
}

/// The summary of `ctx`, once its handler is done.
fn summarize<'a>(
    ctx: &'a RequestCtx,
    session: &Session,
    method: &'a str,
    path: &'a str,
    charge: crate::summary::Charge,
) -> RequestSummary<'a> {
    let duration = ctx.start.elapsed();
    let status = match ctx.status {
        0 => session.response_written().map_or(0, |r| r.status.as_u16()),
        s => s,
    };
    let principal = ctx.principal.as_ref();
    RequestSummary {
        request_id: &ctx.request_id,
        started: SystemTime::now()
            .checked_sub(duration)
            .unwrap_or_else(SystemTime::now),
        method,
        path,
        client: session.client_addr().map(|a| a.to_string()),
        api: ctx.endpoint.api_label(),
        routed: ctx.endpoint.reads_body(),
        status,
        key_name: principal.map(|p| p.name()),
        key_id: principal.map(|p| p.id()),
        team: principal.and_then(|p| p.team()),
        route: ctx.route.as_deref(),
        provider: ctx.provider_name(),
        requested_model: ctx.requested_model.as_deref(),
        served_model: ctx.served_model.as_deref(),
        attempts: ctx.attempts,
        stream: ctx.stream,
        partial: ctx.partial,
        usage: ctx.usage,
        charge,
        duration,
        ttfb: ctx.first_byte.map(|fb| fb.duration_since(ctx.start)),
        overhead: ctx.overhead(),
        error: ctx.error,
        tried: &ctx.tried,
        lossy: &ctx.lossy,
    }
}

/// Request, latency and token series of a routed request.
fn metrics(s: &RequestSummary<'_>, model: &str) {
    if !s.routed {
        return;
    }
    let route = s.route.unwrap_or("");
    let provider = s.provider.unwrap_or("");
    let m = &*METRICS;
    m.requests
        .with_label_values(&[route, provider, model, status_label(s.status).as_ref()])
        .inc();
    m.request_duration
        .with_label_values(&[route, provider])
        .observe(s.duration.as_secs_f64());
    m.overhead.observe(s.overhead.as_secs_f64());
    if let Some(fb) = s.ttfb {
        m.ttfb
            .with_label_values(&[provider, if s.stream { "true" } else { "false" }])
            .observe(fb.as_secs_f64());
    }
    let u = s.usage;
    for (kind, n) in [
        ("prompt", u.prompt_tokens),
        ("completion", u.completion_tokens),
        ("cached", u.cached_tokens),
        ("cache_write", u.cache_write_tokens),
        ("reasoning", u.reasoning_tokens),
    ] {
        if n > 0 {
            m.tokens
                .with_label_values(&[provider, model, kind])
                .inc_by(n);
        }
    }
}

/// The access-log line of a request.
fn access_record<'a>(s: &'a RequestSummary<'a>) -> Record<'a> {
    Record {
        ts: crate::access_log::timestamp(),
        request_id: s.request_id,
        method: s.method,
        path: s.path,
        status: s.status,
        key: s.key_name,
        route: s.route,
        provider: s.provider,
        model: s.requested_model,
        served_model: s.served_model,
        attempts: s.attempts,
        stream: s.stream,
        partial: s.partial,
        prompt_tokens: s.usage.prompt_tokens,
        completion_tokens: s.usage.completion_tokens,
        cached_tokens: s.usage.cached_tokens,
        reasoning_tokens: s.usage.reasoning_tokens,
        cost_usd: s.charge.micros().map(crate::catalog::cost::usd),
        priced: s.charge.unpriced(),
        duration_ms: ms(s.duration),
        ttfb_ms: s.ttfb.map(ms),
        overhead_ms: ms(s.overhead),
        error: s.error.map(ErrorKind::as_str),
        client: s.client.clone(),
        team: s.team,
        tried: s.tried,
        lossy: s.lossy,
    }
}

fn status_label(status: u16) -> std::borrow::Cow<'static, str> {
    match status {
        200 => "200".into(),
        400 => "400".into(),
        401 => "401".into(),
        404 => "404".into(),
        429 => "429".into(),
        499 => "499".into(),
        500 => "500".into(),
        502 => "502".into(),
        503 => "503".into(),
        504 => "504".into(),
        s => s.to_string().into(),
    }
}
