//! Usage ledger through the real gateway: SQLite (default store) and Postgres on
//! 127.0.0.1:5432 (database `test`, user `postgres`; skipped with a message when unreachable).

use crate::common;

use crate::common::{Emulator, Gateway, KEY, ROUTES, config, get, pg_url, postgres};
use serde_json::json;
use std::time::Duration;

/// What one reply reported: (prompt, completion, cost in micro-dollars from the header).
type Seen = (u64, u64, Option<i64>);

/// Sends `n` chat requests (every third streamed) plus requests that must not get rows.
fn traffic(gw: &Gateway, n: usize) -> Vec<Seen> {
    assert_eq!(get(&gw.url("/healthz"), &[]).status, 200);
    let auth = format!("Bearer {KEY}");
    assert_eq!(
        get(&gw.url("/v1/models"), &[("authorization", &auth)]).status,
        200
    );
    (0..n)
        .map(|i| {
            let stream = i % 3 == 2;
            let mut body = json!({
                "model": "gpt",
                "messages": [{"role": "user", "content": format!("hello number {i}")}],
            });
            if stream {
                body["stream"] = json!(true);
                body["stream_options"] = json!({"include_usage": true});
            }
            let r = gw.chat(&body);
            assert_eq!(r.status, 200, "{}", r.body);
            let usage = if stream {
                let last = r
                    .events()
                    .into_iter()
                    .filter(|e| e != "[DONE]")
                    .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e).ok())
                    .find(|e| e["usage"].is_object())
                    .expect("usage chunk");
                last["usage"].clone()
            } else {
                r.json()["usage"].clone()
            };
            let cost = r
                .header("x-switchyard-cost-usd")
                .map(|c| (c.parse::<f64>().unwrap() * 1e6).round() as i64);
            (
                usage["prompt_tokens"].as_u64().unwrap(),
                usage["completion_tokens"].as_u64().unwrap(),
                cost,
            )
        })
        .collect()
}

/// Stops the gateway with SIGTERM and asserts a clean exit.
fn graceful_stop(gw: &mut Gateway) {
    let status = gw.proc.stop(Duration::from_secs(10)).expect("exited");
    assert!(status.success(), "exit {status:?}: {}", gw.stderr());
}

type DbRow = (String, i64, i64, Option<i64>, String, String, i64);

fn sqlite_rows(path: &std::path::Path) -> Vec<DbRow> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT provider, prompt_tokens, completion_tokens, cost_micros, served_model, \
             key_name, stream FROM requests ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn check(rows: &[DbRow], seen: &[Seen]) {
    assert_eq!(rows.len(), seen.len(), "exactly one row per model request");
    for (i, (row, (prompt, completion, cost))) in rows.iter().zip(seen).enumerate() {
        assert_eq!(row.0, "emu-openai");
        assert_eq!(
            (row.1, row.2),
            (*prompt as i64, *completion as i64),
            "row {i}"
        );
        assert!(*prompt > 0 && *completion > 0);
        assert!(
            row.3.is_some_and(|c| c > 0),
            "gpt-4o-mini is priced: {row:?}"
        );
        if let Some(c) = cost {
            assert_eq!(row.3, Some(*c), "row {i}: the cost the client was told");
        }
        assert_eq!((row.4.as_str(), row.5.as_str()), ("gpt-4o-mini", "tester"));
        assert_eq!(row.6, i64::from(i % 3 == 2), "row {i}: stream flag");
    }
}

#[test]
fn sqlite_default_store_gets_one_row_per_request() {
    let emu = Emulator::start();
    let mut gw = Gateway::with_routes(&emu, "");
    let seen = traffic(&gw, 12);
    let db = gw.dir.path().join("data/switchyard.db");
    // Written in batches while running (every 250 ms at most).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sqlite_rows(&db).len() < seen.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    check(&sqlite_rows(&db), &seen);
    graceful_stop(&mut gw);
    check(&sqlite_rows(&db), &seen);
}

#[test]
fn sigterm_flushes_queued_rows_and_restart_migrates_nothing() {
    let emu = Emulator::start();
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("ledger.db");
    let extra = format!(", ledger: \"sqlite://{}\"", db.display());
    let (yaml, port, admin) = config(&emu, ROUTES, &extra);
    let mut gw = Gateway::start(&yaml, port, admin);
    let seen = traffic(&gw, 9);
    // SIGTERM right away: rows are still queued (the batch interval has not passed).
    graceful_stop(&mut gw);
    check(&sqlite_rows(&db), &seen);

    let (yaml, port, admin) = config(&emu, ROUTES, &extra);
    let mut again = Gateway::start(&yaml, port, admin);
    graceful_stop(&mut again);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let versions: i64 = conn
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 3, "a second start runs no migration again");
    assert_eq!(sqlite_rows(&db).len(), seen.len());
}

#[test]
fn unreachable_postgres_never_refuses_requests() {
    let emu = Emulator::start();
    let dead = common::free_port();
    let extra = format!(", ledger: \"postgres://postgres@127.0.0.1:{dead}/test\"");
    let (yaml, port, admin) = config(&emu, ROUTES, &extra);
    let mut gw = Gateway::start(&yaml, port, admin);
    let seen = traffic(&gw, 3);
    assert_eq!(seen.len(), 3);
    graceful_stop(&mut gw);
    let err = gw.stderr();
    assert!(err.contains("ledger: store unavailable"), "{err}");
    assert!(err.contains("ledger: dropped 3 row(s)"), "{err}");
}

#[test]
fn postgres_store_gets_every_row() {
    let Some((rt, client)) = postgres() else {
        return;
    };
    // A schema of our own, so parallel runs do not collide.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("ledger_test_{}_{nanos}", std::process::id());
    rt.block_on(client.batch_execute(&format!("CREATE SCHEMA {schema}")))
        .unwrap();
    let url = format!("{}?options=-csearch_path%3D{schema}", pg_url());

    let emu = Emulator::start();
    let (yaml, port, admin) = config(&emu, ROUTES, &format!(", ledger: \"{url}\""));
    let mut gw = Gateway::start(&yaml, port, admin);
    let seen = traffic(&gw, 10);
    graceful_stop(&mut gw);
    // A second instance on the same schema migrates nothing.
    let (yaml, port, admin) = config(&emu, ROUTES, &format!(", ledger: \"{url}\""));
    let mut again = Gateway::start(&yaml, port, admin);
    graceful_stop(&mut again);

    let rows = rt
        .block_on(client.query(
            &format!(
                "SELECT provider, prompt_tokens, completion_tokens, cost_micros, served_model, \
                 key_name, stream::int::int8 FROM {schema}.requests ORDER BY id"
            ),
            &[],
        ))
        .unwrap();
    let rows: Vec<DbRow> = rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
            )
        })
        .collect();
    let versions: i64 = rt
        .block_on(client.query_one(
            &format!("SELECT count(*) FROM {schema}.schema_migrations"),
            &[],
        ))
        .unwrap()
        .get(0);
    rt.block_on(client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")))
        .unwrap();
    check(&rows, &seen);
    assert_eq!(versions, 3);
}
