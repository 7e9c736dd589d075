//! Keys' limits through the real gateway: RPM, TPM, concurrency and budgets, in process and
//! shared by two gateway processes through Redis (127.0.0.1:6379) with the ledger in
//! Postgres (127.0.0.1:5432); a restart under load loses no ledger row. Tests needing a
//! service print a `SKIPPED` line and return when it is unreachable.

use crate::common;

use crate::common::{
    Emulator, Gateway, agent, free_port, get, pg_url, post, postgres, redis_up, unique,
};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const REDIS: &str = "redis://127.0.0.1:6379/0";

/// Gateway config over the emulator: one `gpt` route to gpt-4o-mini (priced in the catalog),
/// the given `keys:` entries, and extra `server:` settings.
fn yaml(emu: &Emulator, keys: &str, server_extra: &str, extra: &str) -> (String, u16, u16) {
    let port = free_port();
    let admin = free_port();
    let y = format!(
        r#"server: {{ listen: "127.0.0.1:{port}", admin_listen: "127.0.0.1:{admin}", threads: 2, grace_period: 5s, health_check_interval: 1s, access_log: "{{LOG}}"{server_extra} }}
providers:
  - {{ name: emu, kind: openai, base_url: "http://127.0.0.1:{emu}/v1", api_key: "sk-oai-upstream" }}
routes:
  - {{ name: gpt, match: {{ model: "gpt" }}, targets: [ {{ provider: emu, model: "gpt-4o-mini" }} ] }}
  - {{ name: slow, match: {{ model: "slow" }}, targets: [ {{ provider: emu, model: "gpt-4o-mini#ttfb_ms=1500" }} ] }}
keys:
{keys}
{extra}"#,
        emu = emu.port
    );
    (y, port, admin)
}

fn chat_body(i: usize, max_tokens: u64) -> String {
    json!({
        "model": "gpt",
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": format!("question number {i}")}],
    })
    .to_string()
}

fn chat(gw: &Gateway, key: &str, i: usize) -> common::Reply {
    post(
        &gw.url("/v1/chat/completions"),
        &chat_body(i, 16),
        &[("authorization", &format!("Bearer {key}"))],
    )
}

/// Over an RPM limit: 429 naming the limit, with Retry-After; other keys are unaffected.
#[test]
fn rpm_limit_names_the_limit() {
    let emu = Emulator::start();
    let (y, port, admin) = yaml(
        &emu,
        "  - { name: slow, key: sk-slow-0123456789, rpm: 3 }\n  - { name: free, key: sk-free-0123456789 }",
        "",
        "",
    );
    let gw = Gateway::start(&y, port, admin);
    for i in 0..3 {
        let r = chat(&gw, "sk-slow-0123456789", i);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = chat(&gw, "sk-slow-0123456789", 3);
    assert_eq!(r.status, 429, "{}", r.body);
    let e = r.error();
    assert_eq!(e["code"], "rate_limit_exceeded");
    assert_eq!(e["param"], "rpm");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("requests per minute") && msg.contains("'slow'"),
        "{msg}"
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(chat(&gw, "sk-free-0123456789", 9).status, 200);
    assert!(
        gw.metrics()
            .contains("switchyard_limit_denied_total{limit=\"rpm\",scope=\"key\"} 1")
    );
}

/// A budget refuses once spent, naming the budget and when it resets; retrying is marked
/// pointless for SDKs; every admitted request was within budget.
#[test]
fn budget_names_the_budget_and_reset() {
    let emu = Emulator::start();
    // ~10–20 micro-dollars per request at gpt-4o-mini prices: a handful fit in 100.
    let (y, port, admin) = yaml(
        &emu,
        "  - { name: thrifty, key: sk-thrifty-0123456789, budget: { daily: 0.0001 } }",
        "",
        "",
    );
    let gw = Gateway::start(&y, port, admin);
    let mut admitted = 0;
    let mut refusal = None;
    for i in 0..40 {
        let r = chat(&gw, "sk-thrifty-0123456789", i);
        match r.status {
            200 => admitted += 1,
            429 => {
                refusal = Some(r);
                break;
            }
            s => panic!("{s}: {}", r.body),
        }
    }
    let r = refusal.expect("the budget ran out");
    assert!(admitted >= 3, "only {admitted} admitted");
    let e = r.error();
    assert_eq!(e["type"], "insufficient_quota");
    assert_eq!(e["code"], "budget_exceeded");
    assert_eq!(e["param"], "budget.daily");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("daily budget") && msg.contains("resets at") && msg.contains("T00:00:00Z"),
        "{msg}"
    );
    assert_eq!(r.header("x-should-retry"), Some("false"));
    assert!(r.header("retry-after").is_some());
}

/// `max_concurrency`: a third simultaneous request is refused while two are in flight, and
/// slots free up when they finish.
#[test]
fn concurrency_limit() {
    let emu = Emulator::start();
    let (y, port, admin) = yaml(
        &emu,
        "  - { name: narrow, key: sk-narrow-0123456789, max_concurrency: 2 }",
        "",
        "",
    );
    let gw = Arc::new(Gateway::start(&y, port, admin));
    let slow = |gw: Arc<Gateway>| {
        std::thread::spawn(move || {
            post(
                &gw.url("/v1/chat/completions"),
                &json!({"model": "slow", "messages": [{"role": "user", "content": "hi"}]})
                    .to_string(),
                &[("authorization", "Bearer sk-narrow-0123456789")],
            )
            .status
        })
    };
    let a = slow(gw.clone());
    let b = slow(gw.clone());
    std::thread::sleep(Duration::from_millis(500));
    let r = chat(&gw, "sk-narrow-0123456789", 1);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.error()["param"], "max_concurrency");
    assert_eq!((a.join().unwrap(), b.join().unwrap()), (200, 200));
    assert_eq!(chat(&gw, "sk-narrow-0123456789", 2).status, 200);
}

/// TPM: the reservation (prompt estimate + max_tokens) counts before the call; a request
/// larger than the whole limit is refused as too large.
#[test]
fn tpm_limit() {
    let emu = Emulator::start();
    let (y, port, admin) = yaml(
        &emu,
        "  - { name: tokens, key: sk-tokens-0123456789, tpm: 400 }",
        "",
        "",
    );
    let gw = Gateway::start(&y, port, admin);
    let auth = [("authorization", "Bearer sk-tokens-0123456789")];
    let big = post(&gw.url("/v1/chat/completions"), &chat_body(0, 1000), &auth);
    assert_eq!(big.status, 429, "{}", big.body);
    assert!(
        big.error()["message"]
            .as_str()
            .unwrap()
            .contains("too large")
    );
    assert_eq!(big.header("x-should-retry"), Some("false"));
    // Each request reserves ~135 tokens (prompt bound + max_tokens 100) and settles to its
    // real ~21: sequential requests fit until the settled ones plus one reservation pass 400.
    let mut ok = 0;
    let mut limited = None;
    for i in 0..40 {
        let r = post(&gw.url("/v1/chat/completions"), &chat_body(i, 100), &auth);
        if r.status == 200 {
            ok += 1;
        } else {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the TPM limit was reached");
    assert!(
        (4..=19).contains(&ok),
        "{ok} admitted: settling must release unused tokens"
    );
    assert_eq!(r.error()["param"], "tpm");
    assert!(
        r.error()["message"]
            .as_str()
            .unwrap()
            .contains("tokens per minute")
    );
}

/// Fires `n` chat requests from `threads` threads, spread over `gateways` round robin;
/// returns the statuses.
fn burst(gateways: &[&Gateway], key: &str, n: usize, threads: usize) -> Vec<u16> {
    let urls: Vec<String> = gateways
        .iter()
        .map(|g| g.url("/v1/chat/completions"))
        .collect();
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let urls = urls.clone();
            let next = next.clone();
            let auth = format!("Bearer {key}");
            std::thread::spawn(move || {
                let agent = agent();
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= n {
                        return out;
                    }
                    let r = agent
                        .post(&urls[i % urls.len()])
                        .header("authorization", &auth)
                        .header("content-type", "application/json")
                        .send(&chat_body(i, 16))
                        .expect("request");
                    out.push(r.status().as_u16());
                }
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// The key's settled spend in micro-dollars, as the counters report it (`/v1/key/info`).
fn counter_spent_total(gw: &Gateway, key: &str) -> u64 {
    let r = get(
        &gw.url("/v1/key/info"),
        &[("authorization", &format!("Bearer {key}"))],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let usd = r.json()["usage"]["spent"]["total"]
        .as_f64()
        .unwrap_or_else(|| panic!("no usage.spent.total in {}", r.body));
    (usd * 1e6).round() as u64
}

/// G6: 200 concurrent requests from two gateway processes sharing Redis and Postgres against
/// a small total budget: spend stays within the budget plus one request's maximum cost, no
/// request is falsely refused while the budget has room, and the ledger's total equals the
/// counters' total exactly.
#[test]
fn shared_budget_across_two_instances() {
    if !redis_up() {
        return;
    }
    let Some((rt, client)) = postgres() else {
        return;
    };
    let schema = unique("limits_budget");
    rt.block_on(client.batch_execute(&format!("CREATE SCHEMA {schema}")))
        .unwrap();
    let ledger = format!("{}?options=-csearch_path%3D{schema}", pg_url());
    let emu = Emulator::start();
    let name = unique("budget");
    let key = format!("sk-{name}");
    // gpt-4o-mini: $0.15/M in, $0.60/M out; a request reserves ~25 micro-dollars at most
    // (16 output tokens + a ~40-token prompt bound) and costs ~10–15.
    let budget_usd = 0.0015;
    let keys = format!("  - {{ name: {name}, key: {key}, budget: {{ total: {budget_usd} }} }}");
    let server = format!(", counters: \"{REDIS}\", ledger: \"{ledger}\"");
    let (y1, p1, a1) = yaml(&emu, &keys, &server, "");
    let (y2, p2, a2) = yaml(&emu, &keys, &server, "");
    let g1 = Gateway::start(&y1, p1, a1);
    let g2 = Gateway::start(&y2, p2, a2);
    let statuses = burst(&[&g1, &g2], &key, 200, 32);
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + refused, 200, "{statuses:?}");
    // Settlements and ledger batches land within about a second; on a loaded machine later,
    // so poll until both instances and the ledger agree (or a generous deadline passes).
    let ledger_row = || {
        let row = rt
            .block_on(client.query_one(
                &format!(
                    "SELECT COALESCE(SUM(cost_micros), 0)::int8, COUNT(*)::int8, \
                     COALESCE(MAX(cost_micros), 0)::int8 FROM {schema}.requests WHERE key_id = $1"
                ),
                &[&name],
            ))
            .unwrap();
        let r: (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        r
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let (counters, (ledger_total, rows, max_cost)) = loop {
        std::thread::sleep(Duration::from_millis(500));
        let counters = counter_spent_total(&g1, &key);
        let row = ledger_row();
        let settled =
            counters == counter_spent_total(&g2, &key) && row.1 == 200 && row.0 as u64 == counters;
        if settled || std::time::Instant::now() > deadline {
            break (counters, row);
        }
    };
    assert_eq!(counters, counter_spent_total(&g2, &key));
    rt.block_on(client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")))
        .unwrap();
    let budget = (budget_usd * 1e6) as u64;
    assert_eq!(
        rows, 200,
        "one ledger row per request, refused ones included"
    );
    assert_eq!(
        ledger_total as u64, counters,
        "ledger total == counter total"
    );
    assert!(
        counters <= budget + max_cost as u64,
        "spent {counters} > budget {budget} + one request {max_cost}"
    );
    // No false blocking: the reservations (≤ ~25 µ$ each) let at least budget/25 through.
    assert!(
        ok as u64 >= budget / 30,
        "only {ok} admitted for a budget of {budget}"
    );
    assert!(refused > 0, "the budget never ran out: spent {counters}");
    eprintln!("shared budget: {ok} admitted, {refused} refused, spent {counters} of {budget} µ$");
}

/// G7: an RPM limit shared by two instances admits the limit (±1 %) over a window under 3×
/// overload: every admission reads and writes Redis atomically.
#[test]
fn shared_rpm_across_two_instances() {
    if !redis_up() {
        return;
    }
    let emu = Emulator::start();
    let name = unique("rpm");
    let key = format!("sk-{name}");
    let keys = format!("  - {{ name: {name}, key: {key}, rpm: 100 }}");
    let server = format!(", counters: \"{REDIS}\", ledger: off");
    let (y1, p1, a1) = yaml(&emu, &keys, &server, "");
    let (y2, p2, a2) = yaml(&emu, &keys, &server, "");
    let g1 = Gateway::start(&y1, p1, a1);
    let g2 = Gateway::start(&y2, p2, a2);
    let started = Instant::now();
    let statuses = burst(&[&g1, &g2], &key, 300, 16);
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the burst must fit one window"
    );
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!((99..=101).contains(&ok), "{ok} admitted for rpm 100");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 300 - ok);
}

/// A gateway restarted (SIGTERM, new process on the same port and store) while clients keep
/// sending loses no ledger row: every request that got an answer has exactly one row.
#[test]
fn restart_under_load_loses_no_ledger_row() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let name = unique("restart");
    let key = format!("sk-{name}");
    let keys = format!("  - {{ name: {name}, key: {key}, rpm: 100000 }}");
    let server = format!(", ledger: \"sqlite://{}\"", db.display());
    let (y, port, admin) = yaml(&emu, &keys, &server, "");
    let mut gw = Gateway::start(&y, port, admin);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let unclear = Arc::new(AtomicU64::new(0));
    let url = gw.url("/v1/chat/completions");
    let clients: Vec<_> = (0..6)
        .map(|t| {
            let (stop, answered, unclear, url, key) = (
                stop.clone(),
                answered.clone(),
                unclear.clone(),
                url.clone(),
                key.clone(),
            );
            std::thread::spawn(move || {
                let mut i = t * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    // A fresh connection per request (`connection: close`): a refused connect
                    // is a request that was never accepted, not one whose fate is unknown.
                    match agent()
                        .post(&url)
                        .header("authorization", &format!("Bearer {key}"))
                        .header("connection", "close")
                        .header("content-type", "application/json")
                        .send(&chat_body(i, 8))
                    {
                        Ok(_) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(ureq::Error::ConnectionFailed) => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(ureq::Error::Io(e))
                            if e.kind() == std::io::ErrorKind::ConnectionRefused =>
                        {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(_) => {
                            unclear.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let status = gw
        .proc
        .stop(Duration::from_secs(10))
        .expect("exited within the grace");
    assert!(status.success(), "{status:?}: {}", gw.stderr());
    let again = Gateway::start(&y, port, admin);
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let mut again = again;
    assert!(again.proc.stop(Duration::from_secs(10)).unwrap().success());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM requests WHERE key_id = ?1",
            [&name],
            |r| r.get(0),
        )
        .unwrap();
    let answered = answered.load(Ordering::Relaxed);
    let unclear = unclear.load(Ordering::Relaxed);
    assert!(answered > 50, "too little load: {answered}");
    assert!(
        rows as u64 >= answered && rows as u64 <= answered + unclear,
        "{rows} rows for {answered} answered requests ({unclear} unclear)"
    );
    eprintln!("restart: {answered} answered, {unclear} unclear, {rows} rows");
}
