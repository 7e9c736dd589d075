//! Zero-downtime binary upgrade: under continuous mixed traffic a second gateway started with
//! `--upgrade` takes the listening sockets over from the first (SIGQUIT), config reloads happen
//! before and after, and no request fails, no stream is cut and no ledger row is lost.

use crate::common::{self, Emulator, Gateway, KEY, Proc};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Client threads, each with one keep-alive connection at a time.
const CLIENTS: usize = 48;
/// How long the load runs.
const LOAD: Duration = Duration::from_secs(20);
/// Least answered requests per second (see the assertion).
const MIN_RATE: f64 = 250.0;

/// Route `chat` of config generation `n`: alternately the OpenAI and the Anthropic provider
/// (pass-through and translation), short streams (about 6 × 8 ms).
fn routes(n: usize) -> String {
    let (provider, model) = if n.is_multiple_of(2) {
        ("emu-openai", "gpt")
    } else {
        ("emu-anthropic", "claude")
    };
    format!(
        "providers:
  - {{ name: emu-anthropic, kind: anthropic, base_url: \"http://{{EMU}}\", api_key: \"sk-ant-upstream\", first_byte_timeout: 10s, stream_idle_timeout: 10s }}
  - {{ name: emu-openai, kind: openai, base_url: \"http://{{EMU}}/v1\", api_key: \"sk-oai-upstream\", first_byte_timeout: 10s, stream_idle_timeout: 10s }}
routes:
  - {{ name: chat, match: {{ model: chat }}, targets: [ {{ provider: {provider}, model: \"{model}-gen{n}#chunk_ms=8;tokens=6\" }} ] }}
"
    )
}

/// What one attempt of a request came to.
enum Outcome {
    /// A complete response.
    Done {
        status: u16,
        body: String,
        model: Option<String>,
    },
    /// The server closed the connection before a single byte of a response arrived.
    ClosedBeforeResponse,
    /// Anything else: a refused connection, a timeout, a response cut short.
    Failed(String),
}

/// A minimal HTTP/1.1 client over one keep-alive connection, so the test sees exactly how a
/// request ended (a general-purpose client would hide a connection closed before the response
/// behind its own retries, or not retry at all).
struct Client {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    fn new(port: u16) -> Self {
        Self {
            addr: format!("127.0.0.1:{port}"),
            conn: None,
        }
    }

    fn post(&mut self, request_id: &str, body: &str) -> Outcome {
        if self.conn.is_none() {
            match TcpStream::connect(&self.addr) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    s.set_nodelay(true).unwrap();
                    self.conn = Some(BufReader::new(s));
                }
                Err(e) => return Outcome::Failed(format!("connect: {e}")),
            }
        }
        let conn = self.conn.as_mut().unwrap();
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {KEY}\r\n\
             content-type: application/json\r\nx-request-id: {request_id}\r\n\
             content-length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        let outcome = match conn.get_mut().write_all(head.as_bytes()) {
            // The server closed the connection: nothing of a response can have been sent.
            Err(e) if closed(&e) => Outcome::ClosedBeforeResponse,
            Err(e) => Outcome::Failed(format!("write: {e}")),
            Ok(()) => read_response(conn),
        };
        let keep = matches!(&outcome, Outcome::Done { .. }) && self.conn.is_some();
        if !keep {
            self.conn = None;
        }
        outcome
    }
}

fn closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}

/// Reads one response; `ClosedBeforeResponse` only when not one byte of it arrived.
fn read_response(conn: &mut BufReader<TcpStream>) -> Outcome {
    let mut status_line = String::new();
    match conn.read_line(&mut status_line) {
        Ok(0) => return Outcome::ClosedBeforeResponse,
        Err(e) if closed(&e) && status_line.is_empty() => return Outcome::ClosedBeforeResponse,
        Err(e) => return Outcome::Failed(format!("status line: {e}")),
        Ok(_) => {}
    }
    let status: u16 = match status_line.split(' ').nth(1).and_then(|s| s.parse().ok()) {
        Some(s) => s,
        None => return Outcome::Failed(format!("bad status line {status_line:?}")),
    };
    let (mut length, mut chunked, mut model) = (None, false, None);
    loop {
        let mut line = String::new();
        match conn.read_line(&mut line) {
            Ok(0) => return Outcome::Failed("closed inside the headers".into()),
            Err(e) => return Outcome::Failed(format!("headers: {e}")),
            Ok(_) => {}
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "x-switchyard-model" => model = Some(value.to_string()),
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(conn)
    } else if let Some(n) = length {
        let mut buf = vec![0; n];
        conn.read_exact(&mut buf)
            .map(|()| buf)
            .map_err(|e| format!("body: {e}"))
    } else {
        Err("response without a length".into())
    };
    match body.map(String::from_utf8) {
        Ok(Ok(body)) => Outcome::Done {
            status,
            body,
            model,
        },
        Ok(Err(e)) => Outcome::Failed(format!("body not UTF-8: {e}")),
        Err(e) => Outcome::Failed(e),
    }
}

fn read_chunked(conn: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if conn
            .read_line(&mut size)
            .map_err(|e| format!("chunk: {e}"))?
            == 0
        {
            return Err(format!("closed mid-body after {} bytes", body.len()));
        }
        let size = usize::from_str_radix(size.trim(), 16).map_err(|e| format!("chunk: {e}"))?;
        let mut chunk = vec![0; size + 2];
        conn.read_exact(&mut chunk)
            .map_err(|e| format!("closed mid-body after {} bytes: {e}", body.len()))?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Why a complete 200 response is still not a good answer (a stream without `[DONE]` or
/// without content, an error event, an empty completion).
fn defect(stream: bool, body: &str) -> Option<String> {
    if stream {
        let events: Vec<&str> = body
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|e| e.strip_prefix("data: ").unwrap_or(e))
            .collect();
        if events.last() != Some(&"[DONE]") {
            return Some(format!("truncated stream: {body}"));
        }
        let text: String = events
            .iter()
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(e).ok())
            .filter_map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(String::from)
            })
            .collect();
        if text.is_empty() || body.contains("\"error\"") {
            return Some(format!("stream without content: {body}"));
        }
    } else {
        let v: serde_json::Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(e) => return Some(format!("not JSON ({e}): {body}")),
        };
        if v["choices"][0]["message"]["content"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return Some(format!("no content: {body}"));
        }
    }
    None
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    /// Request ids of complete, good answers.
    answered: Vec<String>,
    streams: usize,
    /// Request ids of attempts whose connection the server closed before any response byte.
    retried: Vec<String>,
    failures: Vec<String>,
    /// Served model of the last good answer after the load stopped changing configs.
    last_model: Option<String>,
}

/// One client thread: alternates streaming and plain requests on a keep-alive connection until
/// `stop`.
///
/// Retry policy: only an attempt whose connection the server closed before a single byte of a
/// response is retried (on a new connection), and counted apart. When the old process shuts
/// down it closes its idle keep-alive connections, and a request sent at that moment meets a
/// closed connection; HTTP clients retry that case (RFC 9112 §9.3.1; e.g. Go's
/// `errServerClosedIdle`). It is safe here because the gateway never closes a connection
/// without answering a request it has started: the ledger check below proves that no retried
/// attempt was served. Every other failure (refused connection, error status, a response or
/// stream cut short) counts as failed.
fn client(port: u16, id: usize, stop: Arc<AtomicBool>, tally: Arc<Mutex<Tally>>) {
    let mut http = Client::new(port);
    let mut mine = Tally::default();
    let mut n = 0usize;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let stream = n.is_multiple_of(2);
        let body = serde_json::json!({
            "model": "chat",
            "stream": stream,
            "messages": [{"role": "user", "content": format!("hello {id}-{n}")}],
        })
        .to_string();
        for attempt in 0.. {
            let request_id = format!("up-{id}-{n}-{attempt}");
            let retry = match http.post(&request_id, &body) {
                Outcome::ClosedBeforeResponse if attempt < 3 => {
                    mine.retried.push(request_id);
                    true
                }
                Outcome::ClosedBeforeResponse => {
                    mine.failures
                        .push(format!("{request_id}: closed 4 times in a row"));
                    false
                }
                Outcome::Failed(e) => {
                    mine.failures.push(format!("{request_id}: {e}"));
                    false
                }
                Outcome::Done { status, body, .. } if status != 200 => {
                    mine.failures.push(format!("{request_id}: {status} {body}"));
                    false
                }
                Outcome::Done { body, model, .. } => {
                    match defect(stream, &body) {
                        Some(d) => mine.failures.push(format!("{request_id}: {d}")),
                        None => {
                            mine.answered.push(request_id);
                            mine.streams += usize::from(stream);
                            mine.last_model = model;
                        }
                    }
                    false
                }
            };
            if !retry {
                break;
            }
        }
    }
    let mut t = tally.lock().unwrap();
    t.answered.append(&mut mine.answered);
    t.streams += mine.streams;
    t.retried.append(&mut mine.retried);
    t.failures.append(&mut mine.failures);
    if id == 0 {
        t.last_model = mine.last_model;
    }
}

fn signal(sig: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig} {pid}");
}

/// Waits for `proc` to exit on its own; its status.
fn wait_exit(proc: &mut Proc, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = proc.child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{} still running after {within:?}",
            proc.name
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for(path: &Path, needle: &str, count: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.matches(needle).count() >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} (x{count}) in {}:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Request ids in the ledger, one entry per row.
fn ledger_ids(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT request_id FROM requests").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn binary_upgrade_under_load_loses_nothing() {
    let emu = Emulator::start();
    let emu_addr = format!("127.0.0.1:{}", emu.port);
    let port = common::free_port();
    let admin = common::free_port();
    // Set by the first process's file watcher: both gateways read the same file.
    let server = format!(
        "server: {{ listen: \"127.0.0.1:{port}\", admin_listen: \"127.0.0.1:{admin}\", threads: 2, grace_period: 3s, access_log: off, ledger: \"sqlite://./data/ledger.db\", upgrade_sock: \"./upgrade.sock\", health: {{ breaker: {{ consecutive_failures: 1000, min_requests: 100000 }} }} }}\nkeys: [ {{ name: tester, key: \"{KEY}\" }} ]\n"
    );
    let yaml = |n: usize| format!("{server}{}", routes(n)).replace("{EMU}", &emu_addr);
    let mut old = Gateway::start(&yaml(0), port, admin);
    let dir = old.dir.path().to_path_buf();
    let config = dir.join("switchyard.yaml");
    let reload = |n: usize, pid: u32| {
        let tmp = dir.join("switchyard.yaml.tmp");
        std::fs::write(&tmp, yaml(n)).unwrap();
        std::fs::rename(&tmp, &config).unwrap();
        signal("-HUP", pid);
    };

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let (stop, tally) = (stop.clone(), tally.clone());
            std::thread::spawn(move || client(port, id, stop, tally))
        })
        .collect();
    let at = |secs: f64| {
        let t = started + Duration::from_secs_f64(secs);
        std::thread::sleep(t.saturating_duration_since(Instant::now()));
    };

    // Two reloads on the old process.
    at(2.0);
    reload(1, old.proc.child.id());
    at(4.0);
    reload(2, old.proc.child.id());
    wait_for(
        &dir.join("stderr.log"),
        "config reloaded",
        2,
        Duration::from_secs(5),
    );

    // The upgrade: the new binary waits on the upgrade socket, the old one hands over its
    // listeners on SIGQUIT, serves 5 s more alongside the new one, then drains and exits.
    at(6.0);
    let new_stderr = dir.join("stderr-new.log");
    let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--upgrade", "--config"])
        .arg(&config)
        .current_dir(&dir)
        .env("RUST_LOG", "warn,switchyard=info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&new_stderr).unwrap())
        .spawn()
        .unwrap();
    let mut new = Proc {
        child,
        name: "upgraded gateway",
    };
    wait_for(
        &new_stderr,
        "waiting for the running gateway",
        1,
        Duration::from_secs(10),
    );
    let quit_at = Instant::now();
    signal("-QUIT", old.proc.child.id());
    wait_for(
        &new_stderr,
        "listening sockets taken over",
        1,
        Duration::from_secs(10),
    );
    let status = wait_exit(&mut old.proc, Duration::from_secs(15));
    let handover = quit_at.elapsed();
    assert!(status.success(), "old process: {status}\n{}", old.stderr());
    let old_log = old.stderr();
    assert!(old_log.contains("shutdown complete"), "{old_log}");
    for line in old_log.lines().filter(|l| l.contains("shutdown")) {
        eprintln!("old process: {line}");
    }

    // The admin listener came over too.
    let metrics = common::agent()
        .get(&format!("http://127.0.0.1:{admin}/metrics"))
        .call()
        .unwrap();
    assert_eq!(metrics.status(), 200);

    // Two reloads on the new process, the last well before the load ends.
    let after = started.elapsed().as_secs_f64();
    at(after + 1.0);
    reload(3, new.child.id());
    at(after + 3.0);
    reload(4, new.child.id());
    wait_for(&new_stderr, "config reloaded", 2, Duration::from_secs(5));
    at(LOAD.as_secs_f64().max(after + 5.0));
    stop.store(true, Ordering::Release);
    for c in clients {
        c.join().unwrap();
    }
    let elapsed = started.elapsed();

    // The new process drains and flushes its ledger writes on SIGTERM.
    signal("-TERM", new.child.id());
    let status = wait_exit(&mut new, Duration::from_secs(10));
    let new_log = std::fs::read_to_string(&new_stderr).unwrap();
    assert!(status.success(), "new process: {status}\n{new_log}");

    let t = tally.lock().unwrap();
    let rate = t.answered.len() as f64 / elapsed.as_secs_f64();
    eprintln!(
        "{} answered ({} streams) in {elapsed:.1?} = {rate:.0} req/s; {} retried after the \
         server closed a keep-alive connection before any response; hand-over took {handover:.1?}",
        t.answered.len(),
        t.streams,
        t.retried.len()
    );
    assert!(
        t.failures.is_empty(),
        "{} failed, e.g. {:?}",
        t.failures.len(),
        &t.failures[..t.failures.len().min(5)]
    );
    assert!(
        t.streams * 3 >= t.answered.len(),
        "too few streams: {} of {}",
        t.streams,
        t.answered.len()
    );
    assert_eq!(
        t.last_model.as_deref(),
        Some("gpt-gen4#chunk_ms=8;tokens=6"),
        "the last reload is in force"
    );
    // The rate is bound by CPU: debug builds of gateway, emulator and client on 2 cores shared
    // with other compilers answered 408-459 req/s at load average 7-9 and 696 req/s with less
    // competition, 638 req/s alone. The default floor leaves room for a test run beside the
    // others; `make unit` runs this test alone with UPGRADE_TEST_MIN_RATE=500.
    let min_rate: f64 = std::env::var("UPGRADE_TEST_MIN_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MIN_RATE);
    assert!(rate >= min_rate, "only {rate:.0} req/s");

    // Exactly one ledger row per answered request, none for an attempt that was retried.
    let rows = ledger_ids(&dir.join("data/ledger.db"));
    let unique: HashSet<&str> = rows.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), rows.len(), "duplicate ledger rows");
    let answered: HashSet<&str> = t.answered.iter().map(String::as_str).collect();
    let missing: Vec<_> = answered.difference(&unique).take(5).collect();
    let extra: Vec<_> = unique.difference(&answered).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} rows for {} answers; missing e.g. {missing:?}, unexpected e.g. {extra:?}",
        rows.len(),
        answered.len()
    );
}
