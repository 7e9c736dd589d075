//! Writing gateway responses: the shared headers, JSON bodies and errors (OpenAI-shaped, or
//! Anthropic-shaped with a `request-id` header on the Messages endpoints).
//!
//! Every response carries `x-request-id`; routed ones add `x-switchyard-provider`,
//! `x-switchyard-attempts`, `x-switchyard-route` and `x-switchyard-model`; a non-streaming
//! answer whose cost is known adds `x-switchyard-cost-usd` (a stream's headers go out before
//! its usage is known, so streams have its cost only in the access log and metrics); an answer
//! from a target that dropped or approximated parameters the request used names them in
//! `x-switchyard-lossy`.

use super::ctx::RequestCtx;
use crate::error::GatewayError;
use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

/// A response header with the gateway's common headers.
pub fn header(
    status: u16,
    ctx: &RequestCtx,
    content_type: &str,
    content_length: Option<usize>,
) -> pingora::Result<ResponseHeader> {
    let mut h = ResponseHeader::build(status, Some(8))?;
    h.insert_header("content-type", content_type)?;
    if let Some(n) = content_length {
        h.insert_header("content-length", n.to_string())?;
    }
    h.insert_header("x-request-id", ctx.request_id.as_str())?;
    if ctx.endpoint.is_anthropic() {
        h.insert_header("request-id", ctx.request_id.as_str())?;
    }
    if let Some(p) = ctx.provider_name() {
        h.insert_header("x-switchyard-provider", p)?;
    }
    if ctx.attempts > 0 {
        h.insert_header("x-switchyard-attempts", ctx.attempts.to_string())?;
    }
    if let Some(r) = &ctx.route {
        h.insert_header("x-switchyard-route", r.as_str())?;
    }
    if let Some(m) = ctx
        .served_model
        .as_deref()
        .and_then(|m| http::HeaderValue::from_str(m).ok())
    {
        h.insert_header("x-switchyard-model", m)?;
    }
    if let Some(c) = ctx.cost_micros {
        h.insert_header("x-switchyard-cost-usd", crate::catalog::cost::usd_string(c))?;
    }
    if !ctx.lossy.is_empty() {
        h.insert_header("x-switchyard-lossy", ctx.lossy.join(","))?;
    }
    Ok(h)
}

/// Writes a complete JSON response.
pub async fn json(
    session: &mut Session,
    ctx: &mut RequestCtx,
    status: u16,
    body: Bytes,
    extra: &[(&'static str, String)],
) -> pingora::Result<()> {
    write(session, ctx, status, "application/json", body, extra).await
}

/// Writes a complete response of `content_type`.
pub async fn typed(
    session: &mut Session,
    ctx: &mut RequestCtx,
    status: u16,
    content_type: &'static str,
    body: Bytes,
) -> pingora::Result<()> {
    write(session, ctx, status, content_type, body, &[]).await
}

async fn write(
    session: &mut Session,
    ctx: &mut RequestCtx,
    status: u16,
    content_type: &'static str,
    body: Bytes,
    extra: &[(&'static str, String)],
) -> pingora::Result<()> {
    let mut h = header(status, ctx, content_type, Some(body.len()))?;
    for (k, v) in extra {
        h.insert_header(*k, v.as_str())?;
    }
    if !ctx.body_consumed {
        // The client may still be sending (or waiting to send) a body we will not read.
        session.set_keepalive(None);
    }
    ctx.status = status;
    session.write_response_header(Box::new(h), false).await?;
    ctx.first_byte.get_or_insert_with(std::time::Instant::now);
    ctx.captured(&body);
    session.write_response_body(Some(body), true).await
}

/// Status and body of `err` in the endpoint's error format (Anthropic on the Messages
/// endpoints, OpenAI everywhere else).
pub fn error_body(ctx: &RequestCtx, err: &GatewayError) -> (u16, Bytes) {
    if ctx.endpoint.is_anthropic() {
        (err.anthropic_status(), err.anthropic_body(&ctx.request_id))
    } else {
        (err.status, err.body())
    }
}

/// `err` as one in-band SSE error event in the endpoint's stream format.
pub fn error_event(ctx: &RequestCtx, err: &GatewayError) -> Bytes {
    if ctx.endpoint.is_anthropic() {
        err.anthropic_sse_event(&ctx.request_id)
    } else {
        err.sse_event()
    }
}

/// Writes `err` as an error response in the endpoint's format.
pub async fn error(
    session: &mut Session,
    ctx: &mut RequestCtx,
    err: &GatewayError,
) -> pingora::Result<()> {
    ctx.error = Some(err.kind);
    let mut extra: Vec<(&'static str, String)> = Vec::with_capacity(2);
    if let Some(s) = err.retry_after {
        extra.push(("retry-after", s.to_string()));
    }
    if err.final_answer || (ctx.attempts > 1 && (err.status == 429 || err.status >= 500)) {
        // The gateway already retried across providers; SDK retries would multiply the load.
        extra.push(("x-should-retry", "false".to_string()));
    }
    let (status, body) = error_body(ctx, err);
    json(session, ctx, status, body, &extra).await
}
