//! # Switchyard
//!
//! A self-hosted AI API gateway on Cloudflare Pingora: applications speak the OpenAI API to one
//! endpoint; Switchyard authenticates them, picks a provider, translates the request into that
//! provider's native API and translates the answer back in flight, streams included.
//!
//! ## Request flow: which Pingora phase calls which module
//!
//! | Pingora phase | Module | Does |
//! |---|---|---|
//! | `new_ctx` | [`proxy::ctx`], [`lifecycle`] | per-request state; counts the request in flight |
//! | `request_filter` | [`proxy`] | path and method dispatch, then everything below, then returns `Ok(true)` |
//! | ↳ auth | [`auth`], [`keys`] | Bearer / `x-api-key` → hashed key lookup in the process-wide key directory (config and admin-API keys), constant-time compare; revoked and expired keys are 401 |
//! | ↳ body | [`proxy::body`] | bounded read of the whole body (any size up to the limit; 413 beyond) |
//! | ↳ parse | [`translate::request`], [`translate::embeddings`], [`inbound`] | lazy OpenAI request envelope (typed views on demand); embeddings; Anthropic Messages requests for `/v1/messages` |
//! | ↳ route | [`routing`], [`proxy::planning`] | rules in file order → strategy over passive health ([`routing::health`]) and prices → overrides, context windows, fallbacks; [`routing::balancer`] picks a healthy endpoint |
//! | ↳ translate | [`providers`] | OpenAI → native request, one module per kind (`openai`/`azure` pass-through splice, `anthropic`, `gemini`, `bedrock` with SigV4, `ollama`, `cohere`); unsupported-parameter policy |
//! | ↳ attempt | [`proxy::dispatch`], [`proxy::upstream`] | breaker admission, retry budget and backoff ([`routing::retry`]); Pingora pooled `Connector`: send, read header, classify, fail over before the first byte |
//! | ↳ relay | [`proxy::relay`], [`stream`] | incremental SSE / NDJSON / AWS event-stream framing + per-provider state machine → OpenAI chunks (→ Anthropic events on `/v1/messages`) |
//! | `upstream_peer` | [`proxy`] | never reached (handler mode) |
//! | `fail_to_proxy` | [`proxy`], [`error`] | OpenAI-shaped 500 for unexpected failures |
//! | `logging` | [`metrics`], [`access_log`], [`catalog`] | Prometheus series (tokens, cost) and one JSON access-log line; never awaits |
//!
//! Background services ([`server`]): DNS discovery and health checks of the current providers'
//! load balancers ([`routing::health_service`]), config hot reload ([`reload`]), the
//! access-log writer, the shutdown watcher; the API-key refresher ([`keys::refresher`]); the admin listener
//! ([`admin`]) serves `/metrics`, `/healthz` and the `/admin/keys` API.

pub mod access_log;
pub mod admin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod billing;
pub mod calendar;
pub mod catalog;
pub mod config;
pub mod error;
pub mod inbound;
pub mod keys;
pub mod ledger;
pub mod lifecycle;
pub mod metrics;
pub mod providers;
pub mod proxy;
pub mod quota;
pub mod reload;
pub mod routing;
pub mod server;
pub mod stream;
pub mod translate;
