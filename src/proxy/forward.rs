//! Forwarding a planned request: admission, then the attempt loop — [`Attempts`] offers
//! targets, [`Attempt`] tries one, the first that produces something safe to send commits and
//! is relayed; everything that fails before that fails over.

use super::ctx::RequestCtx;
use super::job::Job;
use super::peer::attempts::{Admit, Attempts, Candidate, Ticket};
use super::upstream::{Attempt, AttemptFailure, Outcome};
use super::{Fail, GatewayState, Snapshot, relay};
use crate::error::{ErrorKind, GatewayError};
use crate::metrics::{METRICS, model_label};
use crate::providers::TranslateCtx;
use crate::routing::Plan;
use crate::translate::unix_now;
use pingora::proxy::Session;
use std::sync::Arc;
use std::time::Instant;

/// Admits the request against its limits, then tries the plan's targets until one commits.
pub async fn run(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
    plan: &Plan<'_>,
    job: &Job<'_>,
    include_usage: bool,
) -> Result<(), Fail> {
    ctx.route = plan.route.map(str::to_string);
    super::admit::admit(state, snapshot, ctx, plan, job).await?;
    let request_id = ctx.request_id.clone();
    let translate = TranslateCtx {
        provider: "",
        request_id: &request_id,
        created: unix_now(),
        include_usage,
        format: None,
        tool_answer: false,
    };
    let mut attempts = Attempts::new(state, snapshot, plan, ctx.start);
    let mut last: Option<AttemptFailure> = None;
    // The first translator refusal: the answer when no target can take the request.
    let mut refusal: Option<GatewayError> = None;
    while let Some(candidate) = attempts.next(ctx) {
        // A translator refusal says this target cannot honour the request; another target of
        // the route may, so it is skipped rather than answered.
        let request = match build(snapshot, job, &candidate) {
            Ok(r) => r,
            Err(e) if e.status == 400 => {
                log_refusal(ctx, &candidate, &e);
                attempts.refused(&candidate);
                refusal.get_or_insert(e);
                continue;
            }
            Err(e) => return Err(Fail::Respond(e)),
        };
        let ticket = match attempts.admit(&candidate, ctx, session).await? {
            Admit::Go(t) => t,
            Admit::Skip => continue,
            Admit::Stop => break,
        };
        let attempt = Attempt {
            connector: &state.connector,
            snapshot,
            provider_id: candidate.target.provider,
            provider: candidate.provider,
            model: candidate.model(),
            request: &request,
            job,
            deadline: attempts.deadline(),
            first_byte: candidate
                .target
                .max_latency
                .unwrap_or(candidate.provider.timeouts.first_byte),
            translate: &TranslateCtx {
                provider: &candidate.provider.name,
                tool_answer: request.tool_answer,
                ..translate.clone()
            },
        };
        let started = Instant::now();
        let outcome = race_client(session, ctx, &ticket, attempt.run()).await?;
        let ttfb = started.elapsed();
        ctx.upstream_time += ttfb;
        let failure = match outcome {
            Outcome::Failed(f) => f,
            committed => {
                attempts.record(ctx, ticket, None, ttfb);
                ctx.lossy.clone_from(&request.lossy);
                return commit(state, snapshot, session, ctx, &candidate, job, committed).await;
            }
        };
        attempts.record(ctx, ticket, Some(&failure), ttfb);
        log_failure(ctx, &candidate, &failure);
        if !failure.fails_over() {
            return Err(Fail::Respond(failure.into_error()));
        }
        last = Some(failure);
    }
    let error = match (last, refusal) {
        (Some(failure), _) => failure.into_error(),
        (None, Some(refused)) => refused,
        (None, None) => no_provider(),
    };
    Err(Fail::Respond(error))
}

/// The candidate's native request, for its model as the catalog describes it.
fn build(
    snapshot: &Snapshot,
    job: &Job<'_>,
    candidate: &Candidate<'_>,
) -> Result<crate::providers::UpstreamRequest, GatewayError> {
    let model = candidate.model();
    let facts = snapshot
        .catalog
        .lookup(candidate.provider.catalog_name(), model)
        .map(|m| crate::providers::ModelFacts {
            capabilities: &m.capabilities,
        })
        .unwrap_or_default();
    job.build(candidate.provider, model, facts)
}

fn log_refusal(ctx: &RequestCtx, candidate: &Candidate<'_>, e: &GatewayError) {
    log::info!(
        "request {}: {} ({}) cannot take the request: {}",
        ctx.request_id,
        candidate.provider.name,
        model_label(candidate.model()),
        e.message
    );
}

/// Runs `attempt` unless the client hangs up first, which stops it, so nobody pays for an
/// unread answer.
async fn race_client(
    session: &mut Session,
    ctx: &mut RequestCtx,
    ticket: &Ticket<'_>,
    attempt: impl std::future::Future<Output = Outcome>,
) -> Result<Outcome, Fail> {
    let started = Instant::now();
    tokio::select! {
        outcome = attempt => Ok(outcome),
        gone = super::client_gone(session) => {
            ctx.upstream_time += started.elapsed();
            ticket.abandon();
            METRICS.upstream_attempts.with_label_values(&[ticket.provider(), "client_gone"]).inc();
            Err(Fail::Downstream(gone))
        }
    }
}

fn log_failure(ctx: &RequestCtx, candidate: &Candidate<'_>, failure: &AttemptFailure) {
    log::info!(
        "request {}: attempt {} at {} ({}) failed: {}",
        ctx.request_id,
        ctx.attempts,
        candidate.provider.name,
        model_label(candidate.model()),
        failure.error()
    );
}

/// Sends a committed answer to the client.
async fn commit(
    state: &GatewayState,
    snapshot: &Snapshot,
    session: &mut Session,
    ctx: &mut RequestCtx,
    candidate: &Candidate<'_>,
    job: &Job<'_>,
    outcome: Outcome,
) -> Result<(), Fail> {
    ctx.served = true;
    if ctx.attempts > 1 {
        METRICS.failovers.inc();
    }
    match outcome {
        Outcome::Complete { body, usage } => {
            ctx.usage = usage;
            ctx.cost_micros = super::observe::pricing::cost_micros(snapshot, ctx);
            relay::complete(session, ctx, body).await
        }
        Outcome::Stream(open) => {
            let idle = candidate.provider.timeouts.stream_idle;
            let prompt = async || job.count_prompt().await;
            relay::stream(session, ctx, &state.connector, open, idle, prompt).await
        }
        Outcome::Failed(f) => Err(Fail::Respond(f.into_error())),
    }
}

/// Nothing could be tried before the deadline.
fn no_provider() -> GatewayError {
    GatewayError::new(
        503,
        ErrorKind::NoProvider,
        "no provider could take the request before the deadline",
    )
    .with_retry_after(Some(1))
}
