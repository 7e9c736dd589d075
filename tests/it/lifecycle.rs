//! Process-level behaviour: config errors, shutdown, metrics, access log, secret hygiene.

use crate::common;

use crate::common::{Emulator, Gateway, KEY};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

fn run_with_config(yaml: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--config", path.to_str().unwrap(), "--check"])
        .env("SECRET_KEY", "sk-canary-from-env-1234")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Invalid configs exit non-zero (78) with a message naming the field, never the secret.
#[test]
fn invalid_config_names_the_field() {
    let base = "providers: [{name: p, kind: openai, base_url: \"http://127.0.0.1:9/v1\", api_key: \"${SECRET_KEY}\"}]\nroutes: [{name: r, match: {model: m}, targets: [{provider: p, model: x}]}]\nkeys: [{name: k, key: \"${SECRET_KEY}\"}]\n";
    let (code, out, _) = run_with_config(base);
    assert_eq!(code, Some(0), "{out}");
    for (broken, field) in [
        (
            base.replace("name: r,", "name: r, colour: blue,"),
            "routes[0]",
        ),
        (
            base.replace("{provider: p, model: x}", "{provider: q, model: x}"),
            "routes[0].targets[0].provider",
        ),
        (
            base.replace("http://127.0.0.1:9/v1", "127.0.0.1:9"),
            "providers[0].base_url",
        ),
        (
            base.replace("model: x}", "model: x, weight: -1}"),
            "routes[0].targets[0].weight",
        ),
        (
            base.replace("kind: openai", "kind: \"${SECRET_KEY}\""),
            "providers[0].kind",
        ),
        (
            base.replace(
                "${SECRET_KEY}\"}]\nroutes",
                "${MISSING_VAR_XYZ}\"}]\nroutes",
            ),
            "providers[0].api_key",
        ),
    ] {
        let (code, _, err) = run_with_config(&broken);
        assert_eq!(code, Some(78), "{broken}\n{err}");
        assert!(err.contains(field), "expected {field} in: {err}");
        assert!(!err.contains("sk-canary"), "secret leaked: {err}");
    }
    let (code, _, err) = run_with_config("::: not yaml");
    assert_eq!(code, Some(78), "{err}");
}

/// `switchyard check`: 0 and a short message for a valid file; 78 naming the field for an
/// invalid one, before or after the subcommand's `--config`.
#[test]
fn check_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let file = path.to_str().unwrap();
    let valid = "server: { upgrade_sock: /run/switchyard/upgrade.sock }\nkeys: [{name: k, key: abcdefghijk}]\n";
    std::fs::write(&path, valid).unwrap();
    for args in [["check", "--config", file], ["--config", file, "check"]] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(out.contains("is valid"), "{out}");
    }
    let long = format!("/{}", "s".repeat(120));
    for (broken, field) in [
        (
            valid.replace("/run/switchyard/upgrade.sock", &long),
            "server.upgrade_sock",
        ),
        (
            valid.replace("upgrade_sock", "upgrade_socket"),
            "upgrade_socket",
        ),
        (
            valid.replace("key: abcdefghijk", "key: short"),
            "keys[0].key",
        ),
    ] {
        std::fs::write(&path, &broken).unwrap();
        let (code, out, err) = run(&["check", "--config", file]);
        assert_eq!(code, Some(78), "{broken}\n{out}{err}");
        assert!(err.contains(field), "expected {field} in: {err}");
        assert!(!out.contains("is valid"), "{out}");
    }
}

/// The shipped config validates without any provider keys set.
#[test]
fn shipped_config_is_valid() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/conf/switchyard.yaml"),
            "--check",
        ])
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SIGTERM: an idle gateway exits at once; a busy one finishes its stream first.
#[test]
fn graceful_shutdown() {
    let emu = Emulator::start();
    let mut gw = Gateway::with_routes(
        &emu,
        "  - { name: slow, match: { model: slow }, targets: [ { provider: emu-patient, model: \"claude-haiku-4-5#chunk_ms=100\" } ] }\n",
    );
    let url = gw.url("/v1/chat/completions");
    let stream = std::thread::spawn(move || {
        common::post(&url, &json!({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]}).to_string(), &[("authorization", &format!("Bearer {KEY}"))])
    });
    std::thread::sleep(Duration::from_millis(400));
    let started = Instant::now();
    let status = gw
        .proc
        .stop(Duration::from_secs(10))
        .expect("gateway exited within the grace period");
    let took = started.elapsed();
    assert!(status.success(), "exit status {status}");
    let reply = stream.join().unwrap();
    assert_eq!(
        reply.events().last().map(String::as_str),
        Some("[DONE]"),
        "in-flight stream completed: {}",
        reply.body
    );
    assert!(
        took < Duration::from_secs(3),
        "waited {took:?} for a ~1.5 s stream with a 3 s grace period"
    );

    let mut idle = Gateway::with_routes(&emu, "");
    let started = Instant::now();
    let status = idle.proc.stop(Duration::from_secs(10)).expect("exited");
    assert!(status.success());
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "idle shutdown took {:?}",
        started.elapsed()
    );
}

/// A busy port is a clear startup error, not a panic.
#[test]
fn port_in_use() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    let (yaml, port, _) = common::config(&emu, common::ROUTES, "");
    let yaml = yaml
        .replace(
            &format!("listen: \"127.0.0.1:{port}\""),
            &format!("listen: \"127.0.0.1:{}\"", gw.port),
        )
        .replace("{LOG}", "off");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.listen") && err.contains("in use"),
        "{err}"
    );
}

/// Metrics and access log reflect traffic; no secret appears in anything written.
#[test]
fn observability_without_secrets() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, "");
    for model in ["claude", "gpt"] {
        assert_eq!(
            gw.chat(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
                .status,
            200
        );
    }
    let r = common::post(
        &gw.url("/v1/chat/completions"),
        "{}",
        &[("authorization", "Bearer sk-wrong-canary-999")],
    );
    assert_eq!(r.status, 401);
    let m = gw.metrics();
    for needle in [
        r#"switchyard_requests_total{model="claude-haiku-4-5",provider="emu-anthropic",route="claude",status="200"} 1"#,
        r#"switchyard_requests_total{model="gpt-4o-mini",provider="emu-openai",route="gpt",status="200"} 1"#,
        "switchyard_request_duration_seconds_bucket",
        "switchyard_time_to_first_byte_seconds_bucket",
        "switchyard_gateway_overhead_seconds_bucket",
        r#"switchyard_tokens_total{model="claude-haiku-4-5",provider="emu-anthropic",type="completion"} 11"#,
        r#"switchyard_upstream_attempts_total{outcome="ok",provider="emu-openai"} 1"#,
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
    let log = gw.access_log(4);
    let chat: Vec<_> = log
        .iter()
        .filter(|l| l["path"] == "/v1/chat/completions")
        .collect();
    assert_eq!(chat.len(), 3);
    assert_eq!(chat[0]["key"], "tester");
    assert_eq!(chat[0]["provider"], "emu-anthropic");
    assert_eq!(chat[0]["served_model"], "claude-haiku-4-5");
    assert_eq!(chat[0]["completion_tokens"], 11);
    assert!(chat[0]["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(chat[2]["status"], 401);
    assert_eq!(chat[2]["error"], "authentication");
    let everything = format!(
        "{}\n{}\n{}",
        std::fs::read_to_string(gw.log_path()).unwrap(),
        gw.stderr(),
        m
    );
    for secret in [
        KEY,
        "sk-ant-upstream",
        "sk-oai-upstream",
        "sk-wrong-canary-999",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}
