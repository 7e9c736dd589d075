//! Relaying a committed stream to the client, translating chunk by chunk.
//!
//! From the first byte written, failures can no longer fail over: a broken, stalled, truncated
//! or erroring upstream ends the client's stream with an in-band OpenAI error event and never
//! with `[DONE]`, so no client mistakes a cut answer for a complete one.

use super::Fail;
use super::ctx::RequestCtx;
use super::respond;
use super::upstream::OpenStream;
use crate::error::{ErrorKind, GatewayError};
use crate::metrics::METRICS;
use crate::providers::StreamState;
use bytes::Bytes;
use pingora::connectors::http::Connector;
use pingora::proxy::Session;
use std::time::{Duration, Instant};

/// Streams `open` to the client. Returns when the stream ended (cleanly or with an in-band
/// error); `Err` only when the client went away.
pub async fn stream(
    session: &mut Session,
    ctx: &mut RequestCtx,
    connector: &Connector,
    open: Box<OpenStream>,
    idle: Duration,
) -> Result<(), Fail> {
    let OpenStream {
        mut upstream,
        peer,
        mut translator,
        mut pending,
        mut complete,
    } = *open;
    let provider = ctx.provider_name().unwrap_or("").to_string();
    let mut header =
        respond::header(200, ctx, "text/event-stream", None).map_err(Fail::Downstream)?;
    header
        .insert_header("cache-control", "no-cache")
        .map_err(Fail::Downstream)?;
    header
        .insert_header("transfer-encoding", "chunked")
        .map_err(Fail::Downstream)?;
    ctx.status = 200;
    session
        .write_response_header(Box::new(header), false)
        .await
        .map_err(Fail::Downstream)?;
    if !pending.is_empty() {
        ctx.first_byte = Some(Instant::now());
        ctx.captured(&pending);
        session
            .write_response_body(Some(pending.split().freeze()), false)
            .await
            .map_err(Fail::Downstream)?;
    }
    let upstream_started = Instant::now();
    let mut failure: Option<GatewayError> = None;
    upstream.set_read_timeout(Some(idle));
    while !complete && failure.is_none() {
        let read = tokio::select! {
            read = tokio::time::timeout(idle, upstream.read_response_body()) => read,
            gone = super::client_gone(session) => {
                ctx.upstream_time += upstream_started.elapsed();
                ctx.usage = translator.usage();
                return Err(Fail::Downstream(gone));
            }
        };
        match read {
            Ok(Ok(Some(chunk))) => match translator.feed(&chunk, &mut pending) {
                Ok(state) => complete = state == StreamState::Complete,
                Err(e) => failure = Some(e),
            },
            Ok(Ok(None)) => match translator.finish(&mut pending) {
                Ok(()) => complete = true,
                Err(e) => failure = Some(e),
            },
            Ok(Err(e)) => failure = Some(interrupted(&provider, &e.to_string())),
            Err(_) => failure = Some(stalled(&provider, idle)),
        }
        if !pending.is_empty() {
            ctx.first_byte.get_or_insert_with(Instant::now);
            ctx.captured(&pending);
            session
                .write_response_body(Some(pending.split().freeze()), false)
                .await
                .map_err(Fail::Downstream)?;
        }
    }
    ctx.upstream_time += upstream_started.elapsed();
    ctx.usage = translator.usage();
    if let Some(e) = &failure {
        log::warn!(
            "request {}: stream from {provider} ended with an error after the response started: {e}",
            ctx.request_id
        );
        METRICS
            .stream_errors
            .with_label_values(&[provider.as_str(), e.kind.as_str()])
            .inc();
        ctx.error = Some(e.kind);
        session
            .write_response_body(Some(respond::error_event(ctx, e)), false)
            .await
            .map_err(Fail::Downstream)?;
    }
    session
        .write_response_body(Some(Bytes::new()), true)
        .await
        .map_err(Fail::Downstream)?;
    if complete {
        // Read the rest (the chunked terminator) so the connection can return to the pool.
        let drained = tokio::time::timeout(Duration::from_millis(100), async {
            while let Ok(Some(_)) = upstream.read_response_body().await {}
        })
        .await;
        if drained.is_ok() && upstream.response_done() {
            connector
                .release_http_session(upstream, &peer, Some(Duration::from_secs(60)))
                .await;
        }
    }
    Ok(())
}

fn interrupted(provider: &str, detail: &str) -> GatewayError {
    GatewayError::new(
        502,
        ErrorKind::UpstreamFailure,
        format!("provider {provider} connection broke mid-stream: {detail}"),
    )
    .with_code("stream_interrupted")
}

fn stalled(provider: &str, idle: Duration) -> GatewayError {
    GatewayError::new(
        504,
        ErrorKind::Timeout,
        format!(
            "provider {provider} sent nothing for {}s mid-stream",
            idle.as_secs_f64()
        ),
    )
    .with_code("stream_idle_timeout")
}

/// Writes a translated non-streaming completion.
pub async fn complete(
    session: &mut Session,
    ctx: &mut RequestCtx,
    body: Bytes,
) -> Result<(), Fail> {
    respond::json(session, ctx, 200, body, &[])
        .await
        .map_err(Fail::Downstream)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mid-stream errors are OpenAI error events the SDK raises on.
    #[test]
    fn error_events_are_openai_shaped() {
        let ev = interrupted("p", "reset").sse_event();
        let text = std::str::from_utf8(&ev).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(text.trim_start_matches("data: ").trim()).unwrap();
        assert_eq!(v["error"]["code"], "stream_interrupted");
        assert!(stalled("p", Duration::from_secs(3)).message.contains("3s"));
    }
}
