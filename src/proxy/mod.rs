//! The Pingora `ProxyHttp` service. Each phase method is short and delegates to a concern
//! module; the phase map is documented in the crate root.
//!
//! All API traffic is answered in `request_filter` ("handler mode", see README §Architecture):
//! the body is read in full, the request is translated and sent through Pingora's pooled
//! [`Connector`], and the answer is translated back while it streams. `upstream_peer` is
//! therefore never reached.

mod admission;
mod alerting;
mod billing_api;
pub mod body;
pub mod ctx;
pub mod dispatch;
mod models;
pub mod planning;
pub mod pricing;
pub mod relay;
pub mod respond;
pub mod upstream;
mod verdict;

use crate::access_log::{AccessLog, Record};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::{ErrorKind, GatewayError};
use crate::lifecycle::InFlight;
use crate::metrics::{METRICS, model_label};
use crate::routing::Router;
use crate::routing::balancer::Upstreams;
use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use ctx::{Endpoint, RequestCtx};
use pingora::connectors::http::Connector;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use std::sync::Arc;

/// Config-derived state swapped as a whole (hot reload replaces the snapshot).
#[derive(Debug)]
pub struct Snapshot {
    pub config: Arc<Config>,
    pub router: Router,
    pub upstreams: Upstreams,
    /// Context windows, capabilities and prices of models (`config.catalog`).
    pub catalog: Arc<Catalog>,
}

/// Process-wide state shared by all requests.
pub struct GatewayState {
    pub snapshot: ArcSwap<Snapshot>,
    pub connector: Connector,
    pub access_log: AccessLog,
    pub ledger: crate::ledger::Ledger,
    pub in_flight: InFlight,
    /// Every client key (config and admin API); survives config reloads.
    pub keys: Arc<crate::keys::KeyDirectory>,
    /// Limit counters (`server.counters`): in process or Redis; fixed at start.
    pub quota: Arc<dyn crate::quota::CounterStore>,
    /// The ledger's read side (billing APIs), opened on first use.
    pub ledger_reader: Arc<crate::ledger::query::ReaderCell>,
    /// Budget-threshold webhook (`alerts.webhook`).
    pub alerts: crate::alerts::Alerts,
    /// Prompt/response capture of keys with `audit: true`.
    pub audit: crate::audit::AuditLog,
    /// Passive health of every target; survives config reloads (keyed by provider name and
    /// model, not by config index).
    pub health: crate::routing::health::HealthRegistry,
    /// Gateway-wide retry budget; survives config reloads.
    pub retry_budget: crate::routing::retry::RetryBudget,
}

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
        match self.handle(&snapshot, session, ctx).await {
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
        self.observe(session, ctx);
    }
}

impl Gateway {
    /// Dispatches by path and method.
    async fn handle(
        &self,
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
        let (endpoint, allowed): (Endpoint, &[http::Method]) = match path.as_str() {
            "/healthz" | "/health" => (Endpoint::Health, &[http::Method::GET, http::Method::HEAD]),
            "/v1/models" => (Endpoint::Models, &[http::Method::GET]),
            p if p.starts_with("/v1/models/") => (Endpoint::Models, &[http::Method::GET]),
            "/v1/chat/completions" | "/chat/completions" => {
                (Endpoint::ChatCompletions, &[http::Method::POST])
            }
            "/v1/embeddings" | "/embeddings" => (Endpoint::Embeddings, &[http::Method::POST]),
            "/v1/messages" => (Endpoint::Messages, &[http::Method::POST]),
            "/v1/messages/count_tokens" => (Endpoint::CountTokens, &[http::Method::POST]),
            "/v1/key/info" | "/key/info" => (Endpoint::KeyInfo, &[http::Method::GET]),
            "/v1/usage" | "/usage" => (Endpoint::Usage, &[http::Method::GET]),
            _ => {
                ctx.body_consumed = session.as_downstream_mut().is_body_empty();
                return Err(Fail::Respond(GatewayError::new(
                    404,
                    ErrorKind::NotFound,
                    format!("Invalid URL ({method} {path})"),
                )));
            }
        };
        ctx.endpoint = endpoint;
        ctx.body_consumed = !endpoint.reads_body() || session.as_downstream_mut().is_body_empty();
        if !allowed.contains(&method) {
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
            return respond::json(session, ctx, status, body, &[("allow", allow)])
                .await
                .map_err(Fail::Downstream);
        }
        if endpoint == Endpoint::Health {
            return respond::json(
                session,
                ctx,
                200,
                Bytes::from_static(b"{\"status\":\"ok\"}"),
                &[],
            )
            .await
            .map_err(Fail::Downstream);
        }
        ctx.principal = Some(self.state.keys.authenticate(session.req_header())?);
        match endpoint {
            Endpoint::Models => models::list(snapshot, session, ctx, &path).await,
            Endpoint::ChatCompletions => dispatch::chat(&self.state, snapshot, session, ctx).await,
            Endpoint::Embeddings => dispatch::embeddings(&self.state, snapshot, session, ctx).await,
            Endpoint::Messages => {
                crate::inbound::messages(&self.state, snapshot, session, ctx).await
            }
            Endpoint::CountTokens => {
                crate::inbound::count_tokens(&self.state, snapshot, session, ctx).await
            }
            Endpoint::KeyInfo => billing_api::key_info(&self.state, session, ctx).await,
            Endpoint::Usage => billing_api::usage(&self.state, session, ctx).await,
            Endpoint::Health | Endpoint::Unknown => Ok(()),
        }
    }

    /// Metrics, the access log line and the ledger row; never awaits.
    fn observe(&self, session: &Session, ctx: &mut RequestCtx) {
        let total = ctx.start.elapsed();
        let status = if ctx.status == 0 {
            session
                .response_written()
                .map(|r| r.status.as_u16())
                .unwrap_or(0)
        } else {
            ctx.status
        };
        let route = ctx.route.as_deref().unwrap_or("");
        let provider = ctx.provider_name().unwrap_or("");
        let model = ctx
            .served_model
            .as_deref()
            .map(model_label)
            .unwrap_or_default();
        let status_label = status_label(status);
        let m = &*METRICS;
        if ctx.endpoint.reads_body() {
            m.requests
                .with_label_values(&[route, provider, model.as_str(), status_label.as_ref()])
                .inc();
            m.request_duration
                .with_label_values(&[route, provider])
                .observe(total.as_secs_f64());
            m.overhead.observe(ctx.overhead().as_secs_f64());
            if let Some(fb) = ctx.first_byte {
                m.ttfb
                    .with_label_values(&[provider, if ctx.stream { "true" } else { "false" }])
                    .observe(fb.duration_since(ctx.start).as_secs_f64());
            }
            let u = ctx.usage;
            for (kind, n) in [
                ("prompt", u.prompt_tokens),
                ("completion", u.completion_tokens),
                ("cached", u.cached_tokens),
                ("cache_write", u.cache_write_tokens),
                ("reasoning", u.reasoning_tokens),
            ] {
                if n > 0 {
                    m.tokens
                        .with_label_values(&[provider, model.as_str(), kind])
                        .inc_by(n);
                }
            }
        }
        let charge = pricing::observe(ctx, provider, model.as_str());
        let req = session.req_header();
        let key = ctx.principal.as_ref().map(|p| p.name());
        self.state.access_log.record(&Record {
            ts: crate::access_log::timestamp(),
            request_id: &ctx.request_id,
            method: req.method.as_str(),
            path: req.uri.path(),
            status,
            key,
            route: ctx.route.as_deref(),
            provider: ctx.provider_name(),
            model: ctx.requested_model.as_deref(),
            served_model: ctx.served_model.as_deref(),
            attempts: ctx.attempts,
            stream: ctx.stream,
            prompt_tokens: ctx.usage.prompt_tokens,
            completion_tokens: ctx.usage.completion_tokens,
            cached_tokens: ctx.usage.cached_tokens,
            reasoning_tokens: ctx.usage.reasoning_tokens,
            cost_usd: match charge {
                Some(pricing::Charge::Priced(c)) => Some(crate::catalog::cost::usd(c)),
                _ => None,
            },
            priced: charge
                .filter(|c| !matches!(c, pricing::Charge::Priced(_)))
                .map(|_| false),
            duration_ms: ms(total),
            ttfb_ms: ctx.first_byte.map(|fb| ms(fb.duration_since(ctx.start))),
            overhead_ms: ms(ctx.overhead()),
            error: ctx.error.map(ErrorKind::as_str),
            client: session.client_addr().map(|a| a.to_string()),
            team: ctx.principal.as_ref().and_then(|p| p.team()),
            tried: &ctx.tried,
        });
        let cost = match charge {
            Some(pricing::Charge::Priced(c)) => Some(c),
            _ => None,
        };
        if let Some(row) = crate::ledger::build::row(ctx, status, key, cost) {
            self.state.ledger.record(row);
        }
        // The same cost the ledger row carries, so counters and ledger agree exactly.
        admission::settle(&self.state, ctx, cost);
        if let (Some(c), Some(p)) = (ctx.capture.take(), ctx.principal.as_ref()) {
            self.state.audit.record(crate::audit::AuditEvent {
                ts: std::time::SystemTime::now(),
                request_id: ctx.request_id.clone(),
                key_id: p.key.id.to_string(),
                key_name: p.key.name.to_string(),
                endpoint: crate::ledger::build::endpoint_label(ctx.endpoint)
                    .unwrap_or("other")
                    .to_string(),
                model: ctx
                    .served_model
                    .clone()
                    .or_else(|| ctx.requested_model.clone()),
                status,
                request: String::from_utf8_lossy(&c.request).into_owned(),
                response: String::from_utf8_lossy(&c.response).into_owned(),
            });
        }
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

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn status_label(status: u16) -> std::borrow::Cow<'static, str> {
    match status {
        200 => "200".into(),
        400 => "400".into(),
        401 => "401".into(),
        404 => "404".into(),
        429 => "429".into(),
        499 => "499".into(),
        500 => "500".into(),
        502 => "502".into(),
        503 => "503".into(),
        504 => "504".into(),
        s => s.to_string().into(),
    }
}
