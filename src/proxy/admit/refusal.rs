//! The client-facing errors of limit denials (OpenAI-shaped, naming the limit), each counted
//! in `switchyard_limit_denied_total`.

use crate::error::{ErrorKind, GatewayError};
use crate::metrics::METRICS;
use crate::quota::{Denial, LimitName, Period, ScopeKind};
use std::time::{Duration, SystemTime};

/// The client-facing error of a denial.
pub fn refusal(denial: &Denial, now: SystemTime) -> GatewayError {
    match denial {
        Denial::Rate {
            scope,
            id,
            limit,
            value,
            retry_after,
        } => rate(*scope, id, *limit, *value, *retry_after),
        Denial::TooLarge {
            scope,
            id,
            limit,
            value,
            requested,
        } => too_large(*scope, id, *limit, *value, *requested),
        Denial::Budget {
            scope,
            id,
            period,
            limit_micros,
            spent_micros,
            resets_at,
        } => {
            count(*scope, "budget");
            let spent = (*limit_micros, *spent_micros);
            budget(*scope, id, *period, spent, *resets_at, now)
        }
        Denial::Unavailable(_) => GatewayError::new(
            503,
            ErrorKind::Overloaded,
            "Limits cannot be checked right now; try again shortly.",
        ),
    }
}

fn whose(kind: ScopeKind, id: &str) -> String {
    match kind {
        ScopeKind::Key => format!("key '{id}'"),
        ScopeKind::Team => format!("team '{id}'"),
        ScopeKind::Global => "this gateway".to_string(),
    }
}

/// Over an RPM, TPM or concurrency limit: retry after the window frees up.
fn rate(scope: ScopeKind, id: &str, limit: LimitName, value: u64, after: Duration) -> GatewayError {
    count(scope, limit_label(limit));
    let secs = after.as_secs_f64().ceil().max(1.0) as u64;
    GatewayError::new(
        429,
        ErrorKind::RateLimited,
        format!(
            "Rate limit reached for {} on {}: limit {value}. Please try again in {secs}s.",
            whose(scope, id),
            limit.as_str()
        ),
    )
    .with_code("rate_limit_exceeded")
    .with_param(limit_label(limit))
    .with_retry_after(Some(secs))
}

/// A request larger than a whole limit: retrying cannot help.
fn too_large(
    scope: ScopeKind,
    id: &str,
    limit: LimitName,
    value: u64,
    requested: u64,
) -> GatewayError {
    count(scope, limit_label(limit));
    GatewayError::new(
        429,
        ErrorKind::RateLimited,
        format!(
            "Request too large for {} on {}: limit {value}, requested {requested}. \
             Lower max_tokens or shorten the prompt.",
            whose(scope, id),
            limit.as_str()
        ),
    )
    .with_code("rate_limit_exceeded")
    .with_param(limit_label(limit))
    .final_answer()
}

/// A spent budget: (limit, spent) in micro-dollars; retry after its reset, if it has one.
fn budget(
    scope: ScopeKind,
    id: &str,
    period: Period,
    (limit_micros, spent_micros): (u64, u64),
    resets_at: Option<SystemTime>,
    now: SystemTime,
) -> GatewayError {
    let name = period.as_str();
    let resets = match resets_at {
        Some(t) => format!("; it resets at {}", humantime::format_rfc3339_seconds(t)),
        None => "; it does not reset (raise it to continue)".to_string(),
    };
    let retry = resets_at.map(|t| {
        t.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .as_secs()
            .max(1)
    });
    GatewayError::new(
        429,
        ErrorKind::BudgetExceeded,
        format!(
            "Budget exceeded: the {name} budget of {} (${}) is spent (${} used or reserved){resets}.",
            whose(scope, id),
            crate::catalog::cost::usd_string(limit_micros),
            crate::catalog::cost::usd_string(spent_micros),
        ),
    )
    .with_code("budget_exceeded")
    .with_param(format!("budget.{name}"))
    .with_retry_after(retry)
    .final_answer()
}

fn limit_label(limit: LimitName) -> &'static str {
    match limit {
        LimitName::Rpm => "rpm",
        LimitName::Tpm => "tpm",
        LimitName::Concurrency => "max_concurrency",
    }
}

fn count(scope: ScopeKind, limit: &str) {
    METRICS
        .limit_denied
        .with_label_values(&[scope.as_str(), limit])
        .inc();
}
