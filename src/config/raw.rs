//! Raw config: the YAML file as written, before validation. Unknown fields are errors.

mod provider;

pub use crate::routing::rules::RawRule;
pub use provider::{
    Preset, RawAnthropic, RawAzure, RawBedrock, RawCommon, RawKind, RawPrices, RawProvider,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The whole config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    /// Each entry is read by [`RawProvider::from_yaml`] once its `kind` is known.
    #[serde(default)]
    pub providers: Vec<serde_yaml::Value>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    #[serde(default)]
    pub keys: Vec<RawKey>,
    /// Team and gateway-wide limits, and how the counter store behaves.
    #[serde(default)]
    pub limits: RawLimitsSection,
    /// The admin API (keys, usage) on the admin listener.
    #[serde(default)]
    pub admin: RawAdmin,
    /// Optional per-key capture of prompts and responses.
    #[serde(default)]
    pub audit: RawAudit,
    /// Budget-threshold webhook.
    #[serde(default)]
    pub alerts: RawAlerts,
}

/// `server:` listeners, limits, timeouts and process settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub admin_listen: Option<String>,
    /// Worker threads of the proxy service.
    pub threads: Option<usize>,
    /// Largest accepted request body in bytes (default 32 MiB).
    pub max_body_bytes: Option<u64>,
    /// Deadline for the whole request across all attempts, until the response starts.
    #[serde(default, with = "humantime_serde")]
    pub request_timeout: Option<Duration>,
    /// Default TCP+TLS connect timeout per attempt.
    #[serde(default, with = "humantime_serde")]
    pub connect_timeout: Option<Duration>,
    /// Default time allowed until the first response byte (and first stream event) per attempt.
    #[serde(default, with = "humantime_serde")]
    pub first_byte_timeout: Option<Duration>,
    /// Default longest silence between two stream chunks once a stream has started.
    #[serde(default, with = "humantime_serde")]
    pub stream_idle_timeout: Option<Duration>,
    /// Most provider attempts for one request (targets plus fallbacks).
    pub max_attempts: Option<u32>,
    /// How long SIGTERM waits for in-flight requests before exiting.
    #[serde(default, with = "humantime_serde")]
    pub grace_period: Option<Duration>,
    /// `stdout` (default), `off`, or a file path for the JSON access log.
    pub access_log: Option<String>,
    /// Usage ledger store: `sqlite://<path>` (default), `postgres://...` or `off`.
    pub ledger: Option<String>,
    /// Limit counters: `memory` (default, this process only) or `redis://host:port[/db]`
    /// (shared by every instance pointing at it).
    pub counters: Option<String>,
    /// Pooled idle upstream connections kept per worker thread.
    pub upstream_keepalive_pool_size: Option<usize>,
    /// Interval of active upstream health checks.
    #[serde(default, with = "humantime_serde")]
    pub health_check_interval: Option<Duration>,
    /// Where Pingora writes its pid file.
    pub pid_file: Option<String>,
    /// Unix socket over which a running gateway hands its listening sockets to a new one
    /// started with `--upgrade` (zero-downtime binary upgrade).
    pub upgrade_sock: Option<String>,
    /// A model catalog file (`conf/models.json` format) replacing the built-in one.
    pub catalog: Option<String>,
    /// Passive health: circuit breaker and latency thresholds of every target.
    #[serde(default)]
    pub health: Option<RawHealth>,
    /// Retry pacing: backoff and the retry budget.
    #[serde(default)]
    pub retry: Option<RawRetry>,
}

/// `server.health:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    #[serde(default)]
    pub breaker: RawBreaker,
    #[serde(default)]
    pub latency: RawLatency,
    /// Longest Retry-After window honoured.
    #[serde(default, with = "humantime_serde")]
    pub max_retry_after: Option<Duration>,
}

/// `server.health.breaker:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub consecutive_failures: Option<u32>,
    pub error_ratio: Option<f64>,
    pub min_requests: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    pub window: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub cooldown: Option<Duration>,
    pub cooldown_multiplier: Option<f64>,
    #[serde(default, with = "humantime_serde")]
    pub max_cooldown: Option<Duration>,
    pub half_open_canaries: Option<u32>,
    pub close_after: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    pub canary_timeout: Option<Duration>,
}

/// `server.health.latency:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub degraded_after: Option<u32>,
    pub weight_floor: Option<f64>,
}

/// `server.retry:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    #[serde(default, with = "humantime_serde")]
    pub backoff_base: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub backoff_cap: Option<Duration>,
    pub budget_ratio: Option<f64>,
    pub budget_min_per_sec: Option<f64>,
    #[serde(default, with = "humantime_serde")]
    pub budget_window: Option<Duration>,
}

/// One entry of `routes:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub name: String,
    /// The route's rule (see [`crate::routing::rules::raw`]); routes are tried in file order.
    #[serde(rename = "match")]
    pub matcher: RawRule,
    /// `weighted` (default), `priority`, `least-latency`, `cheapest`, `throughput`, `scored`,
    /// or a preset `cost`, `speed`, `quality`.
    #[serde(default)]
    pub strategy: Option<String>,
    /// Weights of `scored`.
    #[serde(default)]
    pub score_weights: Option<RawScoreWeights>,
    pub targets: Vec<RawTarget>,
    #[serde(default)]
    pub fallback: Vec<RawFallback>,
}

/// `score_weights:` of a route (missing parts are 0).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoreWeights {
    #[serde(default)]
    pub latency: f64,
    #[serde(default)]
    pub cost: f64,
    #[serde(default)]
    pub success: f64,
    #[serde(default)]
    pub custom: f64,
}

/// A weighted target of a route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub provider: String,
    pub model: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// USD per million tokens (input + output), used when the catalog has no price.
    #[serde(default)]
    pub cost: Option<f64>,
    /// Operator score in [0, 1] for `scored`.
    #[serde(default)]
    pub score: Option<f64>,
    /// First-byte deadline of this target (overrides the provider's `first_byte_timeout`).
    #[serde(default)]
    pub max_latency_ms: Option<u64>,
    /// Context window of this target (overrides the catalog's).
    #[serde(default)]
    pub context_window: Option<u64>,
}

fn default_weight() -> u32 {
    1
}

/// A fallback target, tried in order after the weighted targets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFallback {
    pub provider: String,
    pub model: String,
    /// USD per million tokens (input + output), used when the catalog has no price.
    #[serde(default)]
    pub cost: Option<f64>,
    /// Operator score in [0, 1] for `scored`.
    #[serde(default)]
    pub score: Option<f64>,
    /// First-byte deadline of this target (overrides the provider's `first_byte_timeout`).
    #[serde(default)]
    pub max_latency_ms: Option<u64>,
    /// Context window of this target (overrides the catalog's).
    #[serde(default)]
    pub context_window: Option<u64>,
}

/// A client key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub name: String,
    pub key: String,
    /// The key's team (for `match.team`).
    #[serde(default)]
    pub team: Option<String>,
    /// The key's tags (for `match.tags`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The key's organisation (reporting only).
    #[serde(default)]
    pub org: Option<String>,
    /// Models the key may call (names or `*` globs); empty = all.
    #[serde(default)]
    pub models: Vec<String>,
    /// Routes the key may use (route names); empty = all.
    #[serde(default)]
    pub routes: Vec<String>,
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
    #[serde(default)]
    pub max_concurrency: Option<u64>,
    #[serde(default)]
    pub budget: Option<RawBudget>,
    /// RFC 3339 time after which the key is refused.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Capture this key's prompts and responses in the audit trail.
    #[serde(default)]
    pub audit: bool,
}

/// Budgets in USD.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    #[serde(default)]
    pub daily: Option<f64>,
    #[serde(default)]
    pub monthly: Option<f64>,
    #[serde(default)]
    pub total: Option<f64>,
}

/// `limits:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimitsSection {
    /// Limits over all requests of this gateway (all instances sharing the counter store).
    #[serde(default)]
    pub global: Option<RawScopeLimits>,
    /// Limits per team (summed over the team's keys).
    #[serde(default)]
    pub teams: BTreeMap<String, RawScopeLimits>,
    /// `open` (default: admit when the counter store is unreachable) or `closed` (refuse).
    #[serde(default)]
    pub on_store_error: Option<String>,
    /// Longest a concurrency slot is held if an instance dies mid-request.
    #[serde(default, with = "humantime_serde")]
    pub lease: Option<Duration>,
    /// Output tokens reserved when a request sets no `max_tokens` and the catalog knows no
    /// maximum for the model.
    #[serde(default)]
    pub default_max_tokens: Option<u64>,
}

/// Limits of a team or of the gateway (the same fields as a key's, nothing else).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScopeLimits {
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
    #[serde(default)]
    pub max_concurrency: Option<u64>,
    #[serde(default)]
    pub budget: Option<RawBudget>,
}

/// `admin:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    /// Bearer token of the admin API; the API is disabled without it.
    #[serde(default)]
    pub token: Option<String>,
    /// Secret under which keys are stored as HMAC-SHA256 (shared by all instances). Without
    /// it, a random secret is kept in `data/switchyard.secret` next to the SQLite ledger.
    #[serde(default)]
    pub key_secret: Option<String>,
    /// How often keys made through the admin API are re-read from the store.
    #[serde(default, with = "humantime_serde")]
    pub key_refresh: Option<Duration>,
}

/// `audit:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// JSON-lines file (default `./data/audit.jsonl`).
    #[serde(default)]
    pub path: Option<String>,
    /// Longest captured request or response, in bytes (default 64 KiB).
    #[serde(default)]
    pub max_bytes: Option<usize>,
    /// Extra redaction rules applied before anything is written.
    #[serde(default)]
    pub redact: Vec<RawRedact>,
}

/// One redaction rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedact {
    pub pattern: String,
    #[serde(default)]
    pub replace: Option<String>,
}

/// `alerts:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// URL called with a JSON body when a budget crosses a threshold.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Percentages (default 50, 80, 100).
    #[serde(default)]
    pub thresholds: Option<Vec<u8>>,
}
