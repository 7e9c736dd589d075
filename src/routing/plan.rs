//! [`Router::plan`]: the ordered attempts for one request.
//!
//! 1. `model`, then each entry of `models`, is resolved on its own: its `:floor`/`:nitro`
//!    suffix is split off, the first route whose rule holds gives its targets (or a direct
//!    `provider/model` gives one target).
//! 2. A route's targets become [`Candidate`]s (health `peek`, weight factor, EWMA; cost from
//!    the provider's prices, the catalog or the target's `cost`), ordered by the effective
//!    strategy (`provider.sort` > suffix > route strategy), then `provider.order` and
//!    `allow_fallbacks` apply. Fallbacks follow in config order, skipping denied targets;
//!    `allow_fallbacks: false` drops them. Duplicates are removed.
//! 3. Targets whose context window cannot hold the estimated prompt plus the output cap are
//!    skipped. The prompt is tokenized only when a rule needs the count or when the cheap
//!    bound (body bytes / 2) does not fit some target's window.
//! 4. If every target is denied by its breaker, they are all tried anyway in order (last
//!    resort: a maybe-failing answer beats a certain refusal); targets inside a provider's
//!    Retry-After window never are. Nothing left: 503 with the earliest Retry-After, or 400
//!    `context_length_exceeded` when the prompt fits no target.

use super::health::{Admission, DenyReason, FailureKind, HealthRegistry};
use super::rules::RequestFacts;
use super::strategy::{self, Candidate, Strategy};
use super::{Plan, PlannedTarget, Router, TargetInfo};
use crate::error::{ErrorKind, GatewayError};
use crate::providers::settings::ProviderId;
use crate::routing::settings::{Route, Target};
use http::HeaderMap;
use serde_json::{Map, Value};
use std::time::Instant;

/// The facts of one request that routing may use. Fields a rule may not need (last user
/// message, metadata) are filled by the caller only when [`Router`] says a rule reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanInput<'a, 'f> {
    /// The requested model, suffix included.
    pub model: &'a str,
    /// `models`: tried after `model`, in order.
    pub models: &'a [String],
    pub prefs: Option<&'f strategy::ProviderPrefs>,
    pub team: Option<&'f str>,
    pub tags: &'f [String],
    pub has_tools: bool,
    pub last_user_message: Option<&'f str>,
    pub headers: Option<&'f HeaderMap>,
    pub metadata: Option<&'f Map<String, Value>>,
    /// `max_completion_tokens` / `max_tokens`, 0 when absent.
    pub max_output_tokens: u64,
    /// Size of the request body (the cheap prompt bound is half of it).
    pub body_len: usize,
}

/// The estimated prompt tokens, counted at most once and only when asked for.
pub struct PromptTokens<'f> {
    value: Option<u64>,
    count: &'f mut dyn FnMut() -> u64,
}

impl<'f> PromptTokens<'f> {
    pub fn new(count: &'f mut dyn FnMut() -> u64) -> Self {
        Self { value: None, count }
    }

    /// The count (tokenizing on first use).
    pub fn get(&mut self) -> u64 {
        *self.value.get_or_insert_with(&mut *self.count)
    }

    /// The count if it was computed.
    pub fn known(&self) -> Option<u64> {
        self.value
    }
}

/// Everything gathered while planning.
struct Acc<'a> {
    plan: Plan<'a>,
    /// Breaker-denied targets, for the last resort.
    denied: Vec<PlannedTarget<'a>>,
    earliest_retry: Option<Instant>,
    largest_window: Option<u64>,
}

impl<'a> Acc<'a> {
    fn has(&self, provider: ProviderId, model: &str) -> bool {
        self.plan.targets.iter().any(|t| t.same(provider, model))
            || self.denied.iter().any(|t| t.same(provider, model))
    }
}

impl Router {
    /// The attempts for one request. `rand` yields uniform `[0, 1)`.
    pub fn plan<'a>(
        &'a self,
        input: &PlanInput<'a, '_>,
        tokens: &mut PromptTokens<'_>,
        health: &HealthRegistry,
        now: Instant,
        rand: &mut dyn FnMut() -> f64,
    ) -> Result<Plan<'a>, GatewayError> {
        let mut acc = Acc {
            plan: Plan {
                route: None,
                targets: Vec::new(),
                skipped_context: Vec::new(),
                skipped_health: Vec::new(),
            },
            denied: Vec::new(),
            earliest_retry: None,
            largest_window: None,
        };
        let names = std::iter::once(input.model).chain(input.models.iter().map(String::as_str));
        for (i, name) in names.enumerate() {
            let (base, suffix) = strategy::split_model_suffix(name);
            let mut facts = RequestFacts {
                model: base,
                team: input.team,
                tags: input.tags,
                has_tools: input.has_tools,
                prompt_tokens: tokens.known().unwrap_or(0),
                last_user_message: input.last_user_message,
                headers: input.headers,
                metadata: input.metadata,
            };
            let routes = self.config.routes();
            // The tokenizer runs only for a rule of this model that reads the count.
            let matched = routes.iter().position(|r| {
                r.rule.matches_model(base) && {
                    if r.rule.needs_prompt_tokens() {
                        facts.prompt_tokens = tokens.get();
                    }
                    r.rule.matches(&facts)
                }
            });
            if let Some(ri) = matched {
                if i == 0 {
                    acc.plan.route = Some(routes[ri].name.as_str());
                }
                let s = strategy::effective_strategy(&routes[ri].strategy, input.prefs, suffix);
                self.route_targets(ri, &s, input, tokens, health, now, rand, &mut acc);
                continue;
            }
            let direct = base.split_once('/').and_then(|(p, m)| {
                self.config
                    .provider_id(p)
                    .filter(|_| !m.is_empty())
                    .map(|id| (id, m))
            });
            match direct {
                Some((provider, model)) if !acc.has(provider, model) => {
                    acc.plan.targets.push(PlannedTarget {
                        provider,
                        model,
                        max_latency: None,
                        health: None,
                        last_resort: false,
                    });
                }
                Some(_) => {}
                None if i == 0 => return Err(GatewayError::unknown_model(name)),
                None => return Err(GatewayError::unknown_model(name).with_param("models")),
            }
        }
        finish(acc, input, tokens)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the accumulator and facts are distinct borrows"
    )]
    fn route_targets<'a>(
        &'a self,
        ri: usize,
        strategy: &Strategy,
        input: &PlanInput<'a, '_>,
        tokens: &mut PromptTokens<'_>,
        registry: &HealthRegistry,
        now: Instant,
        rand: &mut dyn FnMut() -> f64,
        acc: &mut Acc<'a>,
    ) {
        let route: &'a Route = &self.config.routes()[ri];
        let (infos, fallback_infos) = &self.info[ri];
        let mut cands: Vec<Candidate<'a>> = Vec::with_capacity(route.targets.len());
        let mut healths = Vec::with_capacity(route.targets.len());
        for (t, info) in route.targets.iter().zip(infos) {
            let pname = self.config.providers()[t.provider].name.as_str();
            let h = registry.get(pname, &t.model);
            let fits = self.fits(t, info, input, tokens, acc);
            let admission = h.peek(now);
            let usable = fits && admission.is_allowed();
            if fits && !usable {
                self.note_denied(t, admission, h.clone(), acc);
            }
            let success_rate = matches!(strategy, Strategy::Scored(_))
                .then(|| success_rate(&h.snapshot(now)))
                .flatten();
            cands.push(Candidate {
                provider: pname,
                model: t.model.as_str(),
                weight: f64::from(t.weight),
                available: usable,
                health_factor: h.weight_factor(),
                ewma_ttfb_ms: h.ewma_ttfb_ms(),
                cost: info.cost,
                success_rate,
                throughput: None,
                score: t.score,
            });
            healths.push(h);
        }
        let order = strategy::order(strategy, &cands, rand);
        let order = strategy::apply_provider_prefs(order, &cands, input.prefs);
        for i in order {
            let t = &route.targets[i];
            if !acc.has(t.provider, &t.model) {
                acc.plan
                    .targets
                    .push(planned(t, Some(healths[i].clone()), false));
            }
        }
        if input.prefs.is_some_and(|p| !p.allow_fallbacks) {
            return;
        }
        for (t, info) in route.fallback.iter().zip(fallback_infos) {
            if acc.has(t.provider, &t.model) || !self.fits(t, info, input, tokens, acc) {
                continue;
            }
            let pname = self.config.providers()[t.provider].name.as_str();
            let h = registry.get(pname, &t.model);
            match h.peek(now) {
                a if a.is_allowed() => acc.plan.targets.push(planned(t, Some(h), false)),
                a => self.note_denied(t, a, h, acc),
            }
        }
    }

    /// Whether the prompt plus the output cap fits the target's context window; records the
    /// skip otherwise.
    fn fits<'a>(
        &self,
        t: &'a Target,
        info: &TargetInfo,
        input: &PlanInput<'_, '_>,
        tokens: &mut PromptTokens<'_>,
        acc: &mut Acc<'a>,
    ) -> bool {
        let Some(window) = info.context_window else {
            return true;
        };
        let cheap = (input.body_len as u64) / 2;
        if cheap.saturating_add(input.max_output_tokens) <= window
            || tokens.get().saturating_add(input.max_output_tokens) <= window
        {
            return true;
        }
        acc.largest_window = Some(acc.largest_window.map_or(window, |w| w.max(window)));
        if !acc
            .plan
            .skipped_context
            .iter()
            .any(|(p, m)| *p == t.provider && *m == t.model)
        {
            acc.plan
                .skipped_context
                .push((t.provider, t.model.as_str()));
        }
        false
    }

    fn note_denied<'a>(
        &self,
        t: &'a Target,
        admission: Admission,
        h: std::sync::Arc<super::health::TargetHealth>,
        acc: &mut Acc<'a>,
    ) {
        if let Admission::Deny(reason) = admission {
            if !acc
                .plan
                .skipped_health
                .iter()
                .any(|(p, m, _)| *p == t.provider && *m == t.model)
            {
                acc.plan
                    .skipped_health
                    .push((t.provider, t.model.as_str(), reason));
            }
        }
        match admission {
            Admission::Deny(DenyReason::RetryAfter { until }) => {
                acc.earliest_retry = Some(acc.earliest_retry.map_or(until, |e| e.min(until)));
            }
            _ if !acc.has(t.provider, &t.model) => acc.denied.push(planned(t, Some(h), true)),
            _ => {}
        }
    }
}

fn planned<'a>(
    t: &'a Target,
    health: Option<std::sync::Arc<super::health::TargetHealth>>,
    last_resort: bool,
) -> PlannedTarget<'a> {
    PlannedTarget {
        provider: t.provider,
        model: t.model.as_str(),
        max_latency: t.max_latency,
        health,
        last_resort,
    }
}

/// Successes over health-relevant outcomes; `None` before any outcome.
fn success_rate(s: &super::health::HealthSnapshot) -> Option<f64> {
    let failures: u64 = FailureKind::ALL
        .iter()
        .filter(|k| k.counts_against_health())
        .map(|k| s.failures_of(*k))
        .sum();
    let total = s.successes + failures;
    (total > 0).then(|| s.successes as f64 / total as f64)
}

fn finish<'a>(
    mut acc: Acc<'a>,
    input: &PlanInput<'_, '_>,
    tokens: &mut PromptTokens<'_>,
) -> Result<Plan<'a>, GatewayError> {
    if !acc.plan.targets.is_empty() {
        return Ok(acc.plan);
    }
    if !acc.denied.is_empty() {
        acc.plan.targets = acc.denied;
        let tried = &acc.plan.targets;
        acc.plan
            .skipped_health
            .retain(|(p, m, _)| !tried.iter().any(|t| t.same(*p, m)));
        return Ok(acc.plan);
    }
    if let Some(until) = acc.earliest_retry {
        let secs = until
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
            .ceil()
            .max(1.0) as u64;
        return Err(GatewayError::new(
            503,
            ErrorKind::NoProvider,
            "every provider of this model asked to be left alone for now (Retry-After)",
        )
        .with_retry_after(Some(secs)));
    }
    if let Some(window) = acc.largest_window {
        let est = tokens.get();
        return Err(GatewayError::bad_param(
            "messages",
            format!(
                "This request needs about {est} prompt tokens (estimate) plus {} output tokens, \
                 more than the context window of any target of this model (largest: {window}).",
                input.max_output_tokens
            ),
        )
        .with_code("context_length_exceeded"));
    }
    Err(GatewayError::new(
        503,
        ErrorKind::NoProvider,
        "no provider target is available for this model",
    ))
}
