//! Configuration: YAML → [`raw`] serde types (unknown fields rejected) → `${ENV}` substitution →
//! [`validate`] into the immutable runtime [`Config`] used by every other module.
//!
//! Invalid config is a [`ConfigError`] whose message starts with the YAML path of the field.

mod env;
mod governance;
pub mod raw;
mod secret;
mod validate;

pub use governance::{
    AdminSettings, AlertSettings, AuditSettings, CounterTarget, KeyPolicy, LimitsSettings,
};
pub use secret::Secret;

use crate::catalog::{Catalog, Prices};
use crate::routing::health::HealthConfig;
use crate::routing::retry::{Backoff, RetryBudgetConfig};
use crate::routing::rules::Rule;
use crate::routing::strategy::Strategy;

use http::{HeaderName, HeaderValue};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Index of a provider in [`Config::providers`].
pub type ProviderId = usize;

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    pub server: ServerSettings,
    pub providers: Vec<Arc<ProviderSettings>>,
    pub routes: Vec<Route>,
    pub keys: Vec<ClientKey>,
    /// The model catalog: built in, or `server.catalog`.
    pub catalog: Arc<Catalog>,
    pub limits: LimitsSettings,
    pub admin: AdminSettings,
    pub audit: AuditSettings,
    pub alerts: AlertSettings,
}

/// Listener, limit and lifecycle settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub threads: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_attempts: u32,
    pub grace_period: Duration,
    pub access_log: AccessLogTarget,
    pub ledger: crate::ledger::LedgerTarget,
    /// Limit counters (`server.counters`).
    pub counters: CounterTarget,
    pub upstream_keepalive_pool_size: usize,
    pub health_check_interval: Duration,
    pub pid_file: String,
    /// Unix socket of the listener hand-over (`server.upgrade_sock`); old and new process must
    /// agree on it.
    pub upgrade_sock: String,
    /// Timeouts of providers that set none of their own.
    pub default_timeouts: Timeouts,
    /// Breaker and latency thresholds of every target (`server.health`).
    pub health: HealthConfig,
    /// Backoff and retry budget (`server.retry`).
    pub retry: RetrySettings,
}

/// `server.retry`: pacing of attempts after the first.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RetrySettings {
    pub backoff: Backoff,
    pub budget: RetryBudgetConfig,
}

/// Where the JSON access log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogTarget {
    Stdout,
    Off,
    File(String),
}

/// Wire protocol spoken by a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI Chat Completions, or any OpenAI-compatible API (passed through).
    OpenAi,
    /// Anthropic Messages API (translated).
    Anthropic,
    /// Google Gemini `generateContent` (translated).
    Gemini,
    /// AWS Bedrock Converse (translated, SigV4-signed, binary event stream).
    Bedrock,
    /// Azure OpenAI: OpenAI wire format behind deployment URLs and an `api-key` header.
    Azure,
    /// Ollama's native `/api/chat` (translated, NDJSON stream).
    Ollama,
    /// Cohere v2 chat (translated).
    Cohere,
}

impl ProviderKind {
    /// Every kind with its config spelling.
    pub const ALL: [(&'static str, ProviderKind); 7] = [
        ("openai", ProviderKind::OpenAi),
        ("anthropic", ProviderKind::Anthropic),
        ("gemini", ProviderKind::Gemini),
        ("bedrock", ProviderKind::Bedrock),
        ("azure", ProviderKind::Azure),
        ("ollama", ProviderKind::Ollama),
        ("cohere", ProviderKind::Cohere),
    ];

    /// The config spelling, also used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Azure => "azure",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Cohere => "cohere",
        }
    }

    /// The base URL used when the config gives none (`None`: `base_url` is required).
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com"),
            ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
            // Derived from the region.
            ProviderKind::Bedrock => None,
            ProviderKind::Azure => None,
            ProviderKind::Ollama => Some("http://127.0.0.1:11434"),
            ProviderKind::Cohere => Some("https://api.cohere.com"),
        }
    }
}

/// OpenAI-compatible vendors that need only a name and a key: `kind: groq` is the `openai`
/// kind with Groq's base URL. (name, default base URL)
pub const PRESETS: [(&str, &str); 11] = [
    ("mistral", "https://api.mistral.ai/v1"),
    ("groq", "https://api.groq.com/openai/v1"),
    ("deepseek", "https://api.deepseek.com/v1"),
    ("xai", "https://api.x.ai/v1"),
    ("together", "https://api.together.xyz/v1"),
    ("fireworks", "https://api.fireworks.ai/inference/v1"),
    ("openrouter", "https://openrouter.ai/api/v1"),
    ("perplexity", "https://api.perplexity.ai"),
    ("cerebras", "https://api.cerebras.ai/v1"),
    ("vllm", "http://127.0.0.1:8000/v1"),
    ("lmstudio", "http://127.0.0.1:1234/v1"),
];

/// What happens to a request parameter a provider cannot honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamAction {
    /// 400 `invalid_request_error` naming the parameter.
    Reject,
    /// Sent without it.
    Drop,
}

/// Per-provider policy for unsupported parameters: a blanket action and per-parameter
/// overrides; without either, each parameter's documented default applies
/// (see [`crate::providers::params`]).
#[derive(Debug, Clone, Default)]
pub struct ParamPolicy {
    pub all: Option<ParamAction>,
    pub overrides: Vec<(String, ParamAction)>,
}

impl ParamPolicy {
    /// The action for `param`, given its default.
    pub fn action(&self, param: &str, default: ParamAction) -> ParamAction {
        self.overrides
            .iter()
            .find(|(p, _)| p == param)
            .map(|(_, a)| *a)
            .or(self.all)
            .unwrap_or(default)
    }
}

/// AWS credentials for SigV4 (Bedrock).
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// Per-attempt timeouts of a provider.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub stream_idle: Duration,
}

/// Where a provider lives, split from its `base_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path of the base URL without a trailing slash (`/v1`, or empty).
    pub path_prefix: String,
    /// Value of the `Host` header (`host` or `host:port` for non-default ports).
    pub authority: String,
}

impl Endpoint {
    /// True when `host` is an IP literal (no DNS needed).
    pub fn host_is_ip(&self) -> bool {
        self.host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
    }
}

/// A configured provider.
#[derive(Debug)]
pub struct ProviderSettings {
    pub name: String,
    pub kind: ProviderKind,
    pub endpoint: Endpoint,
    pub api_key: Secret,
    pub timeouts: Timeouts,
    pub default_max_tokens: u64,
    pub anthropic_version: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub health_check: bool,
    /// The OpenAI-compatible preset this provider was declared with (`kind: groq`).
    pub preset: Option<&'static str>,
    /// Bedrock: AWS region.
    pub region: String,
    /// Bedrock: SigV4 credentials.
    pub aws: Option<AwsCredentials>,
    /// Azure deployment URLs: `api-version`.
    pub api_version: String,
    /// Unsupported-parameter policy.
    pub params: ParamPolicy,
    /// `prices:`: what every model of this provider costs, instead of the catalog's prices.
    pub prices: Option<Prices>,
}

impl ProviderSettings {
    /// The provider name the catalog uses: the preset (`groq`) or the kind (`openai`).
    pub fn catalog_name(&self) -> &'static str {
        self.preset.unwrap_or(self.kind.as_str())
    }
}

/// A target of a route: which provider, which upstream model, and how to rank it.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub provider: ProviderId,
    pub model: String,
    pub weight: u32,
    /// USD per million tokens (input + output) when the catalog has no price.
    pub cost: Option<f64>,
    /// Operator score in [0, 1] (`scored`).
    pub score: Option<f64>,
    /// First-byte deadline of this target, replacing the provider's `first_byte_timeout`.
    pub max_latency: Option<Duration>,
    /// Context window, replacing the catalog's.
    pub context_window: Option<u64>,
}

/// A route: requests its `rule` matches go to `targets` in the order of `strategy`, then to
/// `fallback` in config order. Routes are tried in config order; the first match wins.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    /// The compiled `match:`.
    pub rule: Rule,
    /// The exact (wildcard-free) model names of `match.model`, listed by `/v1/models`.
    pub models: Vec<String>,
    pub strategy: Strategy,
    pub targets: Vec<Target>,
    pub fallback: Vec<Target>,
}

/// A client key from the config.
#[derive(Debug, Clone)]
pub struct ClientKey {
    pub name: String,
    pub key: Secret,
    /// Team of the key (`match.team`, access log).
    pub team: Option<String>,
    /// Tags of the key (`match.tags`).
    pub tags: Vec<String>,
    /// Allowed models and routes, limits, expiry, audit.
    pub policy: KeyPolicy,
}

/// A config problem, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads, substitutes and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("", format!("cannot read {}: {e}", path.display())))?;
        Self::from_yaml(&text, &|name| std::env::var(name).ok())
    }

    /// Parses config text; `lookup` resolves `${VAR}` references.
    pub fn from_yaml(
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut tree: serde_yaml::Value = serde_yaml::from_str(text)
            .map_err(|e| ConfigError::new("", format!("invalid YAML: {e}")))?;
        if tree.is_null() {
            tree = serde_yaml::Value::Mapping(Default::default());
        }
        let secrets = env::substitute(&mut tree, lookup).map_err(|m| ConfigError::new("", m))?;
        let raw: raw::RawConfig = serde_path_to_error::deserialize(tree).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            ConfigError::new(path, env::scrub(&e.inner().to_string(), &secrets))
        })?;
        validate::validate(raw, lookup).map_err(|e| ConfigError {
            path: e.path,
            message: env::scrub(&e.message, &secrets),
        })
    }

    /// Finds a provider by name.
    pub fn provider_id(&self, name: &str) -> Option<ProviderId> {
        self.providers.iter().position(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_governance;
