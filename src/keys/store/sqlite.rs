//! `virtual_keys` in the SQLite ledger file: a connection of its own, opened (and the ledger
//! migrations applied) on first use, used on Tokio's blocking pool.

use super::{KeyRow, KeyStoreError};
use parking_lot::Mutex;
use rusqlite::{Connection, params};
use std::path::PathBuf;
use std::sync::Arc;

const COLUMNS: &str = "id, digest, hint, name, spec, created_at, updated_at, revoked_at";

pub(super) struct SqliteKeys {
    path: PathBuf,
    conn: Arc<Mutex<Option<Connection>>>,
}

impl SqliteKeys {
    pub(super) fn new(path: PathBuf) -> Self {
        Self {
            path,
            conn: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `f` with the connection on the blocking pool; a failed call drops the connection
    /// so the next one reopens it.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, KeyStoreError> {
        let conn = self.conn.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock();
            if guard.is_none() {
                *guard = Some(open(&path)?);
            }
            let Some(c) = guard.as_mut() else {
                return Err(KeyStoreError("sqlite key store not open".into()));
            };
            let out = f(c);
            if out.is_err() {
                *guard = None;
            }
            out.map_err(|e| KeyStoreError(format!("sqlite key store: {e}")))
        })
        .await
        .map_err(|e| KeyStoreError(format!("sqlite key store task: {e}")))?
    }

    pub(super) async fn load_all(&self) -> Result<Vec<KeyRow>, KeyStoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM virtual_keys ORDER BY id"))?;
            let rows = stmt.query_map([], |r| {
                Ok(KeyRow {
                    id: r.get(0)?,
                    digest: r.get(1)?,
                    hint: r.get(2)?,
                    name: r.get(3)?,
                    spec: r.get(4)?,
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                    revoked_at: r.get(7)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn insert(&self, row: KeyRow) -> Result<(), KeyStoreError> {
        self.with(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO virtual_keys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    row.id,
                    row.digest,
                    row.hint,
                    row.name,
                    row.spec,
                    row.created_at,
                    row.updated_at,
                    row.revoked_at
                ],
            )
            .map(drop)
        })
        .await
    }

    pub(super) async fn revoke(&self, id: String, at: i64) -> Result<bool, KeyStoreError> {
        self.with(move |c| {
            c.execute(
                "UPDATE virtual_keys SET revoked_at = COALESCE(revoked_at, ?2), updated_at = ?2
                 WHERE id = ?1",
                params![id, at],
            )
            .map(|n| n > 0)
        })
        .await
    }

    pub(super) async fn rotate(
        &self,
        id: String,
        digest: String,
        hint: String,
        at: i64,
    ) -> Result<bool, KeyStoreError> {
        self.with(move |c| {
            c.execute(
                "UPDATE virtual_keys SET digest = ?2, hint = ?3, updated_at = ?4
                 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, digest, hint, at],
            )
            .map(|n| n > 0)
        })
        .await
    }
}

/// Opens (creating file and directory) and migrates the ledger database at `path`.
fn open(path: &std::path::Path) -> Result<Connection, KeyStoreError> {
    crate::ledger::sqlite::open_blocking(path).map_err(KeyStoreError)
}
