//! Virtual keys through the admin API (shared by two instances over Postgres), the billing
//! API, budget alerts, the audit trail, budgets surviving a restart, and a canary-secret sweep
//! over everything the gateway writes.

use crate::common;

use crate::common::{Emulator, Gateway, free_port, get, pg_url, post, postgres, unique};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "canary-admin-token-5c1e9f3d";
const SECRET: &str = "canary-key-secret-2a7b6d8e";
const PROVIDER_KEY: &str = "sk-canary-provider-7f3a9c1b";
const CLIENT_KEY: &str = "sk-canary-client-8b2d4e6f";

fn yaml(emu: &Emulator, keys: &str, server_extra: &str, extra: &str) -> (String, u16, u16) {
    let port = free_port();
    let admin = free_port();
    let y = format!(
        r#"server: {{ listen: "127.0.0.1:{port}", admin_listen: "127.0.0.1:{admin}", threads: 2, grace_period: 3s, health_check_interval: 1s, access_log: "{{LOG}}"{server_extra} }}
providers:
  - {{ name: emu, kind: openai, base_url: "http://127.0.0.1:{emu}/v1", api_key: "{PROVIDER_KEY}" }}
  - {{ name: emu-claude, kind: anthropic, base_url: "http://127.0.0.1:{emu}", api_key: "{PROVIDER_KEY}" }}
routes:
  - {{ name: gpt, match: {{ model: "gpt" }}, targets: [ {{ provider: emu, model: "gpt-4o-mini" }} ] }}
  - {{ name: claude, match: {{ model: "claude" }}, targets: [ {{ provider: emu-claude, model: "claude-haiku-4-5" }} ] }}
  - {{ name: broken, match: {{ model: "broken" }}, targets: [ {{ provider: emu, model: "gpt-4o-mini#status=401" }} ] }}
admin: {{ token: "{ADMIN}", key_secret: "{SECRET}", key_refresh: 200ms }}
keys:
{keys}
{extra}"#,
        emu = emu.port
    );
    (y, port, admin)
}

fn admin_url(gw: &Gateway, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", gw.admin_port)
}

fn chat(gw: &Gateway, key: &str, model: &str, text: &str) -> common::Reply {
    post(
        &gw.url("/v1/chat/completions"),
        &json!({"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": text}]})
            .to_string(),
        &[("authorization", &format!("Bearer {key}"))],
    )
}

fn until(deadline: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Keys made through the admin API work on a second instance sharing the Postgres store
/// within the refresh interval, carry their limits, and stop working everywhere once
/// revoked; rotation replaces the secret but keeps the id. The admin API refuses data-plane
/// keys and wrong tokens.
#[test]
fn admin_keys_shared_by_two_instances() {
    let Some((rt, client)) = postgres() else {
        return;
    };
    let schema = unique("gov_keys");
    rt.block_on(client.batch_execute(&format!("CREATE SCHEMA {schema}")))
        .unwrap();
    let ledger = format!(
        ", ledger: \"{}?options=-csearch_path%3D{schema}\"",
        pg_url()
    );
    let emu = Emulator::start();
    let keys = format!("  - {{ name: static, key: {CLIENT_KEY} }}");
    let (y1, p1, a1) = yaml(&emu, &keys, &ledger, "");
    let (y2, p2, a2) = yaml(&emu, &keys, &ledger, "");
    let g1 = Gateway::start(&y1, p1, a1);
    let g2 = Gateway::start(&y2, p2, a2);
    let admin = [("authorization", format!("Bearer {ADMIN}"))];
    let admin: Vec<(&str, &str)> = admin.iter().map(|(k, v)| (*k, v.as_str())).collect();

    for bad in [format!("Bearer {CLIENT_KEY}"), "Bearer nope".into()] {
        let r = get(&admin_url(&g1, "/admin/keys"), &[("authorization", &bad)]);
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let bad = post(
        &admin_url(&g1, "/admin/keys"),
        r#"{"name":"x","rpm":"many"}"#,
        &admin,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("rpm"), "{}", bad.body);

    let created = post(
        &admin_url(&g1, "/admin/keys"),
        r#"{"name":"ci-bot","team":"research","rpm":50,"budget":{"daily":2.5},"models":["gpt"]}"#,
        &admin,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let c = created.json();
    let (id, key) = (
        c["id"].as_str().unwrap().to_string(),
        c["key"].as_str().unwrap().to_string(),
    );
    assert!(key.starts_with("sy-"));
    assert!(
        until(Duration::from_secs(5), || chat(&g2, &key, "gpt", "hi")
            .status
            == 200),
        "the key made on instance 1 never worked on instance 2"
    );
    let info = get(
        &g2.url("/v1/key/info"),
        &[("authorization", &format!("Bearer {key}"))],
    );
    assert_eq!(info.status, 200, "{}", info.body);
    let info = info.json();
    assert_eq!(info["key"]["id"], id.as_str());
    assert_eq!(info["limits"]["rpm"], 50);
    assert_eq!(info["limits"]["budget"]["daily"], 2.5);
    let denied = chat(&g2, &key, "claude", "hi");
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.error()["code"], "model_not_allowed");

    let listed = get(&admin_url(&g2, "/admin/keys"), &admin);
    assert!(listed.body.contains(&id) && !listed.body.contains(&key));

    let rotated = post(
        &admin_url(&g1, &format!("/admin/keys/{id}/rotate")),
        "",
        &admin,
    );
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_key = rotated.json()["key"].as_str().unwrap().to_string();
    assert_eq!(chat(&g1, &key, "gpt", "hi").status, 401);
    assert_eq!(chat(&g1, &new_key, "gpt", "hi").status, 200);
    assert!(
        until(Duration::from_secs(5), || chat(&g2, &new_key, "gpt", "hi")
            .status
            == 200),
        "the rotated key never worked on instance 2"
    );
    assert_eq!(
        chat(&g2, &key, "gpt", "hi").status,
        401,
        "the old secret still works"
    );

    let revoke = common::agent()
        .delete(&admin_url(&g1, &format!("/admin/keys/{id}")))
        .header("authorization", &format!("Bearer {ADMIN}"))
        .call()
        .unwrap();
    assert_eq!(revoke.status().as_u16(), 200);
    assert!(
        until(Duration::from_secs(5), || chat(&g2, &new_key, "gpt", "hi")
            .status
            == 401),
        "the revoked key still works on instance 2"
    );
    let r = chat(&g2, &new_key, "gpt", "hi");
    assert!(
        r.error()["message"].as_str().unwrap().contains("revoked"),
        "{}",
        r.body
    );

    // Admin usage: grouped by key, the ledger rows of both instances.
    std::thread::sleep(Duration::from_millis(600));
    let usage = get(&admin_url(&g1, "/admin/usage?group_by=key"), &admin);
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert!(usage.body.contains(&id), "{}", usage.body);
    let csv = get(
        &admin_url(&g1, "/admin/usage?group_by=team&format=csv"),
        &admin,
    );
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.body.contains("research"), "{}", csv.body);
    drop((g1, g2));
    rt.block_on(client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")))
        .unwrap();
}

/// A webhook receiver on loopback; collects JSON bodies.
fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/hook?token=hook-secret",
        listener.local_addr().unwrap()
    );
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(buf[end + 4..end + 4 + len].to_vec());
                    }
                }
            };
            let _ = s.write_all(
                b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            if let Some(b) = body.and_then(|b| serde_json::from_slice(&b).ok()) {
                sink.lock().unwrap().push(b);
            }
        }
    });
    (url, got)
}

/// Spending a daily budget: 50/80/100 % alerts arrive once each; `/v1/usage` reports the
/// spend by day and model (JSON and CSV); the audit trail holds the prompts with secrets
/// redacted; after a restart the budget is still spent (seeded from the ledger).
#[test]
fn budget_alerts_usage_audit_and_restart() {
    let emu = Emulator::start();
    let (hook, alerts) = receiver();
    let keys = format!(
        "  - {{ name: audited, key: {CLIENT_KEY}, budget: {{ daily: 0.0002 }}, audit: true }}"
    );
    let (y, port, admin) = yaml(
        &emu,
        &keys,
        "",
        &format!("alerts: {{ webhook: \"{hook}\" }}"),
    );
    let mut gw = Gateway::start(&y, port, admin);
    let mut admitted = 0;
    for i in 0..100 {
        let r = chat(
            &gw,
            CLIENT_KEY,
            "gpt",
            &format!("question {i}: my key is sk-proj-abcdefghijklmnop1234"),
        );
        if r.status == 429 {
            assert_eq!(r.error()["code"], "budget_exceeded");
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
        admitted += 1;
    }
    assert!(admitted >= 4, "{admitted}");
    assert!(until(Duration::from_secs(5), || alerts
        .lock()
        .unwrap()
        .len()
        >= 3));
    std::thread::sleep(Duration::from_millis(300));
    // Another refusal does not alert again.
    assert_eq!(chat(&gw, CLIENT_KEY, "gpt", "more").status, 429);
    std::thread::sleep(Duration::from_millis(500));
    let got = alerts.lock().unwrap().clone();
    let mut thresholds: Vec<u64> = got
        .iter()
        .map(|a| a["threshold_percent"].as_u64().unwrap())
        .collect();
    thresholds.sort_unstable();
    assert_eq!(thresholds, [50, 80, 100], "{got:?}");
    assert!(
        got.iter()
            .all(|a| a["scope"] == "key" && a["id"] == "audited" && a["budget"] == "daily")
    );

    std::thread::sleep(Duration::from_millis(400));
    let auth = [("authorization", format!("Bearer {CLIENT_KEY}"))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let usage = get(&gw.url("/v1/usage"), &auth);
    assert_eq!(usage.status, 200, "{}", usage.body);
    let u = usage.json();
    let rows = u["data"].as_array().unwrap();
    let served = rows
        .iter()
        .find(|r| r["model"] == "gpt-4o-mini")
        .expect("served model row");
    assert_eq!(served["requests"].as_u64().unwrap(), admitted);
    assert!(served["cost_usd"].as_f64().unwrap() > 0.0);
    // Refused requests are rows too (under the requested model, unpriced).
    let all: u64 = rows.iter().map(|r| r["requests"].as_u64().unwrap()).sum();
    assert_eq!(all, admitted + 2, "{u}");
    let csv = get(&gw.url("/v1/usage?format=csv"), &auth);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.body.lines().count() >= 2 && csv.body.contains("gpt-4o-mini"));
    let bad = get(&gw.url("/v1/usage?from=yesterday"), &auth);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error()["param"], "from");

    let spent_before =
        get(&gw.url("/v1/key/info"), &auth).json()["usage"]["spent"]["daily"].clone();
    assert!(spent_before.as_f64().unwrap() > 0.0);
    assert!(gw.proc.stop(Duration::from_secs(10)).unwrap().success());
    let audit = std::fs::read_to_string(gw.dir.path().join("data/audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len() as u64,
        admitted + 2,
        "one audit line per request"
    );
    assert!(
        audit.contains("question 0") && audit.contains("[REDACTED:openai_key]"),
        "{}",
        &audit[..audit.len().min(600)]
    );
    assert!(!audit.contains("sk-proj-abcdefghijklmnop1234"));

    // Restart on the same ledger: the daily budget is still spent.
    let dir = gw.dir.path().to_path_buf();
    let _again = restart_in(&y, port, &dir);
    let base = format!("http://127.0.0.1:{port}");
    let info = get(&format!("{base}/v1/key/info"), &auth).json();
    assert_eq!(info["usage"]["spent"]["daily"], spent_before, "{info}");
    let r = post(
        &format!("{base}/v1/chat/completions"),
        &json!({"model": "gpt", "max_tokens": 16, "messages": [{"role": "user", "content": "after restart"}]}).to_string(),
        &auth,
    );
    assert_eq!(r.status, 429, "{}", r.body);
}

/// Starts a gateway with `yaml` whose working directory is `dir` (keeping its ledger).
fn restart_in(yaml: &str, port: u16, dir: &std::path::Path) -> common::Proc {
    let log = dir.join("access2.log");
    let path = dir.join("switchyard2.yaml");
    std::fs::write(&path, yaml.replace("{LOG}", &log.display().to_string())).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&path)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr2.log")).unwrap())
        .spawn()
        .unwrap();
    let proc = common::Proc {
        child,
        name: "gateway",
    };
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if get_ok(&format!("http://127.0.0.1:{port}/healthz")) {
            std::thread::sleep(Duration::from_millis(300));
            return proc;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("restarted gateway not ready");
}

fn get_ok(url: &str) -> bool {
    common::agent()
        .get(url)
        .call()
        .is_ok_and(|r| r.status() == 200)
}

/// Canary secrets (provider key, client key, admin token, key secret, a minted API key) never
/// appear in anything the gateway writes: logs, access log, ledger and audit files, metrics,
/// or any response other than the one that mints a key — across good traffic, failing
/// upstreams, bad keys and bad admin calls.
#[test]
fn canary_secrets_never_written() {
    let emu = Emulator::start();
    let keys = format!(
        "  - {{ name: canary, key: {CLIENT_KEY}, audit: true, rpm: 1000, budget: {{ daily: 100 }} }}"
    );
    // With Redis up the counters live there too, and are searched as well.
    let redis_up = std::net::TcpStream::connect("127.0.0.1:6379").is_ok();
    let counters = if redis_up {
        ", counters: \"redis://127.0.0.1:6379/0\""
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: canary sweep of Redis: redis not reachable at 127.0.0.1:6379"
        );
        ""
    };
    let (y, port, admin) = yaml(&emu, &keys, counters, "");
    let mut gw = Gateway::start(&y, port, admin);
    let mut bodies = Vec::new();
    let minted = post(
        &admin_url(&gw, "/admin/keys"),
        r#"{"name":"minted","audit":true}"#,
        &[("authorization", &format!("Bearer {ADMIN}"))],
    );
    assert_eq!(minted.status, 201, "{}", minted.body);
    let minted_key = minted.json()["key"].as_str().unwrap().to_string();
    for key in [CLIENT_KEY, minted_key.as_str()] {
        for model in ["gpt", "claude", "broken"] {
            let r = chat(&gw, key, model, "hello");
            bodies.push(r.body);
        }
        let stream = post(
            &gw.url("/v1/chat/completions"),
            &json!({"model": "claude", "stream": true, "messages": [{"role": "user", "content": "hi"}]}).to_string(),
            &[("authorization", &format!("Bearer {key}"))],
        );
        bodies.push(stream.body);
        bodies.push(
            get(
                &gw.url("/v1/key/info"),
                &[("authorization", &format!("Bearer {key}"))],
            )
            .body,
        );
        bodies.push(get(&gw.url("/v1/usage"), &[("x-api-key", key)]).body);
    }
    for bad in [
        format!("Bearer {CLIENT_KEY}x"),
        format!("Basic {CLIENT_KEY}"),
        format!("Bearer {ADMIN}"),
    ] {
        bodies.push(chat_with(&gw, &bad).body);
        bodies.push(get(&admin_url(&gw, "/admin/keys"), &[("authorization", &bad)]).body);
    }
    bodies.push(
        get(
            &admin_url(&gw, "/admin/keys"),
            &[("authorization", &format!("Bearer {ADMIN}"))],
        )
        .body,
    );
    bodies.push(gw.metrics());
    assert!(gw.proc.stop(Duration::from_secs(10)).unwrap().success());

    let mut written = bodies.join("\n");
    let mut files = Vec::new();
    collect(gw.dir.path(), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("audit.jsonl")),
        "{files:?}"
    );
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        written.push_str(&text);
    }
    if redis_up {
        written.push_str(&redis_dump());
    }
    assert!(written.contains("hello"), "the sweep read nothing");
    for canary in [PROVIDER_KEY, CLIENT_KEY, ADMIN, SECRET, minted_key.as_str()] {
        assert!(!written.contains(canary), "{canary} leaked into the output");
    }
}

fn chat_with(gw: &Gateway, authorization: &str) -> common::Reply {
    post(
        &gw.url("/v1/chat/completions"),
        r#"{"model":"gpt","messages":[{"role":"user","content":"x"}]}"#,
        &[("authorization", authorization)],
    )
}

/// Every file under `dir` except the config the test wrote (which holds the canaries).
fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if !p.ends_with("switchyard.yaml") {
            out.push(p);
        }
    }
}

/// Every key name and serialized value of the gateway's counters in Redis.
fn redis_dump() -> String {
    let client = redis::Client::open("redis://127.0.0.1:6379/0").unwrap();
    let mut con = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("switchyard:*")
        .query(&mut con)
        .unwrap();
    assert!(
        keys.iter().any(|k| k.contains("canary")),
        "no counters found: {keys:?}"
    );
    let mut out = String::new();
    for k in keys {
        let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&k).query(&mut con).unwrap();
        out.push_str(&k);
        out.push_str(&String::from_utf8_lossy(&dump.unwrap_or_default()));
    }
    out
}
