//! What one request cost, in integer micro-dollars.
//!
//! [`Usage`] follows OpenAI semantics: `prompt_tokens` includes cached and cache-write tokens,
//! `completion_tokens` includes reasoning tokens. So:
//!
//! - uncached input = prompt − cached − cache_write, at the input price;
//! - cached tokens at the cache-read price (the input price when unknown);
//! - cache-write tokens at the cache-write price (the input price when unknown);
//! - completion tokens, reasoning included, at the output price.
//!
//! The sum is exact in pico-dollars (u128) and rounded *up* to whole micro-dollars, so a
//! non-zero usage of a non-free model never costs 0.

use super::{Model, Prices};
use crate::translate::Usage;

/// Pico-dollars in a micro-dollar.
const PICO_PER_MICRO: u128 = 1_000_000;

/// Cost of `usage` at `model`'s prices in micro-dollars; `None` when the model has no prices.
pub fn cost(model: &Model, usage: &Usage) -> Option<u64> {
    model.prices.as_ref().map(|p| p.cost(usage))
}

impl Prices {
    /// Cost of `usage` in micro-dollars, rounded up.
    pub fn cost(&self, usage: &Usage) -> u64 {
        // Inconsistent counts from a provider are clamped rather than double-billed.
        let cached = usage.cached_tokens.min(usage.prompt_tokens);
        let write = usage
            .cache_write_tokens
            .min(usage.prompt_tokens.saturating_sub(cached));
        let uncached = usage.prompt_tokens - cached - write;
        let input = self.input.0;
        let pico = term(uncached, input)
            + term(cached, self.cache_read.map_or(input, |p| p.0))
            + term(write, self.cache_write.map_or(input, |p| p.0))
            + term(usage.completion_tokens, self.output.0);
        u64::try_from(pico.div_ceil(PICO_PER_MICRO)).unwrap_or(u64::MAX)
    }
}

fn term(tokens: u64, pico_per_token: u64) -> u128 {
    u128::from(tokens) * u128::from(pico_per_token)
}

/// Micro-dollars as a decimal USD string with six places (`0.000123`), for headers.
pub fn usd_string(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Micro-dollars as USD, for JSON and metrics (display only; totals stay integer).
// Cast: display value; exact below 2^53 micro-dollars.
pub fn usd(micros: u64) -> f64 {
    micros as f64 / 1e6
}
