//! What differs between the two stores when reading: SQL dialect, the SQLite read connection
//! on a blocking thread, and a Postgres client of the reader's own.

use super::QueryError;
use parking_lot::Mutex;
use rusqlite::Connection;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

/// The SQL differences between the two stores.
#[derive(Clone, Copy)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Placeholder `n` (1-based).
    pub(super) fn p(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// A sum read back as a 64-bit integer (Postgres sums BIGINT as NUMERIC).
    pub(super) fn sum(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("sum({expr})"),
            Dialect::Postgres => format!("sum({expr})::int8"),
        }
    }

    /// The UTC day of `ts` as `YYYY-MM-DD` (SQLite stores RFC 3339 text in UTC).
    pub(super) fn day(self) -> &'static str {
        match self {
            Dialect::Sqlite => "substr(ts, 1, 10)",
            Dialect::Postgres => "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        }
    }

    /// NULL sums (only unpriced rows) sort last in descending order (SQLite's default).
    pub(super) fn nulls_last(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " NULLS LAST",
        }
    }
}

/// The stored text form of a timestamp (`2026-01-02T03:04:05.678Z`, as the writer stores it),
/// so SQLite compares text with text in the same format. Clamped to years 1970 to 9999 (the
/// format has four-digit years).
pub(super) fn ts_text(t: SystemTime) -> String {
    const LAST: &str = "9999-12-31T23:59:59.999Z";
    if t < UNIX_EPOCH {
        return "1970-01-01T00:00:00.000Z".into();
    }
    let mut out = String::new();
    match write!(out, "{}", humantime::format_rfc3339_millis(t)) {
        Ok(()) => out,
        // humantime refuses years past 9999.
        Err(_) => LAST.into(),
    }
}

pub(super) fn sqlite_open(path: &std::path::Path) -> Result<Connection, String> {
    crate::ledger::sqlite::open_blocking(path)
}

/// Runs `f` on the read connection on a blocking thread.
pub(super) async fn sqlite_run<T: Send + 'static>(
    conn: &Arc<Mutex<Connection>>,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, QueryError> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        let conn = conn.lock();
        f(&conn).map_err(|e| QueryError::Store(e.to_string()))
    })
    .await
    .map_err(|e| QueryError::Store(format!("sqlite read task: {e}")))?
}

/// A (possibly NULL) non-negative integer column.
pub(super) fn sq_u64(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    let n: Option<i64> = r.get(i)?;
    Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

pub(super) fn pg_err(e: tokio_postgres::Error) -> QueryError {
    QueryError::Store(e.to_string())
}

pub(super) fn pg_u64(r: &tokio_postgres::Row, i: usize) -> Result<u64, QueryError> {
    let n: Option<i64> = r.try_get(i).map_err(pg_err)?;
    Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// A Postgres client of its own, reconnected when the connection has dropped.
pub(super) struct PgReader {
    pub(super) url: String,
    pub(super) client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl PgReader {
    pub(super) async fn client(&self) -> Result<Arc<Client>, String> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let (mut client, conn) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_postgres::connect(&self.url, NoTls),
        )
        .await
        .map_err(|_| "postgres: connect timed out".to_string())?
        .map_err(|e| format!("postgres: {e}"))?;
        crate::task::spawn_named("ledger reader postgres connection", async move {
            if let Err(e) = conn.await {
                log::warn!("ledger reader: postgres connection ended: {e}");
            }
        });
        crate::ledger::postgres::migrate(&mut client)
            .await
            .map_err(|e| format!("postgres: migration failed: {e}"))?;
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }

    pub(super) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, QueryError> {
        let client = self.client().await.map_err(QueryError::Store)?;
        client.query(sql, params).await.map_err(pg_err)
    }
}
