//! A provider's validated settings (assembled by `config` from the YAML): which wire
//! protocol it speaks, where it lives, how it authenticates, its timeouts and its policies.

use crate::catalog::Prices;
use crate::secret::Secret;
use http::{HeaderName, HeaderValue};
use std::time::Duration;

/// Index of a provider in `Config::providers`.
pub type ProviderId = usize;

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
    /// `prompt_cache: auto` (Anthropic, Bedrock): the gateway sets cache breakpoints when the
    /// client set none.
    pub prompt_cache_auto: bool,
}

impl ProviderSettings {
    /// The provider name the catalog uses: the preset (`groq`) or the kind (`openai`).
    pub fn catalog_name(&self) -> &'static str {
        self.preset.unwrap_or(self.kind.as_str())
    }
}
