//! Raw config: the YAML file as written, before validation. Unknown fields are errors.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The whole config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub providers: Vec<RawProvider>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    #[serde(default)]
    pub keys: Vec<RawKey>,
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
    /// Pooled idle upstream connections kept per worker thread.
    pub upstream_keepalive_pool_size: Option<usize>,
    /// Interval of active upstream health checks.
    #[serde(default, with = "humantime_serde")]
    pub health_check_interval: Option<Duration>,
    /// Where Pingora writes its pid file.
    pub pid_file: Option<String>,
    /// A model catalog file (`conf/models.json` format) replacing the built-in one.
    pub catalog: Option<String>,
}

/// One entry of `providers:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub name: String,
    /// A provider kind (`openai`, `anthropic`, `gemini`, `bedrock`, `azure`, `ollama`,
    /// `cohere`) or an OpenAI-compatible preset (`groq`, `mistral`, …).
    pub kind: String,
    /// What the provider's own SDK takes; optional where the kind or preset has a default.
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
    /// Bedrock: AWS region (default `AWS_REGION` / `AWS_DEFAULT_REGION`).
    #[serde(default)]
    pub region: Option<String>,
    /// Bedrock: credentials (default the standard AWS environment variables).
    #[serde(default)]
    pub aws_access_key_id: Option<String>,
    #[serde(default)]
    pub aws_secret_access_key: Option<String>,
    #[serde(default)]
    pub aws_session_token: Option<String>,
    /// Azure (deployment URLs): the `api-version` query parameter.
    #[serde(default)]
    pub api_version: Option<String>,
    /// What to do with a parameter this provider cannot honour, for every such parameter:
    /// `reject` (400 naming it) or `drop`. Unset: each parameter's documented default.
    #[serde(default)]
    pub unsupported_params: Option<String>,
    /// Per-parameter override of `unsupported_params` (`seed: reject`, `n: drop`, …).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default, with = "humantime_serde")]
    pub connect_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub first_byte_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub stream_idle_timeout: Option<Duration>,
    /// `max_tokens` sent to providers that require it when the client gave none.
    pub default_max_tokens: Option<u64>,
    /// Anthropic only: the `anthropic-version` header.
    pub anthropic_version: Option<String>,
    /// Extra headers sent on every request to this provider.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Active health checks (TCP/TLS connect) of this provider's endpoints.
    pub health_check: Option<bool>,
    /// Prices (USD per million tokens) for every model of this provider, replacing the
    /// catalog's: `free`, or `{ input, output, cache_read, cache_write }`.
    pub prices: Option<RawPrices>,
}

/// `prices:` of a provider.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPrices {
    /// `free` (the only accepted word).
    Word(String),
    Table(RawPriceTable),
}

/// `prices: { input, output, cache_read, cache_write }` in USD per million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPriceTable {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub cache_write: Option<f64>,
}

/// One entry of `routes:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub name: String,
    #[serde(rename = "match")]
    pub matcher: RawMatch,
    pub targets: Vec<RawTarget>,
    #[serde(default)]
    pub fallback: Vec<RawFallback>,
}

/// `match:` of a route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    pub model: String,
}

/// A weighted target of a route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub provider: String,
    pub model: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
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
}

/// A client key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub name: String,
    pub key: String,
}
