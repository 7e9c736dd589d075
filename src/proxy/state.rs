//! Process-wide state: the config snapshot swapped on reload, and everything requests share.

use crate::access_log::AccessLog;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::lifecycle::InFlight;
use crate::routing::Router;
use crate::routing::balancer::Upstreams;
use arc_swap::ArcSwap;
use pingora::connectors::http::Connector;
use std::sync::Arc;

/// Config-derived state swapped as a whole (hot reload replaces the snapshot).
#[derive(Debug)]
pub struct Snapshot {
    pub config: Arc<Config>,
    pub router: Router,
    pub upstreams: Upstreams,
    /// Context windows, capabilities and prices of models (`config.catalog`).
    pub catalog: Arc<Catalog>,
}

/// Process-wide state shared by all requests.
pub struct GatewayState {
    pub snapshot: ArcSwap<Snapshot>,
    pub connector: Connector,
    pub access_log: AccessLog,
    pub ledger: crate::ledger::Ledger,
    pub in_flight: InFlight,
    /// Every client key (config and admin API); survives config reloads.
    pub keys: Arc<crate::keys::KeyDirectory>,
    /// Limit counters (`server.counters`): in process or Redis; fixed at start.
    pub quota: Arc<dyn crate::quota::CounterStore>,
    /// The ledger's read side (billing APIs), opened on first use.
    pub ledger_reader: Arc<crate::ledger::query::ReaderCell>,
    /// Budget-threshold webhook (`alerts.webhook`).
    pub alerts: crate::alerts::Alerts,
    /// Prompt/response capture of keys with `audit: true`.
    pub audit: crate::audit::AuditLog,
    /// Passive health of every target; survives config reloads (keyed by provider name and
    /// model, not by config index).
    pub health: crate::routing::health::HealthRegistry,
    /// Limit settlements queued by the `logging` phase.
    pub settlements: super::observe::settle::Settlements,
    /// Gateway-wide retry budget; survives config reloads.
    pub retry_budget: crate::routing::retry::RetryBudget,
}
