//! Integration-test harness: starts the real `switchyard` and `switchyard-emulator` binaries on
//! free loopback ports and stops them by PID (SIGTERM, short grace, then SIGKILL).
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEY: &str = "sk-test-key-0123456789";

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process stopped on drop.
pub struct Proc {
    pub child: Child,
    pub name: &'static str,
}

impl Proc {
    /// Sends SIGTERM and waits up to `grace` for the exit; SIGKILL after that.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_millis(500));
    }
}

/// An HTTP agent that returns 4xx/5xx as responses.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn wait_http(url: &str, proc: &mut Proc) {
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = agent.get(url).call() {
            if r.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("{} exited early: {status}", proc.name);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{} did not become ready at {url}", proc.name);
}

/// The `switchyard-emulator` binary: `SWITCHYARD_EMULATOR_BIN` when set, else next to the
/// `switchyard` binary under test (same target directory and profile). The emulator is another
/// workspace package, so Cargo neither builds it for this test binary nor sets
/// `CARGO_BIN_EXE_switchyard-emulator`: build it first.
pub fn emulator_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("SWITCHYARD_EMULATOR_BIN") {
        return PathBuf::from(path);
    }
    let gateway = std::path::Path::new(env!("CARGO_BIN_EXE_switchyard"));
    let path = gateway.with_file_name(format!(
        "switchyard-emulator{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` (or `cargo build -p switchyard-emulator`, \
         with `--release` for a release test run) before the integration tests; `make unit` does",
        path.display()
    );
    path
}

/// A running emulator.
pub struct Emulator {
    pub port: u16,
    pub proc: Proc,
}

impl Emulator {
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new(emulator_bin())
            .args(["--listen", &format!("127.0.0.1:{port}"), "--threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn emulator");
        let mut proc = Proc {
            child,
            name: "emulator",
        };
        wait_http(
            &format!("http://127.0.0.1:{port}/_emulator/health"),
            &mut proc,
        );
        Emulator { port, proc }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests the emulator recorded.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let mut r = agent()
            .get(&self.url("/_emulator/requests"))
            .call()
            .expect("requests");
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("json");
        v.as_array().cloned().unwrap_or_default()
    }

    /// Requests seen per model string.
    pub fn count(&self, model: &str) -> u64 {
        let mut r = agent()
            .get(&self.url("/_emulator/stats"))
            .call()
            .expect("stats");
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("json");
        v["by_model"][model].as_u64().unwrap_or(0)
    }
}

/// A running gateway.
pub struct Gateway {
    pub port: u16,
    pub admin_port: u16,
    pub proc: Proc,
    pub dir: tempfile::TempDir,
}

/// Config with `{EMU}` replaced by the emulator's address; server section added.
pub fn config(emu: &Emulator, body: &str, server_extra: &str) -> (String, u16, u16) {
    let port = free_port();
    let admin = free_port();
    let yaml = format!(
        "server: {{ listen: \"127.0.0.1:{port}\", admin_listen: \"127.0.0.1:{admin}\", threads: 1, grace_period: 3s, health_check_interval: 1s, access_log: \"{{LOG}}\"{server_extra} }}\nkeys: [ {{ name: tester, key: \"{KEY}\" }} ]\n{}",
        body.replace("{EMU}", &format!("127.0.0.1:{}", emu.port))
    );
    (yaml, port, admin)
}

/// Standard providers and routes over one emulator.
pub const ROUTES: &str = r#"
providers:
  - { name: emu-anthropic, kind: anthropic, base_url: "http://{EMU}", api_key: "sk-ant-upstream", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "sk-oai-upstream", first_byte_timeout: 2s, stream_idle_timeout: 2s }
  - { name: dead, kind: openai, base_url: "http://127.0.0.1:1/v1", api_key: "x", health_check: false }
  - { name: emu-patient, kind: anthropic, base_url: "http://{EMU}", api_key: "sk-ant-upstream", first_byte_timeout: 10s, stream_idle_timeout: 500ms }
routes:
  - { name: claude, match: { model: "claude" }, targets: [ { provider: emu-anthropic, model: "claude-haiku-4-5" } ] }
  - { name: gpt, match: { model: "gpt" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini" } ] }
"#;

impl Gateway {
    /// Starts a gateway with `yaml` (from [`config`]).
    pub fn start(yaml: &str, port: u16, admin_port: u16) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("access.log");
        let path = dir.path().join("switchyard.yaml");
        std::fs::write(&path, yaml.replace("{LOG}", &log.display().to_string()))
            .expect("write config");
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("--config")
            .arg(&path)
            // Relative paths (the default ledger ./data/switchyard.db) land in the temp dir.
            .current_dir(dir.path())
            .env("RUST_LOG", "warn,switchyard=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file"))
            .spawn()
            .expect("spawn gateway");
        let mut proc = Proc {
            child,
            name: "gateway",
        };
        wait_http(&format!("http://127.0.0.1:{port}/healthz"), &mut proc);
        Gateway {
            port,
            admin_port,
            proc,
            dir,
        }
    }

    /// Emulator plus a gateway with [`ROUTES`] and `extra` routes.
    pub fn with_routes(emu: &Emulator, extra: &str) -> Self {
        let (yaml, port, admin) = config(emu, &format!("{ROUTES}{extra}"), "");
        Self::start(&yaml, port, admin)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// POSTs `body` to /v1/chat/completions with the test key.
    pub fn chat(&self, body: &serde_json::Value) -> Reply {
        post(
            &self.url("/v1/chat/completions"),
            &body.to_string(),
            &[("authorization", &format!("Bearer {KEY}"))],
        )
    }

    /// The admin /metrics text.
    pub fn metrics(&self) -> String {
        let mut r = agent()
            .get(&format!("http://127.0.0.1:{}/metrics", self.admin_port))
            .call()
            .expect("metrics");
        r.body_mut().read_to_string().expect("metrics body")
    }

    /// Access log records (waits briefly for the writer's flush).
    pub fn access_log(&self, at_least: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            let lines: Vec<serde_json::Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if lines.len() >= at_least || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A complete HTTP reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// SSE data payloads (without `data: `), in order.
    pub fn events(&self) -> Vec<String> {
        self.body
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|e| {
                e.strip_prefix("data: ")
                    .unwrap_or_else(|| panic!("bad SSE frame {e:?}"))
                    .to_string()
            })
            .collect()
    }

    /// Asserts an OpenAI error envelope and returns it.
    pub fn error(&self) -> serde_json::Value {
        let v = self.json();
        let e = v["error"].clone();
        assert!(
            e["message"].is_string(),
            "no error.message in {}",
            self.body
        );
        assert!(e["type"].is_string(), "no error.type in {}", self.body);
        assert!(
            e.get("param").is_some() && e.get("code").is_some(),
            "param/code missing in {}",
            self.body
        );
        e
    }
}

/// POSTs raw `body` with headers.
pub fn post(url: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().post(url).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send(body).expect("request failed");
    reply(resp)
}

/// GETs `url` with headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call().expect("request failed"))
}

fn reply(mut resp: ureq::http::Response<ureq::Body>) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let mut body = String::new();
    let _ = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .reader()
        .read_to_string(&mut body);
    Reply {
        status,
        headers,
        body,
    }
}

/// The test database (`SWITCHYARD_TEST_POSTGRES` overrides it, e.g. to check the skip path).
pub fn pg_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Prints a `SKIPPED: …` line past libtest's capture, so `make test` can list skips.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

/// A client of the test database (with its runtime), or `None` after a SKIPPED line.
pub fn postgres() -> Option<(tokio::runtime::Runtime, tokio_postgres::Client)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connected = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(3),
            tokio_postgres::connect(&pg_url(), tokio_postgres::NoTls),
        )
        .await
    });
    match connected {
        Ok(Ok((client, conn))) => {
            rt.spawn(conn);
            Some((rt, client))
        }
        _ => {
            skipped("postgres not reachable at 127.0.0.1:5432");
            None
        }
    }
}

/// Whether Redis answers on 127.0.0.1:6379 (a SKIPPED line when not).
pub fn redis_up() -> bool {
    let up = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 6379)),
        Duration::from_secs(1),
    )
    .is_ok();
    if !up {
        skipped("redis not reachable at 127.0.0.1:6379");
    }
    up
}

/// A name unique to this test run (Redis keys and Postgres schemas outlive a test).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}
