//! The answers of the ledger read queries (usage rows, groups, spend totals) and the query
//! error. The UTC day / month boundaries they are computed over are [`crate::calendar`]'s.

use std::collections::HashMap;
use std::fmt;

/// Why a query gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// The ledger is `off`: there is nothing to read.
    Off,
    /// The store failed (the detail is for the log, not for clients).
    Store(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Off => f.write_str("the ledger is off"),
            QueryError::Store(e) => write!(f, "ledger query failed: {e}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// One key's usage of one model on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// `2026-11-26`.
    pub day: String,
    /// The served model, or the requested one when nothing was served.
    pub model: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    /// Sum of priced requests; unpriced requests add nothing.
    pub cost_micros: u64,
}

/// What usage is grouped (or filtered) by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Team,
    Key,
    Model,
}

impl GroupBy {
    /// The query parameter / CSV column name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Team => "team",
            GroupBy::Key => "key",
            GroupBy::Model => "model",
        }
    }

    /// The SQL expression (fixed strings, never input).
    pub(super) fn column(self) -> &'static str {
        match self {
            GroupBy::Team => "team",
            GroupBy::Key => "key_id",
            GroupBy::Model => "COALESCE(served_model, requested_model)",
        }
    }
}

/// Usage of one group (a team, a key or a model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// `None` for requests without a team / key / model.
    pub group: Option<String>,
    pub requests: u64,
    /// Requests answered with status >= 400.
    pub errors: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_micros: u64,
}

/// Spend of one scope in the current UTC day, the current UTC month and all time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spend {
    pub daily_micros: u64,
    pub monthly_micros: u64,
    pub total_micros: u64,
}

impl Spend {
    pub(super) fn add(&mut self, other: Spend) {
        self.daily_micros = self.daily_micros.saturating_add(other.daily_micros);
        self.monthly_micros = self.monthly_micros.saturating_add(other.monthly_micros);
        self.total_micros = self.total_micros.saturating_add(other.total_micros);
    }
}

/// Spend per key id, per team and overall, as of `now` (see [`LedgerReader::spend_by_scope`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendTotals {
    /// The UTC day the daily sums cover, `2026-11-26`.
    pub day: String,
    /// The UTC month the monthly sums cover, `2026-11`.
    pub month: String,
    pub global: Spend,
    /// By key id (rows without a key id count only globally and for their team).
    pub keys: HashMap<String, Spend>,
    /// By team (rows without a team count only globally and for their key).
    pub teams: HashMap<String, Spend>,
}

impl SpendTotals {
    /// The key's spend (zero when it has none).
    pub fn key(&self, key_id: &str) -> Spend {
        self.keys.get(key_id).copied().unwrap_or_default()
    }

    /// The team's spend (zero when it has none).
    pub fn team(&self, team: &str) -> Spend {
        self.teams.get(team).copied().unwrap_or_default()
    }
}
