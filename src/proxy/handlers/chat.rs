//! `POST /v1/chat/completions` and `POST /v1/embeddings`: read and parse the body, plan the
//! targets, then forward.

use crate::proxy::ctx::RequestCtx;
use crate::proxy::job::Job;
use crate::proxy::{Fail, GatewayState, Snapshot, body, forward, peer};
use crate::translate::embeddings::EmbeddingsRequest;
use crate::translate::request::ChatRequest;
use pingora::proxy::Session;
use std::sync::Arc;

/// Handles a chat completion end to end.
pub async fn chat(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let raw = body::receive(state, snapshot, session, ctx).await?;
    let req = ChatRequest::parse(&raw)?;
    ctx.requested_model = Some(req.model().to_string());
    ctx.stream = req.is_stream();
    // Tokenizing a large prompt takes milliseconds to seconds: do it on a blocking thread, not
    // on the worker that serves other requests. Small prompts are counted inline, if at all.
    let precounted = if raw.len() > peer::INLINE_COUNT_LIMIT {
        peer::count_off_thread(raw.clone()).await
    } else {
        None
    };
    let headers = &session.req_header().headers;
    let plan = peer::chat(state, snapshot, headers, ctx, &req, raw.len(), precounted)?;
    let job = Job::Chat {
        req: &req,
        raw: &raw,
    };
    forward::run(
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
    let raw = body::receive(state, snapshot, session, ctx).await?;
    let req = EmbeddingsRequest::parse(&raw)?;
    ctx.requested_model = Some(req.model.to_string());
    let headers = &session.req_header().headers;
    let plan = peer::by_model(state, snapshot, headers, ctx, &req.model)?;
    let job = Job::Embeddings {
        req: &req,
        raw: &raw,
    };
    forward::run(state, snapshot, session, ctx, &plan, &job, false).await
}
