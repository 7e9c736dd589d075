//! The `spec` JSON column of `virtual_keys`: the API-settable fields of a [`KeyRecord`]
//! (everything except id, name, hint and the timestamps, which have columns of their own).
//! Budgets are stored in integer micro-dollars, `expires_at` in Unix seconds. Unknown fields
//! are ignored and missing ones take their defaults, so newer and older gateways can share one
//! table.

use super::record::{KeyRecord, from_unix_secs, unix_secs};
use crate::quota::{BudgetSpec, LimitSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The stored form of a key's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeySpec {
    pub team: Option<String>,
    pub org: Option<String>,
    pub models: Vec<String>,
    pub routes: Vec<String>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_concurrency: Option<u64>,
    pub budget: StoredBudget,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub tags: Vec<String>,
    pub audit: bool,
}

/// Budgets in micro-dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredBudget {
    pub daily_micros: Option<u64>,
    pub monthly_micros: Option<u64>,
    pub total_micros: Option<u64>,
}

impl KeySpec {
    /// The settable fields of `record`.
    pub fn of(record: &KeyRecord) -> Self {
        let b = record.limits.budget;
        Self {
            team: record.team.as_deref().map(str::to_string),
            org: record.org.as_deref().map(str::to_string),
            models: record.models.clone(),
            routes: record.routes.clone(),
            rpm: record.limits.rpm,
            tpm: record.limits.tpm,
            max_concurrency: record.limits.max_concurrency,
            budget: StoredBudget {
                daily_micros: b.daily_micros,
                monthly_micros: b.monthly_micros,
                total_micros: b.total_micros,
            },
            expires_at: record.expires_at.map(unix_secs),
            tags: record.tags.to_vec(),
            audit: record.audit,
        }
    }

    /// Sets the settable fields of `record` from this spec.
    pub fn apply(self, record: &mut KeyRecord) {
        record.team = self.team.map(Arc::from);
        record.org = self.org.map(Arc::from);
        record.models = self.models;
        record.routes = self.routes;
        record.limits = LimitSpec {
            rpm: self.rpm,
            tpm: self.tpm,
            max_concurrency: self.max_concurrency,
            budget: BudgetSpec {
                daily_micros: self.budget.daily_micros,
                monthly_micros: self.budget.monthly_micros,
                total_micros: self.budget.total_micros,
            },
        };
        record.expires_at = self.expires_at.map(from_unix_secs);
        record.tags = Arc::from(self.tags);
        record.audit = self.audit;
    }

    /// The column value.
    pub fn to_json(&self) -> String {
        // A struct of strings, integers and booleans always serializes.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Parses the column value.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid key spec: {e}"))
    }
}
