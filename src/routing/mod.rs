//! Routing: which provider targets a request may use, in which order.
//!
//! A model matching a route's `match.model` gets that route's weighted targets in a weighted
//! random order, then its fallbacks in config order (duplicates removed). A model written
//! `provider/model` that no route matches goes straight to that provider. Anything else is 404.
//! [`balancer`] turns a chosen provider into a healthy endpoint address.

pub mod balancer;
pub mod health;
pub mod health_service;
pub mod retry;
pub mod rules;
pub mod strategy;

use crate::config::{Config, ProviderId, Route};
use crate::error::GatewayError;
use std::collections::HashMap;
use std::sync::Arc;

/// One attempt of a plan: a provider and the model to ask it for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedTarget<'a> {
    pub provider: ProviderId,
    pub model: &'a str,
}

/// The ordered attempts for one request.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The matched route, or `None` for a direct `provider/model`.
    pub route: Option<&'a str>,
    pub targets: Vec<PlannedTarget<'a>>,
}

/// Model → route lookup built from the config.
#[derive(Debug)]
pub struct Router {
    config: Arc<Config>,
    by_model: HashMap<String, usize>,
}

impl Router {
    /// Indexes the routes of `config`.
    pub fn new(config: Arc<Config>) -> Self {
        let by_model = config
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| (r.model.clone(), i))
            .collect();
        Self { config, by_model }
    }

    /// The attempts for `model`, using `rand` (0.0..1.0) for the weighted order.
    pub fn plan<'a>(
        &'a self,
        model: &'a str,
        rand: &mut dyn FnMut() -> f64,
    ) -> Result<Plan<'a>, GatewayError> {
        if let Some(&i) = self.by_model.get(model) {
            let route = &self.config.routes[i];
            return Ok(Plan {
                route: Some(route.name.as_str()),
                targets: ordered_targets(route, rand),
            });
        }
        if let Some((provider, upstream_model)) = model.split_once('/') {
            if let Some(id) = self
                .config
                .provider_id(provider)
                .filter(|_| !upstream_model.is_empty())
            {
                return Ok(Plan {
                    route: None,
                    targets: vec![PlannedTarget {
                        provider: id,
                        model: upstream_model,
                    }],
                });
            }
        }
        Err(GatewayError::unknown_model(model))
    }

    /// Every model name a client can ask for: route models, then `provider/model` of targets.
    pub fn model_names(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .config
            .routes
            .iter()
            .map(|r| (r.model.clone(), "switchyard".to_string()))
            .collect();
        for r in &self.config.routes {
            for t in r.targets.iter().chain(&r.fallback) {
                let p = &self.config.providers[t.provider].name;
                let name = format!("{p}/{}", t.model);
                if !out.iter().any(|(n, _)| *n == name) {
                    out.push((name, p.clone()));
                }
            }
        }
        out
    }
}

/// Weighted random order without replacement (Efraimidis–Spirakis keys), then fallbacks.
fn ordered_targets<'a>(route: &'a Route, rand: &mut dyn FnMut() -> f64) -> Vec<PlannedTarget<'a>> {
    let mut keyed: Vec<(f64, PlannedTarget<'a>)> = route
        .targets
        .iter()
        .map(|t| {
            let u = rand().clamp(f64::MIN_POSITIVE, 1.0);
            (
                u.powf(1.0 / f64::from(t.weight)),
                PlannedTarget {
                    provider: t.provider,
                    model: t.model.as_str(),
                },
            )
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<PlannedTarget<'a>> = Vec::with_capacity(keyed.len() + route.fallback.len());
    for t in keyed
        .into_iter()
        .map(|(_, t)| t)
        .chain(route.fallback.iter().map(|f| PlannedTarget {
            provider: f.provider,
            model: f.model.as_str(),
        }))
    {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let yaml = r#"
providers:
  - { name: anthropic, kind: anthropic, base_url: "https://api.anthropic.com", api_key: x }
  - { name: openai, kind: openai, base_url: "https://api.openai.com/v1", api_key: y }
routes:
  - name: mid-tier
    match: { model: "gpt-4o-mini" }
    targets:
      - { provider: anthropic, model: "claude-haiku-4-5", weight: 60 }
      - { provider: openai, model: "gpt-4o-mini", weight: 40 }
    fallback: [ { provider: openai, model: "gpt-4o-mini" }, { provider: openai, model: "gpt-4.1" } ]
keys: [ { name: k, key: abcdefghijk } ]
"#;
        Router::new(Arc::new(Config::from_yaml(yaml, &|_| None).unwrap()))
    }

    /// The first pick follows the weights; fallbacks follow, without duplicates.
    #[test]
    fn weighted_order_and_fallback() {
        let r = router();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut first_anthropic = 0;
        let n = 20_000;
        for _ in 0..n {
            let plan = r.plan("gpt-4o-mini", &mut || rng.f64()).unwrap();
            assert_eq!(plan.route, Some("mid-tier"));
            assert_eq!(plan.targets.len(), 3, "duplicate fallback removed");
            assert_eq!(
                plan.targets[2],
                PlannedTarget {
                    provider: 1,
                    model: "gpt-4.1"
                }
            );
            if plan.targets[0].provider == 0 {
                first_anthropic += 1;
            }
        }
        let share = f64::from(first_anthropic) / f64::from(n);
        assert!(
            (share - 0.6).abs() < 0.02,
            "anthropic first in {share} of plans, expected 0.6"
        );
    }

    /// `provider/model` goes direct; unknown models and providers are 404.
    #[test]
    fn direct_and_unknown() {
        let r = router();
        let plan = r.plan("anthropic/claude-opus-4-1", &mut || 0.5).unwrap();
        assert_eq!(
            (plan.route, plan.targets[0].provider, plan.targets[0].model),
            (None, 0, "claude-opus-4-1")
        );
        for m in ["gpt-5", "nope/x", "anthropic/", "/x"] {
            assert_eq!(r.plan(m, &mut || 0.5).unwrap_err().status, 404, "{m}");
        }
    }

    /// /v1/models lists route models and provider-qualified targets.
    #[test]
    fn model_names() {
        let names: Vec<String> = router().model_names().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            vec![
                "gpt-4o-mini",
                "anthropic/claude-haiku-4-5",
                "openai/gpt-4o-mini",
                "openai/gpt-4.1"
            ]
        );
    }
}
