//! Per-target bookkeeping of the attempt loop: the health verdict of each attempt (exactly
//! one `record_*` per admitted attempt), Retry-After windows, per-target metrics and the
//! access log's `tried` list.

use crate::metrics::{METRICS, model_label};
use crate::proxy::ctx::RequestCtx;
use crate::proxy::upstream::AttemptFailure;
use crate::routing::health::{BreakerState, DenyReason, TargetHealth};
use std::time::{Duration, Instant};

/// Label values of one target.
pub struct TargetLabels<'a> {
    pub provider: &'a str,
    pub model: String,
}

impl<'a> TargetLabels<'a> {
    pub fn new(provider: &'a str, model: &str) -> Self {
        Self {
            provider,
            model: model_label(model),
        }
    }

    fn values<'s>(&'s self, third: &'s str) -> [&'s str; 3] {
        [self.provider, self.model.as_str(), third]
    }
}

/// A target skipped by its health: metrics and `tried`.
pub fn skipped(ctx: &mut RequestCtx, l: &TargetLabels<'_>, reason: DenyReason, h: &TargetHealth) {
    let outcome = skip_label(reason);
    METRICS
        .target_attempts
        .with_label_values(&l.values(outcome))
        .inc();
    ctx.tried
        .push(format!("{}/{}:{outcome}", l.provider, l.model));
    gauges(l, h);
}

/// The outcome label of a target skipped for its health.
pub fn skip_label(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::RetryAfter { .. } => "skipped_retry_after",
        DenyReason::Open { .. } | DenyReason::HalfOpenBusy => "skipped_breaker",
    }
}

/// What a sent attempt's outcome (`None`: success) means for the target's health, its
/// Retry-After window, the per-provider and per-target metrics and `ctx.tried`.
pub fn record(
    ctx: &mut RequestCtx,
    l: &TargetLabels<'_>,
    health: Option<&TargetHealth>,
    admitted: bool,
    failure: Option<&AttemptFailure>,
    ttfb: Duration,
) {
    let now = Instant::now();
    let verdict_on = health.filter(|_| admitted);
    let label = match failure {
        None => {
            if let Some(h) = verdict_on {
                h.record_success(now, ttfb);
            }
            "ok"
        }
        Some(f) => {
            let kind = f.kind();
            if let Some(h) = verdict_on {
                match kind {
                    Some(k) => h.record_failure(now, k),
                    None => h.record_abandoned(now),
                }
            }
            // No request reaches the target inside the provider's own window.
            if let (Some(h), Some(window)) = (health, f.retry_after()) {
                h.retry_after(now, window);
            }
            if let Some(k) = kind {
                METRICS
                    .target_failures
                    .with_label_values(&l.values(k.as_str()))
                    .inc();
            }
            f.label()
        }
    };
    METRICS
        .upstream_attempts
        .with_label_values(&[l.provider, label])
        .inc();
    METRICS
        .target_attempts
        .with_label_values(&l.values(label))
        .inc();
    ctx.tried
        .push(format!("{}/{}:{label}", l.provider, l.model));
    if let Some(h) = health {
        gauges(l, h);
    }
}

/// An admitted attempt that was never sent (budget, deadline, client gone): frees its slot.
pub fn abandoned(health: Option<&TargetHealth>, admitted: bool) {
    if let (Some(h), true) = (health, admitted) {
        h.record_abandoned(Instant::now());
    }
}

/// A retry the budget refused.
pub fn retry_denied(ctx: &mut RequestCtx, l: &TargetLabels<'_>) {
    METRICS
        .retries_denied
        .with_label_values(&[l.provider, l.model.as_str()])
        .inc();
    ctx.tried
        .push(format!("{}/{}:retry_budget_exhausted", l.provider, l.model));
}

/// Breaker state, EWMA and weight factor gauges of a target.
fn gauges(l: &TargetLabels<'_>, h: &TargetHealth) {
    let s = h.snapshot(Instant::now());
    let pm = [l.provider, l.model.as_str()];
    let state = match s.state {
        BreakerState::Closed => 0.0,
        BreakerState::HalfOpen => 1.0,
        BreakerState::Open => 2.0,
    };
    METRICS
        .target_breaker_state
        .with_label_values(&pm)
        .set(state);
    METRICS
        .target_weight_factor
        .with_label_values(&pm)
        .set(s.weight_factor);
    if let Some(ms) = s.ewma_ttfb_ms {
        METRICS.target_ttfb_ewma_ms.with_label_values(&pm).set(ms);
    }
}
