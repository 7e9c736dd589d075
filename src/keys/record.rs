//! A virtual key's record: who the key belongs to (name, team, org, tags) and what it may do
//! (models, routes, limits, expiry). Records never hold the key itself; the directory indexes
//! them by HMAC digest and the admin API shows a [`KeyRecord::hint`] instead.

use crate::quota::LimitSpec;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a key was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// The `keys:` list of the config file (changed only there, replaced on each reload).
    Config,
    /// Created through the admin API and persisted in the key store.
    Api,
}

/// One client key's identity and permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Stable id: the config `name` for config keys, `key_` + 16 hex digits for API keys.
    /// Budgets, usage rows and the admin API refer to the key by it; rotation keeps it.
    pub id: Arc<str>,
    /// Human-readable name (safe to log).
    pub name: Arc<str>,
    pub team: Option<Arc<str>>,
    pub org: Option<Arc<str>>,
    /// Allowed model names or `*` globs (`gpt-4o*`); empty allows every model.
    pub models: Vec<String>,
    /// Allowed route names; empty allows every route.
    pub routes: Vec<String>,
    /// Rates, concurrency and budgets (micro-dollars) of this key.
    pub limits: LimitSpec,
    /// The key stops working at this instant.
    pub expires_at: Option<SystemTime>,
    pub tags: Arc<[String]>,
    /// Requests of this key are audited (bodies kept by the audit log, when there is one).
    pub audit: bool,
    pub source: KeySource,
    pub created_at: SystemTime,
    /// Last change (creation, rotation or revocation).
    pub updated_at: SystemTime,
    pub revoked_at: Option<SystemTime>,
    /// A recognisable fragment of the key (`sy-Ab12…wxyz`), safe to show and log.
    pub hint: String,
}

impl KeyRecord {
    /// A record with no restrictions, created (and last updated) at `at`.
    pub fn new(
        id: impl Into<Arc<str>>,
        name: impl Into<Arc<str>>,
        source: KeySource,
        at: SystemTime,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            team: None,
            org: None,
            models: Vec::new(),
            routes: Vec::new(),
            limits: LimitSpec::default(),
            expires_at: None,
            tags: Arc::from([]),
            audit: false,
            source,
            created_at: at,
            updated_at: at,
            revoked_at: None,
            hint: String::new(),
        }
    }

    /// The key may call `model` (exact name or a `*` glob in [`KeyRecord::models`]).
    pub fn allows_model(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|p| glob_match(p, model))
    }

    /// The key may use the route named `route`.
    pub fn allows_route(&self, route: &str) -> bool {
        self.routes.is_empty() || self.routes.iter().any(|r| r == route)
    }

    /// The key's expiry has passed at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }

    /// The key was revoked.
    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// `*` matches any run of characters (including none); everything else matches itself,
/// case-sensitively. No allocation.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let (middle_pat, tail) = rest.rsplit_once('*').unwrap_or(("", rest));
    let Some(mut middle) = text.strip_prefix(head).and_then(|t| t.strip_suffix(tail)) else {
        return false;
    };
    for part in middle_pat.split('*').filter(|p| !p.is_empty()) {
        match middle.find(part) {
            Some(at) => middle = &middle[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// A safe-to-show fragment of `plaintext`: the first 7 and last 4 characters of a long key
/// (`sy-Ab12…wxyz`), only the last 2 of a short one, nothing of a very short one.
pub fn hint(plaintext: &str) -> String {
    let n = plaintext.chars().count();
    let tail = |k: usize| {
        plaintext
            .chars()
            .skip(n.saturating_sub(k))
            .collect::<String>()
    };
    if n >= 20 {
        let head: String = plaintext.chars().take(7).collect();
        format!("{head}…{}", tail(4))
    } else if n >= 10 {
        format!("…{}", tail(2))
    } else {
        "…".to_string()
    }
}

/// Seconds since the Unix epoch (negative before it), as stored in the key table.
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The instant `secs` seconds after the Unix epoch.
pub fn from_unix_secs(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(d).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(d).unwrap_or(UNIX_EPOCH)
    }
}

/// `2026-01-02T03:04:05Z` (whole seconds, UTC).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}
