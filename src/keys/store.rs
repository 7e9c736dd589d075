//! Persistence of API keys in the ledger database's `virtual_keys` table (schema version 2 of
//! the ledger migrations): SQLite or Postgres, chosen like the ledger by [`LedgerTarget`].
//! With the ledger `off` keys live in memory only and are lost on restart.
//!
//! The store has its own connection (never the ledger writer's), opened on first use and
//! reopened after a failure, so an unreachable database at startup only delays API keys.
//! Rows hold the key's HMAC digest (hex) and a hint, never the key. Timestamps are Unix
//! seconds.

mod postgres;
mod sqlite;

use super::directory::StoredKey;
use super::record::{KeyRecord, KeySource, from_unix_secs};
use super::secret::digest_from_hex;
use super::spec::KeySpec;
use crate::ledger::LedgerTarget;
use parking_lot::Mutex;
use std::time::SystemTime;

/// Why a store operation failed (details for the log; clients see a generic 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStoreError(pub String);

impl std::fmt::Display for KeyStoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyStoreError {}

/// Where API keys are kept.
pub struct KeyStore {
    backend: Backend,
}

enum Backend {
    Memory(Mutex<Vec<StoredKey>>),
    Sqlite(sqlite::SqliteKeys),
    Postgres(postgres::PgKeys),
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Memory(_) => "KeyStore(memory)",
            Backend::Sqlite(_) => "KeyStore(sqlite)",
            Backend::Postgres(_) => "KeyStore(postgres)",
        })
    }
}

impl KeyStore {
    /// The store of `target` (`Off` → memory). Connects lazily.
    pub fn new(target: &LedgerTarget) -> Self {
        let backend = match target {
            LedgerTarget::Off => Backend::Memory(Mutex::new(Vec::new())),
            LedgerTarget::Sqlite(path) => Backend::Sqlite(sqlite::SqliteKeys::new(path.clone())),
            LedgerTarget::Postgres(url) => Backend::Postgres(postgres::PgKeys::new(url.clone())),
        };
        Self { backend }
    }

    /// A store in process memory.
    pub fn memory() -> Self {
        Self::new(&LedgerTarget::Off)
    }

    /// Other processes may change the store (so it is worth refreshing from).
    pub fn is_shared(&self) -> bool {
        !matches!(self.backend, Backend::Memory(_))
    }

    /// Every stored key, revoked ones included. Rows that cannot be read are skipped with a
    /// warning.
    pub async fn load_all(&self) -> Result<Vec<StoredKey>, KeyStoreError> {
        let rows = match &self.backend {
            Backend::Memory(keys) => return Ok(keys.lock().clone()),
            Backend::Sqlite(s) => s.load_all().await?,
            Backend::Postgres(p) => p.load_all().await?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id = row.id.clone();
                row.decode()
                    .map_err(|e| log::warn!("key store: skipping key '{id}': {e}"))
                    .ok()
            })
            .collect())
    }

    /// Adds a new key.
    pub async fn insert(&self, key: &StoredKey) -> Result<(), KeyStoreError> {
        let row = KeyRow::encode(key);
        match &self.backend {
            Backend::Memory(keys) => {
                let mut keys = keys.lock();
                if keys
                    .iter()
                    .any(|k| k.record.id == key.record.id || k.digest == key.digest)
                {
                    return Err(KeyStoreError(format!(
                        "duplicate key id or digest ({})",
                        key.record.id
                    )));
                }
                keys.push(key.clone());
                Ok(())
            }
            Backend::Sqlite(s) => s.insert(row).await,
            Backend::Postgres(p) => p.insert(row).await,
        }
    }

    /// Marks key `id` revoked at `at` (a key already revoked keeps its first time). `false`
    /// when there is no such key.
    pub async fn revoke(&self, id: &str, at: SystemTime) -> Result<bool, KeyStoreError> {
        let at_secs = super::record::unix_secs(at);
        match &self.backend {
            Backend::Memory(keys) => Ok(keys
                .lock()
                .iter_mut()
                .find(|k| &*k.record.id == id)
                .map(|k| {
                    k.record.revoked_at.get_or_insert(at);
                    k.record.updated_at = at;
                })
                .is_some()),
            Backend::Sqlite(s) => s.revoke(id.to_string(), at_secs).await,
            Backend::Postgres(p) => p.revoke(id, at_secs).await,
        }
    }

    /// Replaces the digest and hint of key `id` (not revoked) at `at`: the old key stops
    /// working, the id (and so usage and budgets) stays. `false` when there is no such
    /// unrevoked key.
    pub async fn rotate(
        &self,
        id: &str,
        digest: &[u8; 32],
        hint: &str,
        at: SystemTime,
    ) -> Result<bool, KeyStoreError> {
        let at_secs = super::record::unix_secs(at);
        let hex = super::secret::to_hex(digest);
        match &self.backend {
            Backend::Memory(keys) => Ok(keys
                .lock()
                .iter_mut()
                .find(|k| &*k.record.id == id && k.record.revoked_at.is_none())
                .map(|k| {
                    k.digest = *digest;
                    k.record.hint = hint.to_string();
                    k.record.updated_at = at;
                })
                .is_some()),
            Backend::Sqlite(s) => {
                s.rotate(id.to_string(), hex, hint.to_string(), at_secs)
                    .await
            }
            Backend::Postgres(p) => p.rotate(id, &hex, hint, at_secs).await,
        }
    }
}

/// One `virtual_keys` row as both databases hold it.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    pub id: String,
    pub digest: String,
    pub hint: String,
    pub name: String,
    pub spec: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub revoked_at: Option<i64>,
}

impl KeyRow {
    fn encode(key: &StoredKey) -> Self {
        let r = &key.record;
        Self {
            id: r.id.to_string(),
            digest: super::secret::to_hex(&key.digest),
            hint: r.hint.clone(),
            name: r.name.to_string(),
            spec: KeySpec::of(r).to_json(),
            created_at: super::record::unix_secs(r.created_at),
            updated_at: super::record::unix_secs(r.updated_at),
            revoked_at: r.revoked_at.map(super::record::unix_secs),
        }
    }

    fn decode(self) -> Result<StoredKey, String> {
        let digest = digest_from_hex(&self.digest).ok_or("malformed digest")?;
        let spec = KeySpec::from_json(&self.spec)?;
        let mut record = KeyRecord::new(
            self.id,
            self.name,
            KeySource::Api,
            from_unix_secs(self.created_at),
        );
        spec.apply(&mut record);
        record.updated_at = from_unix_secs(self.updated_at);
        record.revoked_at = self.revoked_at.map(from_unix_secs);
        record.hint = self.hint;
        Ok(StoredKey { digest, record })
    }
}
