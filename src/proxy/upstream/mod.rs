//! One attempt at one provider, through Pingora's pooled connector.
//!
//! An attempt succeeds only once there is something safe to commit to the client: a complete,
//! translated non-streaming body, or a stream that produced real output. Everything before that
//! (connect errors, timeouts, 429/5xx, an error event as the first stream event, a stream that
//! ends before any output) is an [`AttemptFailure`] the attempt loop may fail over from,
//! because nothing has reached the client yet.

mod failure;

pub use failure::AttemptFailure;
use failure::{first_byte_timeout, unreachable};

use super::Snapshot;
use crate::config::{ProviderId, ProviderSettings};
use crate::error::{ErrorKind, GatewayError};
use crate::frontends::ClientStream;
use crate::providers::{self, StreamState, TranslateCtx, UpstreamRequest};
use crate::translate::Usage;
use bytes::{Bytes, BytesMut};
use pingora::connectors::http::Connector;
use pingora::http::RequestHeader;
use pingora::protocols::http::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;
use std::time::{Duration, Instant};

/// Largest non-streaming response accepted from a provider.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// Largest error body read for its message.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// How long pooled upstream connections may idle.
const POOL_IDLE: Duration = Duration::from_secs(60);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything one attempt needs.
pub struct Attempt<'a> {
    pub connector: &'a Connector,
    pub snapshot: &'a Snapshot,
    pub provider_id: ProviderId,
    pub provider: &'a ProviderSettings,
    pub model: &'a str,
    pub request: &'a UpstreamRequest,
    pub job: &'a super::job::Job<'a>,
    /// Overall request deadline (across attempts).
    pub deadline: Instant,
    /// First-byte deadline of this attempt: the target's `max_latency_ms`, else the
    /// provider's `first_byte_timeout`.
    pub first_byte: Duration,
    pub translate: &'a TranslateCtx<'a>,
}

/// A stream that produced output and is ready to be relayed.
pub struct OpenStream {
    pub upstream: HttpSession,
    pub peer: HttpPeer,
    pub translator: ClientStream,
    /// Translated bytes not yet sent to the client.
    pub pending: BytesMut,
    /// The provider already signalled the end of the stream.
    pub complete: bool,
}

/// Result of an attempt.
pub enum Outcome {
    /// A translated non-streaming response.
    Complete { body: Bytes, usage: Usage },
    /// A stream to relay.
    Stream(Box<OpenStream>),
    /// Nothing was committed.
    Failed(AttemptFailure),
}

impl Attempt<'_> {
    /// Runs the attempt.
    pub async fn run(&self) -> Outcome {
        let first_byte_by = (Instant::now() + self.first_byte).min(self.deadline);
        let name = &self.provider.name;
        let peer = match self.resolve().await {
            Ok(addr) => self.peer(addr),
            Err(failure) => return Outcome::Failed(failure),
        };
        let Ok(header) = self.header() else {
            return Outcome::Failed(AttemptFailure::internal(GatewayError::internal()));
        };
        let upstream = match self.send(&peer, header, first_byte_by).await {
            Ok(s) => s,
            Err(failure) => return Outcome::Failed(failure),
        };
        let Some(status) = upstream.response_header().map(|r| r.status.as_u16()) else {
            let failure = AttemptFailure::connect(unreachable(name, "no response header"));
            return Outcome::Failed(failure);
        };
        if !(200..300).contains(&status) {
            return Outcome::Failed(self.refused(upstream, peer, status).await);
        }
        if self.job.stream() {
            self.open_stream(upstream, peer, first_byte_by).await
        } else {
            self.complete(upstream, peer).await
        }
    }

    /// The provider's address (DNS discovery through its balancer), within the connect timeout.
    async fn resolve(&self) -> Result<std::net::SocketAddr, AttemptFailure> {
        let name = &self.provider.name;
        let lookup = self.snapshot.upstreams.address(self.provider_id);
        match tokio::time::timeout(self.provider.timeouts.connect, lookup).await {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(e)) => {
                let host = &self.provider.endpoint.host;
                let detail = format!("cannot resolve {host}: {e}");
                Err(AttemptFailure::connect(unreachable(name, &detail)))
            }
            Err(_) => Err(AttemptFailure::connect(unreachable(
                name,
                "address resolution timed out",
            ))),
        }
    }

    /// A non-2xx answer: reads its (capped) error body, decodes it the provider's way and
    /// classifies the failure; the connection goes back to the pool when the body was read.
    async fn refused(
        &self,
        mut upstream: HttpSession,
        peer: HttpPeer,
        status: u16,
    ) -> AttemptFailure {
        let retry_after = upstream.response_header().and_then(retry_after);
        let by = Instant::now() + Duration::from_secs(5);
        let body = read_capped(&mut upstream, MAX_ERROR_BODY, by)
            .await
            .unwrap_or_default();
        let error = match upstream.response_header() {
            Some(head) => self
                .job
                .decode_error(self.provider, status, head, &body, retry_after),
            None => GatewayError::internal(),
        };
        if upstream.response_done() {
            self.connector
                .release_http_session(upstream, &peer, Some(POOL_IDLE))
                .await;
        }
        AttemptFailure::from_status(status, &body, error, retry_after)
    }

    fn peer(&self, addr: std::net::SocketAddr) -> HttpPeer {
        let e = &self.provider.endpoint;
        let mut peer = HttpPeer::new(
            addr,
            e.tls,
            if e.tls { e.host.clone() } else { String::new() },
        );
        peer.options.connection_timeout = Some(self.provider.timeouts.connect);
        peer.options.total_connection_timeout = Some(self.provider.timeouts.connect * 2);
        peer.options.idle_timeout = Some(POOL_IDLE);
        peer
    }

    fn header(&self) -> pingora::Result<RequestHeader> {
        let p = self.provider;
        let mut h = RequestHeader::build("POST", self.request.path.as_bytes(), Some(12))?;
        h.insert_header("host", p.endpoint.authority.as_str())?;
        h.insert_header("content-type", "application/json")?;
        h.insert_header("content-length", self.request.body.len().to_string())?;
        h.insert_header(
            "accept",
            if self.job.stream() {
                "text/event-stream"
            } else {
                "application/json"
            },
        )?;
        h.insert_header("accept-encoding", "identity")?;
        h.insert_header(
            "user-agent",
            concat!("switchyard/", env!("CARGO_PKG_VERSION")),
        )?;
        for (k, v) in &p.headers {
            h.insert_header(k.clone(), v.clone())?;
        }
        providers::add_auth_headers(p, &mut h)
            .map_err(|_| pingora::Error::new_str("auth header"))?;
        for (k, v) in &self.request.headers {
            h.insert_header(k.clone(), v.clone())?;
        }
        Ok(h)
    }

    /// Connects (pooled), sends the request and reads the response header. A pooled
    /// connection the provider had already closed is replaced once on a fresh one.
    async fn send(
        &self,
        peer: &HttpPeer,
        header: RequestHeader,
        by: Instant,
    ) -> Result<HttpSession, AttemptFailure> {
        let name = &self.provider.name;
        for retry_stale in [true, false] {
            let (mut session, reused) = match self.connector.get_http_session(peer).await {
                Ok(s) => s,
                Err(e) => {
                    let error = unreachable(name, &e.to_string());
                    return Err(if is_timeout(&e) {
                        AttemptFailure::timeout(error)
                    } else {
                        AttemptFailure::connect(error)
                    });
                }
            };
            let remaining = by.saturating_duration_since(Instant::now());
            session.set_write_timeout(Some(WRITE_TIMEOUT));
            session.set_read_timeout(Some(remaining.max(Duration::from_millis(1))));
            let exchange = async {
                session
                    .write_request_header(Box::new(header.clone()))
                    .await?;
                session
                    .write_request_body(self.request.body.clone(), true)
                    .await?;
                session.finish_request_body().await?;
                session.read_response_header().await
            };
            match tokio::time::timeout(remaining, exchange).await {
                Ok(Ok(())) => return Ok(session),
                // Pingora's own read deadline is the same instant as ours: whichever fires
                // first, it is the first-byte timeout, not a broken connection.
                Ok(Err(e)) if is_timeout(&e) => {
                    return Err(AttemptFailure::timeout(first_byte_timeout(name)));
                }
                Ok(Err(_)) if reused && retry_stale => continue,
                Ok(Err(e)) => {
                    return Err(AttemptFailure::connect(unreachable(name, &e.to_string())));
                }
                Err(_) => return Err(AttemptFailure::timeout(first_byte_timeout(name))),
            }
        }
        Err(AttemptFailure::connect(unreachable(
            name,
            "connection closed",
        )))
    }

    async fn complete(&self, mut upstream: HttpSession, peer: HttpPeer) -> Outcome {
        let name = &self.provider.name;
        let body = match read_capped(&mut upstream, MAX_RESPONSE_BYTES, self.deadline).await {
            Ok(b) => b,
            Err(e) => return Outcome::Failed(AttemptFailure::read(e.with_provider(name))),
        };
        if upstream.response_done() {
            self.connector
                .release_http_session(upstream, &peer, Some(POOL_IDLE))
                .await;
        }
        match self
            .job
            .decode(self.provider, &body, self.translate, self.model)
        {
            Ok(d) => Outcome::Complete {
                body: d.body,
                usage: d.usage,
            },
            // A decoded refusal (a blocked prompt, 4xx) is the client's, as in streams.
            Err(e) => Outcome::Failed(AttemptFailure::invalid_response(e)),
        }
    }

    /// Reads the stream until it carries real output (or ends), so failures before the first
    /// token can still fail over.
    async fn open_stream(&self, mut upstream: HttpSession, peer: HttpPeer, by: Instant) -> Outcome {
        let name = &self.provider.name;
        let mut translator =
            self.job
                .stream_translator(self.provider.kind, self.translate, self.model);
        let mut pending = BytesMut::with_capacity(4096);
        let mut complete = false;
        while !translator.has_output() && !complete {
            let remaining = by.saturating_duration_since(Instant::now());
            upstream.set_read_timeout(Some(remaining.max(Duration::from_millis(1))));
            match tokio::time::timeout(remaining, upstream.read_response_body()).await {
                Ok(Ok(Some(chunk))) => match translator.feed(&chunk, &mut pending) {
                    Ok(StreamState::Complete) => complete = true,
                    Ok(StreamState::Open) => {}
                    Err(e) => return Outcome::Failed(AttemptFailure::stream(e)),
                },
                Ok(Ok(None)) => match translator.finish(&mut pending) {
                    Ok(()) => complete = true,
                    Err(e) => return Outcome::Failed(AttemptFailure::stream(e)),
                },
                Ok(Err(e)) if is_timeout(&e) => {
                    return Outcome::Failed(AttemptFailure::timeout(first_byte_timeout(name)));
                }
                Ok(Err(e)) => {
                    return Outcome::Failed(AttemptFailure::read(unreachable(
                        name,
                        &e.to_string(),
                    )));
                }
                Err(_) => {
                    return Outcome::Failed(AttemptFailure::timeout(first_byte_timeout(name)));
                }
            }
        }
        Outcome::Stream(Box::new(OpenStream {
            upstream,
            peer,
            translator,
            pending,
            complete,
        }))
    }
}

/// Reads a whole body, failing past `cap` bytes or after `by`.
async fn read_capped(
    upstream: &mut HttpSession,
    cap: usize,
    by: Instant,
) -> Result<Bytes, ReadError> {
    let mut buf = BytesMut::new();
    loop {
        let remaining = by.saturating_duration_since(Instant::now());
        upstream.set_read_timeout(Some(remaining.max(Duration::from_millis(1))));
        match tokio::time::timeout(remaining, upstream.read_response_body()).await {
            Ok(Ok(Some(chunk))) => {
                if buf.len() + chunk.len() > cap {
                    return Err(ReadError::TooLarge);
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(Ok(None)) => return Ok(buf.freeze()),
            Ok(Err(e)) if is_timeout(&e) => return Err(ReadError::Timeout),
            Ok(Err(e)) => return Err(ReadError::Io(e.to_string())),
            Err(_) => return Err(ReadError::Timeout),
        }
    }
}

enum ReadError {
    TooLarge,
    Io(String),
    Timeout,
}

impl ReadError {
    fn with_provider(self, name: &str) -> GatewayError {
        match self {
            ReadError::TooLarge => GatewayError::new(
                502,
                ErrorKind::UpstreamFailure,
                format!("provider {name} sent a response larger than {MAX_RESPONSE_BYTES} bytes"),
            ),
            ReadError::Io(e) => unreachable(name, &format!("response interrupted: {e}")),
            ReadError::Timeout => GatewayError::new(
                504,
                ErrorKind::Timeout,
                format!("provider {name} did not finish its response before the request deadline"),
            ),
        }
    }
}

/// A Pingora connect, read or write timeout.
fn is_timeout(e: &pingora::Error) -> bool {
    matches!(
        e.etype(),
        pingora::ErrorType::ConnectTimedout
            | pingora::ErrorType::ReadTimedout
            | pingora::ErrorType::WriteTimedout
    )
}

/// `retry-after` (seconds) or `retry-after-ms`, capped at one hour.
fn retry_after(resp: &pingora::http::ResponseHeader) -> Option<u64> {
    let get = |name: &str| {
        resp.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
    };
    let secs = get("retry-after").or_else(|| get("retry-after-ms").map(|ms| ms / 1000.0))?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs.ceil() as u64).min(3600))
}
