//! Routing: which provider targets a request may use, in which order.
//!
//! Routes are tried in config order; the first whose `match:` rule holds for the request
//! ([`rules`]) gives its targets, ordered by the route's strategy ([`strategy`]) over their
//! health ([`health`]) and prices, then its fallbacks in config order. A model written
//! `provider/model` that no route matches goes straight to that provider; anything else is 404.
//! Per-request overrides (`models`, `provider`, `:floor`/`:nitro`) are applied in [`plan`].
//! [`balancer`] turns a chosen provider into a healthy endpoint address; [`retry`] paces the
//! attempts; [`classify`] maps an attempt's outcome to a health verdict.

pub mod balancer;
pub mod classify;
pub mod health;
pub mod health_service;
mod plan;
pub mod retry;
pub mod rules;
pub mod settings;
pub mod strategy;

pub use plan::{PlanInput, PromptTokens};

use crate::catalog::Catalog;
use crate::providers::settings::ProviderId;
use crate::providers::settings::ProviderSettings;
use crate::routing::settings::Target;
use health::TargetHealth;
pub use settings::RoutingSource;
use std::sync::Arc;
use std::time::Duration;

/// One attempt of a plan: a provider and the model to ask it for.
#[derive(Debug, Clone)]
pub struct PlannedTarget<'a> {
    pub provider: ProviderId,
    pub model: &'a str,
    /// First-byte deadline of this target (`max_latency_ms`), else the provider's.
    pub max_latency: Option<Duration>,
    /// Passive health; `None` for direct `provider/model` requests (an unbounded key space).
    pub health: Option<Arc<TargetHealth>>,
    /// Tried although its breaker denies it: every target was denied (last resort).
    pub last_resort: bool,
}

impl PlannedTarget<'_> {
    /// Same provider and model.
    pub fn same(&self, provider: ProviderId, model: &str) -> bool {
        self.provider == provider && self.model == model
    }
}

/// The ordered attempts for one request.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The matched route, or `None` for a direct `provider/model`.
    pub route: Option<&'a str>,
    pub targets: Vec<PlannedTarget<'a>>,
    /// Targets left out because the prompt does not fit their context window.
    pub skipped_context: Vec<(ProviderId, &'a str)>,
    /// Targets left out because their health denies them (`DenyReason::as_str`), unless
    /// they were tried as a last resort.
    pub skipped_health: Vec<(ProviderId, &'a str, health::DenyReason)>,
}

/// What ranking knows about a configured target, computed once per config.
#[derive(Debug, Clone, Copy, Default)]
struct TargetInfo {
    /// USD per million tokens (input + output).
    cost: Option<f64>,
    context_window: Option<u64>,
}

/// Route lookup and target ordering built from the config.
#[derive(Debug)]
pub struct Router {
    config: Arc<dyn RoutingSource>,
    /// Per route: targets, then fallbacks.
    info: Vec<(Vec<TargetInfo>, Vec<TargetInfo>)>,
    needs_tokens: bool,
    needs_last_user: bool,
    needs_metadata: bool,
}

impl Router {
    /// Indexes the routes of `config` and prices their targets.
    pub fn new(config: Arc<dyn RoutingSource>) -> Self {
        let info = config
            .routes()
            .iter()
            .map(|r| {
                let f = |t: &Target| target_info(config.providers(), config.catalog(), t);
                (
                    r.targets.iter().map(f).collect(),
                    r.fallback.iter().map(f).collect(),
                )
            })
            .collect();
        let any = |f: fn(&rules::Rule) -> bool| config.routes().iter().any(|r| f(&r.rule));
        Self {
            needs_tokens: any(rules::Rule::needs_prompt_tokens),
            needs_last_user: any(rules::Rule::needs_last_user_message),
            needs_metadata: any(rules::Rule::needs_metadata),
            config,
            info,
        }
    }

    /// Some rule matches on the estimated prompt tokens.
    pub fn needs_prompt_tokens(&self) -> bool {
        self.needs_tokens
    }

    /// Some rule matches on the last user message.
    pub fn needs_last_user_message(&self) -> bool {
        self.needs_last_user
    }

    /// Some rule matches on the body's `metadata`.
    pub fn needs_metadata(&self) -> bool {
        self.needs_metadata
    }

    /// Every model name a client can ask for: exact route models, then `provider/model` of
    /// targets.
    pub fn model_names(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for r in self.config.routes() {
            for m in &r.models {
                if !out.iter().any(|(n, _)| n == m) {
                    out.push((m.clone(), "switchyard".to_string()));
                }
            }
        }
        for r in self.config.routes() {
            for t in r.targets.iter().chain(&r.fallback) {
                let p = &self.config.providers()[t.provider].name;
                let name = format!("{p}/{}", t.model);
                if !out.iter().any(|(n, _)| *n == name) {
                    out.push((name, p.clone()));
                }
            }
        }
        out
    }
}

/// Cost and context window of a configured target: the provider's `prices`, else the
/// catalog's, else the target's `cost`; the target's `context_window`, else the catalog's.
fn target_info(providers: &[Arc<ProviderSettings>], catalog: &Catalog, t: &Target) -> TargetInfo {
    let p = &providers[t.provider];
    let model = catalog.lookup(p.catalog_name(), &t.model);
    let prices = p.prices.or_else(|| model.and_then(|m| m.prices));
    TargetInfo {
        cost: prices
            .map(|pr| pr.input.usd_per_million() + pr.output.usd_per_million())
            .or(t.cost),
        context_window: t
            .context_window
            .or_else(|| model.and_then(|m| m.context_window)),
    }
}

#[cfg(test)]
mod tests;
