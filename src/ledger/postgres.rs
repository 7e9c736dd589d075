//! Postgres store (several gateway instances share one ledger). Plaintext connection
//! (`NoTls`): meant for loopback or a private network; `sslmode=require` is rejected by
//! config validation.

use super::Row;
use super::writer::{Store, StoreError};
use async_trait::async_trait;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

/// Serialises concurrent migrations of several instances (`pg_advisory_xact_lock` key).
const MIGRATION_LOCK: i64 = 0x5357_4c45_4447_4552; // "SWLEDGER"

/// Schema versions, applied in order once each (recorded in `schema_migrations`).
pub const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "CREATE TABLE requests (
        id BIGSERIAL PRIMARY KEY,
        ts TIMESTAMPTZ NOT NULL,
        request_id TEXT NOT NULL,
        key_name TEXT,
        team TEXT,
        route TEXT,
        provider TEXT,
        requested_model TEXT,
        served_model TEXT,
        attempts INTEGER NOT NULL,
        status INTEGER NOT NULL,
        prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL,
        cached_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        cost_micros BIGINT,
        latency_ms DOUBLE PRECISION NOT NULL,
        ttfb_ms DOUBLE PRECISION,
        overhead_ms DOUBLE PRECISION NOT NULL,
        cache_hit BOOLEAN NOT NULL,
        error_kind TEXT,
        stream BOOLEAN NOT NULL,
        endpoint TEXT NOT NULL
    );
    CREATE INDEX requests_ts ON requests (ts);
    CREATE INDEX requests_key_ts ON requests (key_name, ts);",
    ),
    (2, super::MIGRATION_2),
    (3, super::MIGRATION_3),
];

/// One statement per batch: column arrays, unnested into rows (one round trip).
const INSERT: &str =
    "INSERT INTO requests (ts, request_id, key_name, key_id, team, route, provider,
    requested_model, served_model, attempts, status, prompt_tokens, completion_tokens,
    cached_tokens, cache_write_tokens, reasoning_tokens, cost_micros, latency_ms, ttfb_ms,
    overhead_ms, cache_hit, error_kind, stream, endpoint, partial)
    SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $24::text[], $4::text[],
    $5::text[], $6::text[], $7::text[], $8::text[], $9::int4[], $10::int4[], $11::int8[],
    $12::int8[], $13::int8[], $14::int8[], $15::int8[], $16::int8[], $17::float8[],
    $18::float8[], $19::float8[], $20::bool[], $21::text[], $22::bool[], $23::text[],
    $25::bool[])";

/// A connected Postgres ledger.
pub struct PgStore {
    client: Client,
}

/// Connects (the connection task runs on the current runtime) and migrates.
pub async fn open(url: &str) -> Result<PgStore, String> {
    let (mut client, conn) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio_postgres::connect(url, NoTls),
    )
    .await
    .map_err(|_| "postgres: connect timed out".to_string())?
    .map_err(|e| format!("postgres: {e}"))?;
    crate::task::spawn_named("ledger postgres connection", async move {
        if let Err(e) = conn.await {
            log::error!("ledger: postgres connection ended: {e}");
        }
    });
    migrate(&mut client)
        .await
        .map_err(|e| format!("postgres: migration failed: {e}"))?;
    Ok(PgStore { client })
}

/// Applies the migrations not yet recorded; returns how many ran (0 on a second start).
pub async fn migrate(client: &mut Client) -> Result<usize, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let mut ran = 0;
    for (version, sql) in MIGRATIONS {
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?
            .is_some();
        if !done {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
            ran += 1;
        }
    }
    tx.commit().await?;
    Ok(ran)
}

fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Inserts `rows` in one statement (so one transaction).
pub async fn insert(client: &mut Client, rows: &[Row]) -> Result<(), tokio_postgres::Error> {
    fn col<'a, T>(rows: &'a [Row], f: impl Fn(&'a Row) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    let ts = col(rows, |r| r.ts);
    let request_id = col(rows, |r| r.request_id.as_str());
    let key_name = col(rows, |r| r.key_name.as_deref());
    let team = col(rows, |r| r.team.as_deref());
    let route = col(rows, |r| r.route.as_deref());
    let provider = col(rows, |r| r.provider.as_deref());
    let requested = col(rows, |r| r.requested_model.as_deref());
    let served = col(rows, |r| r.served_model.as_deref());
    let attempts = col(rows, |r| i32::try_from(r.attempts).unwrap_or(i32::MAX));
    let status = col(rows, |r| i32::from(r.status));
    let prompt = col(rows, |r| big(r.prompt_tokens));
    let completion = col(rows, |r| big(r.completion_tokens));
    let cached = col(rows, |r| big(r.cached_tokens));
    let cache_write = col(rows, |r| big(r.cache_write_tokens));
    let reasoning = col(rows, |r| big(r.reasoning_tokens));
    let cost = col(rows, |r| r.cost_micros.map(big));
    let latency = col(rows, |r| r.latency_ms);
    let ttfb = col(rows, |r| r.ttfb_ms);
    let overhead = col(rows, |r| r.overhead_ms);
    let cache_hit = col(rows, |r| r.cache_hit);
    let error_kind = col(rows, |r| r.error_kind);
    let stream = col(rows, |r| r.stream);
    let endpoint = col(rows, |r| r.endpoint);
    let key_id = col(rows, |r| r.key_id.as_deref());
    let partial = col(rows, |r| r.partial);
    let params: [&(dyn ToSql + Sync); 25] = [
        &ts,
        &request_id,
        &key_name,
        &team,
        &route,
        &provider,
        &requested,
        &served,
        &attempts,
        &status,
        &prompt,
        &completion,
        &cached,
        &cache_write,
        &reasoning,
        &cost,
        &latency,
        &ttfb,
        &overhead,
        &cache_hit,
        &error_kind,
        &stream,
        &endpoint,
        &key_id,
        &partial,
    ];
    client.execute(INSERT, &params).await.map(|_| ())
}

#[async_trait]
impl Store for PgStore {
    async fn write(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        match insert(&mut self.client, rows).await {
            Ok(()) => Ok(()),
            Err(e) if self.client.is_closed() || e.is_closed() => {
                Err(StoreError::Disconnected(e.to_string()))
            }
            Err(e) => Err(StoreError::Failed(e.to_string())),
        }
    }
}
