//! Gathers the facts of a request for [`Router::plan`](crate::routing::Router::plan) and
//! counts the plan's skips. Expensive facts are computed only when needed: the last user
//! message and `metadata` only when a rule reads them, the prompt token estimate (tiktoken
//! `o200k_base`) only when a rule reads it or the cheap bound (body bytes / 2) could exceed
//! some target's context window.

pub mod attempts;
pub mod verdict;

use crate::error::GatewayError;
use crate::metrics::{METRICS, model_label};
use crate::proxy::ctx::RequestCtx;
use crate::proxy::{GatewayState, Snapshot};
use crate::routing::{Plan, PlanInput, PromptTokens};
use crate::translate::request::ChatRequest;
use http::HeaderMap;
use std::time::Instant;

/// Bodies up to this size are tokenized inline when a count is needed (well under a
/// millisecond); larger ones are counted on a blocking thread before planning.
pub const INLINE_COUNT_LIMIT: usize = 64 * 1024;

/// The prompt token estimate of a chat request body, computed on Tokio's blocking pool.
/// `None` if the body does not parse (the caller already validated it) or the task failed.
pub async fn count_off_thread(body: bytes::Bytes) -> Option<u64> {
    tokio::task::spawn_blocking(move || {
        let req = ChatRequest::parse(&body).ok()?;
        let (messages, tools) = req.raw_messages_and_tools();
        Some(crate::frontends::anthropic_messages::count::estimate_openai(messages, tools))
    })
    .await
    .ok()
    .flatten()
}

/// The plan of a chat completion (rules, overrides, context windows). `precounted` is the
/// prompt estimate when it was already computed off-thread.
pub fn chat<'a>(
    state: &GatewayState,
    snapshot: &'a Snapshot,
    headers: &HeaderMap,
    ctx: &mut RequestCtx,
    req: &'a ChatRequest<'a>,
    body_len: usize,
    precounted: Option<u64>,
) -> Result<Plan<'a>, GatewayError> {
    let router = &snapshot.router;
    let last_user = router
        .needs_last_user_message()
        .then(|| crate::translate::routing_params::last_user_text(req))
        .flatten();
    let metadata = router.needs_metadata().then(|| req.metadata()).flatten();
    let principal = ctx.principal.clone();
    let input = PlanInput {
        model: req.model(),
        models: req.fallback_models(),
        prefs: req.provider_prefs(),
        team: principal.as_ref().and_then(|p| p.team()),
        tags: principal.as_ref().map_or(&[], |p| p.tags()),
        has_tools: req.has_tools(),
        last_user_message: last_user.as_deref(),
        headers: Some(headers),
        metadata: metadata.as_ref(),
        max_output_tokens: req.max_output_tokens().unwrap_or(0),
        body_len,
    };
    let mut count = || {
        precounted.unwrap_or_else(|| {
            let (messages, tools) = req.raw_messages_and_tools();
            crate::frontends::anthropic_messages::count::estimate_openai(messages, tools)
        })
    };
    let mut tokens = PromptTokens::new(&mut count);
    let plan = router.plan(
        &input,
        &mut tokens,
        &state.health,
        Instant::now(),
        &mut || fastrand::f64(),
    );
    ctx.prompt_estimate = tokens.known();
    if let Ok(p) = &plan {
        note_skips(snapshot, ctx, p);
    }
    plan
}

/// The plan of a request routed by model only (embeddings, Anthropic Messages): rules on
/// the key and headers apply; body facts are absent.
pub fn by_model<'a>(
    state: &GatewayState,
    snapshot: &'a Snapshot,
    headers: &HeaderMap,
    ctx: &mut RequestCtx,
    model: &'a str,
) -> Result<Plan<'a>, GatewayError> {
    let principal = ctx.principal.clone();
    let input = PlanInput {
        model,
        team: principal.as_ref().and_then(|p| p.team()),
        tags: principal.as_ref().map_or(&[], |p| p.tags()),
        headers: Some(headers),
        ..PlanInput::default()
    };
    let mut count = || 0;
    let mut tokens = PromptTokens::new(&mut count);
    let plan = snapshot.router.plan(
        &input,
        &mut tokens,
        &state.health,
        Instant::now(),
        &mut || fastrand::f64(),
    );
    if let Ok(p) = &plan {
        note_skips(snapshot, ctx, p);
    }
    plan
}

/// Counts and logs targets the plan left out (context window, breaker, Retry-After).
fn note_skips(snapshot: &Snapshot, ctx: &mut RequestCtx, plan: &Plan<'_>) {
    let context = plan
        .skipped_context
        .iter()
        .map(|(p, m)| (*p, *m, "skipped_context_window"));
    let health = plan
        .skipped_health
        .iter()
        .map(|(p, m, reason)| (*p, *m, verdict::skip_label(*reason)));
    for (p, m, outcome) in context.chain(health) {
        let name = snapshot.config.providers[p].name.as_str();
        METRICS
            .target_attempts
            .with_label_values(&[name, model_label(m).as_str(), outcome])
            .inc();
        ctx.tried.push(format!("{name}/{m}:{outcome}"));
    }
}
