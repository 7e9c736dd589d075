//! `/v1/key/info`: the calling key's identity, limits, current usage, what remains and when
//! budgets reset, rendered from plain inputs the HTTP layer gathers (key table, quota state).
//!
//! Unlimited limits (and their remaining amounts) are `null`. Budgets are USD numbers with six
//! decimals. Daily budgets reset at 00:00 UTC, monthly ones at 00:00 UTC on the 1st (as
//! [`crate::quota::BudgetSpec`] says); resets are computed from `now` by [`crate::calendar`].

use super::Rendered;
use super::usage::Usd;
use crate::calendar;
use crate::error::GatewayError;
use crate::ledger::query::Spend;
use crate::quota::LimitSpec;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::time::SystemTime;

/// Everything `/v1/key/info` shows. Never the key itself.
#[derive(Debug, Clone, Copy)]
pub struct KeyInfoInput<'a> {
    pub name: &'a str,
    pub id: &'a str,
    pub team: Option<&'a str>,
    pub org: Option<&'a str>,
    pub limits: &'a LimitSpec,
    pub usage: KeyUsageNow,
    /// `None`: the key does not expire.
    pub expires_at: Option<SystemTime>,
    /// The current time (resets are computed from it).
    pub now: SystemTime,
}

/// The key's current consumption, from the quota counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyUsageNow {
    /// Requests admitted in the current 60-second window.
    pub requests_last_minute: u64,
    /// Tokens counted in the current 60-second window.
    pub tokens_last_minute: u64,
    pub in_flight: u64,
    /// Spent today (UTC), this month (UTC) and in total.
    pub spent: Spend,
}

#[derive(Serialize)]
struct Info<'a> {
    object: &'static str,
    key: KeyPart<'a>,
    limits: Limits,
    usage: Usage,
    remaining: Remaining,
    resets: Resets,
}

#[derive(Serialize)]
struct KeyPart<'a> {
    name: &'a str,
    id: &'a str,
    team: Option<&'a str>,
    org: Option<&'a str>,
    expires_at: Option<String>,
}

#[derive(Serialize)]
struct Limits {
    rpm: Option<u64>,
    tpm: Option<u64>,
    max_concurrency: Option<u64>,
    budget: Budget,
}

#[derive(Serialize)]
struct Budget {
    daily: Option<Usd>,
    monthly: Option<Usd>,
    total: Option<Usd>,
}

#[derive(Serialize)]
struct Usage {
    requests_per_minute: u64,
    tokens_per_minute: u64,
    in_flight: u64,
    spent: SpentUsd,
}

#[derive(Serialize)]
struct SpentUsd {
    daily: Usd,
    monthly: Usd,
    total: Usd,
}

#[derive(Serialize)]
struct Remaining {
    requests_per_minute: Option<u64>,
    tokens_per_minute: Option<u64>,
    budget: Budget,
}

#[derive(Serialize)]
struct Resets {
    daily: String,
    monthly: String,
}

/// The `/v1/key/info` JSON body.
pub fn render(input: &KeyInfoInput<'_>) -> Result<Rendered, GatewayError> {
    let l = input.limits;
    let u = &input.usage;
    let b = &l.budget;
    let left = |limit: Option<u64>, used: u64| limit.map(|n| n.saturating_sub(used));
    let info = Info {
        object: "key_info",
        key: KeyPart {
            name: input.name,
            id: input.id,
            team: input.team,
            org: input.org,
            expires_at: input.expires_at.map(rfc3339),
        },
        limits: Limits {
            rpm: l.rpm,
            tpm: l.tpm,
            max_concurrency: l.max_concurrency,
            budget: Budget {
                daily: b.daily_micros.map(Usd),
                monthly: b.monthly_micros.map(Usd),
                total: b.total_micros.map(Usd),
            },
        },
        usage: Usage {
            requests_per_minute: u.requests_last_minute,
            tokens_per_minute: u.tokens_last_minute,
            in_flight: u.in_flight,
            spent: SpentUsd {
                daily: Usd(u.spent.daily_micros),
                monthly: Usd(u.spent.monthly_micros),
                total: Usd(u.spent.total_micros),
            },
        },
        remaining: Remaining {
            requests_per_minute: left(l.rpm, u.requests_last_minute),
            tokens_per_minute: left(l.tpm, u.tokens_last_minute),
            budget: Budget {
                daily: left(b.daily_micros, u.spent.daily_micros).map(Usd),
                monthly: left(b.monthly_micros, u.spent.monthly_micros).map(Usd),
                total: left(b.total_micros, u.spent.total_micros).map(Usd),
            },
        },
        resets: Resets {
            daily: rfc3339(calendar::next_day_start(input.now)),
            monthly: rfc3339(calendar::next_month_start(input.now)),
        },
    };
    let body = serde_json::to_vec(&info).map_err(|e| {
        log::error!("billing: cannot render key info: {e}");
        GatewayError::internal()
    })?;
    Ok(Rendered {
        content_type: "application/json",
        body: Bytes::from(body),
    })
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}
