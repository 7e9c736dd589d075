//! `POST /v1/chat/completions` and `POST /v1/embeddings`: read and parse the body, plan the
//! targets, then try them in order until one commits, failing over on anything that happened
//! before the first byte.

use super::ctx::RequestCtx;
use super::upstream::{Attempt, Outcome};
use super::verdict::{self, TargetLabels};
use super::{Fail, GatewayState, Snapshot, body, relay};
use crate::config::ProviderSettings;
use crate::error::GatewayError;
use crate::metrics::{METRICS, model_label};
use crate::providers::{self, TranslateCtx};
use crate::providers::{DecodedResponse, UpstreamRequest};
use crate::routing::Plan;
use crate::routing::health::{Admission, FailureKind};
use crate::routing::retry::Deadline;
use crate::translate::embeddings::EmbeddingsRequest;
use crate::translate::request::ChatRequest;
use crate::translate::unix_now;
use pingora::proxy::Session;
use std::sync::Arc;
use std::time::Instant;

/// What is asked of the providers: one request, built per target.
pub enum Job<'a> {
    Chat {
        req: &'a ChatRequest<'a>,
        raw: &'a [u8],
    },
    Embeddings {
        req: &'a EmbeddingsRequest<'a>,
        raw: &'a [u8],
    },
    /// An Anthropic Messages request (passed through or translated per target kind).
    Messages(&'a crate::inbound::MessagesJob<'a>),
}

/// What admission needs to know about a request's size.
#[derive(Debug, Clone, Copy)]
pub struct DemandHint {
    pub body_len: usize,
    /// The request's output cap, if it set one.
    pub max_output: Option<u64>,
    /// The request produces output tokens (not embeddings, not token counting).
    pub generates: bool,
}

impl Job<'_> {
    /// Size facts for admission.
    pub fn demand_hint(&self) -> DemandHint {
        match self {
            Job::Chat { req, raw } => DemandHint {
                body_len: raw.len(),
                max_output: req.max_output_tokens(),
                generates: true,
            },
            Job::Embeddings { raw, .. } => DemandHint {
                body_len: raw.len(),
                max_output: None,
                generates: false,
            },
            Job::Messages(m) => DemandHint {
                body_len: m.raw.len(),
                max_output: m.max_tokens,
                generates: m.op == crate::inbound::Op::Create,
            },
        }
    }

    /// The native request for `model` at `provider`.
    fn build(
        &self,
        provider: &ProviderSettings,
        model: &str,
    ) -> Result<UpstreamRequest, GatewayError> {
        match self {
            Job::Chat { req, raw } => providers::build_request(provider, req, raw, model),
            Job::Embeddings { req, raw } => providers::embeddings::build(provider, req, raw, model),
            Job::Messages(m) => m.build(provider, model),
        }
    }

    /// The client asked for a stream.
    pub fn stream(&self) -> bool {
        match self {
            Job::Chat { req, .. } => req.is_stream(),
            Job::Embeddings { .. } => false,
            Job::Messages(m) => m.stream(),
        }
    }

    /// Decodes a successful non-streaming answer.
    pub fn decode(
        &self,
        provider: &ProviderSettings,
        body: &[u8],
        translate: &TranslateCtx<'_>,
        model: &str,
    ) -> Result<DecodedResponse, GatewayError> {
        match self {
            Job::Chat { .. } => providers::decode_response(provider.kind, body, translate, model),
            Job::Embeddings { req, .. } => {
                providers::embeddings::decode(provider, body, req, model)
            }
            Job::Messages(m) => m.decode(provider, body, translate, model),
        }
    }

    /// The stream translator for an answer from a provider of `kind`.
    pub fn stream_translator(
        &self,
        kind: crate::config::ProviderKind,
        translate: &TranslateCtx<'_>,
        model: &str,
    ) -> providers::StreamTranslator {
        match self {
            Job::Messages(m) => m.stream_translator(kind, translate, model),
            _ => providers::StreamTranslator::new(kind, translate, model),
        }
    }
}

/// Handles a chat completion end to end.
pub async fn chat(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let server = &snapshot.config.server;
    let (raw, body_time) = body::read(session, server.max_body_bytes).await?;
    ctx.body_time = body_time;
    ctx.body_consumed = true;
    ctx.start_capture(state.audit.is_on(), snapshot.config.audit.max_bytes, &raw);
    session.as_downstream_mut().set_abort_on_close(true);
    let req = ChatRequest::parse(&raw)?;
    ctx.requested_model = Some(req.model().to_string());
    ctx.stream = req.is_stream();
    // Tokenizing a large prompt takes milliseconds to seconds: do it on a blocking thread, not
    // on the worker that serves other requests. Small prompts are counted inline, if at all.
    let precounted = if raw.len() > super::planning::INLINE_COUNT_LIMIT {
        super::planning::count_off_thread(raw.clone()).await
    } else {
        None
    };
    let headers = &session.req_header().headers;
    let plan = super::planning::chat(state, snapshot, headers, ctx, &req, raw.len(), precounted)?;
    let job = Job::Chat {
        req: &req,
        raw: &raw,
    };
    run(
        state,
        snapshot,
        session,
        ctx,
        &plan,
        &job,
        req.include_usage(),
    )
    .await
}

/// Handles an embeddings request end to end.
pub async fn embeddings(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let server = &snapshot.config.server;
    let (raw, body_time) = body::read(session, server.max_body_bytes).await?;
    ctx.body_time = body_time;
    ctx.body_consumed = true;
    ctx.start_capture(state.audit.is_on(), snapshot.config.audit.max_bytes, &raw);
    session.as_downstream_mut().set_abort_on_close(true);
    let req = EmbeddingsRequest::parse(&raw)?;
    ctx.requested_model = Some(req.model.to_string());
    let headers = &session.req_header().headers;
    let plan = super::planning::by_model(state, snapshot, headers, ctx, &req.model)?;
    let job = Job::Embeddings {
        req: &req,
        raw: &raw,
    };
    run(state, snapshot, session, ctx, &plan, &job, false).await
}

/// Tries the plan's targets in order until one commits a response.
///
/// Per target: the balancer's active health check and the target's passive health
/// (`admit`, right before sending) may skip it; every attempt after the first needs the
/// retry budget; failing over to a different target is immediate, while a second pass over
/// targets already tried (when `max_attempts` exceeds the distinct targets) first waits a
/// full-jitter backoff that must fit the request deadline. A target is re-tried only after a
/// failure that says something about its health (not after a context-window or client error).
pub async fn run(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
    plan: &Plan<'_>,
    job: &Job<'_>,
    include_usage: bool,
) -> Result<(), Fail> {
    let server = &snapshot.config.server;
    ctx.route = plan.route.map(str::to_string);
    super::admission::admit(state, snapshot, ctx, plan, job).await?;
    let deadline = Deadline::new(ctx.start, server.request_timeout);
    state.retry_budget.record_request(Instant::now());
    let request_id = ctx.request_id.clone();
    let translate = TranslateCtx {
        provider: "",
        request_id: &request_id,
        created: unix_now(),
        include_usage,
    };
    let healthy_exists = plan
        .targets
        .iter()
        .any(|t| snapshot.upstreams.is_healthy(t.provider));
    let mut last_error: Option<GatewayError> = None;
    // Per plan target: tried once, and whether trying it again may help.
    let mut tried = vec![false; plan.targets.len()];
    let mut repeatable = vec![true; plan.targets.len()];
    let mut backoffs = 0u32;
    'passes: loop {
        let mut sent_this_pass = false;
        for (i, target) in plan.targets.iter().enumerate() {
            if ctx.attempts >= server.max_attempts || deadline.expired(Instant::now()) {
                break 'passes;
            }
            if tried[i] && !repeatable[i] {
                continue;
            }
            let provider = &snapshot.config.providers[target.provider];
            if healthy_exists && !snapshot.upstreams.is_healthy(target.provider) {
                METRICS
                    .upstream_attempts
                    .with_label_values(&[provider.name.as_str(), "skipped_unhealthy"])
                    .inc();
                continue;
            }
            // A request the provider's translator refuses is the client's error: no failover.
            let upstream_request = job.build(provider, target.model)?;
            let labels = TargetLabels::new(&provider.name, target.model);
            let health = target.health.as_deref();
            let admitted = match health {
                Some(h) if !target.last_resort => match h.admit(Instant::now()) {
                    Admission::Deny(reason) => {
                        verdict::skipped(ctx, &labels, reason, h);
                        continue;
                    }
                    _ => true,
                },
                _ => false,
            };
            if ctx.attempts > 0 && !state.retry_budget.try_retry(Instant::now()) {
                verdict::retry_denied(ctx, &labels);
                verdict::abandoned(health, admitted);
                break 'passes;
            }
            if tried[i] {
                let wait = server.retry.backoff.delay(backoffs, fastrand::f64());
                backoffs += 1;
                if !deadline.fits(Instant::now(), wait) {
                    verdict::abandoned(health, admitted);
                    break 'passes;
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    gone = super::client_gone(session) => {
                        verdict::abandoned(health, admitted);
                        return Err(Fail::Downstream(gone));
                    }
                }
            }
            tried[i] = true;
            sent_this_pass = true;
            ctx.attempts += 1;
            ctx.provider = Some(provider.clone());
            ctx.served_model = Some(target.model.to_string());
            let attempt_ctx = TranslateCtx {
                provider: &provider.name,
                ..translate.clone()
            };
            let attempt = Attempt {
                connector: &state.connector,
                snapshot,
                provider_id: target.provider,
                provider,
                model: target.model,
                request: &upstream_request,
                job,
                deadline: deadline.at(),
                first_byte: target.max_latency.unwrap_or(provider.timeouts.first_byte),
                translate: &attempt_ctx,
            };
            let started = Instant::now();
            // A client that hangs up stops the attempt, so nobody pays for an unread answer.
            let outcome = tokio::select! {
                outcome = attempt.run() => outcome,
                gone = super::client_gone(session) => {
                    ctx.upstream_time += started.elapsed();
                    verdict::abandoned(health, admitted);
                    METRICS.upstream_attempts.with_label_values(&[provider.name.as_str(), "client_gone"]).inc();
                    return Err(Fail::Downstream(gone));
                }
            };
            let ttfb = started.elapsed();
            ctx.upstream_time += ttfb;
            let label = match &outcome {
                Outcome::Failed { label, .. } => *label,
                _ => "ok",
            };
            METRICS
                .upstream_attempts
                .with_label_values(&[provider.name.as_str(), label])
                .inc();
            let kind = verdict::record(ctx, &labels, health, admitted, &outcome, ttfb);
            repeatable[i] = kind.is_some_and(FailureKind::counts_against_health);
            match outcome {
                Outcome::Complete { body, usage } => {
                    ctx.usage = usage;
                    ctx.served = true;
                    ctx.cost_micros = super::pricing::cost_micros(snapshot, ctx);
                    note_failover(ctx);
                    return relay::complete(session, ctx, body).await;
                }
                Outcome::Stream(open) => {
                    ctx.served = true;
                    note_failover(ctx);
                    return relay::stream(
                        session,
                        ctx,
                        &state.connector,
                        open,
                        provider.timeouts.stream_idle,
                    )
                    .await;
                }
                Outcome::Failed {
                    error, retryable, ..
                } => {
                    log::info!(
                        "request {}: attempt {} at {} ({}) failed: {error}",
                        ctx.request_id,
                        ctx.attempts,
                        provider.name,
                        model_label(target.model)
                    );
                    if !retryable {
                        return Err(Fail::Respond(error));
                    }
                    last_error = Some(error);
                }
            }
        }
        if !sent_this_pass {
            break;
        }
    }
    Err(Fail::Respond(last_error.unwrap_or_else(|| {
        GatewayError::new(
            503,
            crate::error::ErrorKind::NoProvider,
            "no provider could take the request before the deadline",
        )
        .with_retry_after(Some(1))
    })))
}

fn note_failover(ctx: &RequestCtx) {
    if ctx.attempts > 1 {
        METRICS.failovers.inc();
    }
}
