//! The admin listener: `GET /metrics` (Prometheus text format) and `GET /healthz`.
//! Kept off the client listener so metrics and future admin APIs can be firewalled apart.

use crate::lifecycle::InFlight;
use async_trait::async_trait;
use bytes::Bytes;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;
use std::sync::Arc;

/// The admin HTTP app.
pub struct AdminApp {
    pub in_flight: InFlight,
}

#[async_trait]
impl HttpServerApp for AdminApp {
    async fn process_new_http(
        self: &Arc<Self>,
        mut http: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        match http.read_request().await {
            Ok(true) => {}
            _ => return None,
        }
        http.set_keepalive(if *shutdown.borrow() { None } else { Some(60) });
        let path = http.req_header().uri.path().to_string();
        let get = http.req_header().method == http::Method::GET;
        let (status, content_type, body) = match (get, path.as_str()) {
            (true, "/metrics") => (200, "text/plain; version=0.0.4", Bytes::from(crate::metrics::render())),
            (true, "/healthz") => (200, "application/json", Bytes::from(format!("{{\"status\":\"ok\",\"in_flight\":{}}}", self.in_flight.count()))),
            (false, "/metrics" | "/healthz") => (405, "application/json", Bytes::from_static(br#"{"error":{"message":"use GET","type":"invalid_request_error","param":null,"code":null}}"#)),
            _ => (404, "application/json", Bytes::from_static(br#"{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}"#)),
        };
        let header = ResponseHeader::build(status, Some(2)).and_then(|mut h| {
            h.insert_header("content-type", content_type)?;
            h.insert_header("content-length", body.len().to_string())?;
            Ok(h)
        });
        let Ok(header) = header else { return None };
        if http.write_response_header(Box::new(header)).await.is_err()
            || http.write_response_body(body, true).await.is_err()
        {
            return None;
        }
        let settings = HttpPersistentSettings::for_session(&http);
        http.finish()
            .await
            .ok()
            .flatten()
            .map(|s| ReusedHttpStream::from_reusable_stream(s, settings))
    }
}
