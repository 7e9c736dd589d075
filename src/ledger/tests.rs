use super::writer::{Connect, Store, StoreError};
use super::*;
use crate::error::ErrorKind;
use crate::summary::{Charge, RequestSummary};
use crate::translate::Usage;
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const TRIED: &[String] = &[];

fn summary() -> RequestSummary<'static> {
    RequestSummary {
        request_id: "req-1",
        started: std::time::SystemTime::now(),
        method: "POST",
        path: "/v1/chat/completions",
        client: None,
        api: Some("chat"),
        routed: true,
        status: 200,
        key_name: Some("tester"),
        key_id: Some("key_0123456789abcdef"),
        team: Some("search"),
        route: Some("gpt"),
        provider: Some("p"),
        requested_model: Some("gpt"),
        served_model: Some("gpt-4o-mini"),
        attempts: 2,
        stream: true,
        partial: false,
        usage: Usage {
            prompt_tokens: 100,
            completion_tokens: 20,
            cached_tokens: 30,
            cache_write_tokens: 5,
            reasoning_tokens: 7,
        },
        charge: Charge::NoUsage,
        duration: std::time::Duration::from_millis(12),
        ttfb: None,
        overhead: std::time::Duration::from_micros(300),
        error: None,
        tried: TRIED,
        lossy: &[],
    }
}

fn sample(id: usize) -> Row {
    let mut r = build::row(&RequestSummary {
        charge: Charge::Priced(42),
        ..summary()
    })
    .unwrap();
    r.request_id = format!("req-{id}");
    r
}

#[test]
fn row_carries_the_request() {
    let c = RequestSummary {
        error: Some(ErrorKind::RateLimited),
        status: 429,
        ..summary()
    };
    let r = build::row(&c).unwrap();
    assert_eq!(r.request_id, "req-1");
    assert_eq!(r.key_name.as_deref(), Some("tester"));
    assert_eq!(r.key_id.as_deref(), Some("key_0123456789abcdef"));
    assert_eq!(r.team.as_deref(), Some("search"));
    assert_eq!(r.route.as_deref(), Some("gpt"));
    assert_eq!(r.requested_model.as_deref(), Some("gpt"));
    assert_eq!(r.served_model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!((r.attempts, r.status), (2, 429));
    assert_eq!(
        (
            r.prompt_tokens,
            r.completion_tokens,
            r.cached_tokens,
            r.cache_write_tokens,
            r.reasoning_tokens
        ),
        (100, 20, 30, 5, 7)
    );
    assert_eq!(r.cost_micros, None);
    assert_eq!(r.error_kind, Some(ErrorKind::RateLimited.as_str()));
    assert!(r.stream && !r.cache_hit);
    assert_eq!(r.endpoint, "chat");
    assert!(r.ts <= std::time::SystemTime::now());
    assert_eq!((r.latency_ms, r.overhead_ms, r.ttfb_ms), (12.0, 0.3, None));
    let priced = build::row(&RequestSummary {
        charge: Charge::Priced(1234),
        key_name: Some(""),
        key_id: None,
        ..c
    })
    .unwrap();
    assert_eq!(priced.cost_micros, Some(1234));
    assert_eq!(priced.key_name, None, "an empty key name is no key");
    assert_eq!(priced.key_id, None);
    let by_name = build::row(&RequestSummary {
        key_id: None,
        ..summary()
    })
    .unwrap();
    assert_eq!(by_name.key_id.as_deref(), Some("tester"));
}

#[test]
fn only_model_api_requests_get_rows() {
    assert!(
        build::row(&RequestSummary {
            api: None,
            ..summary()
        })
        .is_none()
    );
}

#[test]
fn ledger_urls() {
    assert_eq!(LedgerTarget::parse("off"), Ok(LedgerTarget::Off));
    assert_eq!(
        LedgerTarget::parse(target::DEFAULT_URL),
        Ok(LedgerTarget::Sqlite("./data/switchyard.db".into()))
    );
    assert_eq!(
        LedgerTarget::parse("sqlite:///var/lib/s.db"),
        Ok(LedgerTarget::Sqlite("/var/lib/s.db".into()))
    );
    assert!(matches!(
        LedgerTarget::parse("postgres://postgres@127.0.0.1:5432/test"),
        Ok(LedgerTarget::Postgres(_))
    ));
    let tls = LedgerTarget::parse("postgres://u@db:5432/x?sslmode=require").unwrap_err();
    assert!(tls.contains("sslmode=require"), "{tls}");
    assert!(LedgerTarget::parse("sqlite://").is_err());
    assert!(LedgerTarget::parse("mysql://x").is_err());
    assert!(LedgerTarget::parse("postgres://u@h:notaport/x").is_err());
}

/// Records batch sizes; fails the first `fail` writes with `Failed`.
#[derive(Clone, Default)]
struct Fake {
    batches: Arc<parking_lot::Mutex<Vec<Vec<String>>>>,
    fail: Arc<AtomicUsize>,
    connects: Arc<AtomicUsize>,
    refuse_connects: usize,
}

#[async_trait]
impl Store for Fake {
    async fn write(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        if self
            .fail
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(StoreError::Failed("boom".into()));
        }
        self.batches
            .lock()
            .push(rows.iter().map(|r| r.request_id.clone()).collect());
        Ok(())
    }
}

#[async_trait]
impl Connect for Fake {
    async fn connect(&self) -> Result<Box<dyn Store>, String> {
        if self.connects.fetch_add(1, Ordering::AcqRel) < self.refuse_connects {
            return Err("refused".into());
        }
        Ok(Box::new(self.clone()))
    }
}

fn spawn(fake: &Fake, capacity: usize) -> Ledger {
    let (ledger, writer) = Ledger::with_connect(Box::new(fake.clone()), capacity);
    tokio::spawn(async move { writer.run(None).await });
    ledger
}

fn dropped_count(reason: DropReason) -> u64 {
    METRICS
        .ledger_dropped
        .with_label_values(&[reason.as_str()])
        .get()
}

#[tokio::test(start_paused = true)]
async fn batches_by_size_and_by_time() {
    let fake = Fake::default();
    let ledger = spawn(&fake, 10_000);
    for i in 0..(BATCH_MAX + 3) {
        ledger.record(sample(i));
    }
    tokio::time::sleep(BATCH_INTERVAL / 2).await;
    let sizes: Vec<usize> = fake.batches.lock().iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![BATCH_MAX], "a full batch is written at once");
    tokio::time::sleep(BATCH_INTERVAL).await;
    let sizes: Vec<usize> = fake.batches.lock().iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![BATCH_MAX, 3], "the rest after the interval");
    let ids: Vec<String> = fake.batches.lock().concat();
    let want: Vec<String> = (0..BATCH_MAX + 3).map(|i| format!("req-{i}")).collect();
    assert_eq!(ids, want, "in order, none lost or duplicated");
}

#[tokio::test(start_paused = true)]
async fn a_trickle_is_written_within_the_batch_interval() {
    let fake = Fake::default();
    let ledger = spawn(&fake, 100);
    // A row every fifth of the interval: each arrival must not postpone the batch.
    for i in 0..6 {
        ledger.record(sample(i));
        tokio::time::sleep(BATCH_INTERVAL / 5).await;
    }
    let first = fake.batches.lock().first().cloned();
    assert_eq!(
        first
            .as_deref()
            .and_then(<[String]>::first)
            .map(String::as_str),
        Some("req-0")
    );
}

#[tokio::test(start_paused = true)]
async fn flush_writes_everything_queued() {
    let fake = Fake::default();
    let ledger = spawn(&fake, 100);
    for i in 0..7 {
        ledger.record(sample(i));
    }
    ledger.flush(Duration::from_secs(1)).await;
    assert_eq!(fake.batches.lock().concat().len(), 7);
}

#[tokio::test(start_paused = true)]
async fn failed_batches_are_retried_then_dropped() {
    let fake = Fake::default();
    fake.fail.store(1, Ordering::Release);
    let ledger = spawn(&fake, 100);
    ledger.record(sample(1));
    tokio::time::sleep(BATCH_INTERVAL * 4).await;
    assert_eq!(fake.batches.lock().concat(), vec!["req-1"], "retried once");

    let before = dropped_count(DropReason::StoreError);
    fake.fail.store(10, Ordering::Release);
    ledger.record(sample(2));
    tokio::time::sleep(BATCH_INTERVAL * 10).await;
    assert_eq!(dropped_count(DropReason::StoreError) - before, 1);
    assert_eq!(fake.batches.lock().concat(), vec!["req-1"]);
}

#[tokio::test(start_paused = true)]
async fn unreachable_store_queues_then_drops_when_full() {
    let fake = Fake {
        refuse_connects: 3,
        ..Fake::default()
    };
    let ledger = spawn(&fake, 4);
    let before = dropped_count(DropReason::QueueFull);
    // One batch is held by the writer (up to BATCH_MAX rows pulled), the queue holds 4 more
    // only once the held batch is full; with 10 rows nothing is dropped yet.
    for i in 0..10 {
        ledger.record(sample(i));
        // Past the writer's coalescing pause, so it takes each row off the queue.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(dropped_count(DropReason::QueueFull), before);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        fake.connects.load(Ordering::Acquire) > 3,
        "reconnects with backoff"
    );
    assert_eq!(
        fake.batches.lock().concat().len(),
        10,
        "written once reachable"
    );
}

#[tokio::test]
async fn full_queue_drops_and_counts() {
    let (ledger, _writer) = Ledger::with_capacity(&LedgerTarget::Sqlite("unused".into()), 2);
    let before = dropped_count(DropReason::QueueFull);
    for i in 0..5 {
        ledger.record(sample(i));
    }
    assert_eq!(dropped_count(DropReason::QueueFull) - before, 3);
}

#[test]
fn sqlite_migrates_once_and_inserts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/ledger.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut store = sqlite::open(path.clone()).await.unwrap();
        let cut = build::row(&RequestSummary {
            partial: true,
            charge: Charge::Priced(42),
            ..summary()
        })
        .unwrap();
        assert!(cut.partial && !sample(1).partial);
        store.write(&[sample(1), cut]).await.unwrap();
    });
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite::migrate(&mut conn).unwrap(),
        0,
        "second start does nothing"
    );
    let (n, cost, tokens, mode): (i64, i64, i64, String) = conn
        .query_row(
            "SELECT count(*), sum(cost_micros), sum(prompt_tokens), \
             (SELECT journal_mode FROM pragma_journal_mode) FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((n, cost, tokens, mode.as_str()), (2, 84, 200, "wal"));
    let partial: Vec<bool> = conn
        .prepare("SELECT partial FROM requests ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(partial, [false, true]);
    let day: String = conn
        .query_row("SELECT date(ts) FROM requests LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(day.len(), 10, "SQLite reads the timestamp: {day}");
}

/// Rows recorded through [`Ledger::new`] (the real writer service) are in the store after a
/// flush, and the rest after the last handle is dropped.
async fn writes_through_the_service(target: &LedgerTarget) -> Vec<usize> {
    let (ledger, writer) = Ledger::new(target);
    let task = tokio::spawn(async move { writer.unwrap().run(None).await });
    for i in 0..3 {
        ledger.record(sample(i));
    }
    ledger.flush(Duration::from_secs(10)).await;
    let mut counts = vec![count_rows(target).await];
    ledger.record(sample(3));
    drop(ledger);
    task.await.unwrap();
    counts.push(count_rows(target).await);
    counts
}

async fn count_rows(target: &LedgerTarget) -> usize {
    match target {
        LedgerTarget::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let n: i64 = conn
                .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
                .unwrap();
            usize::try_from(n).unwrap()
        }
        LedgerTarget::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let n: i64 = client
                .query_one("SELECT count(*) FROM requests", &[])
                .await
                .unwrap()
                .get(0);
            usize::try_from(n).unwrap()
        }
        LedgerTarget::Off => 0,
    }
}

#[tokio::test]
async fn sqlite_writer_service_flushes_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let target = LedgerTarget::Sqlite(dir.path().join("ledger.db"));
    assert_eq!(writes_through_the_service(&target).await, vec![3, 4]);
}

#[tokio::test]
async fn postgres_writer_service_flushes_and_finishes() {
    let url = std::env::var("SWITCHYARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let connected = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(&url, tokio_postgres::NoTls),
    )
    .await;
    let Ok(Ok((admin, conn))) = connected else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED postgres_writer_service_flushes_and_finishes: postgres not reachable"
        );
        return;
    };
    tokio::spawn(conn);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("ledger_writer_test_{}_{nanos}", std::process::id());
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let target = LedgerTarget::Postgres(format!("{url}?options=-csearch_path%3D{schema}"));
    let counts = writes_through_the_service(&target).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    assert_eq!(counts, vec![3, 4]);
}
