//! Runtime settings of keys' limits, team and global limits, the counter store, the admin API,
//! the audit trail and budget alerts (validated from `limits:`, `admin:`, `audit:`, `alerts:`
//! and `server.counters`).

use super::Secret;
use crate::quota::LimitSpec;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

pub use crate::quota::CounterTarget;

/// `limits:`.
#[derive(Debug, Clone)]
pub struct LimitsSettings {
    pub global: LimitSpec,
    pub teams: HashMap<String, LimitSpec>,
    /// Admit requests when the counter store cannot be reached.
    pub fail_open: bool,
    /// Longest a concurrency slot is held for a request whose instance died.
    pub lease: Duration,
    /// Output tokens reserved when neither the request nor the catalog gives a maximum.
    pub default_max_tokens: u64,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            global: LimitSpec::default(),
            teams: HashMap::new(),
            fail_open: true,
            lease: Duration::from_secs(600),
            default_max_tokens: 4096,
        }
    }
}

/// `admin:`.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    pub token: Option<Secret>,
    pub key_secret: Option<Secret>,
    pub key_refresh: Duration,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            token: None,
            key_secret: None,
            key_refresh: Duration::from_secs(1),
        }
    }
}

/// `audit:` (the audit module's own settings type).
pub type AuditSettings = crate::audit::AuditConfig;

/// `alerts:`.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub webhook: Option<String>,
    pub thresholds: Vec<u8>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            webhook: None,
            thresholds: vec![50, 80, 100],
        }
    }
}

/// What a config key may do beyond authenticating (the admin API's keys carry the same).
#[derive(Debug, Clone, Default)]
pub struct KeyPolicy {
    pub org: Option<String>,
    pub models: Vec<String>,
    pub routes: Vec<String>,
    pub limits: LimitSpec,
    pub expires_at: Option<SystemTime>,
    pub audit: bool,
}
