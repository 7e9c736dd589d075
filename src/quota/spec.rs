//! What a scope (a key, a team, or the whole gateway) is allowed: request and token rates,
//! concurrency, and budgets in integer micro-dollars. `None` means unlimited.

use serde::{Deserialize, Serialize};

/// Limits of one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitSpec {
    /// Requests admitted in any 60-second window.
    pub rpm: Option<u64>,
    /// Tokens (prompt estimate + max output, settled to real usage) in any 60-second window.
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    pub max_concurrency: Option<u64>,
    /// Spend limits.
    pub budget: BudgetSpec,
}

/// Spend limits in micro-dollars (1 USD = 1,000,000). Daily budgets reset at 00:00 UTC,
/// monthly ones at 00:00 UTC on the 1st; the total budget never resets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSpec {
    pub daily_micros: Option<u64>,
    pub monthly_micros: Option<u64>,
    pub total_micros: Option<u64>,
}

impl LimitSpec {
    /// No limit at all (nothing to reserve).
    pub fn is_unlimited(&self) -> bool {
        self.rpm.is_none()
            && self.tpm.is_none()
            && self.max_concurrency.is_none()
            && self.budget.is_unlimited()
    }
}

impl BudgetSpec {
    pub fn is_unlimited(&self) -> bool {
        self.daily_micros.is_none() && self.monthly_micros.is_none() && self.total_micros.is_none()
    }
}
