//! Bounded read of the client's request body.
//!
//! The whole body is read here, in `request_filter` ("handler mode"), because routing needs
//! `model` from it and failover must be able to resend it any number of times: Pingora's own
//! replay buffer holds only 64 KiB. `Content-Length` over the limit is refused before reading;
//! chunked bodies are refused as soon as they cross it.

use super::Fail;
use crate::error::{ErrorKind, GatewayError};
use bytes::{Bytes, BytesMut};
use pingora::proxy::Session;
use std::time::{Duration, Instant};

/// Longest wait for the next piece of a request body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the body, at most `limit` bytes. Returns it and the time spent reading.
pub async fn read(session: &mut Session, limit: usize) -> Result<(Bytes, Duration), Fail> {
    let declared = content_length(session)?;
    if declared.is_some_and(|n| n > limit) {
        return Err(Fail::Respond(too_large(limit)));
    }
    let started = Instant::now();
    let expects_continue = session
        .req_header()
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        session
            .as_downstream_mut()
            .write_continue_response()
            .await
            .map_err(Fail::Downstream)?;
    }
    session
        .as_downstream_mut()
        .set_read_timeout(Some(BODY_READ_TIMEOUT));
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(8 * 1024).min(limit));
    while let Some(chunk) = session
        .read_request_body()
        .await
        .map_err(Fail::Downstream)?
    {
        if buf.len() + chunk.len() > limit {
            return Err(Fail::Respond(too_large(limit)));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf.freeze(), started.elapsed()))
}

fn content_length(session: &Session) -> Result<Option<usize>, Fail> {
    match session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
    {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v.as_bytes())
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .map(Some)
            .ok_or_else(|| {
                Fail::Respond(GatewayError::bad_request("Invalid Content-Length header."))
            }),
    }
}

fn too_large(limit: usize) -> GatewayError {
    GatewayError::new(
        413,
        ErrorKind::PayloadTooLarge,
        format!("Request body exceeds the limit of {limit} bytes."),
    )
    .with_code("request_too_large")
}

/// The body phase of a model API request: the whole body, bounded by `server.max_body_bytes`;
/// records the time it took, starts the audit capture of audited keys, and from now on a
/// client that closes its connection is noticed (abort on close).
pub async fn receive(
    state: &super::GatewayState,
    snapshot: &super::Snapshot,
    session: &mut Session,
    ctx: &mut super::ctx::RequestCtx,
) -> Result<Bytes, super::Fail> {
    let (raw, body_time) = read(session, snapshot.config.server.max_body_bytes).await?;
    ctx.body_time = body_time;
    ctx.body_consumed = true;
    ctx.start_capture(state.audit.is_on(), snapshot.config.audit.max_bytes, &raw);
    session.as_downstream_mut().set_abort_on_close(true);
    Ok(raw)
}
