//! Validation of keys' policies, `limits:`, `admin:`, `audit:`, `alerts:` and
//! `server.counters`.

use super::VResult;
use crate::config::raw::RawScopeLimits;
use crate::config::raw::{RawAdmin, RawAlerts, RawAudit, RawBudget, RawKey, RawLimitsSection};
use crate::config::{
    AdminSettings, AlertSettings, AuditSettings, ConfigError, CounterTarget, KeyPolicy,
    LimitsSettings, Secret,
};
use crate::quota::{BudgetSpec, LimitSpec};
use std::collections::HashMap;
use std::time::Duration;

/// Largest budget accepted, in USD (far above any real one; keeps micro-dollars in range).
const MAX_BUDGET_USD: f64 = 1e9;

/// USD → integer micro-dollars, rejecting negative, non-finite and absurd amounts.
pub fn usd_to_micros(at: &str, usd: f64) -> VResult<u64> {
    if !usd.is_finite() || !(0.0..=MAX_BUDGET_USD).contains(&usd) {
        return Err(ConfigError::new(
            at,
            format!("must be a USD amount between 0 and {MAX_BUDGET_USD}"),
        ));
    }
    // In range by the check above, so the cast cannot saturate.
    Ok((usd * 1e6).round() as u64)
}

fn budget(at: &str, raw: Option<&RawBudget>) -> VResult<BudgetSpec> {
    let Some(b) = raw else {
        return Ok(BudgetSpec::default());
    };
    let one = |name: &str, v: Option<f64>| {
        v.map(|usd| usd_to_micros(&format!("{at}.budget.{name}"), usd))
            .transpose()
    };
    Ok(BudgetSpec {
        daily_micros: one("daily", b.daily)?,
        monthly_micros: one("monthly", b.monthly)?,
        total_micros: one("total", b.total)?,
    })
}

fn positive(at: &str, field: &str, v: Option<u64>) -> VResult<Option<u64>> {
    match v {
        Some(0) => Err(ConfigError::new(
            format!("{at}.{field}"),
            "must be at least 1 (leave it out for no limit)",
        )),
        v => Ok(v),
    }
}

fn limit_spec(
    at: &str,
    rpm: Option<u64>,
    tpm: Option<u64>,
    max_concurrency: Option<u64>,
    raw_budget: Option<&RawBudget>,
) -> VResult<LimitSpec> {
    Ok(LimitSpec {
        rpm: positive(at, "rpm", rpm)?,
        tpm: positive(at, "tpm", tpm)?,
        max_concurrency: positive(at, "max_concurrency", max_concurrency)?,
        budget: budget(at, raw_budget)?,
    })
}

fn scope_limits(at: &str, raw: &RawScopeLimits) -> VResult<LimitSpec> {
    limit_spec(
        at,
        raw.rpm,
        raw.tpm,
        raw.max_concurrency,
        raw.budget.as_ref(),
    )
}

/// A config key's policy (`keys[i].…`).
pub fn key_policy(at: &str, k: &RawKey) -> VResult<KeyPolicy> {
    if k.org.as_deref() == Some("") {
        return Err(ConfigError::new(format!("{at}.org"), "must not be empty"));
    }
    for (field, list) in [("models", &k.models), ("routes", &k.routes)] {
        if let Some(j) = list.iter().position(String::is_empty) {
            return Err(ConfigError::new(
                format!("{at}.{field}[{j}]"),
                "must not be empty",
            ));
        }
    }
    let expires_at = k
        .expires_at
        .as_deref()
        .map(|t| {
            humantime::parse_rfc3339(t).map_err(|e| {
                ConfigError::new(
                    format!("{at}.expires_at"),
                    format!("{e}; use RFC 3339 UTC, e.g. 2027-01-31T00:00:00Z"),
                )
            })
        })
        .transpose()?;
    Ok(KeyPolicy {
        org: k.org.clone(),
        models: k.models.clone(),
        routes: k.routes.clone(),
        limits: limit_spec(at, k.rpm, k.tpm, k.max_concurrency, k.budget.as_ref())?,
        expires_at,
        audit: k.audit,
    })
}

/// `limits:`.
pub fn limits(raw: RawLimitsSection) -> VResult<LimitsSettings> {
    let d = LimitsSettings::default();
    let global = raw
        .global
        .as_ref()
        .map(|g| scope_limits("limits.global", g))
        .transpose()?
        .unwrap_or_default();
    let mut teams = HashMap::with_capacity(raw.teams.len());
    for (name, t) in &raw.teams {
        let at = format!("limits.teams.{name}");
        if name.is_empty() {
            return Err(ConfigError::new(
                "limits.teams",
                "team names must not be empty",
            ));
        }
        teams.insert(name.clone(), scope_limits(&at, t)?);
    }
    let fail_open = match raw.on_store_error.as_deref() {
        None | Some("open") => true,
        Some("closed") => false,
        Some(other) => {
            return Err(ConfigError::new(
                "limits.on_store_error",
                format!("\"{other}\" is not one of: open, closed"),
            ));
        }
    };
    let lease = raw.lease.unwrap_or(d.lease);
    if lease < Duration::from_secs(1) {
        return Err(ConfigError::new("limits.lease", "must be at least 1s"));
    }
    let default_max_tokens = match raw.default_max_tokens {
        Some(0) => {
            return Err(ConfigError::new(
                "limits.default_max_tokens",
                "must be at least 1",
            ));
        }
        Some(n) => n,
        None => d.default_max_tokens,
    };
    Ok(LimitsSettings {
        global,
        teams,
        fail_open,
        lease,
        default_max_tokens,
    })
}

/// `server.counters`.
pub fn counters(raw: Option<String>) -> VResult<CounterTarget> {
    match raw.as_deref() {
        None | Some("memory") => Ok(CounterTarget::Memory),
        Some(url) if url.starts_with("redis://") && url.len() > "redis://".len() => {
            Ok(CounterTarget::Redis(Secret::new(url.to_string())))
        }
        Some(url) if url.starts_with("rediss://") => Err(ConfigError::new(
            "server.counters",
            "rediss:// (TLS) is not supported; use redis:// on a private network or loopback",
        )),
        Some(_) => Err(ConfigError::new(
            "server.counters",
            "must be `memory` or a redis://host:port[/db] URL",
        )),
    }
}

/// `admin:`.
pub fn admin(raw: RawAdmin) -> VResult<AdminSettings> {
    let d = AdminSettings::default();
    let token = match raw.token {
        Some(t) if t.len() < 16 => {
            return Err(ConfigError::new(
                "admin.token",
                "must be at least 16 characters (is the environment variable set?)",
            ));
        }
        t => t.map(Secret::new),
    };
    let key_secret = match raw.key_secret {
        Some(s) if s.len() < 16 => {
            return Err(ConfigError::new(
                "admin.key_secret",
                "must be at least 16 characters (is the environment variable set?)",
            ));
        }
        s => s.map(Secret::new),
    };
    let key_refresh = raw.key_refresh.unwrap_or(d.key_refresh);
    if key_refresh < Duration::from_millis(100) {
        return Err(ConfigError::new(
            "admin.key_refresh",
            "must be at least 100ms",
        ));
    }
    Ok(AdminSettings {
        token,
        key_secret,
        key_refresh,
    })
}

/// `audit:`.
pub fn audit(raw: RawAudit) -> VResult<AuditSettings> {
    let d = AuditSettings::default();
    let path = match raw.path {
        Some(p) if p.is_empty() => {
            return Err(ConfigError::new("audit.path", "must be a file path"));
        }
        Some(p) => std::path::PathBuf::from(p),
        None => d.path,
    };
    let max_bytes = match raw.max_bytes {
        Some(n) if !(256..=16 * 1024 * 1024).contains(&n) => {
            return Err(ConfigError::new(
                "audit.max_bytes",
                "must be between 256 and 16777216",
            ));
        }
        Some(n) => n,
        None => d.max_bytes,
    };
    let mut redact = Vec::with_capacity(raw.redact.len());
    for (i, r) in raw.redact.into_iter().enumerate() {
        let rule = crate::audit::RedactRule {
            pattern: r.pattern,
            replace: r.replace.unwrap_or_else(|| "[REDACTED]".into()),
        };
        crate::audit::Redactor::new(std::slice::from_ref(&rule))
            .map_err(|e| ConfigError::new(format!("audit.redact[{i}].pattern"), e))?;
        redact.push(rule);
    }
    Ok(AuditSettings {
        path,
        max_bytes,
        redact,
    })
}

/// `alerts:`.
pub fn alerts(raw: RawAlerts) -> VResult<AlertSettings> {
    let d = AlertSettings::default();
    if let Some(url) = &raw.webhook
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(ConfigError::new(
            "alerts.webhook",
            "must be an http:// or https:// URL",
        ));
    }
    let mut thresholds = raw.thresholds.unwrap_or(d.thresholds);
    if let Some(j) = thresholds.iter().position(|t| !(1..=100).contains(t)) {
        return Err(ConfigError::new(
            format!("alerts.thresholds[{j}]"),
            "must be a percentage from 1 to 100",
        ));
    }
    thresholds.sort_unstable();
    thresholds.dedup();
    Ok(AlertSettings {
        webhook: raw.webhook,
        thresholds,
    })
}
