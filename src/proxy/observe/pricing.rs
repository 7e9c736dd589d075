//! Pricing what a provider served: effective prices (a provider's `prices:` override, else the
//! catalog's), the request's cost, and its metrics.
//!
//! A request is priced once a provider's answer was committed to the client (a complete JSON
//! body, or a started stream whatever its end). Its cost is known only with the usage and
//! with prices; otherwise it is *unpriced*: counted in `switchyard_unpriced_requests_total`,
//! logged with `"priced": false`, and never treated as free.

use crate::catalog::Prices;
use crate::catalog::cost::usd;
use crate::config::ProviderSettings;
use crate::metrics::METRICS;
use crate::proxy::Snapshot;
use crate::proxy::ctx::RequestCtx;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// Most (provider, model) pairs remembered for the once-only warning; a client choosing
/// endless `provider/model` names cannot grow memory past this.
const MAX_WARNED: usize = 4096;

pub use crate::summary::Charge;

/// What `model` at `provider` costs: the provider's `prices:` if set, else the catalog entry.
pub fn prices(snapshot: &Snapshot, provider: &ProviderSettings, model: &str) -> Option<Prices> {
    prices_of(
        provider,
        snapshot.catalog.lookup(provider.catalog_name(), model),
    )
}

/// As [`prices`] for a caller that already looked the model up in the catalog.
pub fn prices_of(
    provider: &ProviderSettings,
    entry: Option<&crate::catalog::Model>,
) -> Option<Prices> {
    provider.prices.or_else(|| entry.and_then(|m| m.prices))
}

/// The request's charge from its provider, served model and usage (no side effects).
pub fn charge(snapshot: &Snapshot, ctx: &RequestCtx) -> Option<Charge> {
    let provider = ctx.provider.as_deref()?;
    let model = ctx.served_model.as_deref()?;
    let Some(p) = prices(snapshot, provider, model) else {
        return Some(Charge::UnknownModel);
    };
    if ctx.usage.is_empty() {
        return Some(Charge::NoUsage);
    }
    Some(Charge::Priced(p.cost(&ctx.usage)))
}

/// Cost in micro-dollars, when known.
pub fn cost_micros(snapshot: &Snapshot, ctx: &RequestCtx) -> Option<u64> {
    charge(snapshot, ctx)?.micros()
}

/// The charge of a finished request, with its metrics (and the once-per-model warning).
/// `provider` and `model` are the metric label values.
pub fn observe(ctx: &RequestCtx, provider: &str, model: &str) -> Charge {
    let charge = match (ctx.served, ctx.cost_micros, ctx.snapshot.as_deref()) {
        (false, ..) | (true, None, None) => return Charge::NotServed,
        (true, Some(c), _) => Charge::Priced(c),
        (true, None, Some(snapshot)) => match charge(snapshot, ctx) {
            Some(c) => c,
            None => return Charge::NotServed,
        },
    };
    match charge {
        Charge::Priced(c) => METRICS
            .cost_usd
            .with_label_values(&[provider, model])
            .inc_by(usd(c)),
        Charge::NotServed => {}
        Charge::UnknownModel | Charge::NoUsage => {
            METRICS
                .unpriced_requests
                .with_label_values(&[provider, model])
                .inc();
            if charge == Charge::UnknownModel {
                warn_once(ctx);
            }
        }
    }
    charge
}

static WARNED: LazyLock<Mutex<HashSet<(String, String)>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

fn warn_once(ctx: &RequestCtx) {
    let (Some(p), Some(model)) = (ctx.provider.as_deref(), ctx.served_model.as_deref()) else {
        return;
    };
    let key = (p.name.clone(), model.to_string());
    {
        let mut warned = WARNED.lock();
        if warned.len() >= MAX_WARNED || !warned.insert(key) {
            return;
        }
    }
    log::warn!(
        "no price for model \"{model}\" at provider {} ({} in the catalog): its requests are \
         counted in switchyard_unpriced_requests_total; add it to the catalog or set \
         prices: on the provider (see docs/providers/catalog.md)",
        p.name,
        p.catalog_name()
    );
}
