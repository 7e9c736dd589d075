//! Restart-only settings and snapshot construction on reload.

use super::*;
use crate::config::AccessLogTarget;

fn config(server: &str, providers: &str) -> Config {
    let yaml = format!(
        "server: {{ {server} }}\nproviders:\n{providers}\nroutes: [ {{ name: r, match: {{ model: m }}, targets: [ {{ provider: a, model: x }} ] }} ]\nkeys: [ {{ name: k, key: abcdefghijk }} ]\n"
    );
    Config::from_yaml(&yaml, &|_| None).unwrap()
}

const A: &str =
    r#"  - { name: a, kind: openai, base_url: "http://127.0.0.1:9001/v1", api_key: x }"#;
const BASE: &str = r#"listen: "127.0.0.1:8080", admin_listen: "127.0.0.1:9090", threads: 2, grace_period: 10s, access_log: stdout, max_attempts: 3"#;

/// Every restart-only setting that differs is named and reset; reloadable ones pass through.
#[test]
fn restart_only_settings_are_pinned_and_named() {
    let running = config(BASE, A).server;

    let mut same = config(BASE, A).server;
    assert!(pin_restart_only(&mut same, &running).is_empty());

    let changed = r#"listen: "127.0.0.1:8081", admin_listen: "127.0.0.1:9091", threads: 4, grace_period: 30s, access_log: "off", pid_file: /tmp/other.pid, upgrade_sock: /tmp/other.sock, upstream_keepalive_pool_size: 7, max_attempts: 5, request_timeout: 42s, ledger: "off", counters: "redis://127.0.0.1:6379""#;
    let mut new = config(changed, A).server;
    let names = pin_restart_only(&mut new, &running);
    assert_eq!(
        names,
        vec![
            "server.listen",
            "server.admin_listen",
            "server.threads",
            "server.pid_file",
            "server.upgrade_sock",
            "server.access_log",
            "server.grace_period",
            "server.upstream_keepalive_pool_size",
            "server.ledger",
            "server.counters",
        ]
    );
    assert_eq!(new.counters, crate::config::CounterTarget::Memory);
    assert_eq!(new.listen, running.listen);
    assert_eq!(new.admin_listen, running.admin_listen);
    assert_eq!(new.threads, 2);
    assert_eq!(new.pid_file, running.pid_file);
    assert_eq!(new.upgrade_sock, running.upgrade_sock);
    assert_eq!(new.access_log, AccessLogTarget::Stdout);
    assert_eq!(new.grace_period, Duration::from_secs(10));
    assert_eq!(
        new.upstream_keepalive_pool_size,
        running.upstream_keepalive_pool_size
    );
    // Reloadable settings keep their new values.
    assert_eq!(new.max_attempts, 5);
    assert_eq!(new.request_timeout, Duration::from_secs(42));
}

/// A reload snapshot carries over the balancers of unchanged providers.
#[test]
fn snapshot_reuses_balancers() {
    let old = build_snapshot(Arc::new(config(BASE, A)), None);
    let b = r#"  - { name: b, kind: openai, base_url: "http://127.0.0.1:9002/v1", api_key: x }"#;
    let new = build_snapshot(
        Arc::new(config(BASE, &format!("{b}\n{A}"))),
        Some(&old.upstreams),
    );
    assert!(Arc::ptr_eq(
        &new.upstreams.balancers()[1],
        &old.upstreams.balancers()[0]
    ));
    assert_eq!(new.upstreams.reused_from(&old.upstreams), 1);
    assert_eq!(new.config.provider_id("b"), Some(0));
}

/// Admin, audit and webhook settings are pinned (their services were built at start); limits
/// and keys' policies are not.
#[test]
fn governance_settings_are_pinned() {
    let running = config(BASE, A);
    let with = |extra: &str| {
        let yaml = format!(
            "server: {{ {BASE} }}\nproviders:\n{A}\nroutes: [ {{ name: r, match: {{ model: m }}, targets: [ {{ provider: a, model: x }} ] }} ]\nkeys: [ {{ name: k, key: abcdefghijk, rpm: 9 }} ]\n{extra}"
        );
        Config::from_yaml(&yaml, &|_| None).unwrap()
    };
    let mut new = with(
        "admin: { token: abcdefghijklmnopq, key_refresh: 2s }\naudit: { max_bytes: 1024 }\nalerts: { webhook: \"http://127.0.0.1:9/x\" }\nlimits: { global: { rpm: 7 } }",
    );
    let names = pin_restart_only_governance(&mut new, &running);
    assert_eq!(
        names,
        [
            "admin.token",
            "admin.key_refresh",
            "audit",
            "alerts.webhook"
        ]
    );
    assert!(new.admin.token.is_none() && new.alerts.webhook.is_none());
    assert_eq!(new.audit, running.audit);
    assert_eq!(new.limits.global.rpm, Some(7));
    assert_eq!(new.keys[0].policy.limits.rpm, Some(9));
}
