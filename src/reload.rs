//! Hot reload of the config file, on SIGHUP and when the file changes.
//!
//! A reload parses and validates the whole file; an invalid file is rejected with one error
//! line naming the field and the config in force stays. A valid one becomes a new [`Snapshot`]
//! stored in [`GatewayState::snapshot`]: requests that already hold the old snapshot finish on
//! it, new requests use the new one. Provider balancers whose endpoint and health settings did
//! not change are carried over with their health state ([`Upstreams::build`]).
//!
//! Process settings that only take effect at startup (listeners, threads, pid file, access
//! log, grace period, pool size) keep their running values; a warning names each one that the
//! new file changed ([`pin_restart_only`]).
//!
//! The file is polled every second: metadata first (mtime, size, inode, so rename-and-replace
//! saves are seen), then a content hash, so a `touch` does not reload and a change is applied
//! once. A change is read only once the metadata has been stable for [`SETTLE`], so a file
//! caught half-written by a non-atomic save is not applied (and if it is, it is rejected or
//! superseded on the next poll).

use crate::config::{Config, Secret, ServerSettings};
use crate::keys::{KeyRecord, KeySource};
use crate::metrics::METRICS;
use crate::proxy::{GatewayState, Snapshot};
use crate::routing::Router;
use crate::routing::balancer::Upstreams;
use async_trait::async_trait;
use parking_lot::Mutex;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{SignalKind, signal};

/// How often the file is checked for changes.
const POLL: Duration = Duration::from_secs(1);
/// How long the file's metadata must stay unchanged before a change is read.
const SETTLE: Duration = Duration::from_millis(200);

/// Builds the config-derived state; used at startup (`previous` = `None`) and on reload.
pub fn build_snapshot(config: Arc<Config>, previous: Option<&Upstreams>) -> Snapshot {
    Snapshot {
        router: Router::new(config.clone()),
        upstreams: Upstreams::build(config.as_ref(), previous),
        catalog: config.catalog.clone(),
        config,
    }
}

/// The config file's client keys as key-directory records (id = the key's `name`); passed to
/// [`crate::keys::KeyDirectory::set_config_keys`] at startup and on every reload.
pub fn config_keys(config: &Config) -> Vec<(Secret, KeyRecord)> {
    let now = SystemTime::now();
    config
        .keys
        .iter()
        .map(|k| {
            let mut r = KeyRecord::new(k.name.as_str(), k.name.as_str(), KeySource::Config, now);
            r.team = k.team.as_deref().map(Arc::from);
            r.tags = Arc::from(k.tags.as_slice());
            r.hint = crate::keys::record::hint(k.key.expose());
            let p = &k.policy;
            r.org = p.org.as_deref().map(Arc::from);
            r.models = p.models.clone();
            r.routes = p.routes.clone();
            r.limits = p.limits.clone();
            r.expires_at = p.expires_at;
            r.audit = p.audit;
            (k.key.clone(), r)
        })
        .collect()
}

/// Resets the settings of `new` that need a restart to their `running` values and returns the
/// names of those that differed.
pub fn pin_restart_only(new: &mut ServerSettings, running: &ServerSettings) -> Vec<&'static str> {
    fn keep<T: PartialEq + Clone>(
        name: &'static str,
        new: &mut T,
        running: &T,
        changed: &mut Vec<&'static str>,
    ) {
        if new != running {
            changed.push(name);
            *new = running.clone();
        }
    }
    let mut changed = Vec::new();
    let c = &mut changed;
    keep("server.listen", &mut new.listen, &running.listen, c);
    keep(
        "server.admin_listen",
        &mut new.admin_listen,
        &running.admin_listen,
        c,
    );
    keep("server.threads", &mut new.threads, &running.threads, c);
    keep("server.pid_file", &mut new.pid_file, &running.pid_file, c);
    keep(
        "server.upgrade_sock",
        &mut new.upgrade_sock,
        &running.upgrade_sock,
        c,
    );
    keep(
        "server.access_log",
        &mut new.access_log,
        &running.access_log,
        c,
    );
    keep(
        "server.grace_period",
        &mut new.grace_period,
        &running.grace_period,
        c,
    );
    keep(
        "server.upstream_keepalive_pool_size",
        &mut new.upstream_keepalive_pool_size,
        &running.upstream_keepalive_pool_size,
        c,
    );
    keep("server.ledger", &mut new.ledger, &running.ledger, c);
    keep("server.counters", &mut new.counters, &running.counters, c);
    changed
}

/// As [`pin_restart_only`] for the admin API settings (its listener and the key directory
/// were built at start), the audit trail and the alert webhook (their writers too).
pub fn pin_restart_only_governance(new: &mut Config, running: &Config) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if new.admin.token != running.admin.token {
        changed.push("admin.token");
        new.admin.token = running.admin.token.clone();
    }
    if new.admin.key_secret != running.admin.key_secret {
        changed.push("admin.key_secret");
        new.admin.key_secret = running.admin.key_secret.clone();
    }
    if new.admin.key_refresh != running.admin.key_refresh {
        changed.push("admin.key_refresh");
        new.admin.key_refresh = running.admin.key_refresh;
    }
    if new.audit != running.audit {
        changed.push("audit");
        new.audit = running.audit.clone();
    }
    if new.alerts.webhook != running.alerts.webhook {
        changed.push("alerts.webhook");
        new.alerts.webhook = running.alerts.webhook.clone();
    }
    changed
}

/// What identifies one version of the file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &std::path::Path) -> std::io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    Ok(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        inode: m.ino(),
    })
}

fn content_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// What the watcher last saw of the file.
#[derive(Debug, Default)]
struct Seen {
    stamp: Option<Stamp>,
    hash: Option<u64>,
    /// The file could not be read at the last poll (warned once).
    unreadable: bool,
}

/// The reload background service.
pub struct ReloadService {
    path: PathBuf,
    state: Arc<GatewayState>,
    seen: Mutex<Seen>,
}

impl ReloadService {
    /// Watches `path`, whose current content is the config the server started with.
    pub fn new(path: PathBuf, state: Arc<GatewayState>) -> Self {
        let seen = Seen {
            stamp: stamp(&path).ok(),
            hash: std::fs::read_to_string(&path)
                .ok()
                .map(|t| content_hash(&t)),
            unreadable: false,
        };
        for result in ["applied", "rejected"] {
            METRICS.config_reloads.with_label_values(&[result]);
        }
        METRICS.config_loaded_at.set(unix_now());
        Self {
            path,
            state,
            seen: Mutex::new(seen),
        }
    }

    /// Polls the file; reloads when its content changed.
    async fn poll(&self) {
        let Ok(first) = stamp(&self.path) else {
            self.unreadable("cannot be read");
            return;
        };
        if self.seen.lock().stamp == Some(first) {
            return;
        }
        tokio::time::sleep(SETTLE).await;
        if stamp(&self.path).ok() != Some(first) {
            return; // still being written: next poll
        }
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            self.unreadable("cannot be read");
            return;
        };
        let hash = content_hash(&text);
        {
            let mut seen = self.seen.lock();
            seen.stamp = Some(first);
            seen.unreadable = false;
            if seen.hash == Some(hash) {
                return;
            }
            seen.hash = Some(hash);
        }
        self.apply(&text, "file change");
    }

    /// Reloads whatever the file holds now.
    fn reload_now(&self, trigger: &str) {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                let mut seen = self.seen.lock();
                seen.stamp = stamp(&self.path).ok();
                seen.hash = Some(content_hash(&text));
                seen.unreadable = false;
                drop(seen);
                self.apply(&text, trigger);
            }
            Err(e) => {
                log::error!(
                    "config reload ({trigger}) rejected, the previous config stays in force: cannot read {}: {e}",
                    self.path.display()
                );
                METRICS
                    .config_reloads
                    .with_label_values(&["rejected"])
                    .inc();
            }
        }
    }

    fn unreadable(&self, why: &str) {
        let mut seen = self.seen.lock();
        if !seen.unreadable {
            seen.unreadable = true;
            log::warn!(
                "config file {} {why}; the config in force stays",
                self.path.display()
            );
        }
    }

    /// Validates `text` (what [`Config::load`] does, on the text already read and hashed) and
    /// swaps the snapshot, or keeps the old one.
    fn apply(&self, text: &str, trigger: &str) {
        let current = self.state.snapshot.load_full();
        let mut config = match Config::from_yaml(text, &|name| std::env::var(name).ok()) {
            Ok(c) => c,
            Err(e) => {
                // ConfigError's display names the field and never holds a secret value.
                log::error!(
                    "config reload ({trigger}) rejected, the previous config stays in force: {}: {e}",
                    self.path.display()
                );
                METRICS
                    .config_reloads
                    .with_label_values(&["rejected"])
                    .inc();
                return;
            }
        };
        let mut pinned = pin_restart_only(&mut config.server, &current.config.server);
        pinned.extend(pin_restart_only_governance(&mut config, &current.config));
        if !self.state.audit.is_on() && config.keys.iter().any(|k| k.policy.audit) {
            log::warn!(
                "config reload: a key has audit: true but the audit trail was not started; \
                 restart to begin capturing"
            );
        }
        for name in pinned {
            log::warn!(
                "config reload: {name} changed but takes effect only after a restart; keeping the running value"
            );
        }
        let snapshot = build_snapshot(Arc::new(config), Some(&current.upstreams));
        let reused = snapshot.upstreams.reused_from(&current.upstreams);
        let c = &snapshot.config;
        log::info!(
            "config reloaded ({trigger}): {} providers ({reused} with health state kept), {} routes, {} keys",
            c.providers.len(),
            c.routes.len(),
            c.keys.len()
        );
        // Health state lives across reloads: apply new breaker/latency settings and forget
        // targets of providers that no longer exist.
        self.state.health.reconfigure(c.server.health);
        let dropped = self
            .state
            .health
            .retain(|provider, _| c.providers.iter().any(|p| p.name == provider));
        if dropped > 0 {
            log::info!("config reload: dropped health state of {dropped} removed targets");
        }
        self.state
            .keys
            .set_config_keys(config_keys(&snapshot.config));
        self.state.snapshot.store(Arc::new(snapshot));
        METRICS.config_reloads.with_label_values(&["applied"]).inc();
        METRICS.config_loaded_at.set(unix_now());
    }
}

#[async_trait]
impl BackgroundService for ReloadService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!("config reload: cannot listen for SIGHUP ({e}); file changes only");
                None
            }
        };
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        log::info!(
            "config reload: watching {} (SIGHUP or file change)",
            self.path.display()
        );
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => None } } => {
                    self.reload_now("SIGHUP");
                }
                _ = tick.tick() => self.poll().await,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}

/// Replaces SIGHUP's default action (terminate) right away; call it first thing at startup so
/// a `systemctl reload` that arrives before the reload service runs is ignored instead of
/// killing the gateway. Tokio keeps its process-wide handler installed after this runtime is
/// gone, and the reload service's own listener uses it.
pub fn install_sighup_handler() {
    let registered = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|rt| rt.block_on(async { signal(SignalKind::hangup()).map(drop) }));
    if let Err(e) = registered {
        log::warn!("config reload: cannot install the SIGHUP handler: {e}");
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests;
