//! Seeding budget counters from the ledger at start: in-process counters begin empty after a
//! restart (and Redis may have lost its data), so each key's, team's and the gateway's spend
//! today, this month and in total is read back from the ledger and written into counters that
//! are still absent (never over a live counter). Runs once, in the background, right after
//! start; requests admitted in the first moments before it finishes see unseeded budgets.

use super::{CounterStore, Period, ScopeKind, period_window};
use crate::ledger::query::{LedgerReader, Spend};
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::Arc;
use std::time::SystemTime;

/// Writes the ledger's spend into the counters; returns how many counters were seeded.
pub async fn seed(reader: &LedgerReader, store: &dyn CounterStore) -> Result<usize, String> {
    let now = SystemTime::now();
    let totals = reader
        .spend_by_scope(now)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let mut scopes: Vec<(ScopeKind, &str, Spend)> =
        vec![(ScopeKind::Global, "global", totals.global)];
    scopes.extend(
        totals
            .keys
            .iter()
            .map(|(k, s)| (ScopeKind::Key, k.as_str(), *s)),
    );
    scopes.extend(
        totals
            .teams
            .iter()
            .map(|(t, s)| (ScopeKind::Team, t.as_str(), *s)),
    );
    let mut n = 0;
    for (kind, id, spend) in scopes {
        for (period, micros) in [
            (Period::Daily, spend.daily_micros),
            (Period::Monthly, spend.monthly_micros),
            (Period::Total, spend.total_micros),
        ] {
            if micros == 0 {
                continue;
            }
            let (window, _) = period_window(period, now);
            store.seed_spend(kind, id, period, &window, micros).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// The one-shot background service.
pub struct SeedService {
    pub reader: Arc<crate::ledger::query::ReaderCell>,
    pub store: Arc<dyn CounterStore>,
}

#[async_trait::async_trait]
impl BackgroundService for SeedService {
    async fn start(&self, _shutdown: ShutdownWatch) {
        let reader = match self.reader.get().await {
            Ok(r) => r,
            Err(e) => {
                log::warn!("limits: budgets not seeded from the ledger: {e}");
                return;
            }
        };
        match seed(reader, self.store.as_ref()).await {
            Ok(n) => log::info!("limits: seeded {n} budget counters from the ledger"),
            Err(e) => log::warn!("limits: budgets not seeded from the ledger: {e}"),
        }
    }
}
