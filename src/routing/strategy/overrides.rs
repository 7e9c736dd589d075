//! Per-request routing overrides in OpenRouter's style, as pure helpers:
//! `provider: { order: [...], sort: price|latency|throughput, allow_fallbacks: bool }` in the
//! request body and the model suffixes `:floor` (cheapest) and `:nitro` (fastest).
//!
//! Precedence: `provider.sort` over the model suffix over the route's strategy. Keys of
//! `provider` that OpenRouter knows and Switchyard does not act on (`ignore`, `only`,
//! `data_collection`, `quantizations`, …) are tolerated and ignored; a known key with the
//! wrong type is a 400 naming it (`provider.sort`, …).

use super::{Candidate, Strategy};
use crate::error::GatewayError;
use serde_json::Value;

/// `provider.sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSort {
    Price,
    Latency,
    Throughput,
}

impl ProviderSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "price" => Some(Self::Price),
            "latency" => Some(Self::Latency),
            "throughput" => Some(Self::Throughput),
            _ => None,
        }
    }

    /// The strategy this sort stands for.
    pub fn strategy(self) -> Strategy {
        match self {
            Self::Price => Strategy::Cheapest,
            Self::Latency => Strategy::LeastLatency,
            Self::Throughput => Strategy::Throughput,
        }
    }
}

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

/// The `provider` object of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPrefs {
    /// Provider names to try first, in this order.
    pub order: Vec<String>,
    pub sort: Option<ProviderSort>,
    /// False: only the providers in `order` (or, without `order`, only the first choice).
    pub allow_fallbacks: bool,
}

impl Default for ProviderPrefs {
    fn default() -> Self {
        Self {
            order: Vec::new(),
            sort: None,
            allow_fallbacks: true,
        }
    }
}

impl ProviderPrefs {
    /// Parses the value of the body's `provider` field (`null` gives the defaults).
    pub fn from_json(v: &Value) -> Result<Self, GatewayError> {
        let mut p = Self::default();
        let obj = match v {
            Value::Null => return Ok(p),
            Value::Object(o) => o,
            _ => {
                return Err(GatewayError::bad_param(
                    "provider",
                    "`provider` must be an object",
                ));
            }
        };
        match obj.get("order") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let Some(name) = item.as_str() else {
                        return Err(GatewayError::bad_param(
                            "provider.order",
                            "`provider.order` must be an array of provider names",
                        ));
                    };
                    p.order.push(name.to_owned());
                }
            }
            Some(_) => {
                return Err(GatewayError::bad_param(
                    "provider.order",
                    "`provider.order` must be an array of provider names",
                ));
            }
        }
        match obj.get("sort") {
            None | Some(Value::Null) => {}
            Some(s) => {
                p.sort = Some(s.as_str().and_then(ProviderSort::parse).ok_or_else(|| {
                    GatewayError::bad_param(
                        "provider.sort",
                        "`provider.sort` must be one of `price`, `latency`, `throughput`",
                    )
                })?);
            }
        }
        match obj.get("allow_fallbacks") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => p.allow_fallbacks = *b,
            Some(_) => {
                return Err(GatewayError::bad_param(
                    "provider.allow_fallbacks",
                    "`provider.allow_fallbacks` must be a boolean",
                ));
            }
        }
        Ok(p)
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
        .map_or(*route, ProviderSort::strategy)
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
