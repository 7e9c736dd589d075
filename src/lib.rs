//! # Switchyard
//!
//! A self-hosted AI API gateway on Cloudflare Pingora: applications speak the OpenAI API to one
//! endpoint; Switchyard authenticates them, picks a provider, translates the request into that
//! provider's native API and translates the answer back in flight, streams included.
//!
//! ## Request flow: which Pingora phase calls which module
//!
//! Model API requests run in handler mode (README §Architecture): everything happens inside
//! `request_filter`, in modules named after the Pingora hook each step stands in for. The
//! picture is in `docs/architecture.md`.
//!
//! | Pingora phase | Step | Module | Does |
//! |---|---|---|---|
//! | `new_ctx` | context | [`proxy::ctx`], [`lifecycle`] | per-request state; counts the request in flight |
//! | `request_filter` | endpoint | [`proxy::handlers`] | path and method dispatch; `/healthz`, `/v1/models`, `/v1/key/info`, `/v1/usage` answered locally |
//! | ↳ | auth | [`auth`], [`keys`] | Bearer / `x-api-key` → HMAC digest lookup in the key directory, constant-time compare; revoked and expired keys are 401 |
//! | ↳ `request_body_filter` | body | [`proxy::body`] | bounded read of the whole body (any size up to the limit; 413 beyond) |
//! | ↳ | parse | [`translate::request`], [`translate::embeddings`], [`frontends`] | lazy OpenAI request envelope; embeddings; Anthropic Messages requests |
//! | ↳ `upstream_peer` | plan | [`proxy::peer`], [`routing`] | rules in file order → strategy over passive health ([`routing::health`]) and prices → overrides, context windows, fallbacks |
//! | ↳ `request_filter` (admission) | admit | [`proxy::admit`], [`quota`] | allow-lists, then one atomic reservation of RPM/TPM/concurrency/budget demand over key, team and global scopes; refusals fire budget alerts ([`alerts`]) |
//! | ↳ Pingora's retry loop | forward | [`proxy::forward`], [`proxy::peer::attempts`] | the attempt loop: [`proxy::peer::attempts::Attempts`] offers targets in plan order (active and passive health, retry budget, backoff, deadline, client gone) |
//! | ↳ `upstream_request_filter` | translate | [`proxy::job`], [`providers`] | the native request per target kind; unsupported-parameter policy |
//! | ↳ `connected_to_upstream`, `upstream_response_filter`, `fail_to_connect`, `error_while_proxy` | upstream | [`proxy::upstream`] | one attempt on Pingora's pooled `Connector`: send, read the header, classify any failure as a [`proxy::upstream::AttemptFailure`], read until there is something to commit |
//! | ↳ `response_filter`, `response_body_filter` | relay | [`proxy::relay`], [`stream`] | incremental SSE / NDJSON / AWS event-stream framing + per-provider state machine → OpenAI chunks (→ Anthropic events on `/v1/messages`); pricing of the answer ([`proxy::observe::pricing`], [`catalog`]) |
//! | `fail_to_proxy` | respond | [`proxy::respond`], [`error`] | client-shaped errors (OpenAI or Anthropic envelope); 500 for unexpected failures |
//! | `logging` | observe | [`proxy::observe`], [`summary`] | one [`summary::RequestSummary`] → Prometheus series ([`metrics`]), the access-log line ([`access_log`]), the ledger row ([`ledger`]), limit settlement ([`proxy::observe::settle`]: inline for the in-process store, queued for Redis), the audit event ([`audit`]); never awaits |
//!
//! Background services ([`server`]): DNS discovery and health checks of the current providers'
//! load balancers ([`routing::health_service`]), config hot reload ([`reload`]), the
//! access-log, ledger and audit writers, limit settlement, budget alerts, the budget seed, the
//! shutdown watcher; the API-key refresher ([`keys::refresher`]); the admin listener
//! ([`admin`]) serves `/metrics`, `/healthz`, the `/admin/keys` and `/admin/usage` APIs.

// Unit tests may start tasks with `tokio::spawn` and use any lock (clippy.toml); the non-test
// build, which clippy also checks, keeps the rules.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::disallowed_types))]

pub mod access_log;
pub mod admin;
pub mod admin_api;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod billing;
pub mod calendar;
pub mod catalog;
pub mod config;
pub mod error;
pub mod frontends;
pub mod keys;
pub mod ledger;
pub mod lifecycle;
pub mod metrics;
pub mod providers;
pub mod proxy;
pub mod quota;
pub mod reload;
pub mod routing;
pub mod secret;
pub mod server;
pub mod stream;
pub mod summary;
pub mod task;
pub mod translate;
