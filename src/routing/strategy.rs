//! Ordering the targets of a route for one request: a pure function over the facts of each
//! candidate and an injected random source, so every strategy is deterministic under test.
//!
//! # Use from the request path
//! ```text
//! cands: Vec<Candidate>      one per route target, in config order, facts filled from
//!                            HealthRegistry (peek, weight_factor, ewma_ttfb_ms), the catalog
//!                            (cost) and config (weight, score)
//! let s = effective_strategy(&route_strategy, prefs.as_ref(), suffix);   per-request overrides
//! let idx = order(&s, &cands, &mut || rng.f64());                         admitted targets, best first
//! let idx = apply_provider_prefs(idx, &cands, prefs.as_ref());           `provider.order`, `allow_fallbacks`
//! ```
//! An empty result means every target is denied (breaker open, Retry-After): the caller
//! answers 503 (with the earliest `until` as Retry-After) or bypasses health as a last resort.
//!
//! # Strategies
//! - `weighted`: weighted random order without replacement (Efraimidis–Spirakis: key
//!   `ln(u) / w`, highest first), `w = weight × health factor`. Zero weights go last.
//! - `priority`: config order.
//! - `least-latency`: untried targets first (config order) so every target gets measured, then
//!   lowest EWMA TTFB first.
//! - `cheapest`: lowest cost per token first; unknown cost last.
//! - `throughput`: highest tokens/s first, unknown last, ties by latency (OpenRouter's
//!   `sort: throughput` and `:nitro`).
//! - `scored`: `Σ wᵢ·sᵢ` over latency, cost, success rate and a custom score, each `sᵢ` in
//!   [0, 1]: latency and cost min-max normalised over the candidates (lower is better; all
//!   equal → 1), unknown latency 0.5, unknown cost 0, unknown success rate 1 (optimistic,
//!   so new targets are tried), unknown custom score 0.5. Presets: see [`ScoreWeights`].
//!
//! For every strategy but `weighted` (where the factor scales the weight), a target whose
//! health factor `f` is below 1 (degraded or recovering) keeps its place with probability
//! `f` and is otherwise moved behind the others, so its share of first attempts shrinks
//! smoothly to the floor (5 %) and grows back the same way.

mod overrides;
#[cfg(test)]
mod tests;

pub use overrides::{
    ModelSuffix, ProviderPrefs, ProviderSort, apply_provider_prefs, effective_strategy,
    split_model_suffix,
};

use std::cmp::Ordering;

/// What the strategy knows about one target of the route.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    /// Config weight (`weighted` only); negative counts as 0.
    pub weight: f64,
    /// `TargetHealth::peek(now).is_allowed()`: false drops the target from the order.
    pub available: bool,
    /// `TargetHealth::weight_factor()`, in [0, 1].
    pub health_factor: f64,
    /// `TargetHealth::ewma_ttfb_ms()`.
    pub ewma_ttfb_ms: Option<f64>,
    /// Price per token in USD (any consistent blend of input and output prices).
    pub cost: Option<f64>,
    /// Recent success share in [0, 1].
    pub success_rate: Option<f64>,
    /// Output tokens per second.
    pub throughput: Option<f64>,
    /// Operator-assigned score in [0, 1] (`scored` only).
    pub score: Option<f64>,
}

impl Default for Candidate<'_> {
    fn default() -> Self {
        Self {
            provider: "",
            model: "",
            weight: 1.0,
            available: true,
            health_factor: 1.0,
            ewma_ttfb_ms: None,
            cost: None,
            success_rate: None,
            throughput: None,
            score: None,
        }
    }
}

/// Weights of the `scored` strategy (any non-negative numbers; only ratios matter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreWeights {
    pub latency: f64,
    pub cost: f64,
    pub success: f64,
    pub custom: f64,
}

impl ScoreWeights {
    /// `scored` without explicit weights: equal parts.
    pub const BALANCED: Self = Self {
        latency: 0.25,
        cost: 0.25,
        success: 0.25,
        custom: 0.25,
    };
    /// Preset `cost`: price first, but not at any error rate.
    pub const COST: Self = Self {
        latency: 0.15,
        cost: 0.6,
        success: 0.25,
        custom: 0.0,
    };
    /// Preset `speed`: time to first byte first.
    pub const SPEED: Self = Self {
        latency: 0.6,
        cost: 0.1,
        success: 0.3,
        custom: 0.0,
    };
    /// Preset `quality`: the operator's score and reliability, price ignored.
    pub const QUALITY: Self = Self {
        latency: 0.1,
        cost: 0.0,
        success: 0.4,
        custom: 0.5,
    };
}

/// A route's target ordering policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    Weighted,
    Priority,
    LeastLatency,
    Cheapest,
    Throughput,
    Scored(ScoreWeights),
}

impl Strategy {
    /// Parses a config name: `weighted`, `priority`, `least-latency`, `cheapest`,
    /// `throughput`, `scored` (balanced weights) or a preset `cost`, `speed`, `quality`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "weighted" => Self::Weighted,
            "priority" => Self::Priority,
            "least-latency" => Self::LeastLatency,
            "cheapest" => Self::Cheapest,
            "throughput" => Self::Throughput,
            "scored" => Self::Scored(ScoreWeights::BALANCED),
            "cost" => Self::Scored(ScoreWeights::COST),
            "speed" => Self::Scored(ScoreWeights::SPEED),
            "quality" => Self::Scored(ScoreWeights::QUALITY),
            _ => return None,
        })
    }
}

/// The indices of the available candidates, best first. `rand` yields uniform `[0, 1)`.
pub fn order(
    strategy: &Strategy,
    cands: &[Candidate<'_>],
    rand: &mut dyn FnMut() -> f64,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].available).collect();
    match strategy {
        Strategy::Weighted => return weighted(idx, cands, rand),
        Strategy::Priority => {}
        Strategy::LeastLatency => idx.sort_by(|&a, &b| by_latency(&cands[a], &cands[b])),
        Strategy::Cheapest => idx.sort_by(|&a, &b| asc_unknown_last(cands[a].cost, cands[b].cost)),
        Strategy::Throughput => idx.sort_by(|&a, &b| by_throughput(&cands[a], &cands[b])),
        Strategy::Scored(w) => {
            let scores = scores(w, cands);
            idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        }
    }
    demote_unhealthy(idx, cands, rand)
}

/// The `scored` value of every candidate (index-aligned with `cands`).
pub fn scores(w: &ScoreWeights, cands: &[Candidate<'_>]) -> Vec<f64> {
    let lat = normalise_lower_better(cands.iter().map(|c| c.ewma_ttfb_ms));
    let cost = normalise_lower_better(cands.iter().map(|c| c.cost));
    cands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            w.latency.max(0.0) * lat[i].unwrap_or(0.5)
                + w.cost.max(0.0) * cost[i].unwrap_or(0.0)
                + w.success.max(0.0) * c.success_rate.map_or(1.0, |s| s.clamp(0.0, 1.0))
                + w.custom.max(0.0) * c.score.map_or(0.5, |s| s.clamp(0.0, 1.0))
        })
        .collect()
}

fn weighted(
    mut idx: Vec<usize>,
    cands: &[Candidate<'_>],
    rand: &mut dyn FnMut() -> f64,
) -> Vec<usize> {
    let mut keys = vec![f64::NEG_INFINITY; cands.len()];
    for &i in &idx {
        let w = cands[i].weight.max(0.0) * cands[i].health_factor.clamp(0.0, 1.0);
        if w > 0.0 && w.is_finite() {
            let u = rand().clamp(f64::MIN_POSITIVE, 1.0);
            keys[i] = u.ln() / w;
        }
    }
    // Stable: zero-weight targets stay in config order at the end.
    idx.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
    idx
}

/// Each target with health factor f < 1 stays in place with probability f, else goes last.
fn demote_unhealthy(
    idx: Vec<usize>,
    cands: &[Candidate<'_>],
    rand: &mut dyn FnMut() -> f64,
) -> Vec<usize> {
    let (mut keep, demoted): (Vec<usize>, Vec<usize>) = idx.into_iter().partition(|&i| {
        let f = cands[i].health_factor;
        f >= 1.0 || rand() < f
    });
    keep.extend(demoted);
    keep
}

/// Higher tokens/s first, unknown last; ties by latency.
fn by_throughput(a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
    match (a.throughput, b.throughput) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| by_latency(a, b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => by_latency(a, b),
    }
}

/// Untried first, then lower EWMA.
fn by_latency(a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
    match (a.ewma_ttfb_ms, b.ewma_ttfb_ms) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.total_cmp(&y),
    }
}

fn asc_unknown_last(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Min-max normalisation where the lowest value scores 1; `None` stays `None`.
fn normalise_lower_better(values: impl Iterator<Item = Option<f64>> + Clone) -> Vec<Option<f64>> {
    let known = values.clone().flatten().filter(|v| v.is_finite());
    let (min, max) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    values
        .map(|v| {
            v.filter(|v| v.is_finite()).map(|v| {
                if max > min {
                    (max - v) / (max - min)
                } else {
                    1.0
                }
            })
        })
        .collect()
}
