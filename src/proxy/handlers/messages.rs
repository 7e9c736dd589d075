//! The two endpoint handlers: read and parse the body, plan the targets, then either run the
//! shared forward loop or (for a local token count) answer directly.

use crate::config::ProviderKind;
use crate::error::GatewayError;
use crate::frontends::anthropic_messages::request::{self, MessagesRequest};
use crate::frontends::anthropic_messages::{MessagesJob, Op, count};
use crate::proxy::forward;
use crate::proxy::job::Job;
use crate::proxy::{Fail, GatewayState, Snapshot, body, ctx::RequestCtx, respond};
use crate::routing::Plan;
use crate::translate::request::ChatRequest;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use pingora::proxy::Session;
use std::sync::Arc;

/// Client headers forwarded to Anthropic providers.
const FORWARDED: [&str; 2] = ["anthropic-version", "anthropic-beta"];

fn forward_headers(session: &Session) -> Vec<(HeaderName, HeaderValue)> {
    let h = &session.req_header().headers;
    FORWARDED
        .iter()
        .filter_map(|name| {
            let values: Vec<&str> = h
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            if values.is_empty() {
                return None;
            }
            let joined = HeaderValue::from_str(&values.join(",")).ok()?;
            Some((HeaderName::from_static(name), joined))
        })
        .collect()
}

fn is_anthropic(snapshot: &Snapshot, plan: &Plan<'_>, i: usize) -> bool {
    plan.targets
        .get(i)
        .is_some_and(|t| snapshot.config.providers[t.provider].kind == ProviderKind::Anthropic)
}

/// `POST /v1/messages`.
pub async fn messages(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let raw = body::receive(state, snapshot, session, ctx).await?;
    let req = MessagesRequest::parse(&raw, false)?;
    ctx.requested_model = Some(req.model().to_string());
    ctx.stream = req.is_stream();
    let headers = &session.req_header().headers;
    let plan = crate::proxy::peer::by_model(state, snapshot, headers, ctx, req.model())?;
    let needs_translation = (0..plan.targets.len()).any(|i| !is_anthropic(snapshot, &plan, i));
    // Translated only when some target needs it; a refusal (say, a server tool) matters only
    // if such a target is actually tried.
    let translated = needs_translation.then(|| request::to_openai(&req));
    let parsed = match &translated {
        Some(Ok(body)) => Some(ChatRequest::parse(body)),
        _ => None,
    };
    let chat = match (&translated, &parsed) {
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e.clone())),
        (Some(Ok(body)), Some(Ok(chat))) => Some(Ok((chat, body.as_slice()))),
        _ => None,
    };
    let job = MessagesJob {
        op: Op::Create,
        raw: &raw,
        model_span: req.model_span(&raw).ok_or_else(GatewayError::internal)?,
        stream: req.is_stream(),
        chat,
        forward: forward_headers(session),
        max_tokens: req.max_tokens,
    };
    forward::run(
        state,
        snapshot,
        session,
        ctx,
        &plan,
        &Job::Messages(&job),
        true,
    )
    .await
}

/// `POST /v1/messages/count_tokens`: forwarded when the model's first target is an Anthropic
/// provider (failing over only to other Anthropic targets), estimated locally otherwise.
pub async fn count_tokens(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let raw = body::receive(state, snapshot, session, ctx).await?;
    let req = MessagesRequest::parse(&raw, true)?;
    ctx.requested_model = Some(req.model().to_string());
    let headers = &session.req_header().headers;
    let plan = crate::proxy::peer::by_model(state, snapshot, headers, ctx, req.model())?;
    if is_anthropic(snapshot, &plan, 0) {
        let anthropic = Plan {
            route: plan.route,
            skipped_context: Vec::new(),
            skipped_health: Vec::new(),
            targets: (0..plan.targets.len())
                .filter(|i| is_anthropic(snapshot, &plan, *i))
                .map(|i| plan.targets[i].clone())
                .collect(),
        };
        let job = MessagesJob {
            op: Op::CountTokens,
            raw: &raw,
            model_span: req.model_span(&raw).ok_or_else(GatewayError::internal)?,
            stream: false,
            chat: None,
            forward: forward_headers(session),
            max_tokens: None,
        };
        return forward::run(
            state,
            snapshot,
            session,
            ctx,
            &anthropic,
            &Job::Messages(&job),
            false,
        )
        .await;
    }
    ctx.route = plan.route.map(str::to_string);
    ctx.served_model = plan.targets.first().map(|t| t.model.to_string());
    drop(req);
    // Tokenizing a long conversation is CPU work: keep it off the async workers.
    let counted = tokio::task::spawn_blocking(move || {
        MessagesRequest::parse(&raw, true).map(|r| count::estimate(r.parts()))
    })
    .await
    .map_err(|_| GatewayError::internal())??;
    let body = format!("{{\"input_tokens\":{counted}}}");
    respond::json(
        session,
        ctx,
        200,
        Bytes::from(body),
        &[("x-switchyard-token-count", "estimate".to_string())],
    )
    .await
    .map_err(Fail::Downstream)
}
