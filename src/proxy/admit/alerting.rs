//! Budget alerts: a settlement that moves a budget's settled spend across a configured
//! threshold (`alerts.thresholds`, default 50/80/100 %) queues one webhook call. "Once" holds
//! across instances: the counter store's `claim_once` flag decides who sends it.

use crate::alerts::{Budget, BudgetAlert, Scope};
use crate::proxy::GatewayState;
use crate::quota::{BudgetCrossing, Period, ScopeKind};
use std::time::{Duration, SystemTime};

fn alert(c: &BudgetCrossing, threshold: u8) -> BudgetAlert {
    BudgetAlert {
        scope: match c.scope {
            ScopeKind::Key => Scope::Key,
            ScopeKind::Team => Scope::Team,
            ScopeKind::Global => Scope::Global,
        },
        id: c.id.to_string(),
        budget: match c.period {
            Period::Daily => Budget::Daily,
            Period::Monthly => Budget::Monthly,
            Period::Total => Budget::Total,
        },
        window: c.window.clone(),
        threshold_percent: threshold,
        limit_micros: c.limit_micros,
        spent_micros: c.after_micros,
        ts: SystemTime::now(),
    }
}

/// A budget that refuses a request is exhausted: its 100 % alert fires (once per window)
/// even though reservations keep settled spend from reaching the limit exactly.
pub async fn exhausted(state: &GatewayState, denial: &crate::quota::Denial) {
    let crate::quota::Denial::Budget {
        scope,
        id,
        period,
        limit_micros,
        spent_micros,
        ..
    } = denial
    else {
        return;
    };
    let (window, _) = crate::quota::period_window(*period, SystemTime::now());
    let c = BudgetCrossing {
        scope: *scope,
        id: id.clone(),
        period: *period,
        window,
        limit_micros: *limit_micros,
        // Only the 100 % threshold is crossed here; lower ones fire on their own settlements.
        before_micros: limit_micros.saturating_sub(1),
        after_micros: (*spent_micros).max(*limit_micros),
    };
    crossings(state, vec![c]).await;
}

/// Queues the alerts of `crossings` (claimed once per scope, budget window and threshold).
pub async fn crossings(state: &GatewayState, crossings: Vec<BudgetCrossing>) {
    let snapshot = state.snapshot.load();
    let settings = &snapshot.config.alerts;
    if settings.webhook.is_none() {
        return;
    }
    for c in crossings {
        for &t in &settings.thresholds {
            if !c.crossed(u64::from(t)) {
                continue;
            }
            let flag = format!(
                "alert:{}:{}:{}:{}:{t}",
                c.scope.as_str(),
                c.id,
                c.period.as_str(),
                c.window
            );
            // Longer than any budget window, so a flag outlives the window it guards.
            let ttl = Duration::from_secs(40 * 24 * 3600);
            match state.quota.claim_once(&flag, ttl).await {
                Ok(true) => state.alerts.notify(alert(&c, t)),
                Ok(false) => {}
                Err(e) => log::warn!("alerts: cannot claim {flag}: {e}"),
            }
        }
    }
}
