//! The JSON of the admin keys API: the create request (validated, every error a 400 naming
//! its field) and the record view shown by list, get, create, revoke and rotate. Budgets are
//! USD numbers here and integer micro-dollars everywhere else. Views never contain a digest;
//! the plaintext key appears only in the create and rotate answers.

use super::record::{KeyRecord, KeySource, rfc3339};
use crate::error::GatewayError;
use crate::quota::{BudgetSpec, LimitSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::SystemTime;

/// Largest budget accepted, in USD (keeps micro-dollars exact in an `f64`).
pub const MAX_BUDGET_USD: f64 = 1_000_000_000.0;
/// Longest name, team, org, model pattern, route or tag.
const MAX_TEXT: usize = 256;
/// Most entries in `models`, `routes` or `tags`.
const MAX_ITEMS: usize = 256;

/// `POST /admin/keys` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    team: Option<String>,
    org: Option<String>,
    models: Option<Vec<String>>,
    routes: Option<Vec<String>>,
    rpm: Option<u64>,
    tpm: Option<u64>,
    max_concurrency: Option<u64>,
    budget: Option<BudgetUsd>,
    expires_at: Option<String>,
    expires_in: Option<String>,
    tags: Option<Vec<String>>,
    audit: Option<bool>,
}

/// Budgets in USD.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct BudgetUsd {
    daily: Option<f64>,
    monthly: Option<f64>,
    total: Option<f64>,
}

/// Parses and validates a create request into the record of a new API key `id` made at `now`
/// (no hint yet: the caller sets it from the generated key).
pub fn parse_create(body: &[u8], id: &str, now: SystemTime) -> Result<KeyRecord, GatewayError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let b: CreateBody = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." || !e.inner().is_data() {
            GatewayError::bad_request(format!("invalid request body: {}", e.inner()))
        } else {
            let message = format!("invalid value for `{path}`: {}", e.inner());
            GatewayError::bad_param(path, message)
        }
    })?;
    let name = text("name", &b.name)?;
    let mut record = KeyRecord::new(id, name, KeySource::Api, now);
    record.team = b
        .team
        .as_deref()
        .map(|t| text("team", t))
        .transpose()?
        .map(Arc::from);
    record.org = b
        .org
        .as_deref()
        .map(|t| text("org", t))
        .transpose()?
        .map(Arc::from);
    record.models = list("models", b.models)?;
    record.routes = list("routes", b.routes)?;
    record.tags = Arc::from(list("tags", b.tags)?);
    record.audit = b.audit.unwrap_or(false);
    let budget = b.budget.unwrap_or_default();
    record.limits = LimitSpec {
        rpm: b.rpm,
        tpm: b.tpm,
        max_concurrency: b.max_concurrency,
        budget: BudgetSpec {
            daily_micros: budget
                .daily
                .map(|v| usd_to_micros("budget.daily", v))
                .transpose()?,
            monthly_micros: budget
                .monthly
                .map(|v| usd_to_micros("budget.monthly", v))
                .transpose()?,
            total_micros: budget
                .total
                .map(|v| usd_to_micros("budget.total", v))
                .transpose()?,
        },
    };
    record.expires_at = expiry(b.expires_at.as_deref(), b.expires_in.as_deref(), now)?;
    Ok(record)
}

/// USD → micro-dollars, rounded to the nearest; negative, non-finite or huge amounts are a
/// 400 naming `param`.
pub fn usd_to_micros(param: &'static str, usd: f64) -> Result<u64, GatewayError> {
    if !usd.is_finite() || usd < 0.0 {
        return Err(GatewayError::bad_param(
            param,
            format!("`{param}` must be a non-negative number of USD"),
        ));
    }
    if usd > MAX_BUDGET_USD {
        return Err(GatewayError::bad_param(
            param,
            format!("`{param}` must be at most {MAX_BUDGET_USD} USD"),
        ));
    }
    // Exact: at most 1e15 micro-dollars, below 2^53.
    Ok((usd * 1_000_000.0).round() as u64)
}

/// Micro-dollars → USD, for display.
pub fn micros_to_usd(micros: u64) -> f64 {
    micros as f64 / 1_000_000.0
}

fn text<'a>(param: &'static str, value: &'a str) -> Result<&'a str, GatewayError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
        return Err(GatewayError::bad_param(
            param,
            format!("`{param}` must be 1 to {MAX_TEXT} printable characters"),
        ));
    }
    Ok(v)
}

fn list(param: &'static str, items: Option<Vec<String>>) -> Result<Vec<String>, GatewayError> {
    let items = items.unwrap_or_default();
    if items.len() > MAX_ITEMS {
        return Err(GatewayError::bad_param(
            param,
            format!("`{param}` has more than {MAX_ITEMS} entries"),
        ));
    }
    items
        .iter()
        .map(|i| text(param, i).map(str::to_string))
        .collect()
}

/// `expires_at` (RFC 3339, UTC) or `expires_in` (`30d`, `12h`), not both; must be in the
/// future.
fn expiry(
    at: Option<&str>,
    within: Option<&str>,
    now: SystemTime,
) -> Result<Option<SystemTime>, GatewayError> {
    let t = match (at, within) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(GatewayError::bad_param(
                "expires_in",
                "give either `expires_at` or `expires_in`, not both",
            ));
        }
        (Some(at), None) => humantime::parse_rfc3339_weak(at.trim()).map_err(|e| {
            GatewayError::bad_param(
                "expires_at",
                format!("`expires_at` must be an RFC 3339 UTC time like 2026-12-31T00:00:00Z: {e}"),
            )
        })?,
        (None, Some(d)) => humantime::parse_duration(d.trim())
            .ok()
            .and_then(|d| now.checked_add(d))
            .ok_or_else(|| {
                GatewayError::bad_param(
                    "expires_in",
                    "`expires_in` must be a duration like 30d or 12h",
                )
            })?,
    };
    if t <= now {
        let param = if at.is_some() {
            "expires_at"
        } else {
            "expires_in"
        };
        return Err(GatewayError::bad_param(
            param,
            format!("`{param}` must be in the future"),
        ));
    }
    Ok(Some(t))
}

/// A key as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct KeyView<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub name: &'a str,
    pub hint: &'a str,
    pub source: KeySource,
    /// `active`, `revoked` or `expired`.
    pub status: &'static str,
    pub team: Option<&'a str>,
    pub org: Option<&'a str>,
    pub models: &'a [String],
    pub routes: &'a [String],
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_concurrency: Option<u64>,
    pub budget: BudgetView,
    pub expires_at: Option<String>,
    pub tags: &'a [String],
    pub audit: bool,
    pub created_at: String,
    pub updated_at: String,
    pub revoked_at: Option<String>,
}

/// Budgets in USD (`null` = unlimited).
#[derive(Debug, Serialize)]
pub struct BudgetView {
    pub daily: Option<f64>,
    pub monthly: Option<f64>,
    pub total: Option<f64>,
}

/// The view of `r` at `now`.
pub fn view(r: &KeyRecord, now: SystemTime) -> KeyView<'_> {
    let b = r.limits.budget;
    KeyView {
        id: &r.id,
        object: "key",
        name: &r.name,
        hint: &r.hint,
        source: r.source,
        status: if r.revoked() {
            "revoked"
        } else if r.expired(now) {
            "expired"
        } else {
            "active"
        },
        team: r.team.as_deref(),
        org: r.org.as_deref(),
        models: &r.models,
        routes: &r.routes,
        rpm: r.limits.rpm,
        tpm: r.limits.tpm,
        max_concurrency: r.limits.max_concurrency,
        budget: BudgetView {
            daily: b.daily_micros.map(micros_to_usd),
            monthly: b.monthly_micros.map(micros_to_usd),
            total: b.total_micros.map(micros_to_usd),
        },
        expires_at: r.expires_at.map(rfc3339),
        tags: &r.tags,
        audit: r.audit,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
        revoked_at: r.revoked_at.map(rfc3339),
    }
}

/// A view plus the plaintext key (create and rotate answers only).
#[derive(Serialize)]
pub struct WithKey<'a> {
    pub key: &'a str,
    #[serde(flatten)]
    pub record: KeyView<'a>,
}
