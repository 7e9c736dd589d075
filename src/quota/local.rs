//! In-process counter store: one small mutex per scope (found through a read-mostly map per
//! scope kind), locked in a fixed order so that a request's scopes are checked and taken
//! atomically. No awaits happen while a lock is held.

use super::period::{WindowIds, parse_window, window_end, window_key, window_label};
use super::types::{
    BudgetCrossing, Demand, Denial, LimitName, Period, Reservation, Scope, ScopeKind, ScopeUsage,
};
use super::{CounterStore, WINDOW_MS, check_size, epoch_ms};
use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Budget windows kept per period (the current one and a few before it, for late settles).
const KEPT_WINDOWS: usize = 3;

/// Counters of one scope.
#[derive(Default)]
struct ScopeState {
    /// Admission times (ms) in the RPM window, sorted.
    rpm: VecDeque<Slot>,
    /// Requests in the RPM window (the sum of `rpm`).
    rpm_count: u64,
    /// Tokens reserved (then settled) per millisecond in the TPM window, sorted by time; a
    /// settlement adjusts the slot of its reservation's millisecond (found by binary search).
    tpm: VecDeque<Slot>,
    tpm_sum: u64,
    /// Reservation id → lease deadline (ms).
    conc: HashMap<u128, u64>,
    budgets: BTreeMap<(Period, u32), Budget>,
}

/// What one millisecond added to a window: requests (RPM) or tokens (TPM). Windows hold one
/// slot per distinct millisecond, never one entry per request, so a scope's memory is bounded
/// (at most 60,000 slots of 16 bytes) whatever the request rate, while admission stays exact
/// at millisecond resolution.
#[derive(Clone, Copy)]
struct Slot {
    at: u64,
    n: u64,
}

/// Adds `n` at `at` to a time-sorted window (merging with the slot of the same millisecond).
fn add_slot(window: &mut VecDeque<Slot>, at: u64, n: u64) {
    if let Some(last) = window.back_mut()
        && last.at == at
    {
        last.n = last.n.saturating_add(n);
        return;
    }
    let pos = window.partition_point(|e| e.at <= at);
    if pos > 0
        && let Some(prev) = window.get_mut(pos - 1)
        && prev.at == at
    {
        prev.n = prev.n.saturating_add(n);
        return;
    }
    window.insert(pos, Slot { at, n });
}

/// Drops the slots at or before `cutoff`; returns what they held.
fn prune_slots(window: &mut VecDeque<Slot>, cutoff: u64) -> u64 {
    let mut gone = 0u64;
    while let Some(e) = window.front() {
        if e.at > cutoff {
            break;
        }
        gone = gone.saturating_add(e.n);
        window.pop_front();
    }
    gone
}

/// When `needed` more units fit under `limit` given `sum` in the window: the time the oldest
/// slots that must leave do leave (ms from `now`).
fn wait_for(window: &VecDeque<Slot>, sum: u64, needed: u64, limit: u64, now: u64) -> u64 {
    let mut left = sum;
    for e in window {
        left = left.saturating_sub(e.n);
        if left.saturating_add(needed) <= limit {
            return (e.at + WINDOW_MS).saturating_sub(now);
        }
    }
    WINDOW_MS
}

#[derive(Default, Clone, Copy)]
struct Budget {
    /// Settled + outstanding reservations (admission).
    res: u64,
    /// Settled only (reporting).
    spent: u64,
    /// Whether `spent` was ever written (seed_spend only fills an absent counter).
    spent_set: bool,
}

/// The scopes of one kind, by id.
type ScopeMap = HashMap<Arc<str>, Arc<Mutex<ScopeState>>>;

/// The in-process store (one gateway instance).
pub struct LocalStore {
    maps: [RwLock<ScopeMap>; 3],
    flags: Mutex<HashMap<String, Instant>>,
    next_id: AtomicU64,
    lease_ms: u64,
}

impl Default for LocalStore {
    fn default() -> Self {
        LocalStore::new(Duration::from_secs(600))
    }
}

impl LocalStore {
    /// `lease`: how long a concurrency slot is held at most when a reservation is never
    /// settled (the max request duration).
    pub fn new(lease: Duration) -> LocalStore {
        LocalStore {
            maps: Default::default(),
            flags: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            lease_ms: u64::try_from(lease.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn cell(&self, kind: ScopeKind, id: &Arc<str>) -> Arc<Mutex<ScopeState>> {
        let map = &self.maps[kind as usize];
        if let Some(cell) = map.read().get(&**id) {
            return Arc::clone(cell);
        }
        Arc::clone(map.write().entry(Arc::clone(id)).or_default())
    }

    /// The cells of `scopes`, and the order to lock them in (by kind, then id).
    fn cells(&self, scopes: &[Scope]) -> (Vec<Arc<Mutex<ScopeState>>>, Vec<usize>) {
        let cells: Vec<_> = scopes.iter().map(|s| self.cell(s.kind, &s.id)).collect();
        let mut order: Vec<usize> = (0..scopes.len()).collect();
        order.sort_by(|&a, &b| {
            (scopes[a].kind, &scopes[a].id).cmp(&(scopes[b].kind, &scopes[b].id))
        });
        (cells, order)
    }
}

/// Locks `cells` in `order`, returning the guards by original index.
fn lock_all<'a>(
    cells: &'a [Arc<Mutex<ScopeState>>],
    order: &[usize],
) -> Vec<Option<parking_lot::MutexGuard<'a, ScopeState>>> {
    let mut guards: Vec<Option<_>> = (0..cells.len()).map(|_| None).collect();
    for &i in order {
        guards[i] = Some(cells[i].lock());
    }
    guards
}

impl ScopeState {
    /// The TPM slot of the millisecond `at`, if still in the window.
    fn tpm_slot(&mut self, at: u64) -> Option<&mut Slot> {
        let pos = self.tpm.partition_point(|e| e.at < at);
        self.tpm.get_mut(pos).filter(|e| e.at == at)
    }

    fn prune(&mut self, now: u64) {
        let cutoff = now.saturating_sub(WINDOW_MS);
        let gone = prune_slots(&mut self.rpm, cutoff);
        self.rpm_count = self.rpm_count.saturating_sub(gone);
        let gone = prune_slots(&mut self.tpm, cutoff);
        self.tpm_sum = self.tpm_sum.saturating_sub(gone);
        self.conc.retain(|_, deadline| *deadline > now);
    }

    fn budget(&self, period: Period, key: u32) -> Budget {
        self.budgets
            .get(&(period, key))
            .copied()
            .unwrap_or_default()
    }

    fn budget_mut(&mut self, period: Period, key: u32) -> &mut Budget {
        if !self.budgets.contains_key(&(period, key)) {
            let old: Vec<_> = self
                .budgets
                .keys()
                .filter(|(p, _)| *p == period)
                .copied()
                .collect();
            for k in old
                .iter()
                .take((old.len() + 1).saturating_sub(KEPT_WINDOWS))
            {
                self.budgets.remove(k);
            }
        }
        self.budgets.entry((period, key)).or_default()
    }

    /// Checks every limit of `scope` against this state (already pruned).
    fn check(&self, scope: &Scope, d: Demand, now: u64, w: WindowIds) -> Result<(), Denial> {
        let l = &scope.limits;
        let rate = |limit, value, retry_ms: u64| Denial::Rate {
            scope: scope.kind,
            id: Arc::clone(&scope.id),
            limit,
            value,
            retry_after: Duration::from_millis(retry_ms),
        };
        check_size(scope, d)?;
        if let Some(rpm) = l.rpm
            && self.rpm_count >= rpm
        {
            let retry = wait_for(&self.rpm, self.rpm_count, 1, rpm, now);
            return Err(rate(LimitName::Rpm, rpm, retry));
        }
        if let Some(tpm) = l.tpm
            && self.tpm_sum.saturating_add(d.tokens) > tpm
        {
            let retry = wait_for(&self.tpm, self.tpm_sum, d.tokens, tpm, now);
            return Err(rate(LimitName::Tpm, tpm, retry));
        }
        if let Some(conc) = l.max_concurrency {
            if self.conc.len() as u64 >= conc {
                return Err(rate(LimitName::Concurrency, conc, 1000));
            }
        }
        for period in Period::ALL {
            let Some(limit) = period.limit(l) else {
                continue;
            };
            let key = window_key(period, w);
            let res = self.budget(period, key).res;
            if res.saturating_add(d.cost_micros) > limit {
                return Err(Denial::Budget {
                    scope: scope.kind,
                    id: Arc::clone(&scope.id),
                    period,
                    limit_micros: limit,
                    spent_micros: res,
                    resets_at: window_end(period, key),
                });
            }
        }
        Ok(())
    }

    /// Takes what [`ScopeState::check`] allowed.
    fn take(&mut self, scope: &Scope, r: &Reservation, now: u64, lease_ms: u64) {
        let l = &scope.limits;
        if l.rpm.is_some() {
            add_slot(&mut self.rpm, now, 1);
            self.rpm_count = self.rpm_count.saturating_add(1);
        }
        if l.tpm.is_some() {
            add_slot(&mut self.tpm, now, r.tokens);
            self.tpm_sum = self.tpm_sum.saturating_add(r.tokens);
        }
        if l.max_concurrency.is_some() {
            self.conc.insert(r.id, now.saturating_add(lease_ms));
        }
        for period in Period::ALL {
            if period.limit(l).is_some() {
                let b = self.budget_mut(period, window_key(period, r.windows));
                b.res = b.res.saturating_add(r.cost_micros);
            }
        }
    }
}

#[async_trait]
impl CounterStore for LocalStore {
    fn completes_inline(&self) -> bool {
        true
    }

    async fn reserve(
        &self,
        scopes: &[Scope],
        demand: Demand,
        now: SystemTime,
    ) -> Result<Reservation, Denial> {
        let id = u128::from(self.next_id.fetch_add(1, Ordering::Relaxed));
        if scopes.iter().all(|s| s.limits.is_unlimited()) {
            return Ok(Reservation::empty(id, demand, now));
        }
        let mut limited: Vec<Scope> = Vec::with_capacity(scopes.len());
        for s in scopes {
            // A scope named twice is counted once (and locking it twice would deadlock).
            if !s.limits.is_unlimited() && !limited.iter().any(|l| l.kind == s.kind && l.id == s.id)
            {
                limited.push(s.clone());
            }
        }
        let ms = epoch_ms(now);
        let r = Reservation {
            id,
            scopes: limited,
            windows: WindowIds::at(now),
            tokens: demand.tokens,
            cost_micros: demand.cost_micros,
            at: now,
        };
        let (cells, order) = self.cells(&r.scopes);
        let mut guards = lock_all(&cells, &order);
        for (scope, guard) in r.scopes.iter().zip(guards.iter_mut()) {
            if let Some(st) = guard.as_mut() {
                st.prune(ms);
                st.check(scope, demand, ms, r.windows)?;
            }
        }
        for (scope, guard) in r.scopes.iter().zip(guards.iter_mut()) {
            if let Some(st) = guard.as_mut() {
                st.take(scope, &r, ms, self.lease_ms);
            }
        }
        drop(guards);
        Ok(r)
    }

    async fn settle(
        &self,
        r: Reservation,
        tokens: u64,
        cost_micros: u64,
        now: SystemTime,
    ) -> Result<Vec<BudgetCrossing>, String> {
        if r.scopes.is_empty() {
            return Ok(Vec::new());
        }
        let ms = epoch_ms(now);
        let (cells, order) = self.cells(&r.scopes);
        let mut guards = lock_all(&cells, &order);
        let mut crossings = Vec::new();
        for (scope, guard) in r.scopes.iter().zip(guards.iter_mut()) {
            let Some(st) = guard.as_mut() else { continue };
            st.prune(ms);
            if scope.limits.tpm.is_some()
                && let Some(slot) = st.tpm_slot(epoch_ms(r.at))
            {
                // Replace this reservation's share of its millisecond's slot.
                let reserved = r.tokens.min(slot.n);
                slot.n = (slot.n - reserved).saturating_add(tokens);
                st.tpm_sum = st.tpm_sum.saturating_sub(reserved).saturating_add(tokens);
            }
            st.conc.remove(&r.id);
            for period in Period::ALL {
                let Some(limit) = period.limit(&scope.limits) else {
                    continue;
                };
                let key = window_key(period, r.windows);
                let b = st.budget_mut(period, key);
                let before = b.spent;
                b.res = b
                    .res
                    .saturating_add(cost_micros)
                    .saturating_sub(r.cost_micros);
                b.spent = b.spent.saturating_add(cost_micros);
                b.spent_set = true;
                crossings.push(BudgetCrossing {
                    scope: scope.kind,
                    id: Arc::clone(&scope.id),
                    period,
                    window: window_label(period, key),
                    limit_micros: limit,
                    before_micros: before,
                    after_micros: b.spent,
                });
            }
        }
        Ok(crossings)
    }

    async fn usage(&self, scope: &Scope, now: SystemTime) -> Result<ScopeUsage, String> {
        let ms = epoch_ms(now);
        let w = WindowIds::at(now);
        let cell = self.cell(scope.kind, &scope.id);
        let mut st = cell.lock();
        st.prune(ms);
        let spent = |p: Period| st.budget(p, window_key(p, w)).spent;
        Ok(ScopeUsage {
            requests_in_window: st.rpm_count,
            tokens_in_window: st.tpm_sum,
            in_flight: st.conc.len() as u64,
            spent_daily: spent(Period::Daily),
            spent_monthly: spent(Period::Monthly),
            spent_total: spent(Period::Total),
            daily_resets_at: window_end(Period::Daily, w.day).unwrap_or(now),
            monthly_resets_at: window_end(Period::Monthly, w.month).unwrap_or(now),
        })
    }

    async fn claim_once(&self, flag: &str, ttl: Duration) -> Result<bool, String> {
        let now = Instant::now();
        let mut flags = self.flags.lock();
        if flags.get(flag).is_some_and(|&until| until > now) {
            return Ok(false);
        }
        if flags.len() >= 4096 {
            flags.retain(|_, until| *until > now);
        }
        flags.insert(flag.to_string(), now + ttl);
        Ok(true)
    }

    async fn seed_spend(
        &self,
        kind: ScopeKind,
        id: &str,
        period: Period,
        window: &str,
        micros: u64,
    ) -> Result<(), String> {
        let key = parse_window(period, window)?;
        let cell = self.cell(kind, &Arc::from(id));
        let mut st = cell.lock();
        let b = st.budget_mut(period, key);
        if !b.spent_set {
            b.spent = micros;
            b.res = b.res.saturating_add(micros);
            b.spent_set = true;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "local_budget_tests.rs"]
mod budget_tests;
