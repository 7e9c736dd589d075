//! The calling key's billing views: `GET /v1/key/info` (limits, current usage from the
//! counters, remaining rate and budget) and `GET /v1/usage` (spend and tokens by day and
//! model from the ledger; JSON, or CSV with `?format=csv`).

use crate::billing::key_info::{KeyInfoInput, KeyUsageNow};
use crate::error::GatewayError;
use crate::ledger::query::Spend;
use crate::metrics::METRICS;
use crate::proxy::ctx::RequestCtx;
use crate::proxy::{Fail, GatewayState, respond};
use crate::quota::{Scope, ScopeKind};
use pingora::proxy::Session;
use std::time::SystemTime;

/// `GET /v1/key/info`.
pub async fn key_info(
    state: &GatewayState,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let Some(principal) = ctx.principal.clone() else {
        return Err(GatewayError::internal().into());
    };
    let key = &principal.key;
    let now = SystemTime::now();
    let scope = Scope {
        kind: ScopeKind::Key,
        id: key.id.clone(),
        limits: key.limits.clone(),
    };
    let usage = match state.quota.usage(&scope, now).await {
        Ok(u) => u,
        Err(e) => {
            METRICS
                .quota_store_errors
                .with_label_values(&["usage"])
                .inc();
            log::warn!("key info: counter store failed: {e}");
            return Err(GatewayError::new(
                503,
                crate::error::ErrorKind::Overloaded,
                "Usage counters are unreachable right now; try again shortly.",
            )
            .with_retry_after(Some(1))
            .into());
        }
    };
    let rendered = crate::billing::key_info::render(&KeyInfoInput {
        name: &key.name,
        id: &key.id,
        team: key.team.as_deref(),
        org: key.org.as_deref(),
        limits: &key.limits,
        usage: KeyUsageNow {
            requests_last_minute: usage.requests_in_window,
            tokens_last_minute: usage.tokens_in_window,
            in_flight: usage.in_flight,
            spent: Spend {
                daily_micros: usage.spent_daily,
                monthly_micros: usage.spent_monthly,
                total_micros: usage.spent_total,
            },
        },
        expires_at: key.expires_at,
        now,
    })?;
    respond::json(session, ctx, 200, rendered.body, &[])
        .await
        .map_err(Fail::Downstream)
}

/// `GET /v1/usage?from=&to=&format=`.
pub async fn usage(
    state: &GatewayState,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let Some(principal) = ctx.principal.clone() else {
        return Err(GatewayError::internal().into());
    };
    let q = crate::billing::UsageQuery::parse(
        session.req_header().uri.query(),
        crate::billing::today(),
    )?;
    let (from, to) = q.range();
    let reader = crate::billing::reader(&state.ledger_reader).await?;
    let rows = reader
        .key_usage(&principal.key.id, from, to)
        .await
        .map_err(|e| crate::billing::query_error(&e))?;
    let rendered = crate::billing::usage::key_usage(&principal.key.id, &q, &rows)?;
    respond::typed(session, ctx, 200, rendered.content_type, rendered.body)
        .await
        .map_err(Fail::Downstream)
}
