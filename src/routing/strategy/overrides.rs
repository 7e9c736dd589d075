//! Per-request routing overrides in OpenRouter's style, as pure helpers:
//! `provider: { order: [...], sort: price|latency|throughput, allow_fallbacks: bool }` in the
//! request body and the model suffixes `:floor` (cheapest) and `:nitro` (fastest).
//!
//! Precedence: `provider.sort` over the model suffix over the route's strategy. Keys of
//! `provider` that OpenRouter knows and Switchyard does not act on (`ignore`, `only`,
//! `data_collection`, `quantizations`, …) are tolerated and ignored; a known key with the
//! wrong type is a 400 naming it (`provider.sort`, …).

use super::{Candidate, Strategy};
pub use crate::translate::routing_params::{ProviderPrefs, ProviderSort};

/// A model-name suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSuffix {
    /// `:floor`: sort by price.
    Floor,
    /// `:nitro`: sort by throughput (which falls back to latency when unknown).
    Nitro,
}

impl ModelSuffix {
    pub fn sort(self) -> ProviderSort {
        match self {
            Self::Floor => ProviderSort::Price,
            Self::Nitro => ProviderSort::Throughput,
        }
    }
}

/// Splits `gpt-4o:floor` into (`gpt-4o`, Floor). Other suffixes (`:free`, `:beta`, a tag
/// like `llama3:8b`) are part of the model name and left alone.
pub fn split_model_suffix(model: &str) -> (&str, Option<ModelSuffix>) {
    if let Some(base) = model.strip_suffix(":floor").filter(|b| !b.is_empty()) {
        return (base, Some(ModelSuffix::Floor));
    }
    if let Some(base) = model.strip_suffix(":nitro").filter(|b| !b.is_empty()) {
        return (base, Some(ModelSuffix::Nitro));
    }
    (model, None)
}

/// The strategy a `provider.sort` stands for.
pub fn sort_strategy(sort: ProviderSort) -> Strategy {
    match sort {
        ProviderSort::Price => Strategy::Cheapest,
        ProviderSort::Latency => Strategy::LeastLatency,
        ProviderSort::Throughput => Strategy::Throughput,
    }
}

/// The strategy for this request: `provider.sort`, else the suffix, else the route's.
pub fn effective_strategy(
    route: &Strategy,
    prefs: Option<&ProviderPrefs>,
    suffix: Option<ModelSuffix>,
) -> Strategy {
    prefs
        .and_then(|p| p.sort)
        .or(suffix.map(ModelSuffix::sort))
        .map_or(*route, sort_strategy)
}

/// Applies `provider.order` and `allow_fallbacks` to an order from [`super::order`]:
/// candidates of the listed providers move to the front in list order (keeping the
/// strategy's order among a provider's targets); the rest follow only if fallbacks are
/// allowed. Without `order`, `allow_fallbacks: false` keeps only the first choice.
pub fn apply_provider_prefs(
    order: Vec<usize>,
    cands: &[Candidate<'_>],
    prefs: Option<&ProviderPrefs>,
) -> Vec<usize> {
    let Some(p) = prefs else {
        return order;
    };
    if p.order.is_empty() {
        let mut order = order;
        if !p.allow_fallbacks {
            order.truncate(1);
        }
        return order;
    }
    let rank = |i: usize| p.order.iter().position(|n| n == cands[i].provider);
    let mut listed: Vec<(usize, usize)> = order
        .iter()
        .filter_map(|&i| rank(i).map(|r| (r, i)))
        .collect();
    listed.sort_by_key(|&(r, _)| r);
    let mut out: Vec<usize> = listed.into_iter().map(|(_, i)| i).collect();
    if p.allow_fallbacks {
        out.extend(order.into_iter().filter(|&i| rank(i).is_none()));
    }
    out
}
