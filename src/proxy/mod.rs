//! The Pingora `ProxyHttp` service, laid out by phase.
//!
//! All API traffic is answered in `request_filter` ("handler mode", see README §Architecture):
//! Pingora's own upstream phases cannot fail over before the first byte for bodies over its
//! 64 KiB replay buffer, so each step they would run stands in a module of its own, named
//! after the hook it replaces, and `upstream_peer` is never reached:
//!
//! | Step | Module | Pingora hook it stands for |
//! |---|---|---|
//! | path, method, auth, endpoint | [`handlers`] | `request_filter` |
//! | read the body | [`body`] | `request_body_filter` |
//! | limits and budgets | [`admit`] | `request_filter` (admission) |
//! | plan, then offer targets one by one | [`peer`] | `upstream_peer` |
//! | one attempt: connect, send, classify | [`upstream`] | `connected_to_upstream`, `upstream_response_filter`, `fail_to_connect`, `error_while_proxy` |
//! | the attempt loop | [`forward`] | Pingora's retry loop around `proxy_to_upstream` |
//! | translate and send the answer | [`relay`] | `response_filter`, `response_body_filter` |
//! | gateway-made answers and errors | [`respond`] | `fail_to_proxy` |
//! | metrics, access log, ledger, settlement, audit | [`observe`] | `logging` |

pub mod admit;
pub mod body;
pub mod ctx;
pub mod forward;
pub mod handlers;
pub mod job;
pub mod observe;
pub mod peer;
pub mod relay;
pub mod respond;
mod state;
pub mod upstream;

pub use state::{GatewayState, Snapshot};

use crate::error::GatewayError;
use async_trait::async_trait;
use ctx::RequestCtx;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use std::sync::Arc;

/// The proxy service.
pub struct Gateway {
    pub state: Arc<GatewayState>,
}

/// Why a handler stopped without writing a complete response.
#[derive(Debug)]
pub enum Fail {
    /// Answer with this error (nothing has been written yet).
    Respond(GatewayError),
    /// The client connection failed; nothing more can be written.
    Downstream(Box<pingora::Error>),
}

impl From<GatewayError> for Fail {
    fn from(e: GatewayError) -> Self {
        Fail::Respond(e)
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::new(self.state.in_flight.enter())
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        ctx.request_id = ctx::request_id(
            session
                .req_header()
                .headers
                .get("x-request-id")
                .map(|v| v.as_bytes()),
        );
        let snapshot = self.state.snapshot.load_full();
        ctx.snapshot = Some(snapshot.clone());
        match handlers::handle(&self.state, &snapshot, session, ctx).await {
            Ok(()) => Ok(true),
            Err(Fail::Respond(e)) => {
                respond::error(session, ctx, &e).await?;
                Ok(true)
            }
            Err(Fail::Downstream(e)) => {
                ctx.status = 499;
                Err(e)
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        // Every request is answered in request_filter; reaching here is a bug.
        pingora::Error::e_explain(
            pingora::ErrorType::InternalError,
            "handler mode: no native upstream",
        )
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &pingora::Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let client_gone = matches!(
            e.etype(),
            pingora::ErrorType::ReadError
                | pingora::ErrorType::WriteError
                | pingora::ErrorType::ConnectionClosed
        ) || session.response_written().is_some();
        if !client_gone {
            log::error!("request {}: unexpected failure: {e}", ctx.request_id);
            let _ = respond::error(session, ctx, &GatewayError::internal()).await;
        }
        FailToProxy {
            error_code: if client_gone { 0 } else { 500 },
            can_reuse_downstream: false,
        }
    }

    async fn logging(
        &self,
        session: &mut Session,
        _e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        observe::observe(&self.state, session, ctx);
    }
}

/// Resolves when the client has closed its connection (H1 FIN with abort-on-close, H2
/// stream reset); pending while it is still there.
async fn client_gone(session: &mut Session) -> Box<pingora::Error> {
    if let Some(idle) = session.as_downstream_mut().watch_h2_stream_close() {
        let _ = idle.await;
        return pingora::Error::explain(
            pingora::ErrorType::ConnectionClosed,
            "client closed the stream",
        );
    }
    loop {
        match session.as_downstream_mut().read_body_or_idle(true).await {
            Err(e) => return e,
            // No close signal available: wait forever (the other select! branch decides).
            Ok(None) => return std::future::pending().await,
            Ok(Some(_)) => {}
        }
    }
}
