//! Read side of the usage ledger: per-key daily usage, grouped usage for the admin API, spend
//! totals that seed budget counters at start, and the overall cost.
//!
//! A [`LedgerReader`] has its own connection, never the writer's: SQLite gets a second
//! connection (WAL lets it read while the writer writes) used on a blocking thread; Postgres
//! gets its own client, reconnected on the next query if the connection dropped. Opening runs
//! the (idempotent) migrations, so a reader opened before the writer's first batch still finds
//! the `requests` table. Time ranges are half-open, `from <= ts < to`; days and months are UTC.

mod store;
#[cfg(test)]
mod tests;
mod types;

use super::LedgerTarget;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use rusqlite::Connection;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;
use store::{Dialect, PgReader, pg_err, pg_u64, sq_u64, sqlite_open, sqlite_run, ts_text};

use crate::calendar::{day_start, month_start};
pub use types::{GroupBy, GroupRow, QueryError, Spend, SpendTotals, UsageRow};

/// A read connection to the ledger.
pub struct LedgerReader {
    inner: Inner,
}

enum Inner {
    Off,
    Sqlite(Arc<Mutex<Connection>>),
    Postgres(PgReader),
}

impl fmt::Debug for LedgerReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the URL: it may carry a password.
        f.write_str(match self.inner {
            Inner::Off => "LedgerReader(off)",
            Inner::Sqlite(_) => "LedgerReader(sqlite)",
            Inner::Postgres(_) => "LedgerReader(postgres)",
        })
    }
}

impl LedgerReader {
    /// Opens a read connection (creating and migrating the store if needed). `Off` gives a
    /// reader whose every query answers [`QueryError::Off`].
    pub async fn open(target: &LedgerTarget) -> Result<LedgerReader, String> {
        let inner = match target {
            LedgerTarget::Off => Inner::Off,
            LedgerTarget::Sqlite(path) => {
                let path = path.clone();
                let conn = tokio::task::spawn_blocking(move || sqlite_open(&path))
                    .await
                    .map_err(|e| format!("sqlite open task: {e}"))??;
                Inner::Sqlite(Arc::new(Mutex::new(conn)))
            }
            LedgerTarget::Postgres(url) => {
                let reader = PgReader {
                    url: url.clone(),
                    client: tokio::sync::Mutex::new(None),
                };
                reader.client().await?;
                Inner::Postgres(reader)
            }
        };
        Ok(LedgerReader { inner })
    }

    /// The key's usage in `[from, to)`, by UTC day and model, ordered by day then model.
    pub async fn key_usage(
        &self,
        key_id: &str,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Vec<UsageRow>, QueryError> {
        let sql = |d: Dialect| {
            format!(
                "SELECT {day} AS day, COALESCE(served_model, requested_model, '') AS model,
                    count(*), {}, {}, {}, {}, {}
                 FROM requests WHERE key_id = {} AND ts >= {} AND ts < {}
                 GROUP BY 1, 2 ORDER BY 1, 2",
                d.sum("prompt_tokens"),
                d.sum("completion_tokens"),
                d.sum("cached_tokens"),
                d.sum("reasoning_tokens"),
                d.sum("cost_micros"),
                d.p(1),
                d.p(2),
                d.p(3),
                day = d.day(),
            )
        };
        match &self.inner {
            Inner::Off => Err(QueryError::Off),
            Inner::Sqlite(conn) => {
                let sql = sql(Dialect::Sqlite);
                let key = key_id.to_string();
                let (from, to) = (ts_text(from), ts_text(to));
                sqlite_run(conn, move |c| {
                    let mut stmt = c.prepare_cached(&sql)?;
                    let rows = stmt.query_map(rusqlite::params![key, from, to], |r| {
                        Ok(UsageRow {
                            day: r.get(0)?,
                            model: r.get(1)?,
                            requests: sq_u64(r, 2)?,
                            prompt_tokens: sq_u64(r, 3)?,
                            completion_tokens: sq_u64(r, 4)?,
                            cached_tokens: sq_u64(r, 5)?,
                            reasoning_tokens: sq_u64(r, 6)?,
                            cost_micros: sq_u64(r, 7)?,
                        })
                    })?;
                    rows.collect()
                })
                .await
            }
            Inner::Postgres(pg) => {
                let rows = pg
                    .query(&sql(Dialect::Postgres), &[&key_id, &from, &to])
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(UsageRow {
                            day: r.try_get(0).map_err(pg_err)?,
                            model: r.try_get(1).map_err(pg_err)?,
                            requests: pg_u64(r, 2)?,
                            prompt_tokens: pg_u64(r, 3)?,
                            completion_tokens: pg_u64(r, 4)?,
                            cached_tokens: pg_u64(r, 5)?,
                            reasoning_tokens: pg_u64(r, 6)?,
                            cost_micros: pg_u64(r, 7)?,
                        })
                    })
                    .collect()
            }
        }
    }

    /// Usage in `[from, to)` grouped by `group_by`, optionally only rows whose `filter.0`
    /// equals `filter.1`; ordered by cost (highest first, unpriced last), then group.
    pub async fn grouped_usage(
        &self,
        group_by: GroupBy,
        from: SystemTime,
        to: SystemTime,
        filter: Option<(GroupBy, String)>,
    ) -> Result<Vec<GroupRow>, QueryError> {
        let sql = |d: Dialect| {
            let filter = match &filter {
                Some((by, _)) => format!(" AND {} = {}", by.column(), d.p(3)),
                None => String::new(),
            };
            format!(
                "SELECT {} AS grp, count(*), {}, {}, {}, {}
                 FROM requests WHERE ts >= {} AND ts < {}{filter}
                 GROUP BY 1 ORDER BY 6 DESC{}, 1",
                group_by.column(),
                d.sum("CASE WHEN status >= 400 THEN 1 ELSE 0 END"),
                d.sum("prompt_tokens"),
                d.sum("completion_tokens"),
                d.sum("cost_micros"),
                d.p(1),
                d.p(2),
                d.nulls_last(),
            )
        };
        let value = filter.as_ref().map(|(_, v)| v.clone());
        match &self.inner {
            Inner::Off => Err(QueryError::Off),
            Inner::Sqlite(conn) => {
                let sql = sql(Dialect::Sqlite);
                let (from, to) = (ts_text(from), ts_text(to));
                sqlite_run(conn, move |c| {
                    let mut stmt = c.prepare_cached(&sql)?;
                    let map = |r: &rusqlite::Row<'_>| {
                        Ok(GroupRow {
                            group: r.get(0)?,
                            requests: sq_u64(r, 1)?,
                            errors: sq_u64(r, 2)?,
                            prompt_tokens: sq_u64(r, 3)?,
                            completion_tokens: sq_u64(r, 4)?,
                            cost_micros: sq_u64(r, 5)?,
                        })
                    };
                    let rows = match value {
                        Some(v) => stmt.query_map(rusqlite::params![from, to, v], map)?,
                        None => stmt.query_map(rusqlite::params![from, to], map)?,
                    };
                    rows.collect()
                })
                .await
            }
            Inner::Postgres(pg) => {
                let sql = sql(Dialect::Postgres);
                let rows = match &value {
                    Some(v) => pg.query(&sql, &[&from, &to, v]).await?,
                    None => pg.query(&sql, &[&from, &to]).await?,
                };
                rows.iter()
                    .map(|r| {
                        Ok(GroupRow {
                            group: r.try_get(0).map_err(pg_err)?,
                            requests: pg_u64(r, 1)?,
                            errors: pg_u64(r, 2)?,
                            prompt_tokens: pg_u64(r, 3)?,
                            completion_tokens: pg_u64(r, 4)?,
                            cost_micros: pg_u64(r, 5)?,
                        })
                    })
                    .collect()
            }
        }
    }

    /// Spend per key id, per team and overall in the UTC day and UTC month containing `now`,
    /// and of all time (rows after `now` count too: clocks of several instances differ).
    /// Used once at start to seed budget counters; it reads the whole table.
    pub async fn spend_by_scope(&self, now: SystemTime) -> Result<SpendTotals, QueryError> {
        let sql = |d: Dialect| {
            format!(
                "SELECT key_id, team, {}, {}, {}
                 FROM requests WHERE cost_micros IS NOT NULL GROUP BY 1, 2",
                d.sum(&format!("CASE WHEN ts >= {} THEN cost_micros END", d.p(1))),
                d.sum(&format!("CASE WHEN ts >= {} THEN cost_micros END", d.p(2))),
                d.sum("cost_micros"),
            )
        };
        let (day, month) = (day_start(now), month_start(now));
        let parts: Vec<(Option<String>, Option<String>, Spend)> = match &self.inner {
            Inner::Off => return Err(QueryError::Off),
            Inner::Sqlite(conn) => {
                let sql = sql(Dialect::Sqlite);
                let (d, m) = (ts_text(day), ts_text(month));
                sqlite_run(conn, move |c| {
                    let mut stmt = c.prepare_cached(&sql)?;
                    let rows = stmt.query_map(rusqlite::params![d, m], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            Spend {
                                daily_micros: sq_u64(r, 2)?,
                                monthly_micros: sq_u64(r, 3)?,
                                total_micros: sq_u64(r, 4)?,
                            },
                        ))
                    })?;
                    rows.collect()
                })
                .await?
            }
            Inner::Postgres(pg) => {
                let rows = pg.query(&sql(Dialect::Postgres), &[&day, &month]).await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.try_get(0).map_err(pg_err)?,
                            r.try_get(1).map_err(pg_err)?,
                            Spend {
                                daily_micros: pg_u64(r, 2)?,
                                monthly_micros: pg_u64(r, 3)?,
                                total_micros: pg_u64(r, 4)?,
                            },
                        ))
                    })
                    .collect::<Result<_, QueryError>>()?
            }
        };
        let date = DateTime::<Utc>::from(now);
        let mut totals = SpendTotals {
            day: date.format("%Y-%m-%d").to_string(),
            month: date.format("%Y-%m").to_string(),
            ..SpendTotals::default()
        };
        for (key, team, spend) in parts {
            totals.global.add(spend);
            if let Some(key) = key {
                totals.keys.entry(key).or_default().add(spend);
            }
            if let Some(team) = team {
                totals.teams.entry(team).or_default().add(spend);
            }
        }
        Ok(totals)
    }

    /// Sum of `cost_micros` over all rows.
    pub async fn total_cost(&self) -> Result<u64, QueryError> {
        let sql = |d: Dialect| format!("SELECT {} FROM requests", d.sum("cost_micros"));
        match &self.inner {
            Inner::Off => Err(QueryError::Off),
            Inner::Sqlite(conn) => {
                let sql = sql(Dialect::Sqlite);
                sqlite_run(conn, move |c| c.query_row(&sql, [], |r| sq_u64(r, 0))).await
            }
            Inner::Postgres(pg) => {
                let rows = pg.query(&sql(Dialect::Postgres), &[]).await?;
                rows.first().map_or(Ok(0), |r| pg_u64(r, 0))
            }
        }
    }
}

/// The read side of the configured ledger, opened on first use (so inside the runtime that
/// first needs it) and shared by the billing APIs and the start-up budget seeding.
pub struct ReaderCell {
    target: LedgerTarget,
    cell: tokio::sync::OnceCell<std::sync::Arc<LedgerReader>>,
}

impl ReaderCell {
    pub fn new(target: LedgerTarget) -> Self {
        Self {
            target,
            cell: tokio::sync::OnceCell::new(),
        }
    }

    /// The reader; an error when the store cannot be opened (retried on the next call).
    pub async fn get(&self) -> Result<&std::sync::Arc<LedgerReader>, String> {
        self.cell
            .get_or_try_init(|| async {
                LedgerReader::open(&self.target)
                    .await
                    .map(std::sync::Arc::new)
            })
            .await
    }
}
