//! The HTTP app: reads requests, routes them, records them, applies faults and hands answers to `delivery`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::Method;
use parking_lot::Mutex;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::RequestHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;
use serde_json::Value;

use crate::delivery::{self, Head, Outcome, StreamFaults};
use crate::directives::{DEFAULT_HANG_MS, Directives, FailMode, split_model};
use crate::error::ApiError;
use crate::recorder::{Entry, Recorder};
use crate::scenario::{self, Style, next_id};
use crate::{anthropic, cohere, context_window, gemini, ollama, openai};

mod chat;
mod embed;

/// Largest request body accepted (Anthropic's documented limit).
const MAX_BODY: usize = 32 * 1024 * 1024;

const MODELS_JSON: &str = r#"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"switchyard-emulator"},{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"switchyard-emulator"},{"id":"claude-sonnet-4-5","object":"model","created":1759104000,"owned_by":"switchyard-emulator"},{"id":"claude-haiku-4-5","object":"model","created":1760486400,"owned_by":"switchyard-emulator"}]}"#;

/// Which wire format a chat request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
    Cohere,
}

impl Api {
    fn error_body(self, e: &ApiError, request_id: u64) -> Bytes {
        Bytes::from(match self {
            Api::OpenAi => openai::error_body(e),
            Api::Anthropic => anthropic::error_body(e, request_id),
            Api::Gemini => gemini::error_body(e, None),
            Api::Ollama => ollama::error_body(e),
            Api::Cohere => cohere::error_body(e, request_id),
        })
    }

    fn status_error(self, status: u16) -> ApiError {
        match self {
            Api::OpenAi => openai::status_error(status),
            Api::Anthropic => anthropic::status_error(status),
            Api::Gemini => gemini::status_error(status),
            Api::Ollama => ollama::status_error(status),
            Api::Cohere => cohere::status_error(status),
        }
    }

    fn request_id_header(self) -> &'static str {
        match self {
            Api::OpenAi | Api::Gemini => "x-request-id",
            Api::Anthropic | Api::Ollama => "request-id",
            Api::Cohere => "x-trace-id",
        }
    }
}

enum Route {
    Chat(Api),
    Embeddings,
    Embed(Api),
    Bedrock(crate::bedrock::Op),
    CountTokens,
    Models,
    NotFound,
    MethodNotAllowed,
}

fn route(method: &Method, path: &str) -> Route {
    let (want, route) = if let Some((op, _)) = crate::bedrock::route(path) {
        (Method::POST, Route::Bedrock(op))
    } else if gemini::route(path).is_some() {
        (Method::POST, Route::Chat(Api::Gemini))
    } else if path.ends_with("/chat/completions") {
        (Method::POST, Route::Chat(Api::OpenAi))
    } else if path.ends_with("/embeddings") {
        (Method::POST, Route::Embeddings)
    } else if path.ends_with("/api/chat") {
        (Method::POST, Route::Chat(Api::Ollama))
    } else if path.ends_with("/v2/chat") {
        (Method::POST, Route::Chat(Api::Cohere))
    } else if path.ends_with("/api/embed") {
        (Method::POST, Route::Embed(Api::Ollama))
    } else if path.ends_with("/v2/embed") {
        (Method::POST, Route::Embed(Api::Cohere))
    } else if path.ends_with("/messages/count_tokens") {
        (Method::POST, Route::CountTokens)
    } else if path.ends_with("/messages") {
        (Method::POST, Route::Chat(Api::Anthropic))
    } else if path.ends_with("/models") {
        (Method::GET, Route::Models)
    } else {
        return Route::NotFound;
    };
    if *method == want {
        route
    } else {
        Route::MethodNotAllowed
    }
}

/// The emulator's [`HttpServerApp`]; one instance shared by all connections.
pub struct EmulatorApp {
    recorder: Recorder,
    rng: Mutex<fastrand::Rng>,
}

#[async_trait]
impl HttpServerApp for EmulatorApp {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        if !matches!(session.read_request().await, Ok(true)) {
            return None;
        }
        if *shutdown.borrow() {
            session.set_keepalive(None);
        }
        match self.handle(&mut session).await {
            Outcome::KeepAlive => {
                let settings = HttpPersistentSettings::for_session(&session);
                match session.finish().await {
                    Ok(Some(stream)) => {
                        Some(ReusedHttpStream::from_reusable_stream(stream, settings))
                    }
                    _ => None,
                }
            }
            Outcome::Close => {
                session.shutdown().await;
                None
            }
        }
    }
}

enum BodyError {
    TooLarge,
    Io,
}

async fn read_body(s: &mut ServerSession) -> Result<Bytes, BodyError> {
    let expect = s.get_header_bytes("expect");
    if expect.eq_ignore_ascii_case(b"100-continue") {
        s.write_continue_response()
            .await
            .map_err(|_| BodyError::Io)?;
    }
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    loop {
        match s.read_request_body().await {
            Ok(Some(chunk)) => {
                let total = buf.len() + first.as_ref().map_or(0, Bytes::len) + chunk.len();
                if total > MAX_BODY {
                    return Err(BodyError::TooLarge);
                }
                if first.is_none() && buf.is_empty() {
                    first = Some(chunk);
                } else {
                    if let Some(f) = first.take() {
                        buf.extend_from_slice(&f);
                    }
                    buf.extend_from_slice(&chunk);
                }
            }
            Ok(None) => break,
            Err(_) => return Err(BodyError::Io),
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

fn header_str<'a>(h: &'a RequestHeader, name: &str) -> Option<&'a str> {
    h.headers.get(name).and_then(|v| v.to_str().ok())
}

fn has_bearer(h: &RequestHeader) -> bool {
    header_str(h, "authorization")
        .filter(|v| {
            v.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
        })
        .is_some_and(|v| !v[7..].trim().is_empty())
}

fn all_headers(h: &RequestHeader) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in h.headers.iter() {
        let v = String::from_utf8_lossy(v.as_bytes());
        match out.get_mut(k.as_str()) {
            Some(e) => {
                e.push_str(", ");
                e.push_str(&v);
            }
            None => {
                out.insert(k.as_str().to_owned(), v.into_owned());
            }
        }
    }
    out
}

/// Azure deployment URLs (`/openai/deployments/{d}/…`).
fn is_azure_deployment(h: &RequestHeader) -> bool {
    h.uri.path().contains("/openai/deployments/")
}

/// Azure deployment URLs require `api-version`, as the real service does.
fn azure_url_error(h: &RequestHeader) -> Option<ApiError> {
    let has_version = h.uri.query().is_some_and(|q| {
        q.split('&')
            .any(|p| p.starts_with("api-version=") && p.len() > 12)
    });
    (is_azure_deployment(h) && !has_version).then(|| {
        ApiError::new(
            404,
            "Resource not found: api-version query parameter is required (switchyard-emulator)",
        )
        .code("404")
    })
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl EmulatorApp {
    pub fn new(record: bool, seed: u64) -> Self {
        Self {
            recorder: Recorder::new(record),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }

    async fn handle(&self, s: &mut ServerSession) -> Outcome {
        let method = s.req_header().method.clone();
        let path = s.req_header().uri.path().to_owned();
        if let Some(rest) = path.strip_prefix("/_emulator/") {
            return self.control(s, &method, rest).await;
        }
        let route = route(&method, &path);
        let body = match read_body(s).await {
            Ok(b) => b,
            Err(BodyError::Io) => return Outcome::Close,
            Err(BodyError::TooLarge) => {
                let api = match route {
                    Route::Chat(api) | Route::Embed(api) => api,
                    _ => Api::OpenAi,
                };
                let e = ApiError::new(
                    413,
                    "Request exceeds the maximum size of 32 MiB (switchyard-emulator).",
                );
                let head = Head::json(413);
                delivery::send_full(s, &head, api.error_body(&e, next_id()), None).await;
                return Outcome::Close; // the rest of the body was never read
            }
        };
        let json: Option<Value> = match route {
            Route::Chat(_) | Route::Embeddings | Route::Embed(_) | Route::CountTokens => {
                serde_json::from_slice(&body).ok()
            }
            _ => None,
        };
        if self.recorder.enabled() {
            let h = s.req_header();
            self.recorder.record(Entry {
                method: method.as_str().to_owned(),
                path: h
                    .uri
                    .path_and_query()
                    .map_or(path.clone(), |p| p.as_str().to_owned()),
                model: gemini::path_model(&path)
                    .or_else(|| {
                        json.as_ref()
                            .and_then(|v| v.get("model"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .or_else(|| crate::bedrock::recorded_model(&path)),
                headers: all_headers(h),
                body: body.clone(),
            });
        }
        match route {
            Route::Chat(api) => self.chat(s, api, &body, json).await,
            Route::Embeddings => self.embeddings(s, json).await,
            Route::Embed(api) => self.embed(s, api, json).await,
            Route::Bedrock(op) => match crate::bedrock::route(&path) {
                Some((_, id)) => self.bedrock(s, op, id, &body).await,
                None => Outcome::Close,
            },
            Route::CountTokens => {
                let h = s.req_header();
                let authorized = header_str(h, "x-api-key").is_some_and(|k| !k.trim().is_empty());
                crate::anthropic::count_tokens::answer(s, authorized, &body).await
            }
            Route::Models => {
                let head = Head::json(200);
                delivery::send_full(s, &head, Bytes::from_static(MODELS_JSON.as_bytes()), None)
                    .await
            }
            Route::NotFound | Route::MethodNotAllowed => {
                let status = if matches!(route, Route::NotFound) {
                    404
                } else {
                    405
                };
                let e = ApiError::new(
                    status,
                    format!("switchyard-emulator: no route for {method} {path}"),
                )
                .code("unknown_url");
                delivery::send_full(s, &Head::json(status), Api::OpenAi.error_body(&e, 0), None)
                    .await
            }
        }
    }

    /// `/_emulator/health`, `/_emulator/requests` (GET, DELETE), `/_emulator/stats`.
    async fn control(&self, s: &mut ServerSession, method: &Method, what: &str) -> Outcome {
        let body = match (method.as_str(), what) {
            ("GET", "health") => Bytes::from_static(b"{\"ok\":true}"),
            ("GET", "requests") => Bytes::from(self.recorder.requests_json()),
            ("DELETE", "requests") => {
                self.recorder.clear();
                Bytes::from_static(b"{\"ok\":true}")
            }
            ("GET", "stats") => Bytes::from(self.recorder.stats_json()),
            _ => {
                let e = ApiError::new(
                    404,
                    format!("switchyard-emulator: no control endpoint {method} /_emulator/{what}"),
                );
                return delivery::send_full(
                    s,
                    &Head::json(404),
                    Api::OpenAi.error_body(&e, 0),
                    None,
                )
                .await;
            }
        };
        delivery::send_full(s, &Head::json(200), body, None).await
    }

    /// Which failure, if any, this request gets.
    pub(crate) fn decide_fault(
        &self,
        d: &Directives,
        model: &str,
        header: Option<&str>,
    ) -> Option<FailMode> {
        if let Some(n) = d.fail_first {
            let key = match header {
                Some(h) => format!("{model}\u{1f}x-emulator:{h}"),
                None => model.to_owned(),
            };
            if self.recorder.bump_failure_counter(&key) <= n {
                return Some(match (d.status, d.hang_ms) {
                    (Some(s), _) => FailMode::Status(s),
                    (None, Some(_)) => FailMode::Timeout,
                    (None, None) => FailMode::Status(500),
                });
            }
        } else if let Some(s) = d.status.filter(|s| *s != 200) {
            return Some(FailMode::Status(s));
        }
        if let Some(p) = d.fail_rate {
            let mut rng = self.rng.lock();
            if rng.f64() < p {
                let modes = d.modes();
                return modes.get(rng.usize(..modes.len())).copied();
            }
        } else if d.fail_first.is_none() && d.hang_ms.is_some() {
            return Some(FailMode::Timeout);
        }
        None
    }

    pub(crate) async fn fail(
        &self,
        s: &mut ServerSession,
        api: Api,
        mut head: Head,
        e: &ApiError,
        req_id: u64,
    ) -> Outcome {
        head.status = e.status;
        delivery::send_full(s, &head, api.error_body(e, req_id), None).await
    }
}
