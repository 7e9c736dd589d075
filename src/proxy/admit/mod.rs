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

mod alerting;
mod refusal;

pub use refusal::refusal;

use crate::config::LimitsSettings;
use crate::error::{ErrorKind, GatewayError};
use crate::metrics::METRICS;
use crate::proxy::ctx::RequestCtx;
use crate::proxy::job::Job;
use crate::proxy::{GatewayState, Snapshot};
use crate::quota::{Demand, Denial, Scope, ScopeKind};
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
    allow_lists(&principal.key, ctx.requested_model.as_deref(), plan.route)?;
    if ctx.endpoint == crate::proxy::ctx::Endpoint::CountTokens {
        // Token counting is free and generates nothing: allow-lists apply, limits do not.
        return Ok(());
    }
    let limits = &snapshot.config.limits;
    let Some(scopes) = scopes(&principal.key, limits) else {
        // Nothing to count: no allocation, no store call.
        return Ok(());
    };
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
        Err(Denial::Unavailable(e)) => store_unavailable(&e, limits.fail_open),
        Err(denial) => {
            if let Denial::Budget { .. } = &denial {
                alerting::exhausted(state, &denial).await;
            }
            Err(refusal(&denial, SystemTime::now()))
        }
    }
}

/// The key's model and route allow-lists (403 naming what is not allowed).
fn allow_lists(
    key: &crate::keys::KeyRecord,
    model: Option<&str>,
    route: Option<&str>,
) -> Result<(), GatewayError> {
    if let Some(model) = model
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
    if let Some(route) = route
        && !key.allows_route(route)
    {
        return Err(GatewayError::new(
            403,
            ErrorKind::PermissionDenied,
            format!("This key may not use route '{route}'."),
        )
        .with_code("route_not_allowed"));
    }
    Ok(())
}

/// The limited scopes of a request by `key`: the key's, its team's, the gateway's; `None`
/// when none of them is limited.
fn scopes(key: &crate::keys::KeyRecord, limits: &LimitsSettings) -> Option<Vec<Scope>> {
    let team = key
        .team
        .as_ref()
        .and_then(|t| Some((t, limits.teams.get(&**t)?)))
        .filter(|(_, spec)| !spec.is_unlimited());
    if key.limits.is_unlimited() && team.is_none() && limits.global.is_unlimited() {
        return None;
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
    Some(scopes)
}

/// The counter store could not be reached: admit (fail open) or refuse with 503.
fn store_unavailable(e: &str, fail_open: bool) -> Result<(), GatewayError> {
    METRICS
        .quota_store_errors
        .with_label_values(&["reserve"])
        .inc();
    log_store_error(e);
    if fail_open {
        return Ok(());
    }
    Err(GatewayError::new(
        503,
        ErrorKind::Overloaded,
        "Limits cannot be checked right now (the counter store is unreachable); try again \
         shortly.",
    )
    .with_code("limits_unavailable")
    .with_retry_after(Some(1)))
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
        if let Some(p) = crate::proxy::observe::pricing::prices_of(provider, entry) {
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

/// Settles one reservation with the request's real tokens and cost; budget thresholds
/// crossed fire alerts (once across all instances). Runs off the request path
/// ([`crate::proxy::observe::settle`]).
pub async fn settle(state: &GatewayState, admitted: Admitted, tokens: u64, cost_micros: u64) {
    let now = SystemTime::now();
    match state
        .quota
        .settle(admitted.reservation, tokens, cost_micros, now)
        .await
    {
        Ok(crossings) => alerting::crossings(state, crossings).await,
        Err(e) => {
            METRICS
                .quota_store_errors
                .with_label_values(&["settle"])
                .inc();
            log_store_error(&e);
        }
    }
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
