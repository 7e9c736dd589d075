//! Validation of `routes:` (rules, strategies, targets) and of `server.health` /
//! `server.retry` into the routing engine's settings.

use super::VResult;
use crate::config::raw::{RawBreaker, RawHealth, RawLatency, RawRetry, RawRoute};
use crate::config::{ConfigError, RetrySettings, Route, Target};
use crate::routing::health::{BreakerConfig, HealthConfig, LatencyConfig};
use crate::routing::retry::{Backoff, RetryBudgetConfig};
use crate::routing::rules::{Glob, Rule};
use crate::routing::strategy::{ScoreWeights, Strategy};
use std::time::Duration;

const MAX_WEIGHT: u32 = 1_000_000;

/// One route; `index` is its place in the file (rules name it in errors).
pub(super) fn route(index: usize, raw: RawRoute, providers: &[&str]) -> VResult<Route> {
    let at = format!("routes[{index}]");
    super::check_name(&format!("{at}.name"), &raw.name)?;
    let rule = Rule::compile(index, &raw.matcher).map_err(|e| {
        ConfigError::new(
            format!("{at}.match.{}", e.field),
            format!("{} (in route \"{}\")", e.message, raw.name),
        )
    })?;
    let models = raw
        .matcher
        .model
        .items()
        .iter()
        .filter(|m| Glob::new(m).is_literal())
        .cloned()
        .collect();
    let strategy = strategy(&at, raw.strategy.as_deref(), raw.score_weights)?;
    if raw.targets.is_empty() {
        return Err(ConfigError::new(
            format!("{at}.targets"),
            "at least one target is required",
        ));
    }
    let mut targets = Vec::with_capacity(raw.targets.len());
    for (i, t) in raw.targets.into_iter().enumerate() {
        let tat = format!("{at}.targets[{i}]");
        if t.weight == 0 || t.weight > MAX_WEIGHT {
            return Err(ConfigError::new(
                format!("{tat}.weight"),
                format!("must be between 1 and {MAX_WEIGHT}"),
            ));
        }
        let extra = Extra {
            cost: t.cost,
            score: t.score,
            max_latency_ms: t.max_latency_ms,
            context_window: t.context_window,
        };
        targets.push(target(
            &tat,
            &t.provider,
            t.model,
            t.weight,
            extra,
            providers,
        )?);
    }
    let mut fallback = Vec::with_capacity(raw.fallback.len());
    for (i, f) in raw.fallback.into_iter().enumerate() {
        let extra = Extra {
            cost: f.cost,
            score: f.score,
            max_latency_ms: f.max_latency_ms,
            context_window: f.context_window,
        };
        let fat = format!("{at}.fallback[{i}]");
        fallback.push(target(&fat, &f.provider, f.model, 1, extra, providers)?);
    }
    Ok(Route {
        name: raw.name,
        rule,
        models,
        strategy,
        targets,
        fallback,
    })
}

fn strategy(
    at: &str,
    name: Option<&str>,
    weights: Option<crate::config::raw::RawScoreWeights>,
) -> VResult<Strategy> {
    let s = match name {
        None => Strategy::Weighted,
        Some(n) => Strategy::parse(n).ok_or_else(|| {
            ConfigError::new(
                format!("{at}.strategy"),
                format!(
                    "unknown strategy \"{n}\" (weighted, priority, least-latency, cheapest, \
                     throughput, scored, cost, speed, quality)"
                ),
            )
        })?,
    };
    let Some(w) = weights else { return Ok(s) };
    if name != Some("scored") {
        return Err(ConfigError::new(
            format!("{at}.score_weights"),
            "only applies to `strategy: scored`",
        ));
    }
    let parts = [w.latency, w.cost, w.success, w.custom];
    if parts.iter().any(|v| !v.is_finite() || *v < 0.0) || parts.iter().all(|v| *v == 0.0) {
        return Err(ConfigError::new(
            format!("{at}.score_weights"),
            "weights must be non-negative numbers, not all zero",
        ));
    }
    Ok(Strategy::Scored(ScoreWeights {
        latency: w.latency,
        cost: w.cost,
        success: w.success,
        custom: w.custom,
    }))
}

struct Extra {
    cost: Option<f64>,
    score: Option<f64>,
    max_latency_ms: Option<u64>,
    context_window: Option<u64>,
}

fn target(
    at: &str,
    provider: &str,
    model: String,
    weight: u32,
    extra: Extra,
    providers: &[&str],
) -> VResult<Target> {
    let id = providers
        .iter()
        .position(|p| *p == provider)
        .ok_or_else(|| {
            ConfigError::new(
                format!("{at}.provider"),
                format!(
                    "unknown provider \"{provider}\" (configured: {})",
                    if providers.is_empty() {
                        "none".to_string()
                    } else {
                        providers.join(", ")
                    }
                ),
            )
        })?;
    if model.is_empty() {
        return Err(ConfigError::new(format!("{at}.model"), "must not be empty"));
    }
    if extra.cost.is_some_and(|c| !c.is_finite() || c < 0.0) {
        return Err(ConfigError::new(
            format!("{at}.cost"),
            "must be a non-negative number (USD per million tokens)",
        ));
    }
    if extra.score.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
        return Err(ConfigError::new(
            format!("{at}.score"),
            "must be between 0 and 1",
        ));
    }
    if extra.max_latency_ms == Some(0) {
        return Err(ConfigError::new(
            format!("{at}.max_latency_ms"),
            "must be greater than zero",
        ));
    }
    if extra.context_window == Some(0) {
        return Err(ConfigError::new(
            format!("{at}.context_window"),
            "must be greater than zero",
        ));
    }
    Ok(Target {
        provider: id,
        model,
        weight,
        cost: extra.cost,
        score: extra.score,
        max_latency: extra.max_latency_ms.map(Duration::from_millis),
        context_window: extra.context_window,
    })
}

/// `server.health`, defaults from the health module.
pub(super) fn health(raw: Option<RawHealth>) -> VResult<HealthConfig> {
    let raw = raw.unwrap_or_default();
    let d = HealthConfig::default();
    Ok(HealthConfig {
        breaker: breaker(raw.breaker, d.breaker)?,
        latency: latency(raw.latency, d.latency)?,
        max_retry_after: nonzero(
            "server.health.max_retry_after",
            raw.max_retry_after,
            d.max_retry_after,
        )?,
    })
}

fn breaker(r: RawBreaker, d: BreakerConfig) -> VResult<BreakerConfig> {
    let at = "server.health.breaker";
    let count = |name: &str, v: Option<u32>, def: u32| -> VResult<u32> {
        match v {
            Some(0) => Err(ConfigError::new(
                format!("{at}.{name}"),
                "must be at least 1",
            )),
            Some(n) => Ok(n),
            None => Ok(def),
        }
    };
    let error_ratio = r.error_ratio.unwrap_or(d.error_ratio);
    if !(error_ratio > 0.0 && error_ratio <= 1.0) {
        return Err(ConfigError::new(
            format!("{at}.error_ratio"),
            "must be in (0, 1]",
        ));
    }
    let cooldown_multiplier = r.cooldown_multiplier.unwrap_or(d.cooldown_multiplier);
    if !(1.0..=100.0).contains(&cooldown_multiplier) {
        return Err(ConfigError::new(
            format!("{at}.cooldown_multiplier"),
            "must be between 1 and 100",
        ));
    }
    let cooldown = nonzero(&format!("{at}.cooldown"), r.cooldown, d.cooldown)?;
    let max_cooldown = nonzero(
        &format!("{at}.max_cooldown"),
        r.max_cooldown,
        d.max_cooldown.max(cooldown),
    )?;
    if max_cooldown < cooldown {
        return Err(ConfigError::new(
            format!("{at}.max_cooldown"),
            "must be at least `cooldown`",
        ));
    }
    Ok(BreakerConfig {
        consecutive_failures: count(
            "consecutive_failures",
            r.consecutive_failures,
            d.consecutive_failures,
        )?,
        error_ratio,
        min_requests: count("min_requests", r.min_requests, d.min_requests)?,
        window: nonzero(&format!("{at}.window"), r.window, d.window)?,
        cooldown,
        cooldown_multiplier,
        max_cooldown,
        half_open_canaries: count(
            "half_open_canaries",
            r.half_open_canaries,
            d.half_open_canaries,
        )?,
        close_after: count("close_after", r.close_after, d.close_after)?,
        canary_timeout: nonzero(
            &format!("{at}.canary_timeout"),
            r.canary_timeout,
            d.canary_timeout,
        )?,
    })
}

fn latency(r: RawLatency, d: LatencyConfig) -> VResult<LatencyConfig> {
    let at = "server.health.latency";
    let degraded_after = r.degraded_after.unwrap_or(d.degraded_after);
    if degraded_after == 0 {
        return Err(ConfigError::new(
            format!("{at}.degraded_after"),
            "must be at least 1",
        ));
    }
    let weight_floor = r.weight_floor.unwrap_or(d.weight_floor);
    if !(weight_floor > 0.0 && weight_floor <= 1.0) {
        return Err(ConfigError::new(
            format!("{at}.weight_floor"),
            "must be in (0, 1]",
        ));
    }
    Ok(LatencyConfig {
        degraded_after,
        weight_floor,
        ..d
    })
}

/// `server.retry`, defaults from the retry module.
pub(super) fn retry(raw: Option<RawRetry>) -> VResult<RetrySettings> {
    let r = raw.unwrap_or_default();
    let d = RetrySettings::default();
    let at = "server.retry";
    let base = nonzero(
        &format!("{at}.backoff_base"),
        r.backoff_base,
        d.backoff.base,
    )?;
    let cap = nonzero(
        &format!("{at}.backoff_cap"),
        r.backoff_cap,
        d.backoff.cap.max(base),
    )?;
    if cap < base {
        return Err(ConfigError::new(
            format!("{at}.backoff_cap"),
            "must be at least `backoff_base`",
        ));
    }
    let ratio = r.budget_ratio.unwrap_or(d.budget.ratio);
    if !(0.0..=10.0).contains(&ratio) {
        return Err(ConfigError::new(
            format!("{at}.budget_ratio"),
            "must be between 0 and 10",
        ));
    }
    let min_per_sec = r.budget_min_per_sec.unwrap_or(d.budget.min_per_sec);
    if !(0.0..=1e6).contains(&min_per_sec) {
        return Err(ConfigError::new(
            format!("{at}.budget_min_per_sec"),
            "must be between 0 and 1000000",
        ));
    }
    Ok(RetrySettings {
        backoff: Backoff { base, cap },
        budget: RetryBudgetConfig {
            ratio,
            min_per_sec,
            window: nonzero(
                &format!("{at}.budget_window"),
                r.budget_window,
                d.budget.window,
            )?,
        },
    })
}

fn nonzero(at: &str, v: Option<Duration>, default: Duration) -> VResult<Duration> {
    match v {
        Some(d) if d.is_zero() => Err(ConfigError::new(at, "must be greater than zero")),
        Some(d) => Ok(d),
        None => Ok(default),
    }
}
