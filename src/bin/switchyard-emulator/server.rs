//! The HTTP app: reads requests, routes them, records them, applies faults and hands answers to `delivery`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::Method;
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
use crate::{anthropic, anthropic_render, gemini, openai, openai_render};

#[path = "gemini_serve.rs"]
mod gemini_serve;
use crate::{cohere, cohere_render, context_window, ollama, ollama_render};

/// Largest request body accepted (Anthropic's documented limit).
const MAX_BODY: usize = 32 * 1024 * 1024;

const MODELS_JSON: &str = r#"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"switchyard-emulator"},{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"switchyard-emulator"},{"id":"claude-sonnet-4-5","object":"model","created":1759104000,"owned_by":"switchyard-emulator"},{"id":"claude-haiku-4-5","object":"model","created":1760486400,"owned_by":"switchyard-emulator"}]}"#;

/// Which wire format a chat request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
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
                crate::count_tokens::answer(s, authorized, &body).await
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
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            if rng.f64() < p {
                let modes = d.modes();
                return modes.get(rng.usize(..modes.len())).copied();
            }
        } else if d.fail_first.is_none() && d.hang_ms.is_some() {
            return Some(FailMode::Timeout);
        }
        None
    }

    async fn chat(
        &self,
        s: &mut ServerSession,
        api: Api,
        body: &[u8],
        json: Option<Value>,
    ) -> Outcome {
        let req_id = next_id();
        let mut head = Head::json(400);
        head.headers
            .push((api.request_id_header(), format!("req_emu{req_id}")));
        let h = s.req_header();
        let authorized = match api {
            // Azure OpenAI authenticates with `api-key`.
            Api::OpenAi => {
                has_bearer(h) || header_str(h, "api-key").is_some_and(|k| !k.trim().is_empty())
            }
            Api::Cohere => has_bearer(h),
            Api::Ollama => true,
            Api::Anthropic => {
                header_str(h, "x-api-key").is_some_and(|k| !k.trim().is_empty()) || has_bearer(h)
            }
            Api::Gemini => header_str(h, "x-goog-api-key").is_some_and(|k| !k.trim().is_empty()),
        };
        let early = if !authorized {
            Some(match api {
                Api::OpenAi => ApiError::new(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). (switchyard-emulator)").code("invalid_api_key"),
                Api::Anthropic => ApiError::new(401, "x-api-key header is required (switchyard-emulator)"),
                Api::Gemini => gemini::missing_key(),
                Api::Cohere => ApiError::new(401, "no api key supplied (switchyard-emulator)"),
                Api::Ollama => ApiError::new(401, "unauthorized (switchyard-emulator)"),
            })
        } else if let Some(e) = azure_url_error(h) {
            Some(e)
        } else if api == Api::Anthropic && header_str(h, "anthropic-version").is_none() {
            Some(ApiError::bad_request(
                "anthropic-version: header is required (switchyard-emulator)",
            ))
        } else {
            None
        };
        if let Some(e) = early {
            return self.fail(s, api, head, &e, req_id).await;
        }
        let Some(json) = json else {
            let e = match serde_json::from_slice::<Value>(body) {
                Err(err) => ApiError::bad_request(format!(
                    "There was an error parsing the body of your request as JSON: {err} (switchyard-emulator)"
                )),
                Ok(_) => ApiError::bad_request("invalid request body"),
            };
            return self.fail(s, api, head, &e, req_id).await;
        };
        let gemini_route = match api {
            Api::Gemini => gemini::route(s.req_header().uri.path()),
            _ => None,
        };
        let model_full = match &gemini_route {
            Some((m, _)) => m.as_str(),
            None => json
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        };
        let (model, spec) = split_model(model_full);
        let (block, spec) = match api {
            Api::Gemini => gemini::take_block(spec),
            _ => (None, spec.map(str::to_owned)),
        };
        let header_spec = header_str(s.req_header(), "x-emulator");
        let d = match Directives::parse(spec.as_deref(), header_spec) {
            Ok(d) => d,
            Err(msg) => {
                return self
                    .fail(s, api, head, &ApiError::bad_request(msg), req_id)
                    .await;
            }
        };
        head.ttfb_ms = d.ttfb_ms;
        if let Some(secs) = d.retry_after {
            head.headers.push(("retry-after", secs.to_string()));
        }
        if d.context_exceeded {
            let e = match api {
                Api::OpenAi => context_window::openai(),
                Api::Anthropic => context_window::anthropic(),
                Api::Gemini => context_window::gemini(),
                Api::Cohere => context_window::cohere(),
                Api::Ollama => context_window::ollama(),
            };
            return self.fail(s, api, head, &e, req_id).await;
        }
        match self.decide_fault(&d, model_full, header_spec) {
            None => {}
            Some(FailMode::Refuse) => return Outcome::Close,
            Some(FailMode::Timeout) => {
                let ms = d.hang_ms.unwrap_or(DEFAULT_HANG_MS);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                return Outcome::Close;
            }
            Some(FailMode::Status(status)) if api == Api::Gemini => {
                head.status = status;
                let e = api.status_error(status);
                let body = Bytes::from(gemini::error_body(&e, d.retry_after));
                return delivery::send_full(s, &head, body, None).await;
            }
            Some(FailMode::Status(status)) => {
                return self
                    .fail(s, api, head, &api.status_error(status), req_id)
                    .await;
            }
        }
        if let Some((_, method)) = gemini_route {
            let call = gemini_serve::Call {
                model,
                method,
                block,
            };
            return self.gemini(s, head, &json, call, &d, req_id).await;
        }
        let result = match api {
            Api::OpenAi => openai::parse(&json).map(|r| (r.stream, r.include_usage, r.conv)),
            Api::Anthropic => anthropic::parse(&json).map(|r| (r.stream, false, r.conv)),
            // Gemini requests were answered by `gemini()` above.
            Api::Gemini => Err(ApiError::new(500, "unreachable")),
            Api::Ollama => ollama::parse(&json).map(|r| (r.stream, false, r.conv)),
            Api::Cohere => cohere::parse(&json).map(|r| (r.stream, false, r.conv)),
        };
        let (stream, include_usage, conv) = match result {
            Ok(r) => r,
            Err(e) => return self.fail(s, api, head, &e, req_id).await,
        };
        let style = match api {
            Api::OpenAi | Api::Gemini => Style::default(),
            Api::Anthropic => Style {
                tool_preamble: Some(anthropic_render::TOOL_PREAMBLE),
                thinking: d.thinking,
            },
            Api::Ollama => Style {
                tool_preamble: None,
                thinking: d.thinking,
            },
            Api::Cohere => Style {
                tool_preamble: Some(cohere_render::TOOL_PLAN),
                thinking: d.thinking,
            },
        };
        let plan = scenario::plan(&conv, &d, style);
        head.status = 200;
        let id = req_id;
        let oa = openai_render::Ctx {
            id,
            created: now_secs(),
            model,
            include_usage,
            no_usage: d.no_usage,
            no_done: d.no_done,
        };
        let an = anthropic_render::Ctx {
            id,
            model,
            no_usage: d.no_usage,
        };
        let ol = ollama_render::Ctx {
            model,
            no_usage: d.no_usage,
            no_done: d.no_done,
        };
        let co = cohere_render::Ctx {
            id,
            no_usage: d.no_usage,
        };
        if !stream {
            let out = match api {
                Api::OpenAi => openai_render::render_json(&plan, &oa),
                Api::Anthropic => anthropic_render::render_json(&plan, &an),
                Api::Gemini => Vec::new(), // answered by `gemini()` above
                Api::Ollama => ollama_render::render_json(&plan, &ol),
                Api::Cohere => cohere_render::render_json(&plan, &co),
            };
            return delivery::send_full(s, &head, Bytes::from(out), d.drop_after).await;
        }
        let (events, error_event) = match api {
            Api::OpenAi => (
                openai_render::render_sse(&plan, &oa),
                openai_render::stream_error_event(),
            ),
            Api::Anthropic => (
                anthropic_render::render_sse(&plan, &an),
                anthropic_render::stream_error_event(),
            ),
            Api::Ollama => (
                ollama_render::render_ndjson(&plan, &ol),
                ollama_render::stream_error_event(),
            ),
            Api::Cohere => (
                cohere_render::render_sse(&plan, &co),
                cohere_render::stream_error_event(),
            ),
            Api::Gemini => (Vec::new(), Bytes::new()), // answered by `gemini()` above
        };
        head.content_type = if api == Api::Ollama {
            "application/x-ndjson"
        } else {
            "text/event-stream"
        };
        let mut events = events;
        if is_azure_deployment(s.req_header()) {
            events.insert(
                0,
                Bytes::from_static(crate::embeddings::AZURE_FILTER_CHUNK.as_bytes()),
            );
        }
        let faults = StreamFaults {
            chunk_ms: d.chunk_ms,
            split: d.split,
            drop_after: d.drop_after,
            error_after: d.error_after,
            error_event,
        };
        delivery::send_sse(s, &head, events, &faults).await
    }

    /// `POST …/embeddings` (OpenAI and Azure URLs): deterministic vectors.
    async fn embeddings(&self, s: &mut ServerSession, json: Option<Value>) -> Outcome {
        let h = s.req_header();
        let mut head = Head::json(400);
        head.headers
            .push(("x-request-id", format!("req_emu{}", next_id())));
        let authorized =
            has_bearer(h) || header_str(h, "api-key").is_some_and(|k| !k.trim().is_empty());
        let result = if !authorized {
            Err(
                ApiError::new(401, "Incorrect API key provided. (switchyard-emulator)")
                    .code("invalid_api_key"),
            )
        } else if let Some(e) = azure_url_error(h) {
            Err(e)
        } else {
            json.ok_or_else(|| ApiError::bad_request("invalid JSON body (switchyard-emulator)"))
                .and_then(|j| crate::embeddings::parse_openai(&j))
        };
        match result {
            Ok(req) => {
                let (model, spec) = split_model(&req.model);
                if let Ok(d) = Directives::parse(spec, header_str(s.req_header(), "x-emulator")) {
                    if let Some(status) = d.status {
                        head.status = status;
                        let e = Api::OpenAi.status_error(status);
                        return delivery::send_full(s, &head, Api::OpenAi.error_body(&e, 0), None)
                            .await;
                    }
                }
                head.status = 200;
                let body =
                    crate::embeddings::render_openai(model, &req.inputs, req.dims, req.base64);
                delivery::send_full(s, &head, Bytes::from(body), None).await
            }
            Err(e) => {
                head.status = e.status;
                delivery::send_full(s, &head, Api::OpenAi.error_body(&e, 0), None).await
            }
        }
    }

    /// `/api/embed` and `/v2/embed`: deterministic vectors; `status` directives apply.
    async fn embed(&self, s: &mut ServerSession, api: Api, json: Option<Value>) -> Outcome {
        let req_id = next_id();
        let mut head = Head::json(400);
        head.headers
            .push((api.request_id_header(), format!("req_emu{req_id}")));
        if api == Api::Cohere && !has_bearer(s.req_header()) {
            let e = ApiError::new(401, "no api key supplied (switchyard-emulator)");
            return self.fail(s, api, head, &e, req_id).await;
        }
        let Some(json) = json else {
            let e = ApiError::bad_request("invalid JSON body (switchyard-emulator)");
            return self.fail(s, api, head, &e, req_id).await;
        };
        let model_full = json
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (model, spec) = split_model(model_full);
        let header_spec = header_str(s.req_header(), "x-emulator");
        let d = match Directives::parse(spec, header_spec) {
            Ok(d) => d,
            Err(msg) => {
                return self
                    .fail(s, api, head, &ApiError::bad_request(msg), req_id)
                    .await;
            }
        };
        if let Some(secs) = d.retry_after {
            head.headers.push(("retry-after", secs.to_string()));
        }
        if let Some(FailMode::Status(status)) = self.decide_fault(&d, model_full, header_spec) {
            return self
                .fail(s, api, head, &api.status_error(status), req_id)
                .await;
        }
        let out = match api {
            Api::Cohere => cohere::embed(&json, req_id),
            _ => ollama::embed(&json, model),
        };
        match out {
            Ok(body) => {
                head.status = 200;
                delivery::send_full(s, &head, Bytes::from(body), None).await
            }
            Err(e) => self.fail(s, api, head, &e, req_id).await,
        }
    }

    async fn fail(
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
