//! Hot reload: file changes and SIGHUP apply a new config, invalid files are rejected with the
//! old config kept, reloads under load lose no request, and providers added by a reload are
//! health-checked.

use crate::common;

use crate::common::{Emulator, Gateway, KEY, Reply};
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const PROVIDERS: &str = r#"
providers:
  - { name: emu-anthropic, kind: anthropic, base_url: "http://{EMU}", api_key: "sk-ant-upstream", first_byte_timeout: 5s, stream_idle_timeout: 5s }
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "sk-oai-upstream", first_byte_timeout: 5s, stream_idle_timeout: 5s }
"#;

/// A gateway whose config file the test rewrites; `server` is kept identical across rewrites.
/// The passive circuit breaker is effectively off, so skips seen here come from the active
/// health checks under test.
struct Reloadable {
    gw: Gateway,
    server: String,
    emu_addr: String,
}

impl Reloadable {
    fn start(emu: &Emulator, routes: &str) -> Self {
        let port = common::free_port();
        let admin = common::free_port();
        let server = format!(
            "server: {{ listen: \"127.0.0.1:{port}\", admin_listen: \"127.0.0.1:{admin}\", threads: 2, grace_period: 3s, health_check_interval: 1s, access_log: \"{{LOG}}\", health: {{ breaker: {{ consecutive_failures: 1000, min_requests: 100000 }} }} }}\nkeys: [ {{ name: tester, key: \"{KEY}\" }} ]\n"
        );
        let emu_addr = format!("127.0.0.1:{}", emu.port);
        let yaml = Self::yaml(&server, &emu_addr, PROVIDERS, routes);
        let gw = Gateway::start(&yaml, port, admin);
        let r = Self {
            gw,
            server,
            emu_addr,
        };
        r.wait_for_log("config reload: watching", Duration::from_secs(10));
        r
    }

    fn yaml(server: &str, emu: &str, providers: &str, routes: &str) -> String {
        format!("{server}{providers}routes:\n{routes}").replace("{EMU}", emu)
    }

    fn path(&self) -> std::path::PathBuf {
        self.gw.dir.path().join("switchyard.yaml")
    }

    /// The complete file text for `providers` and `routes`.
    fn text(&self, providers: &str, routes: &str) -> String {
        Self::yaml(&self.server, &self.emu_addr, providers, routes)
            .replace("{LOG}", &self.gw.log_path().display().to_string())
    }

    /// Replaces the config file atomically (write a sibling, rename over), as editors do.
    fn replace_file(&self, text: &str) {
        let tmp = self.gw.dir.path().join("switchyard.yaml.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.path()).unwrap();
    }

    fn rewrite(&self, providers: &str, routes: &str) {
        self.replace_file(&self.text(providers, routes));
    }

    fn sighup(&self) {
        let ok = Command::new("kill")
            .args(["-HUP", &self.gw.proc.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn chat(&self, model: &str, stream: bool) -> Reply {
        self.gw.chat(&json!({
            "model": model,
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": stream,
        }))
    }

    fn metric(&self, series: &str) -> f64 {
        self.gw
            .metrics()
            .lines()
            .find_map(|l| l.strip_prefix(series).map(|v| v.trim().parse().unwrap()))
            .unwrap_or(0.0)
    }

    /// Waits until the gateway's stderr contains `needle` `count` times; returns the log.
    fn wait_for_log_n(&self, needle: &str, count: usize, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let log = self.gw.stderr();
            if log.matches(needle).count() >= count {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} (x{count}) in stderr:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn wait_for_log(&self, needle: &str, within: Duration) -> String {
        self.wait_for_log_n(needle, 1, within)
    }
}

const APPLIED: &str = "switchyard_config_reloads_total{result=\"applied\"}";
const REJECTED: &str = "switchyard_config_reloads_total{result=\"rejected\"}";

fn route(name: &str, provider: &str, model: &str) -> String {
    format!(
        "  - {{ name: {name}, match: {{ model: \"{name}\" }}, targets: [ {{ provider: {provider}, model: \"{model}\" }} ] }}\n"
    )
}

/// Waits until `check` holds for a fresh reply, returning how long it took.
fn until(within: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// Editing the file adds a route, removes one and retargets another, within a few seconds.
#[test]
fn file_change_applies_new_routes() {
    let emu = Emulator::start();
    let gw = Reloadable::start(
        &emu,
        &format!(
            "{}{}",
            route("chat", "emu-openai", "gpt-v1"),
            route("old", "emu-openai", "gpt-old")
        ),
    );
    let r = gw.chat("chat", false);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-model"), Some("gpt-v1"));
    assert_eq!(gw.chat("old", false).status, 200);
    let loaded_at = gw.metric("switchyard_config_last_reload_success_timestamp_seconds");
    assert!(loaded_at > 1e9, "startup load time is exported");

    gw.rewrite(
        PROVIDERS,
        &format!(
            "{}{}",
            route("chat", "emu-anthropic", "claude-v2"),
            route("new", "emu-openai", "gpt-new")
        ),
    );
    let took = until(Duration::from_secs(3), || {
        gw.chat("new", false).status == 200
    });
    eprintln!("new route answered {took:?} after the file was replaced");
    let r = gw.chat("chat", true);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-provider"), Some("emu-anthropic"));
    assert_eq!(r.header("x-switchyard-model"), Some("claude-v2"));
    assert_eq!(r.events().last().map(String::as_str), Some("[DONE]"));
    let gone = gw.chat("old", false);
    assert_eq!(gone.status, 404, "{}", gone.body);

    let log = gw.wait_for_log("config reloaded (file change)", Duration::from_secs(1));
    assert!(
        log.contains("2 providers (2 with health state kept), 2 routes, 1 keys"),
        "{log}"
    );
    assert_eq!(gw.metric(APPLIED), 1.0);
    assert_eq!(gw.metric(REJECTED), 0.0);
    assert!(gw.metric("switchyard_config_last_reload_success_timestamp_seconds") >= loaded_at);
    // Secrets never reach the log.
    assert!(
        !log.contains("sk-oai-upstream") && !log.contains(KEY),
        "{log}"
    );
}

/// SIGHUP reloads even when the file's metadata looks unchanged (the poll cannot see it).
#[test]
fn sighup_reloads() {
    let emu = Emulator::start();
    let gw = Reloadable::start(&emu, &route("chat", "emu-openai", "gpt-aaa"));
    assert_eq!(
        gw.chat("chat", false).header("x-switchyard-model"),
        Some("gpt-aaa")
    );
    // Same length, same inode, mtime restored: invisible to the file watcher.
    let path = gw.path();
    let reference = gw.gw.dir.path().join("mtime-reference");
    std::fs::write(&reference, "").unwrap();
    let touch = |args: &[&std::ffi::OsStr]| {
        assert!(Command::new("touch").args(args).status().unwrap().success());
    };
    touch(&["-r".as_ref(), path.as_os_str(), reference.as_os_str()]);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("gpt-aaa", "gpt-bbb")).unwrap();
    touch(&["-r".as_ref(), reference.as_os_str(), path.as_os_str()]);

    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        gw.chat("chat", false).header("x-switchyard-model"),
        Some("gpt-aaa"),
        "not reloaded without a signal"
    );
    gw.sighup();
    let took = until(Duration::from_secs(2), || {
        gw.chat("chat", false).header("x-switchyard-model") == Some("gpt-bbb")
    });
    eprintln!("SIGHUP applied within {took:?}");
    gw.wait_for_log("config reloaded (SIGHUP)", Duration::from_secs(1));
    assert_eq!(gw.metric(APPLIED), 1.0);
}

/// An invalid file is rejected with an error naming the field; the old routes keep answering
/// until a valid file is applied.
#[test]
fn invalid_file_keeps_old_config() {
    let emu = Emulator::start();
    let routes = route("chat", "emu-openai", "gpt-v1");
    let gw = Reloadable::start(&emu, &routes);

    // An unknown field.
    gw.rewrite(
        PROVIDERS,
        &routes.replace("name: chat,", "name: chat, colour: blue,"),
    );
    let log = gw.wait_for_log("rejected", Duration::from_secs(4));
    let line = log.lines().find(|l| l.contains("rejected")).unwrap();
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("previous config stays in force"), "{line}");
    assert!(
        line.contains("routes[0]") && line.contains("colour"),
        "{line}"
    );
    assert_eq!(gw.chat("chat", false).status, 200);

    // A target naming an unknown provider.
    gw.rewrite(
        PROVIDERS,
        &routes.replace("provider: emu-openai", "provider: nowhere"),
    );
    let log = gw.wait_for_log_n("rejected", 2, Duration::from_secs(4));
    assert!(log.contains("routes[0].targets[0].provider"), "{log}");
    let r = gw.chat("chat", true);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-model"), Some("gpt-v1"));
    assert_eq!(gw.metric(REJECTED), 2.0);
    assert_eq!(gw.metric(APPLIED), 0.0);
    assert!(
        !log.contains("sk-ant-upstream") && !log.contains(KEY),
        "{log}"
    );

    // Fixed: applied.
    gw.rewrite(
        PROVIDERS,
        &format!("{routes}{}", route("more", "emu-anthropic", "claude-v2")),
    );
    until(Duration::from_secs(3), || {
        gw.chat("more", false).status == 200
    });
    assert_eq!(gw.chat("chat", false).status, 200);
    assert_eq!(gw.metric(APPLIED), 1.0);
}

/// Ten reloads under a continuous mix of plain and slow streaming requests: every request
/// succeeds, and afterwards traffic follows the last config.
#[test]
fn reload_under_load_loses_no_request() {
    let emu = Emulator::start();
    let generation = |n: usize| {
        if n.is_multiple_of(2) {
            route(
                "chat",
                "emu-openai",
                &format!("gpt-gen{n}#chunk_ms=40;tokens=12"),
            )
        } else {
            route(
                "chat",
                "emu-anthropic",
                &format!("claude-gen{n}#chunk_ms=40;tokens=12"),
            )
        }
    };
    let gw = Arc::new(Reloadable::start(&emu, &generation(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (gw, stop) = (gw.clone(), stop.clone());
            std::thread::spawn(move || {
                let stream = i % 2 == 1;
                let mut done = 0;
                while !stop.load(Ordering::Acquire) {
                    let r = gw.chat("chat", stream);
                    assert_eq!(r.status, 200, "stream={stream}: {}", r.body);
                    if stream {
                        assert_eq!(
                            r.events().last().map(String::as_str),
                            Some("[DONE]"),
                            "{}",
                            r.body
                        );
                        assert!(!r.body.contains("\"error\""), "{}", r.body);
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    for n in 1..=10 {
        std::thread::sleep(Duration::from_millis(300));
        gw.rewrite(PROVIDERS, &generation(n));
        gw.sighup();
    }
    gw.wait_for_log_n("config reloaded", 10, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Release);
    let total: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    eprintln!("{total} requests across 10 reloads, all 200");
    assert!(total >= 20, "only {total} requests");
    assert!(gw.metric(APPLIED) >= 10.0);
    for stream in [false, true] {
        let r = gw.chat("chat", stream);
        assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
        assert_eq!(
            r.header("x-switchyard-model"),
            Some("gpt-gen10#chunk_ms=40;tokens=12")
        );
    }
}

/// A provider added by a reload is health-checked: pointing at a dead port, it is marked
/// unhealthy and skipped in favour of the healthy fallback.
#[test]
fn provider_added_by_reload_is_health_checked() {
    let emu = Emulator::start();
    let routes = route("chat", "emu-openai", "gpt-v1");
    let gw = Reloadable::start(&emu, &routes);
    let dead_port = common::free_port();
    let providers = format!(
        "{PROVIDERS}  - {{ name: fresh-dead, kind: openai, base_url: \"http://127.0.0.1:{dead_port}/v1\", api_key: x }}\n"
    );
    gw.rewrite(
        &providers,
        &format!(
            "{routes}  - {{ name: hc, match: {{ model: hc }}, targets: [ {{ provider: fresh-dead, model: m }} ], fallback: [ {{ provider: emu-openai, model: gpt-hc }} ] }}\n"
        ),
    );
    until(Duration::from_secs(3), || {
        gw.chat("hc", false).status == 200
    });
    // Until two probes failed the dead provider is tried first and failed over from.
    let took = until(Duration::from_secs(6), || {
        let r = gw.chat("hc", false);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-switchyard-provider"), Some("emu-openai"));
        r.header("x-switchyard-attempts") == Some("1")
    });
    eprintln!("new dead provider skipped {took:?} after its route answered");
    let skipped = gw.metric(
        "switchyard_upstream_attempts_total{outcome=\"skipped_unhealthy\",provider=\"fresh-dead\"}",
    );
    assert!(skipped >= 1.0, "skipped_unhealthy = {skipped}");
    gw.wait_for_log(
        "3 providers (2 with health state kept)",
        Duration::from_secs(1),
    );
}
