//! The process-wide key directory: every client key (config file and key store) indexed by the
//! HMAC-SHA256 digest of the key under the gateway's secret. It survives config reloads:
//! [`KeyDirectory::set_config_keys`] replaces the config keys and keeps the API keys, the
//! [`super::KeyRefresher`] replaces the API keys from the store, and admin API mutations
//! update one key at once.
//!
//! Hot path ([`KeyDirectory::authenticate`]): one `ArcSwap` load, one HMAC, one hash lookup
//! and a constant-time compare of the digests; no lock, no allocation. The plaintext of a key
//! is never kept, logged or shown (Debug prints ids only).

use super::Principal;
use super::record::{KeyRecord, KeySource, rfc3339};
use crate::auth::presented_key;
use crate::error::GatewayError;
use crate::secret::Secret;
use arc_swap::ArcSwap;
use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use pingora::http::RequestHeader;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;
use subtle::ConstantTimeEq;

/// HMAC-SHA256 of a key under the gateway's secret.
pub type Digest = [u8; 32];

/// Longest key accepted; anything longer is rejected before hashing.
const MAX_KEY_LEN: usize = 512;

/// A persisted API key: its digest and record.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub digest: Digest,
    pub record: KeyRecord,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// What requests read: digest → record.
#[derive(Default)]
struct Table {
    by_digest: HashMap<Digest, Arc<KeyRecord>>,
}

/// What the table is built from (behind the writers' mutex).
#[derive(Default)]
struct Sources {
    config: Vec<(Digest, Arc<KeyRecord>)>,
    api: HashMap<Arc<str>, (Digest, Arc<KeyRecord>)>,
    /// Bumped by every local API-key change; a store refresh that started before one is
    /// discarded (it may not contain the change).
    epoch: u64,
}

/// All client keys of the process.
pub struct KeyDirectory {
    /// HMAC state keyed with the secret; cloned per digest.
    mac: Hmac<Sha256>,
    table: ArcSwap<Table>,
    sources: Mutex<Sources>,
}

impl std::fmt::Debug for KeyDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<Arc<str>> = self.list().into_iter().map(|r| r.id.clone()).collect();
        f.debug_struct("KeyDirectory")
            .field("ids", &ids)
            .finish_non_exhaustive()
    }
}

impl KeyDirectory {
    /// An empty directory hashing keys under `secret` (any length; 32 random bytes is right).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            mac: keyed_mac(secret),
            table: ArcSwap::from_pointee(Table::default()),
            sources: Mutex::new(Sources::default()),
        }
    }

    /// A directory under a random per-process secret: config keys work, but digests of API
    /// keys made by it do not verify in any other process (or after a restart).
    pub fn ephemeral() -> Self {
        let mut secret = [0u8; 32];
        if getrandom::fill(&mut secret).is_err() {
            // No OS randomness: a time-derived secret (digests stay per-process anyway).
            let t = SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            secret[..16].copy_from_slice(&t.to_le_bytes());
        }
        Self::new(&secret)
    }

    /// The digest of a presented key.
    pub fn digest(&self, key: &[u8]) -> Digest {
        let mut mac = self.mac.clone();
        mac.update(key);
        mac.finalize().into_bytes().into()
    }

    /// Authenticates a request from its headers (401 `invalid_api_key` for a missing,
    /// malformed, unknown, revoked or expired key).
    pub fn authenticate(&self, header: &RequestHeader) -> Result<Principal, GatewayError> {
        self.verify(presented_key(header)?, SystemTime::now())
    }

    /// Checks a presented key at `now`.
    pub fn verify(&self, presented: &[u8], now: SystemTime) -> Result<Principal, GatewayError> {
        let unknown = || {
            GatewayError::unauthorized(
                "Incorrect API key provided. Use a key configured in Switchyard.",
            )
        };
        if presented.is_empty() || presented.len() > MAX_KEY_LEN {
            return Err(unknown());
        }
        let d = self.digest(presented);
        let table = self.table.load();
        let (stored, record) = table.by_digest.get_key_value(&d).ok_or_else(unknown)?;
        if !bool::from(stored.ct_eq(&d)) {
            return Err(unknown());
        }
        if let Some(at) = record.revoked_at {
            return Err(GatewayError::unauthorized(format!(
                "This API key was revoked at {}; ask your administrator for a new key.",
                rfc3339(at)
            )));
        }
        if let Some(at) = record.expires_at.filter(|_| record.expired(now)) {
            return Err(GatewayError::unauthorized(format!(
                "This API key expired at {}; ask your administrator for a new key.",
                rfc3339(at)
            )));
        }
        Ok(Principal {
            key: record.clone(),
        })
    }

    /// Replaces the config keys (at start and on every reload); API keys stay. A config key
    /// that existed before keeps its `created_at`.
    pub fn set_config_keys(&self, keys: Vec<(Secret, KeyRecord)>) {
        let mut sources = self.sources.lock();
        let config = keys
            .into_iter()
            .map(|(secret, mut record)| {
                record.source = KeySource::Config;
                if let Some((_, old)) = sources.config.iter().find(|(_, r)| r.id == record.id) {
                    record.created_at = old.created_at;
                }
                (self.digest(secret.expose().as_bytes()), Arc::new(record))
            })
            .collect();
        sources.config = config;
        self.publish(&sources);
    }

    /// The current change counter; pass it to [`KeyDirectory::replace_api_keys`] with the
    /// keys loaded after reading it.
    pub fn epoch(&self) -> u64 {
        self.sources.lock().epoch
    }

    /// Replaces all API keys with `keys` loaded from the store, unless a local change happened
    /// since `epoch` was read (then nothing changes and `false` is returned; the next refresh
    /// applies).
    pub fn replace_api_keys(&self, keys: Vec<StoredKey>, epoch: u64) -> bool {
        let mut sources = self.sources.lock();
        if sources.epoch != epoch {
            return false;
        }
        sources.api = keys
            .into_iter()
            .map(|k| {
                let record = Arc::new(k.record);
                (record.id.clone(), (k.digest, record))
            })
            .collect();
        self.publish(&sources);
        true
    }

    /// Adds or replaces one API key (after it was written to the store).
    pub fn upsert_api_key(&self, key: StoredKey) {
        let mut sources = self.sources.lock();
        sources.epoch += 1;
        let record = Arc::new(key.record);
        sources.api.insert(record.id.clone(), (key.digest, record));
        self.publish(&sources);
    }

    /// The record with `id`.
    pub fn get(&self, id: &str) -> Option<Arc<KeyRecord>> {
        let sources = self.sources.lock();
        sources
            .config
            .iter()
            .find(|(_, r)| &*r.id == id)
            .map(|(_, r)| r.clone())
            .or_else(|| sources.api.get(id).map(|(_, r)| r.clone()))
    }

    /// The digest of API key `id`.
    pub fn digest_of(&self, id: &str) -> Option<Digest> {
        self.sources.lock().api.get(id).map(|(d, _)| *d)
    }

    /// Every record: config keys in file order, then API keys by creation time and id.
    pub fn list(&self) -> Vec<Arc<KeyRecord>> {
        let sources = self.sources.lock();
        let mut api: Vec<Arc<KeyRecord>> = sources.api.values().map(|(_, r)| r.clone()).collect();
        api.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        sources
            .config
            .iter()
            .map(|(_, r)| r.clone())
            .chain(api)
            .collect()
    }

    /// Rebuilds the request-side table; on a digest clash the config key wins.
    fn publish(&self, sources: &Sources) {
        let mut by_digest = HashMap::with_capacity(sources.config.len() + sources.api.len());
        for (d, r) in sources.api.values() {
            by_digest.insert(*d, r.clone());
        }
        for (d, r) in &sources.config {
            by_digest.insert(*d, r.clone());
        }
        self.table.store(Arc::new(Table { by_digest }));
    }
}

#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length; new_from_slice cannot fail"
)]
fn keyed_mac(secret: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC key of any length is valid")
}
