//! Routes and their targets, as validated from the config (assembled by `config`).

use super::rules::Rule;
use super::strategy::Strategy;
use crate::catalog::Catalog;
use crate::providers::settings::{ProviderId, ProviderSettings};
use std::sync::Arc;
use std::time::Duration;

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

/// What routing is built from: the config implements it (routing does not depend on the
/// config's other sections).
pub trait RoutingSource: Send + Sync + std::fmt::Debug {
    /// Every provider, indexed by [`ProviderId`].
    fn providers(&self) -> &[Arc<ProviderSettings>];
    /// The routes, in file order.
    fn routes(&self) -> &[Route];
    /// Prices and context windows of models.
    fn catalog(&self) -> &Catalog;
    /// How often providers with active health checks are probed.
    fn health_check_interval(&self) -> Duration;

    /// The id of the provider named `name`.
    fn provider_id(&self, name: &str) -> Option<ProviderId> {
        self.providers().iter().position(|p| p.name == name)
    }
}
