//! Targets by (provider name, model), independent of any one config so state survives reloads.

use super::{HealthConfig, HealthSnapshot, TargetHealth};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

type Models = HashMap<String, Arc<TargetHealth>>;

/// Every target's health. Lookups take a read lock and allocate nothing; the first lookup of
/// a new target takes the write lock once.
#[derive(Debug)]
pub struct HealthRegistry {
    cfg: RwLock<HealthConfig>,
    targets: RwLock<HashMap<String, Models>>,
}

impl Default for HealthRegistry {
    fn default() -> Self {
        Self::new(HealthConfig::default())
    }
}

impl HealthRegistry {
    pub fn new(cfg: HealthConfig) -> Self {
        Self {
            cfg: RwLock::new(cfg),
            targets: RwLock::new(HashMap::new()),
        }
    }

    /// The target's health, created fresh on first use.
    pub fn get(&self, provider: &str, model: &str) -> Arc<TargetHealth> {
        if let Some(t) = self.lookup(provider, model) {
            return t;
        }
        let cfg = *self.cfg.read();
        let mut w = self.targets.write();
        w.entry(provider.to_owned())
            .or_default()
            .entry(model.to_owned())
            .or_insert_with(|| Arc::new(TargetHealth::new(cfg)))
            .clone()
    }

    /// The target's health if it was ever used.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<Arc<TargetHealth>> {
        self.targets.read().get(provider)?.get(model).cloned()
    }

    /// Keeps the targets for which `keep(provider, model)` is true; returns how many were
    /// dropped. In-flight holders of a dropped `Arc` finish on it harmlessly.
    pub fn retain(&self, mut keep: impl FnMut(&str, &str) -> bool) -> usize {
        let mut w = self.targets.write();
        let mut dropped = 0;
        w.retain(|p, models| {
            models.retain(|m, _| {
                let k = keep(p, m);
                dropped += usize::from(!k);
                k
            });
            !models.is_empty()
        });
        dropped
    }

    /// New thresholds for existing and future targets (config reload).
    pub fn reconfigure(&self, cfg: HealthConfig) {
        *self.cfg.write() = cfg;
        for t in self.targets.read().values().flat_map(|m| m.values()) {
            t.reconfigure(cfg);
        }
    }

    /// Every target's snapshot, sorted by provider then model.
    pub fn snapshots(&self, now: Instant) -> Vec<(String, String, HealthSnapshot)> {
        let mut out: Vec<_> = self
            .targets
            .read()
            .iter()
            .flat_map(|(p, models)| {
                models
                    .iter()
                    .map(move |(m, t)| (p.clone(), m.clone(), t.snapshot(now)))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }
}
