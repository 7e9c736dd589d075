//! The admin listener: `GET /metrics` (Prometheus text format), `GET /healthz`, and the admin
//! APIs under `/admin/` (keys: [`crate::keys::admin_api`]). Kept off the client listener so
//! metrics and admin APIs can be firewalled apart.
//!
//! Every `/admin/` request needs `Authorization: Bearer <admin token>`, compared in constant
//! time; without a configured token the admin APIs answer 403. Request bodies are read whole,
//! up to [`MAX_BODY`]. To add an admin API, give it a `handle(&AdminRequest) ->
//! Option<AdminResponse>` and chain it in [`AdminApp::route`].

use crate::error::{ErrorKind, GatewayError};
use crate::keys::KeysAdmin;
use crate::lifecycle::InFlight;
use crate::secret::Secret;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

pub use crate::admin_api::{AdminRequest, AdminResponse, MAX_BODY};

/// The admin HTTP app.
pub struct AdminApp {
    pub in_flight: InFlight,
    /// `admin.token`; `None` (or empty) disables the `/admin/` APIs.
    pub admin_token: Option<Secret>,
    /// The keys API.
    pub keys: Arc<KeysAdmin>,
    /// The ledger's read side, for `/admin/usage`.
    pub ledger_reader: Arc<crate::ledger::query::ReaderCell>,
}

/// Checks `Authorization: Bearer <token>` against the configured admin token in constant time
/// (both sides are hashed first, so not even the length leaks). 403 when no token is
/// configured, 401 when the header is missing or the token wrong.
pub fn check_admin_token(
    configured: Option<&Secret>,
    authorization: Option<&[u8]>,
) -> Result<(), GatewayError> {
    let Some(configured) = configured.filter(|s| !s.is_empty()) else {
        return Err(GatewayError::new(
            403,
            ErrorKind::PermissionDenied,
            "The admin API is disabled until `admin.token` is set in the config.",
        ));
    };
    let unauthorized = |m: &'static str| GatewayError::new(401, ErrorKind::Authentication, m);
    let token = authorization
        .ok_or_else(|| {
            unauthorized("Missing admin token; send `Authorization: Bearer <admin token>`.")
        })
        .and_then(|v| {
            crate::auth::bearer(v).ok_or_else(|| {
                unauthorized(
                    "Malformed Authorization header; expected `Authorization: Bearer <admin token>`.",
                )
            })
        })?;
    let want = Sha256::digest(configured.expose().as_bytes());
    let got = Sha256::digest(token);
    if bool::from(want.ct_eq(&got)) {
        Ok(())
    } else {
        Err(unauthorized("Incorrect admin token."))
    }
}

impl AdminApp {
    /// `GET /admin/usage?group_by=team|key|model&from=&to=&format=json|csv` (plus one filter,
    /// e.g. `team=research`).
    async fn usage(&self, req: &AdminRequest) -> AdminResponse {
        if req.method != http::Method::GET {
            return AdminResponse::error(&GatewayError::new(
                405,
                ErrorKind::MethodNotAllowed,
                "Method not allowed for /admin/usage; use GET.",
            ));
        }
        let answer = async {
            let q =
                crate::billing::UsageQuery::parse(req.query.as_deref(), crate::billing::today())?;
            let (from, to) = q.range();
            let reader = crate::billing::reader(&self.ledger_reader).await?;
            let rows = reader
                .grouped_usage(q.group_by, from, to, q.filter.clone())
                .await
                .map_err(|e| crate::billing::query_error(&e))?;
            crate::billing::usage::grouped_usage(&q, &rows)
        };
        match answer.await {
            Ok(r) => AdminResponse {
                status: 200,
                content_type: r.content_type,
                body: r.body,
            },
            Err(e) => AdminResponse::error(&e),
        }
    }

    /// Answers an authenticated `/admin/` request: each admin API in turn, 404 if none
    /// claims the path.
    pub async fn route(&self, req: &AdminRequest) -> AdminResponse {
        if let Some(r) = self.keys.handle(req).await {
            return r;
        }
        if req.path.trim_end_matches('/') == "/admin/usage" {
            return self.usage(req).await;
        }
        AdminResponse::error(&GatewayError::new(404, ErrorKind::NotFound, "not found"))
    }

    /// The answer to one request; `None` when the client connection failed.
    async fn answer(&self, http: &mut ServerSession) -> Option<AdminResponse> {
        let header = http.req_header();
        let path = header.uri.path().to_string();
        let method = header.method.clone();
        let get = method == http::Method::GET;
        let fixed = |status, body: &'static [u8]| AdminResponse {
            status,
            content_type: "application/json",
            body: Bytes::from_static(body),
        };
        match (get, path.as_str()) {
            (true, "/metrics") => {
                return Some(AdminResponse {
                    status: 200,
                    content_type: "text/plain; version=0.0.4",
                    body: Bytes::from(crate::metrics::render()),
                });
            }
            (true, "/healthz") => {
                return Some(AdminResponse {
                    status: 200,
                    content_type: "application/json",
                    body: Bytes::from(format!(
                        "{{\"status\":\"ok\",\"in_flight\":{}}}",
                        self.in_flight.count()
                    )),
                });
            }
            (false, "/metrics" | "/healthz") => {
                return Some(fixed(
                    405,
                    br#"{"error":{"message":"use GET","type":"invalid_request_error","param":null,"code":null}}"#,
                ));
            }
            (_, p) if p == "/admin" || p.starts_with("/admin/") => {}
            _ => {
                return Some(fixed(
                    404,
                    br#"{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}"#,
                ));
            }
        }
        let auth = header
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        if let Err(e) = check_admin_token(self.admin_token.as_ref(), auth) {
            http.set_keepalive(None);
            return Some(AdminResponse::error(&e));
        }
        let query = header.uri.query().map(str::to_string);
        let body = match read_body(http, MAX_BODY).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => {
                http.set_keepalive(None);
                return Some(AdminResponse::error(&GatewayError::new(
                    413,
                    ErrorKind::PayloadTooLarge,
                    format!("request body larger than {MAX_BODY} bytes"),
                )));
            }
            Err(BodyError::Io) => return None,
        };
        let req = AdminRequest {
            method,
            path,
            query,
            body,
        };
        Some(self.route(&req).await)
    }
}

enum BodyError {
    TooLarge,
    Io,
}

/// The whole request body, at most `cap` bytes.
async fn read_body(http: &mut ServerSession, cap: usize) -> Result<Bytes, BodyError> {
    let declared = http
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = http.read_request_body().await.map_err(|_| BodyError::Io)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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
        let answer = self.answer(&mut http).await?;
        let header = ResponseHeader::build(answer.status, Some(2)).and_then(|mut h| {
            h.insert_header("content-type", answer.content_type)?;
            h.insert_header("content-length", answer.body.len().to_string())?;
            Ok(h)
        });
        let Ok(header) = header else { return None };
        if http.write_response_header(Box::new(header)).await.is_err()
            || http.write_response_body(answer.body, true).await.is_err()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Secret {
        Secret::new("admin-secret-token".into())
    }

    /// No token configured → 403 naming the setting, whatever is presented.
    #[test]
    fn no_token_configured_is_403() {
        for configured in [None, Some(Secret::new(String::new()))] {
            let e = check_admin_token(configured.as_ref(), Some(b"Bearer anything")).unwrap_err();
            assert_eq!(e.status, 403);
            assert!(e.message.contains("admin.token"), "{}", e.message);
        }
    }

    /// Right token passes (scheme case-insensitive); missing, malformed, wrong, prefix or
    /// longer tokens are 401 and the message never echoes the token.
    #[test]
    fn token_must_match_exactly() {
        let t = token();
        assert!(check_admin_token(Some(&t), Some(b"Bearer admin-secret-token")).is_ok());
        assert!(check_admin_token(Some(&t), Some(b"bearer  admin-secret-token ")).is_ok());
        for presented in [
            None,
            Some(&b"admin-secret-token"[..]),
            Some(b"Basic admin-secret-token"),
            Some(b"Bearer admin-secret-toke"),
            Some(b"Bearer admin-secret-token2"),
            Some(b"Bearer sk-some-data-plane-key"),
            Some(b"Bearer "),
        ] {
            let e = check_admin_token(Some(&t), presented).unwrap_err();
            assert_eq!(e.status, 401, "{presented:?}");
            assert!(!e.message.contains("admin-secret"), "{}", e.message);
        }
    }
}
