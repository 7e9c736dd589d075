//! Configuration: YAML → [`raw`] serde types (unknown fields rejected) → `${ENV}` substitution →
//! [`validate`] into the immutable runtime [`Config`] used by every other module.
//!
//! Invalid config is a [`ConfigError`] whose message starts with the YAML path of the field.

mod env;
mod governance;
pub mod raw;

mod validate;

pub use crate::access_log::AccessLogTarget;
pub use crate::providers::settings::{
    AwsCredentials, Endpoint, PRESETS, ParamAction, ParamPolicy, ProviderId, ProviderKind,
    ProviderSettings, Timeouts,
};
pub use crate::routing::settings::{Route, Target};
pub use crate::secret::Secret;
pub use governance::{
    AdminSettings, AlertSettings, AuditSettings, CounterTarget, KeyPolicy, LimitsSettings,
};

use crate::catalog::Catalog;
use crate::routing::health::HealthConfig;
use crate::routing::retry::{Backoff, RetryBudgetConfig};

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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

    /// The same error with its path taken as relative to `at` (`region` → `providers[0].region`).
    pub(crate) fn within(self, at: &str) -> Self {
        let path = match self.path.as_str() {
            "" => at.to_string(),
            p => format!("{at}.{p}"),
        };
        Self { path, ..self }
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

impl crate::routing::RoutingSource for Config {
    fn providers(&self) -> &[Arc<ProviderSettings>] {
        &self.providers
    }
    fn routes(&self) -> &[Route] {
        &self.routes
    }
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }
    fn health_check_interval(&self) -> Duration {
        self.server.health_check_interval
    }
}

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
#[cfg(test)]
mod tests_provider_kinds;
