//! Admission: before any provider is called, the key's allow-lists are checked and the
//! request's demand is reserved against the key's, its team's and the gateway's limits
//! ([`crate::quota`]); after the response, the reservation is settled with the real usage and
//! cost, and budget thresholds crossed by the settlement fire alerts.
//!
//! Demand: prompt tokens (the planner's tiktoken count ×5/4 when it made one — other
//! providers' tokenizers count up to a quarter more — else body bytes / 3) plus the output
//! cap (the request's `max_tokens`, clamped to the model's catalog maximum; without it the
//! catalog maximum, else `limits.default_max_tokens`); cost: the most expensive planned
//! target's price for that demand, prompt tokens billed at the dearer of the input and
//! cache-write prices. So a reservation is an upper bound of what the request can cost.

use super::ctx::RequestCtx;
use super::dispatch::Job;
use super::{GatewayState, Snapshot};
use crate::error::{ErrorKind, GatewayError};
use crate::metrics::METRICS;
use crate::quota::{Demand, Denial, LimitName, Scope, ScopeKind};
use crate::routing::Plan;
use crate::translate::Usage;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What was reserved for a request, settled in `logging`.
#[derive(Debug)]
pub struct Admitted {
    pub reservation: crate::quota::Reservation,
}

/// Checks the key's allow-lists and reserves the request's demand; on success the
/// reservation is kept in `ctx` for [`settle`].
pub async fn admit(
    state: &GatewayState,
    snapshot: &Snapshot,
    ctx: &mut RequestCtx,
    plan: &Plan<'_>,
    job: &Job<'_>,
) -> Result<(), GatewayError> {
    let Some(principal) = ctx.principal.clone() else {
        return Ok(());
    };
    let key = &principal.key;
    if let Some(model) = ctx.requested_model.as_deref()
        && !key.allows_model(model)
    {
        return Err(GatewayError::new(
            403,
            ErrorKind::PermissionDenied,
            format!("This key may not use model '{model}'."),
        )
        .with_param("model")
        .with_code("model_not_allowed"));
    }
    if let Some(route) = plan.route
        && !key.allows_route(route)
    {
        return Err(GatewayError::new(
            403,
            ErrorKind::PermissionDenied,
            format!("This key may not use route '{route}'."),
        )
        .with_code("route_not_allowed"));
    }
    if ctx.endpoint == super::ctx::Endpoint::CountTokens {
        // Token counting is free and generates nothing: allow-lists apply, limits do not.
        return Ok(());
    }
    let limits = &snapshot.config.limits;
    let team = key
        .team
        .as_ref()
        .and_then(|t| Some((t, limits.teams.get(&**t)?)))
        .filter(|(_, spec)| !spec.is_unlimited());
    if key.limits.is_unlimited() && team.is_none() && limits.global.is_unlimited() {
        // Nothing to count: no allocation, no store call.
        return Ok(());
    }
    let mut scopes: Vec<Scope> = Vec::with_capacity(3);
    if !key.limits.is_unlimited() {
        scopes.push(Scope {
            kind: ScopeKind::Key,
            id: key.id.clone(),
            limits: key.limits.clone(),
        });
    }
    if let Some((name, spec)) = team {
        scopes.push(Scope {
            kind: ScopeKind::Team,
            id: name.clone(),
            limits: spec.clone(),
        });
    }
    if !limits.global.is_unlimited() {
        static GLOBAL: std::sync::LazyLock<Arc<str>> =
            std::sync::LazyLock::new(|| Arc::from("global"));
        scopes.push(Scope {
            kind: ScopeKind::Global,
            id: GLOBAL.clone(),
            limits: limits.global.clone(),
        });
    }
    let demand = demand(snapshot, ctx, plan, job);
    match state
        .quota
        .reserve(&scopes, demand, SystemTime::now())
        .await
    {
        Ok(reservation) => {
            ctx.admitted = Some(Admitted { reservation });
            Ok(())
        }
        Err(Denial::Unavailable(e)) => {
            METRICS
                .quota_store_errors
                .with_label_values(&["reserve"])
                .inc();
            log_store_error(&e);
            if limits.fail_open {
                Ok(())
            } else {
                Err(GatewayError::new(
                    503,
                    ErrorKind::Overloaded,
                    "Limits cannot be checked right now (the counter store is unreachable); \
                     try again shortly.",
                )
                .with_code("limits_unavailable")
                .with_retry_after(Some(1)))
            }
        }
        Err(denial) => {
            if let Denial::Budget { .. } = &denial {
                super::alerting::exhausted(state, &denial).await;
            }
            Err(refusal(&denial, SystemTime::now()))
        }
    }
}

/// The request's demand: prompt and output tokens, and their highest possible cost.
fn demand(snapshot: &Snapshot, ctx: &RequestCtx, plan: &Plan<'_>, job: &Job<'_>) -> Demand {
    let hint = job.demand_hint();
    let prompt = match ctx.prompt_estimate {
        Some(n) => n.saturating_add(n.div_ceil(4)),
        None => (hint.body_len as u64).div_ceil(3),
    };
    let mut tokens = 0u64;
    let mut cost = 0u64;
    for t in &plan.targets {
        let provider = &snapshot.config.providers[t.provider];
        let entry = snapshot.catalog.lookup(provider.catalog_name(), t.model);
        let cap = entry.and_then(|m| m.max_output_tokens);
        let output = if !hint.generates {
            0
        } else {
            match (hint.max_output, cap) {
                (Some(asked), Some(cap)) => asked.min(cap),
                (Some(asked), None) => asked,
                (None, Some(cap)) => cap,
                (None, None) => snapshot.config.limits.default_max_tokens,
            }
        };
        tokens = tokens.max(prompt.saturating_add(output));
        if let Some(p) = super::pricing::prices_of(provider, entry) {
            let plain = Usage {
                prompt_tokens: prompt,
                completion_tokens: output,
                ..Usage::default()
            };
            let written = Usage {
                cache_write_tokens: prompt,
                ..plain
            };
            cost = cost.max(p.cost(&plain)).max(p.cost(&written));
        }
    }
    Demand {
        tokens,
        cost_micros: cost,
    }
}

/// Settles the request's reservation (if any) with its real usage and cost, off the request
/// path; budget thresholds crossed fire alerts (once across all instances).
pub fn settle(state: &Arc<GatewayState>, ctx: &mut RequestCtx, cost_micros: Option<u64>) {
    let Some(admitted) = ctx.admitted.take() else {
        return;
    };
    let tokens = ctx.usage.prompt_tokens + ctx.usage.completion_tokens;
    let cost = if ctx.served {
        cost_micros.unwrap_or(0)
    } else {
        0
    };
    let state = state.clone();
    crate::task::spawn_named("quota settle", async move {
        let now = SystemTime::now();
        match state
            .quota
            .settle(admitted.reservation, tokens, cost, now)
            .await
        {
            Ok(crossings) => super::alerting::crossings(&state, crossings).await,
            Err(e) => {
                METRICS
                    .quota_store_errors
                    .with_label_values(&["settle"])
                    .inc();
                log_store_error(&e);
            }
        }
    });
}

/// The client-facing error of a denial (OpenAI-shaped, naming the limit).
pub fn refusal(denial: &Denial, now: SystemTime) -> GatewayError {
    let whose = |kind: ScopeKind, id: &str| match kind {
        ScopeKind::Key => format!("key '{id}'"),
        ScopeKind::Team => format!("team '{id}'"),
        ScopeKind::Global => "this gateway".to_string(),
    };
    match denial {
        Denial::Rate {
            scope,
            id,
            limit,
            value,
            retry_after,
        } => {
            count(*scope, limit_label(*limit));
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            GatewayError::new(
                429,
                ErrorKind::RateLimited,
                format!(
                    "Rate limit reached for {} on {}: limit {value}. Please try again in {secs}s.",
                    whose(*scope, id),
                    limit.as_str()
                ),
            )
            .with_code("rate_limit_exceeded")
            .with_param(limit_label(*limit))
            .with_retry_after(Some(secs))
        }
        Denial::TooLarge {
            scope,
            id,
            limit,
            value,
            requested,
        } => {
            count(*scope, limit_label(*limit));
            GatewayError::new(
                429,
                ErrorKind::RateLimited,
                format!(
                    "Request too large for {} on {}: limit {value}, requested {requested}. \
                     Lower max_tokens or shorten the prompt.",
                    whose(*scope, id),
                    limit.as_str()
                ),
            )
            .with_code("rate_limit_exceeded")
            .with_param(limit_label(*limit))
            .final_answer()
        }
        Denial::Budget {
            scope,
            id,
            period,
            limit_micros,
            spent_micros,
            resets_at,
        } => {
            count(*scope, "budget");
            let name = period.as_str();
            let resets = match resets_at {
                Some(t) => format!("; it resets at {}", humantime::format_rfc3339_seconds(*t)),
                None => "; it does not reset (raise it to continue)".to_string(),
            };
            let retry = resets_at.map(|t| {
                t.duration_since(now)
                    .unwrap_or(Duration::ZERO)
                    .as_secs()
                    .max(1)
            });
            GatewayError::new(
                429,
                ErrorKind::BudgetExceeded,
                format!(
                    "Budget exceeded: the {name} budget of {} (${}) is spent (${} used or reserved){resets}.",
                    whose(*scope, id),
                    crate::catalog::cost::usd_string(*limit_micros),
                    crate::catalog::cost::usd_string(*spent_micros),
                ),
            )
            .with_code("budget_exceeded")
            .with_param(format!("budget.{name}"))
            .with_retry_after(retry)
            .final_answer()
        }
        Denial::Unavailable(_) => GatewayError::new(
            503,
            ErrorKind::Overloaded,
            "Limits cannot be checked right now; try again shortly.",
        ),
    }
}

fn limit_label(limit: LimitName) -> &'static str {
    match limit {
        LimitName::Rpm => "rpm",
        LimitName::Tpm => "tpm",
        LimitName::Concurrency => "max_concurrency",
    }
}

fn count(scope: ScopeKind, limit: &str) {
    METRICS
        .limit_denied
        .with_label_values(&[scope.as_str(), limit])
        .inc();
}

/// Logs a counter-store failure at most every 10 s.
fn log_store_error(e: &str) {
    use parking_lot::Mutex;
    use std::sync::LazyLock;
    use std::time::Instant;
    static LAST: LazyLock<Mutex<Option<Instant>>> = LazyLock::new(|| Mutex::new(None));
    let mut last = LAST.lock();
    if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
        log::error!("limits: counter store failed: {e}");
        *last = Some(Instant::now());
    }
}
