//! Relaying a committed stream to the client, translating chunk by chunk.
//!
//! From the first byte written, failures can no longer fail over: a broken, stalled, truncated
//! or erroring upstream ends the client's stream with an in-band OpenAI error event and never
//! with `[DONE]`, so no client mistakes a cut answer for a complete one. A stream that does
//! not reach its end (the client left, or the provider failed) is billed with what was
//! generated ([`super::observe::partial`]).

use super::Fail;
use super::ctx::RequestCtx;
use super::respond;
use super::upstream::OpenStream;
use crate::error::{ErrorKind, GatewayError};
use crate::frontends::ClientStream;
use crate::metrics::METRICS;
use crate::providers::StreamState;
use bytes::{Bytes, BytesMut};
use pingora::connectors::http::Connector;
use pingora::protocols::http::client::HttpSession;
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;
use std::time::{Duration, Instant};

/// Streams `open` to the client. Returns when the stream ended (cleanly or with an in-band
/// error); `Err` only when the client went away. `prompt_tokens` estimates the prompt of a
/// cut stream whose provider reported none.
pub async fn stream(
    session: &mut Session,
    ctx: &mut RequestCtx,
    connector: &Connector,
    open: Box<OpenStream>,
    idle: Duration,
    prompt_tokens: impl AsyncFnOnce() -> u64,
) -> Result<(), Fail> {
    let OpenStream {
        mut upstream,
        peer,
        mut translator,
        pending,
        complete,
    } = *open;
    let mut pump = Pump {
        upstream: &mut upstream,
        translator: &mut translator,
        pending,
        idle,
        complete,
    };
    let outcome = pump.relay(session, ctx).await;
    ctx.usage = translator.usage();
    let cut = !matches!(outcome, Ok((true, None)));
    let ended = end(session, ctx, outcome).await;
    if cut {
        // After the client's stream has ended: counting a prompt can take a while.
        bill_partial(ctx, prompt_tokens).await;
    } else if ended.is_ok() {
        release(connector, upstream, &peer).await;
    }
    ended
}

/// Ends the client's stream: the in-band error of a failed stream, then the terminator.
async fn end(
    session: &mut Session,
    ctx: &mut RequestCtx,
    outcome: Result<(bool, Option<GatewayError>), Fail>,
) -> Result<(), Fail> {
    let (_, failure) = outcome?;
    if let Some(e) = &failure {
        fail_in_band(session, ctx, e).await?;
    }
    session
        .write_response_body(Some(Bytes::new()), true)
        .await
        .map_err(Fail::Downstream)
}

/// A stream cut before its end: usage the provider did not report is estimated from the
/// relayed text and the prompt ([`super::observe::partial`]).
async fn bill_partial(ctx: &mut RequestCtx, prompt_tokens: impl AsyncFnOnce() -> u64) {
    ctx.partial = true;
    let prompt = match (ctx.usage.prompt_tokens, ctx.prompt_estimate) {
        (0, Some(n)) => n,
        (0, None) => prompt_tokens().await,
        (n, _) => n,
    };
    ctx.usage = super::observe::partial::usage(ctx.usage, ctx.relayed.tokens(), || prompt);
}

/// The `200 text/event-stream` head.
async fn write_head(session: &mut Session, ctx: &mut RequestCtx) -> Result<(), Fail> {
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
        .map_err(Fail::Downstream)
}

/// Sends what the translator produced so far, counting the generated text in it.
async fn flush(
    session: &mut Session,
    ctx: &mut RequestCtx,
    pending: &mut BytesMut,
) -> Result<(), Fail> {
    if pending.is_empty() {
        return Ok(());
    }
    ctx.first_byte.get_or_insert_with(Instant::now);
    ctx.captured(pending);
    ctx.relayed.add(pending);
    session
        .write_response_body(Some(pending.split().freeze()), false)
        .await
        .map_err(Fail::Downstream)
}

/// Upstream bytes in, translated events out, until the stream completes or fails.
struct Pump<'a> {
    upstream: &'a mut HttpSession,
    translator: &'a mut ClientStream,
    pending: BytesMut,
    idle: Duration,
    complete: bool,
}

impl Pump<'_> {
    /// The head, what the translator produced while the stream was opened, then the rest of
    /// the stream: `(complete, failure)` as [`Pump::run`].
    async fn relay(
        &mut self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<(bool, Option<GatewayError>), Fail> {
        write_head(session, ctx).await?;
        flush(session, ctx, &mut self.pending).await?;
        let started = Instant::now();
        let outcome = self.run(session, ctx).await;
        ctx.upstream_time += started.elapsed();
        outcome
    }

    /// `(complete, failure)` once the stream is over; `Err` when the client went away.
    async fn run(
        &mut self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<(bool, Option<GatewayError>), Fail> {
        let provider = ctx.provider_name().unwrap_or("").to_string();
        self.upstream.set_read_timeout(Some(self.idle));
        let mut failure = None;
        while !self.complete && failure.is_none() {
            let read = tokio::select! {
                read = tokio::time::timeout(self.idle, self.upstream.read_response_body()) => read,
                gone = super::client_gone(session) => return Err(Fail::Downstream(gone)),
            };
            failure = match read {
                Ok(Ok(Some(chunk))) => self.feed(&chunk),
                Ok(Ok(None)) => self.finish(),
                Ok(Err(e)) => Some(interrupted(&provider, &e.to_string())),
                Err(_) => Some(stalled(&provider, self.idle)),
            };
            flush(session, ctx, &mut self.pending).await?;
        }
        Ok((self.complete, failure))
    }

    fn feed(&mut self, chunk: &[u8]) -> Option<GatewayError> {
        match self.translator.feed(chunk, &mut self.pending) {
            Ok(state) => {
                self.complete = state == StreamState::Complete;
                None
            }
            Err(e) => Some(e),
        }
    }

    fn finish(&mut self) -> Option<GatewayError> {
        match self.translator.finish(&mut self.pending) {
            Ok(()) => {
                self.complete = true;
                None
            }
            Err(e) => Some(e),
        }
    }
}

/// A failure after the first byte: one in-band error event in the client's format, never a
/// stream terminator.
async fn fail_in_band(
    session: &mut Session,
    ctx: &mut RequestCtx,
    e: &GatewayError,
) -> Result<(), Fail> {
    let provider = ctx.provider_name().unwrap_or("");
    log::warn!(
        "request {}: stream from {provider} ended with an error after the response started: {e}",
        ctx.request_id
    );
    METRICS
        .stream_errors
        .with_label_values(&[provider, e.kind.as_str()])
        .inc();
    ctx.error = Some(e.kind);
    session
        .write_response_body(Some(respond::error_event(ctx, e)), false)
        .await
        .map_err(Fail::Downstream)
}

/// Reads the rest of a completed stream (the chunked terminator) so the connection can return
/// to the pool.
async fn release(connector: &Connector, mut upstream: HttpSession, peer: &HttpPeer) {
    let drained = tokio::time::timeout(Duration::from_millis(100), async {
        while let Ok(Some(_)) = upstream.read_response_body().await {}
    })
    .await;
    if drained.is_ok() && upstream.response_done() {
        connector
            .release_http_session(upstream, peer, Some(Duration::from_secs(60)))
            .await;
    }
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
