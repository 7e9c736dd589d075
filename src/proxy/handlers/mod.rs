//! The endpoints: path and method dispatch, authentication, then the endpoint's handler.
//! Model endpoints (chat completions, embeddings, Messages) read the body, plan and forward;
//! the others answer from local state.

pub mod billing_api;
pub mod chat;
pub mod messages;
pub mod models;

use super::ctx::{Endpoint, RequestCtx};
use super::{Fail, GatewayState, Snapshot, respond};
use crate::error::{ErrorKind, GatewayError};
use bytes::Bytes;
use pingora::proxy::Session;
use std::sync::Arc;

/// Dispatches by path and method.
pub async fn handle(
    state: &GatewayState,
    snapshot: &Arc<Snapshot>,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), Fail> {
    let method = session.req_header().method.clone();
    let path = session
        .req_header()
        .uri
        .path()
        .trim_end_matches('/')
        .to_string();
    let Some((endpoint, allowed)) = route(&path) else {
        ctx.body_consumed = session.as_downstream_mut().is_body_empty();
        return Err(Fail::Respond(GatewayError::new(
            404,
            ErrorKind::NotFound,
            format!("Invalid URL ({method} {path})"),
        )));
    };
    ctx.endpoint = endpoint;
    ctx.body_consumed = !endpoint.reads_body() || session.as_downstream_mut().is_body_empty();
    if !allowed.contains(&method) {
        return method_not_allowed(session, ctx, &method, &path, allowed).await;
    }
    if endpoint == Endpoint::Health {
        let ok = Bytes::from_static(b"{\"status\":\"ok\"}");
        return respond::json(session, ctx, 200, ok, &[])
            .await
            .map_err(Fail::Downstream);
    }
    ctx.principal = Some(state.keys.authenticate(session.req_header())?);
    match endpoint {
        Endpoint::Models => models::list(snapshot, session, ctx, &path).await,
        Endpoint::ChatCompletions => chat::chat(state, snapshot, session, ctx).await,
        Endpoint::Embeddings => chat::embeddings(state, snapshot, session, ctx).await,
        Endpoint::Messages => messages::messages(state, snapshot, session, ctx).await,
        Endpoint::CountTokens => messages::count_tokens(state, snapshot, session, ctx).await,
        Endpoint::KeyInfo => billing_api::key_info(state, session, ctx).await,
        Endpoint::Usage => billing_api::usage(state, session, ctx).await,
        Endpoint::Health | Endpoint::Unknown => Ok(()),
    }
}

/// The endpoint at `path` and the methods it takes.
fn route(path: &str) -> Option<(Endpoint, &'static [http::Method])> {
    use http::Method;
    const GET: &[Method] = &[Method::GET];
    const POST: &[Method] = &[Method::POST];
    Some(match path {
        // `/` too: Claude Code probes its base URL with `HEAD /` before the first request.
        "/healthz" | "/health" | "" => (Endpoint::Health, &[Method::GET, Method::HEAD]),
        "/v1/models" => (Endpoint::Models, GET),
        p if p.starts_with("/v1/models/") => (Endpoint::Models, GET),
        "/v1/chat/completions" | "/chat/completions" => (Endpoint::ChatCompletions, POST),
        "/v1/embeddings" | "/embeddings" => (Endpoint::Embeddings, POST),
        "/v1/messages" => (Endpoint::Messages, POST),
        "/v1/messages/count_tokens" => (Endpoint::CountTokens, POST),
        "/v1/key/info" | "/key/info" => (Endpoint::KeyInfo, GET),
        "/v1/usage" | "/usage" => (Endpoint::Usage, GET),
        _ => return None,
    })
}

/// 405 with an `Allow` header naming the methods the path takes.
async fn method_not_allowed(
    session: &mut Session,
    ctx: &mut RequestCtx,
    method: &http::Method,
    path: &str,
    allowed: &[http::Method],
) -> Result<(), Fail> {
    let allow = allowed
        .iter()
        .map(http::Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let err = GatewayError::new(
        405,
        ErrorKind::MethodNotAllowed,
        format!("Method {method} is not allowed for {path}; use {allow}."),
    );
    ctx.error = Some(err.kind);
    let (status, body) = respond::error_body(ctx, &err);
    respond::json(session, ctx, status, body, &[("allow", allow)])
        .await
        .map_err(Fail::Downstream)
}
