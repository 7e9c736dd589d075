//! SQLite store (the embedded default): WAL mode, writes on a blocking thread.

use super::Row;
use super::writer::{Store, StoreError};
use async_trait::async_trait;
use parking_lot::Mutex;
use rusqlite::{Connection, params};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// Schema versions, applied in order once each (recorded in `schema_migrations`).
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        request_id TEXT NOT NULL,
        key_name TEXT,
        team TEXT,
        route TEXT,
        provider TEXT,
        requested_model TEXT,
        served_model TEXT,
        attempts INTEGER NOT NULL,
        status INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_micros INTEGER,
        latency_ms REAL NOT NULL,
        ttfb_ms REAL,
        overhead_ms REAL NOT NULL,
        cache_hit INTEGER NOT NULL,
        error_kind TEXT,
        stream INTEGER NOT NULL,
        endpoint TEXT NOT NULL
    );
    CREATE INDEX requests_ts ON requests (ts);
    CREATE INDEX requests_key_ts ON requests (key_name, ts);",
    ),
    (2, super::MIGRATION_2),
    (3, super::MIGRATION_3),
];

/// An open SQLite ledger.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

/// Opens (creating the file and its directory) and migrates the database at `path`.
pub async fn open(path: PathBuf) -> Result<SqliteStore, String> {
    let conn = tokio::task::spawn_blocking(move || open_blocking(&path))
        .await
        .map_err(|e| format!("sqlite open task: {e}"))??;
    Ok(SqliteStore {
        conn: Arc::new(Mutex::new(conn)),
    })
}

/// Opens (creating the file and its directory), sets WAL mode and migrates the database at
/// `path`; blocking. Every SQLite user (ledger writer, ledger reader, key store) opens its own
/// connection through this.
pub fn open_blocking(path: &std::path::Path) -> Result<Connection, String> {
    let shown = path.display();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut conn = Connection::open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"))
        .and_then(|()| conn.busy_timeout(std::time::Duration::from_secs(5)))
        .map_err(|e| format!("{shown}: {e}"))?;
    migrate(&mut conn).map_err(|e| format!("{shown}: migration failed: {e}"))?;
    Ok(conn)
}

/// Applies the migrations not yet recorded; returns how many ran (0 on a second start).
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        )",
    )?;
    let mut ran = 0;
    for (version, sql) in MIGRATIONS {
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )?;
            ran += 1;
        }
    }
    tx.commit()?;
    Ok(ran)
}

/// Inserts `rows` in one transaction.
pub fn insert(conn: &mut Connection, rows: &[Row]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO requests (ts, request_id, key_name, key_id, team, route, provider,
                requested_model, served_model, attempts, status, prompt_tokens,
                completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens,
                cost_micros, latency_ms, ttfb_ms, overhead_ms, cache_hit, error_kind, stream,
                endpoint, partial)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
        )?;
        for r in rows {
            stmt.execute(params![
                rfc3339(r.ts),
                r.request_id,
                r.key_name,
                r.key_id,
                r.team,
                r.route,
                r.provider,
                r.requested_model,
                r.served_model,
                r.attempts,
                r.status,
                clamp(r.prompt_tokens),
                clamp(r.completion_tokens),
                clamp(r.cached_tokens),
                clamp(r.cache_write_tokens),
                clamp(r.reasoning_tokens),
                r.cost_micros.map(clamp),
                r.latency_ms,
                r.ttfb_ms,
                r.overhead_ms,
                r.cache_hit,
                r.error_kind,
                r.stream,
                r.endpoint,
                r.partial,
            ])?;
        }
    }
    tx.commit()
}

/// SQLite integers are signed 64-bit.
fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `2026-01-02T03:04:05.678Z`: sortable, and SQLite's `date()` understands it.
fn rfc3339(ts: std::time::SystemTime) -> String {
    if ts < UNIX_EPOCH {
        return "1970-01-01T00:00:00.000Z".into();
    }
    humantime::format_rfc3339_millis(ts).to_string()
}

#[async_trait]
impl Store for SqliteStore {
    async fn write(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let conn = self.conn.clone();
        let rows = rows.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock();
            insert(&mut conn, &rows).map_err(|e| StoreError::Failed(e.to_string()))
        })
        .await
        .map_err(|e| StoreError::Failed(format!("sqlite write task: {e}")))?
    }
}
