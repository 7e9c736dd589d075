//! The read queries against a real SQLite file and (when reachable) a real Postgres schema;
//! both stores must give the same answers for the same rows.

use super::*;
use crate::calendar::date_start;
use crate::ledger::Row;
use std::time::{Duration, UNIX_EPOCH};
use tokio_postgres::NoTls;

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// `day` at `time` UTC.
fn at(day: &str, time: &str) -> SystemTime {
    humantime::parse_rfc3339(&format!("{day}T{time}Z")).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn row(
    ts: SystemTime,
    key: Option<&str>,
    team: Option<&str>,
    served: Option<&str>,
    requested: &str,
    status: u16,
    prompt: u64,
    cost: Option<u64>,
) -> Row {
    Row {
        ts,
        request_id: format!("req-{prompt}"),
        key_name: key.map(str::to_string),
        key_id: key.map(str::to_string),
        team: team.map(str::to_string),
        route: None,
        provider: Some("openai".into()),
        requested_model: Some(requested.into()),
        served_model: served.map(str::to_string),
        attempts: 1,
        status,
        prompt_tokens: prompt,
        completion_tokens: 10,
        cached_tokens: 2,
        cache_write_tokens: 0,
        reasoning_tokens: 1,
        cost_micros: cost,
        latency_ms: 1.0,
        ttfb_ms: None,
        overhead_ms: 0.1,
        cache_hit: false,
        error_kind: None,
        stream: false,
        endpoint: "chat",
        partial: false,
    }
}

/// Rows spanning two days and two months, two keys, two teams and an unpriced failure.
fn rows() -> Vec<Row> {
    vec![
        // Last month: counts for all time only.
        row(
            at("2026-10-31", "23:59:59.999"),
            Some("k1"),
            Some("t1"),
            Some("gpt-4o"),
            "gpt",
            200,
            100,
            Some(1_000),
        ),
        // Yesterday.
        row(
            at("2026-11-25", "12:00:00"),
            Some("k1"),
            Some("t1"),
            Some("gpt-4o"),
            "gpt",
            200,
            200,
            Some(2_000),
        ),
        // Today: two models for k1 (one by requested model: nothing served), k2 on another team.
        row(
            at("2026-11-26", "00:00:00"),
            Some("k1"),
            Some("t1"),
            Some("gpt-4o"),
            "gpt",
            200,
            300,
            Some(3_000),
        ),
        row(
            at("2026-11-26", "01:00:00"),
            Some("k1"),
            Some("t1"),
            Some("gpt-4o"),
            "gpt",
            200,
            400,
            Some(4_000),
        ),
        row(
            at("2026-11-26", "02:00:00"),
            Some("k1"),
            Some("t1"),
            None,
            "claude, \"big\"",
            502,
            500,
            None,
        ),
        row(
            at("2026-11-26", "03:00:00"),
            Some("k2"),
            Some("t2"),
            Some("mini"),
            "mini",
            200,
            600,
            Some(6_000),
        ),
        // No key, no team.
        row(
            at("2026-11-26", "04:00:00"),
            None,
            None,
            Some("mini"),
            "mini",
            429,
            700,
            Some(7),
        ),
    ]
}

fn now() -> SystemTime {
    at("2026-11-26", "15:00:00")
}

/// Every query's answer over [`rows`], whatever the store.
async fn check(reader: &LedgerReader) {
    assert_eq!(reader.total_cost().await.unwrap(), 16_007);

    let usage = reader
        .key_usage(
            "k1",
            at("2026-11-01", "00:00:00"),
            at("2026-11-27", "00:00:00"),
        )
        .await
        .unwrap();
    let summary: Vec<(&str, &str, u64, u64, u64)> = usage
        .iter()
        .map(|u| {
            (
                u.day.as_str(),
                u.model.as_str(),
                u.requests,
                u.prompt_tokens,
                u.cost_micros,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2026-11-25", "gpt-4o", 1, 200, 2_000),
            ("2026-11-26", "claude, \"big\"", 1, 500, 0),
            ("2026-11-26", "gpt-4o", 2, 700, 7_000),
        ]
    );
    assert_eq!(
        (
            usage[2].completion_tokens,
            usage[2].cached_tokens,
            usage[2].reasoning_tokens
        ),
        (20, 4, 2)
    );
    // The start is inclusive (the 00:00:00 row is in), the end exclusive (01:00:00 is out).
    let today = reader
        .key_usage(
            "k1",
            at("2026-11-26", "00:00:00"),
            at("2026-11-26", "01:00:00"),
        )
        .await
        .unwrap();
    assert_eq!(today.len(), 1);
    assert_eq!((today[0].requests, today[0].prompt_tokens), (1, 300));
    // The widest range a client can ask for ends in the year 10000: no panic, all rows.
    let end = date_start(chrono::NaiveDate::from_ymd_opt(10000, 1, 1).unwrap());
    let everything = reader.key_usage("k1", UNIX_EPOCH, end).await.unwrap();
    assert_eq!(everything.iter().map(|u| u.requests).sum::<u64>(), 5);
    assert!(
        reader
            .key_usage("nobody", at("2000-01-01", "00:00:00"), now())
            .await
            .unwrap()
            .is_empty()
    );

    let all = (at("2026-01-01", "00:00:00"), at("2027-01-01", "00:00:00"));
    let teams = reader
        .grouped_usage(GroupBy::Team, all.0, all.1, None)
        .await
        .unwrap();
    let teams: Vec<(Option<&str>, u64, u64, u64)> = teams
        .iter()
        .map(|g| (g.group.as_deref(), g.requests, g.errors, g.cost_micros))
        .collect();
    assert_eq!(
        teams,
        vec![
            (Some("t1"), 5, 1, 10_000),
            (Some("t2"), 1, 0, 6_000),
            (None, 1, 1, 7)
        ],
        "by cost, highest first"
    );
    let models = reader
        .grouped_usage(
            GroupBy::Model,
            all.0,
            all.1,
            Some((GroupBy::Key, "k1".into())),
        )
        .await
        .unwrap();
    let models: Vec<(Option<&str>, u64, u64)> = models
        .iter()
        .map(|g| (g.group.as_deref(), g.requests, g.prompt_tokens))
        .collect();
    assert_eq!(
        models,
        vec![
            (Some("gpt-4o"), 4, 1_000),
            (Some("claude, \"big\""), 1, 500)
        ],
        "the unpriced group sorts last"
    );
    let keys = reader
        .grouped_usage(
            GroupBy::Key,
            at("2026-11-26", "00:00:00"),
            at("2026-11-27", "00:00:00"),
            Some((GroupBy::Model, "mini".into())),
        )
        .await
        .unwrap();
    let keys: Vec<(Option<&str>, u64, u64)> = keys
        .iter()
        .map(|g| (g.group.as_deref(), g.requests, g.completion_tokens))
        .collect();
    assert_eq!(keys, vec![(Some("k2"), 1, 10), (None, 1, 10)]);

    let spend = reader.spend_by_scope(now()).await.unwrap();
    assert_eq!(
        (spend.day.as_str(), spend.month.as_str()),
        ("2026-11-26", "2026-11")
    );
    let s = |d, m, t| Spend {
        daily_micros: d,
        monthly_micros: m,
        total_micros: t,
    };
    assert_eq!(spend.global, s(13_007, 15_007, 16_007));
    assert_eq!(spend.key("k1"), s(7_000, 9_000, 10_000));
    assert_eq!(spend.key("k2"), s(6_000, 6_000, 6_000));
    assert_eq!(spend.key("none"), Spend::default());
    assert_eq!(spend.team("t1"), spend.key("k1"));
    assert_eq!(spend.keys.len(), 2, "rows without a key are global only");
    assert_eq!(spend.teams.len(), 2);
}

#[tokio::test]
async fn sqlite_queries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let target = LedgerTarget::Sqlite(path.clone());
    // Opening creates and migrates the file (no writer has run yet).
    let reader = LedgerReader::open(&target).await.unwrap();
    assert_eq!(reader.total_cost().await.unwrap(), 0);
    let mut conn = Connection::open(&path).unwrap();
    crate::ledger::sqlite::insert(&mut conn, &rows()).unwrap();
    check(&reader).await;
}

#[tokio::test]
async fn off_answers_an_error() {
    let reader = LedgerReader::open(&LedgerTarget::Off).await.unwrap();
    let err = reader.total_cost().await.unwrap_err();
    assert_eq!(err, QueryError::Off);
    assert_eq!(err.to_string(), "the ledger is off");
    assert_eq!(
        reader.spend_by_scope(now()).await.unwrap_err(),
        QueryError::Off
    );
    assert!(format!("{reader:?}").contains("off"));
}

#[test]
fn utc_windows() {
    assert_eq!(day_start(now()), at("2026-11-26", "00:00:00"));
    assert_eq!(month_start(now()), at("2026-11-01", "00:00:00"));
    assert_eq!(
        month_start(at("2026-12-31", "23:59:59")),
        at("2026-12-01", "00:00:00")
    );
}

/// The test database (`SWITCHYARD_TEST_POSTGRES` overrides it).
fn pg_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES").unwrap_or_else(|_| PG.to_string())
}

#[tokio::test]
async fn postgres_queries() {
    let connected = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(&pg_url(), NoTls),
    )
    .await;
    let Ok(Ok((admin, conn))) = connected else {
        // Straight to stderr, past libtest's capture, so skips can be listed.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED postgres_queries: postgres not reachable at 127.0.0.1:5432"
        );
        return;
    };
    tokio::spawn(conn);
    // A schema of our own, so parallel runs do not collide.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("ledger_query_test_{}_{nanos}", std::process::id());
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let url = format!("{}?options=-csearch_path%3D{schema}", pg_url());

    let result = async move {
        let reader = LedgerReader::open(&LedgerTarget::Postgres(url.clone())).await?;
        let (mut writer, conn) = tokio_postgres::connect(&url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        crate::ledger::postgres::insert(&mut writer, &rows())
            .await
            .map_err(|e| e.to_string())?;
        check(&reader).await;
        assert!(
            !format!("{reader:?}").contains("postgres://"),
            "no URL in Debug"
        );
        Ok::<(), String>(())
    };
    // Drop the schema even when a check fails.
    let outcome = tokio::spawn(result).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    outcome.unwrap().unwrap();
}
