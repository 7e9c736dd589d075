//! Streams through the real gateway, read by a raw client that timestamps every read: an
//! upstream's JSON spelling does not change when the client sees tokens.

use crate::common::{Emulator, Gateway, KEY, config};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What a raw streaming client saw.
pub struct Timed {
    /// The whole HTTP response (head and chunked body, undecoded).
    pub text: String,
    /// When the first chunk with non-empty `content` arrived.
    pub first_token: Option<Duration>,
    /// When the response ended (the chunked terminator, or the connection closed).
    pub end: Duration,
}

/// Sends a streaming chat request for `model` and reads the response as it arrives; with
/// `hang_up_after_first_token`, closes the connection as soon as the first token arrived.
pub fn stream_timed(port: u16, model: &str, hang_up_after_first_token: bool) -> Timed {
    let body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": true,
    })
    .to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut first_token = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if first_token.is_none() && has_token(&String::from_utf8_lossy(&raw)) {
            first_token = Some(started.elapsed());
            if hang_up_after_first_token {
                break;
            }
        }
        if raw.ends_with(b"\r\n0\r\n\r\n") {
            break;
        }
    }
    Timed {
        text: String::from_utf8_lossy(&raw).into_owned(),
        first_token,
        end: started.elapsed(),
    }
}

/// True when some complete `data:` line is a chunk with non-empty delta content.
fn has_token(text: &str) -> bool {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .any(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
}

/// The observed bug: an upstream writing Python-style JSON (`"content": "Hi"`) that takes
/// longer than the first-byte timeout overall was buffered until it finished (or cut by that
/// timeout). It must stream as it is produced, like compact JSON.
#[test]
fn spaced_json_streams_incrementally() {
    let emu = Emulator::start();
    let routes = r#"
providers:
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "k", first_byte_timeout: 1s, stream_idle_timeout: 3s }
routes:
  - { name: spaced, match: { model: "spaced" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini#spaced;chunk_ms=400;tokens=5" } ] }
  - { name: compact, match: { model: "compact" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini#chunk_ms=400;tokens=5" } ] }
"#;
    let (yaml, port, admin) = config(&emu, routes, "");
    let gw = Gateway::start(&yaml, port, admin);
    for model in ["spaced", "compact"] {
        let t = stream_timed(gw.port, model, false);
        assert!(t.text.starts_with("HTTP/1.1 200"), "{model}: {}", t.text);
        assert!(t.text.contains("data: [DONE]"), "{model}: {}", t.text);
        assert!(!t.text.contains("\"error\""), "{model}: {}", t.text);
        let first = t.first_token.expect("a token arrived");
        // Eight 400 ms gaps upstream: the first token comes after one, the end after all.
        assert!(
            first < Duration::from_millis(1000),
            "{model}: first token at {first:?}"
        );
        assert!(
            t.end > first + Duration::from_millis(1500),
            "{model}: first token at {first:?}, end at {:?}",
            t.end
        );
        if model == "spaced" {
            assert!(t.text.contains("\"content\": \""), "{}", t.text);
        }
    }
}

/// A ledger row: (partial, prompt, completion, cost, status, provider).
type LedgerRow = (bool, i64, i64, Option<i64>, i64, String);

/// Ledger rows of the default SQLite store.
fn ledger_rows(gw: &Gateway) -> Vec<LedgerRow> {
    let db = gw.dir.path().join("data/switchyard.db");
    let Ok(conn) = rusqlite::Connection::open(db) else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare(
        "SELECT partial, prompt_tokens, completion_tokens, cost_micros, status, provider FROM requests ORDER BY id",
    ) else {
        return Vec::new();
    };
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// A stream the client leaves and one the provider drops, neither with a usage report, are
/// billed with what was generated: ledger rows and access-log lines marked partial, with
/// estimated completion tokens and a cost, and the key's settled spend includes them. A cut
/// Anthropic stream keeps its reported input tokens and replaces the placeholder output count
/// of `message_start` (1) with the estimate.
#[test]
fn cut_streams_are_billed_partially() {
    let emu = Emulator::start();
    let port = crate::common::free_port();
    let admin = crate::common::free_port();
    let yaml = format!(
        r#"server: {{ listen: "127.0.0.1:{port}", admin_listen: "127.0.0.1:{admin}", threads: 1, grace_period: 3s, health_check_interval: 1s, access_log: "{{LOG}}" }}
keys: [ {{ name: tester, key: "{KEY}", budget: {{ total: 10 }} }} ]
providers:
  - {{ name: slow, kind: openai, base_url: "http://127.0.0.1:{emu}/v1", api_key: "k", prices: {{ input: 1.0, output: 2.0 }}, headers: {{ x-emulator: "chunk_ms=300;tokens=8" }}, stream_idle_timeout: 5s }}
  - {{ name: dropping, kind: openai, base_url: "http://127.0.0.1:{emu}/v1", api_key: "k", prices: {{ input: 1.0, output: 2.0 }}, headers: {{ x-emulator: "drop_after=4;tokens=8" }} }}
  - {{ name: claude-dropping, kind: anthropic, base_url: "http://127.0.0.1:{emu}", api_key: "k", prices: {{ input: 1.0, output: 2.0 }}, headers: {{ x-emulator: "drop_after=7;tokens=8" }} }}
routes:
  - {{ name: claude-dropping, match: {{ model: "claude-dropping" }}, targets: [ {{ provider: claude-dropping, model: "claude-haiku-4-5" }} ] }}
  - {{ name: slow, match: {{ model: "slow" }}, targets: [ {{ provider: slow, model: "gpt-4o-mini" }} ] }}
  - {{ name: dropping, match: {{ model: "dropping" }}, targets: [ {{ provider: dropping, model: "gpt-4o-mini" }} ] }}
"#,
        emu = emu.port
    );
    let gw = Gateway::start(&yaml, port, admin);
    let left = stream_timed(gw.port, "slow", true);
    assert!(left.first_token.is_some(), "{}", left.text);
    let dropped = stream_timed(gw.port, "dropping", false);
    // The end of the stream is written before the prompt is counted for billing.
    assert!(
        dropped.end < Duration::from_millis(1000),
        "{:?}",
        dropped.end
    );
    assert!(dropped.text.contains("\"error\""), "{}", dropped.text);
    assert!(!dropped.text.contains("[DONE]"), "{}", dropped.text);
    let claude = stream_timed(gw.port, "claude-dropping", false);
    assert!(claude.first_token.is_some(), "{}", claude.text);
    assert!(!claude.text.contains("[DONE]"), "{}", claude.text);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut rows = ledger_rows(&gw);
    while rows.len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        rows = ledger_rows(&gw);
    }
    assert_eq!(rows.len(), 3, "{rows:?}");
    let mut total = 0;
    for (partial, prompt, completion, cost, _, provider) in &rows {
        if provider == "claude-dropping" {
            assert!(*completion > 1, "estimated, not the placeholder: {rows:?}");
        }
        assert!(partial, "{rows:?}");
        assert!(*prompt > 0 && *completion > 0, "{rows:?}");
        // $1/M in, $2/M out: one micro-dollar per prompt token, two per completion token.
        assert_eq!(*cost, Some(prompt + 2 * completion), "{rows:?}");
        total += prompt + 2 * completion;
    }
    let mut statuses: Vec<i64> = rows.iter().map(|r| r.4).collect();
    statuses.sort_unstable();
    // 499: the client left; 200 with an in-band error: the provider dropped.
    assert_eq!(statuses, [200, 200, 499], "{rows:?}");
    let log = gw.access_log(4);
    let chats: Vec<_> = log
        .iter()
        .filter(|l| l["path"] == "/v1/chat/completions")
        .collect();
    assert_eq!(chats.len(), 3, "{log:?}");
    assert!(chats.iter().all(|l| l["partial"] == true), "{log:?}");
    let info = crate::common::get(
        &gw.url("/v1/key/info"),
        &[("authorization", &format!("Bearer {KEY}"))],
    )
    .json();
    let spent = (info["usage"]["spent"]["total"].as_f64().unwrap() * 1e6).round() as i64;
    assert_eq!(spent, total, "{info}");
}
