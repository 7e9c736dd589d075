//! Admission limits at key, team and global level: RPM, TPM, concurrency and budgets,
//! reserved before the provider is called and settled with the real usage afterwards.
//!
//! A request names up to three [`Scope`]s. [`CounterStore::reserve`] checks every limit of
//! every scope and takes everything, or takes nothing and returns the first [`Denial`]
//! (atomic: no check-then-increment race). [`CounterStore::settle`] replaces the reserved
//! tokens and cost with the real ones and releases the concurrency slot. Two stores:
//! [`LocalStore`] (in-process) and [`RedisStore`] (shared by several gateway instances).
//!
//! Windows: RPM and TPM are exact sliding 60-second logs at millisecond resolution; an entry
//! made at `t` counts while `now < t + 60 s`. In process the log keeps one slot per distinct
//! millisecond (bounded memory at any request rate); in Redis one sorted-set member per
//! admitted request (for RPM bounded by the limit). Budgets count per UTC day / UTC month / forever, each with two counters:
//! `res` (settled + outstanding reservations, used for admission) and `spent` (settled only,
//! used for reporting and alerts).

mod lazy;
mod local;
mod period;
mod redis;
pub mod seed;
pub mod spec;
mod types;

pub use local::LocalStore;
pub use period::period_window;
pub use redis::{RedisConfig, RedisStore};
pub use spec::{BudgetSpec, LimitSpec};
pub use types::{
    BudgetCrossing, Demand, Denial, LimitName, Period, Reservation, Scope, ScopeKind, ScopeUsage,
};

use async_trait::async_trait;
use std::time::{Duration, SystemTime};

/// Where the counters live. All methods are cheap to call concurrently.
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Checks every limit of every scope and takes everything, or nothing. Scopes whose
    /// limits are all unlimited are skipped; with no limited scope at all there is no I/O.
    ///
    /// The returned reservation must be settled exactly once (with zero usage when the
    /// request failed before the provider answered); `Reservation` is not `Clone`.
    async fn reserve(
        &self,
        scopes: &[Scope],
        demand: Demand,
        now: SystemTime,
    ) -> Result<Reservation, Denial>;

    /// Settles with real usage; returns the budget crossings (before/after settled spend) so
    /// the caller can fire 50/80/100% alerts. The spend is booked in the budget windows the
    /// reservation was made in. Tokens of a reservation already out of the TPM window are
    /// not adjusted.
    async fn settle(
        &self,
        r: Reservation,
        tokens: u64,
        cost_micros: u64,
        now: SystemTime,
    ) -> Result<Vec<BudgetCrossing>, String>;

    /// True when every call completes without waiting on I/O (the in-process store): the
    /// caller may then settle inline, so a slot is free the moment its request is done.
    fn completes_inline(&self) -> bool {
        false
    }

    /// Current counters of one scope. Only limited dimensions are counted: a scope without
    /// an RPM limit reports 0 requests, one without a daily budget 0 daily spend.
    async fn usage(&self, scope: &Scope, now: SystemTime) -> Result<ScopeUsage, String>;

    /// Claims a one-shot flag (e.g. "alert sent for key X daily 2026-11-26 at 80%"); true the
    /// first time across all instances sharing the store. `ttl` bounds its life.
    async fn claim_once(&self, flag: &str, ttl: Duration) -> Result<bool, String>;

    /// Sets a budget counter to `micros` if it is absent (seeding spend from the ledger at
    /// start). `window` is the id [`period_window`] gives ("2026-11-26", "2026-11", "total").
    async fn seed_spend(
        &self,
        kind: ScopeKind,
        id: &str,
        period: Period,
        window: &str,
        micros: u64,
    ) -> Result<(), String>;
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Length of the RPM/TPM sliding window.
pub(crate) const WINDOW_MS: u64 = 60_000;

/// The limits a request can never fit in, whatever the counters say (a zero RPM or
/// concurrency limit, more tokens than the TPM limit).
pub(crate) fn check_size(scope: &Scope, d: Demand) -> Result<(), Denial> {
    let l = &scope.limits;
    let too_large = |limit, value, requested| {
        Err(Denial::TooLarge {
            scope: scope.kind,
            id: std::sync::Arc::clone(&scope.id),
            limit,
            value,
            requested,
        })
    };
    if l.rpm == Some(0) {
        return too_large(LimitName::Rpm, 0, 1);
    }
    if let Some(tpm) = l.tpm.filter(|&tpm| d.tokens > tpm) {
        return too_large(LimitName::Tpm, tpm, d.tokens);
    }
    if l.max_concurrency == Some(0) {
        return too_large(LimitName::Concurrency, 0, 1);
    }
    Ok(())
}

/// Where limit counters live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CounterTarget {
    /// In this process (the embedded default; limits are per instance).
    Memory,
    /// Shared by every instance using this Redis (the URL may carry a password: a secret).
    Redis(crate::secret::Secret),
}

/// Key prefix of the gateway's counters in Redis.
pub const REDIS_PREFIX: &str = "switchyard:";

/// The counter store chosen by `server.counters` (Redis connects on first use, so the gateway
/// starts while Redis is down and `limits.on_store_error` decides meanwhile).
/// `lease` is how long a concurrency slot outlives an instance that died holding it.
pub fn build(
    target: &CounterTarget,
    lease: std::time::Duration,
) -> Result<std::sync::Arc<dyn CounterStore>, String> {
    Ok(match target {
        CounterTarget::Memory => std::sync::Arc::new(LocalStore::new(lease)),
        CounterTarget::Redis(url) => std::sync::Arc::new(lazy::LazyRedis::new(
            url.clone(),
            REDIS_PREFIX,
            RedisConfig {
                lease,
                ..RedisConfig::default()
            },
        )?),
    })
}
