//! The vocabulary of the quota engine: scopes, demands, reservations, denials, budget
//! crossings and usage reports. Shared by both stores.

use super::period::WindowIds;
use super::spec::LimitSpec;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The level a limit applies at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKind {
    Key,
    Team,
    Global,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Key => "key",
            ScopeKind::Team => "team",
            ScopeKind::Global => "global",
        }
    }
}

/// One level a request is counted at: its key, its team, or the whole gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub kind: ScopeKind,
    /// Key id, team name, or "global". Any characters (stores escape it).
    pub id: Arc<str>,
    pub limits: LimitSpec,
}

/// What one request may use at most: prompt estimate + max output tokens, and the cost of
/// that in micro-dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Demand {
    pub tokens: u64,
    pub cost_micros: u64,
}

/// What [`super::CounterStore::reserve`] took; give it back to `settle` exactly once.
/// Opaque; not `Clone` so that it cannot be settled twice.
#[derive(Debug)]
pub struct Reservation {
    /// Request-unique id (random in the Redis store, a counter in the local one).
    pub(crate) id: u128,
    /// The scopes that had a limit (only those were counted).
    pub(crate) scopes: Vec<Scope>,
    /// The budget windows the cost was reserved in.
    pub(crate) windows: WindowIds,
    pub(crate) tokens: u64,
    pub(crate) cost_micros: u64,
    pub(crate) at: SystemTime,
}

impl Reservation {
    /// A reservation that took nothing (no scope had a limit).
    pub(crate) fn empty(id: u128, demand: Demand, now: SystemTime) -> Reservation {
        Reservation {
            id,
            scopes: Vec::new(),
            windows: WindowIds::default(),
            tokens: demand.tokens,
            cost_micros: demand.cost_micros,
            at: now,
        }
    }

    /// Whether the reservation counted anything (false: settle is free).
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// When it was made.
    pub fn reserved_at(&self) -> SystemTime {
        self.at
    }

    /// The tokens and cost it reserved.
    pub fn demand(&self) -> Demand {
        Demand {
            tokens: self.tokens,
            cost_micros: self.cost_micros,
        }
    }
}

/// A rate-type limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitName {
    Rpm,
    Tpm,
    Concurrency,
}

impl LimitName {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitName::Rpm => "requests per minute (RPM)",
            LimitName::Tpm => "tokens per minute (TPM)",
            LimitName::Concurrency => "concurrent requests",
        }
    }
}

/// A budget period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// Resets at 00:00 UTC.
    Daily,
    /// Resets at 00:00 UTC on the 1st.
    Monthly,
    /// Never resets.
    Total,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Monthly => "monthly",
            Period::Total => "total",
        }
    }

    pub(crate) const ALL: [Period; 3] = [Period::Daily, Period::Monthly, Period::Total];

    /// This period's limit in a budget spec.
    pub(crate) fn limit(self, limits: &LimitSpec) -> Option<u64> {
        match self {
            Period::Daily => limits.budget.daily_micros,
            Period::Monthly => limits.budget.monthly_micros,
            Period::Total => limits.budget.total_micros,
        }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Rate {
        scope: ScopeKind,
        id: Arc<str>,
        limit: LimitName,
        value: u64,
        retry_after: Duration,
    },
    Budget {
        scope: ScopeKind,
        id: Arc<str>,
        period: Period,
        limit_micros: u64,
        /// Settled spend plus outstanding reservations in the window.
        spent_micros: u64,
        /// `None` for the total budget.
        resets_at: Option<SystemTime>,
    },
    /// The request alone exceeds a limit (e.g. its token demand > TPM): never admissible.
    TooLarge {
        scope: ScopeKind,
        id: Arc<str>,
        limit: LimitName,
        value: u64,
        requested: u64,
    },
    /// The counter store failed (the integrator applies fail-open/closed policy).
    Unavailable(String),
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::Rate {
                scope,
                id,
                limit,
                value,
                retry_after,
            } => write!(
                f,
                "{} '{id}' reached its limit of {value} {}; retry after {} ms",
                scope.as_str(),
                limit.as_str(),
                retry_after.as_millis()
            ),
            Denial::Budget {
                scope,
                id,
                period,
                limit_micros,
                spent_micros,
                ..
            } => write!(
                f,
                "{} '{id}' {} budget of {limit_micros} micro-USD is used up ({spent_micros} spent or reserved)",
                scope.as_str(),
                period.as_str()
            ),
            Denial::TooLarge {
                scope,
                id,
                limit,
                value,
                requested,
            } => write!(
                f,
                "request needs {requested} but {} '{id}' allows {value} {}",
                scope.as_str(),
                limit.as_str()
            ),
            Denial::Unavailable(e) => write!(f, "quota store unavailable: {e}"),
        }
    }
}

impl std::error::Error for Denial {}

/// Settled spend of one budget window before and after a settle (the caller checks
/// thresholds such as 50/80/100%).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetCrossing {
    pub scope: ScopeKind,
    pub id: Arc<str>,
    pub period: Period,
    /// "2026-11-26", "2026-11" or "total".
    pub window: String,
    pub limit_micros: u64,
    pub before_micros: u64,
    pub after_micros: u64,
}

impl BudgetCrossing {
    /// Whether settled spend went from below `percent`% of the limit to at or above it.
    pub fn crossed(&self, percent: u64) -> bool {
        let threshold = u128::from(self.limit_micros) * u128::from(percent);
        u128::from(self.before_micros) * 100 < threshold
            && u128::from(self.after_micros) * 100 >= threshold
    }
}

/// Counters of one scope right now (settled spend; see [`super::CounterStore::usage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeUsage {
    pub requests_in_window: u64,
    pub tokens_in_window: u64,
    pub in_flight: u64,
    pub spent_daily: u64,
    pub spent_monthly: u64,
    pub spent_total: u64,
    pub daily_resets_at: SystemTime,
    pub monthly_resets_at: SystemTime,
}
