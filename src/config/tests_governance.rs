//! Validation of key policies, limits, the admin API, audit and alerts settings.

use super::*;

const BASE: &str = r#"
providers:
  - { name: p, kind: openai, base_url: "http://127.0.0.1:1", api_key: "sk-provider-x" }
"#;

fn load(extra: &str) -> Result<Config, ConfigError> {
    let lookup = |name: &str| (name == "ADMIN").then(|| "admin-token-0123456789".to_string());
    Config::from_yaml(&format!("{BASE}{extra}"), &lookup)
}

fn err(extra: &str) -> String {
    match load(extra) {
        Ok(_) => panic!("config should be rejected: {extra}"),
        Err(e) => e.to_string(),
    }
}

/// Key limits, budgets in USD → micro-dollars, expiry and allow-lists are carried over.
#[test]
fn key_policy_is_parsed() {
    let c = load(
        r#"
keys:
  - name: a
    key: sk-alpha-123456
    team: research
    org: acme
    models: ["gpt-4o*", "claude-*"]
    routes: [cheap]
    rpm: 60
    tpm: 100000
    max_concurrency: 4
    budget: { daily: 1.5, monthly: 20, total: 0.000001 }
    expires_at: "2027-01-31T00:00:00Z"
    audit: true
limits:
  global: { rpm: 1000, budget: { monthly: 500 } }
  teams: { research: { tpm: 50000, budget: { daily: 10 } } }
  on_store_error: closed
  lease: 2m
server: { counters: "redis://127.0.0.1:6379/2" }
admin: { token: "${ADMIN}", key_refresh: 500ms }
audit: { redact: [ { pattern: "\\d{16}", replace: "[CARD]" } ] }
alerts: { webhook: "http://127.0.0.1:9/hook", thresholds: [100, 50, 50] }
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = &c.keys[0].policy;
    assert_eq!(p.org.as_deref(), Some("acme"));
    assert_eq!(p.models, ["gpt-4o*", "claude-*"]);
    assert_eq!(p.routes, ["cheap"]);
    assert_eq!(
        (p.limits.rpm, p.limits.tpm, p.limits.max_concurrency),
        (Some(60), Some(100_000), Some(4))
    );
    assert_eq!(
        p.limits.budget,
        crate::quota::BudgetSpec {
            daily_micros: Some(1_500_000),
            monthly_micros: Some(20_000_000),
            total_micros: Some(1),
        }
    );
    assert_eq!(
        p.expires_at,
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_801_353_600))
    );
    assert!(p.audit);
    assert_eq!(c.limits.global.rpm, Some(1000));
    assert_eq!(c.limits.global.budget.monthly_micros, Some(500_000_000));
    assert_eq!(c.limits.teams["research"].tpm, Some(50_000));
    assert!(!c.limits.fail_open);
    assert_eq!(c.limits.lease, std::time::Duration::from_secs(120));
    assert!(matches!(c.server.counters, CounterTarget::Redis(_)));
    assert_eq!(
        c.admin.token.as_ref().map(Secret::expose),
        Some("admin-token-0123456789")
    );
    assert_eq!(c.audit.redact.len(), 1);
    assert_eq!(c.alerts.thresholds, [50, 100]);
}

/// Defaults: memory counters, fail-open, no admin API, no alerts.
#[test]
fn defaults() {
    let c = load("keys: [ { name: a, key: sk-alpha-123456 } ]").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.server.counters, CounterTarget::Memory);
    assert!(c.limits.fail_open && c.limits.global.is_unlimited());
    assert!(c.admin.token.is_none() && c.alerts.webhook.is_none());
    assert!(c.keys[0].policy.limits.is_unlimited());
    assert_eq!(c.alerts.thresholds, [50, 80, 100]);
}

/// Every bad value is rejected naming its field.
#[test]
fn rejections_name_the_field() {
    let key = "keys: [ { name: a, key: sk-alpha-123456";
    for (extra, field) in [
        (format!("{key}, rpm: 0 }} ]"), "keys[0].rpm"),
        (
            format!("{key}, budget: {{ daily: -1 }} }} ]"),
            "keys[0].budget.daily",
        ),
        (format!("{key}, budget: {{ weekly: 1 }} }} ]"), "weekly"),
        (
            format!("{key}, expires_at: tomorrow }} ]"),
            "keys[0].expires_at",
        ),
        (format!("{key}, models: [\"\"] }} ]"), "keys[0].models[0]"),
        (format!("{key}, colour: red }} ]"), "colour"),
        (
            format!("{key} }} ]\nlimits: {{ on_store_error: maybe }}"),
            "limits.on_store_error",
        ),
        (
            format!("{key} }} ]\nlimits: {{ teams: {{ t: {{ max_concurrency: 0 }} }} }}"),
            "limits.teams.t.max_concurrency",
        ),
        (
            format!("{key} }} ]\nserver: {{ counters: \"memcached://x\" }}"),
            "server.counters",
        ),
        (
            format!("{key} }} ]\nadmin: {{ token: short }}"),
            "admin.token",
        ),
        (
            format!("{key} }} ]\naudit: {{ redact: [ {{ pattern: \"(\" }} ] }}"),
            "audit.redact[0].pattern",
        ),
        (
            format!("{key} }} ]\nalerts: {{ webhook: \"ftp://x\" }}"),
            "alerts.webhook",
        ),
        (
            format!("{key} }} ]\nalerts: {{ thresholds: [0] }}"),
            "alerts.thresholds[0]",
        ),
    ] {
        let e = err(&extra);
        assert!(e.contains(field), "{extra} → {e}");
    }
}

/// Keys may be left to the admin API when it is enabled; the admin token is never echoed.
#[test]
fn keys_optional_with_admin_api() {
    assert!(err("").contains("keys"));
    let c = load("admin: { token: \"${ADMIN}\" }").unwrap_or_else(|e| panic!("{e}"));
    assert!(c.keys.is_empty());
    assert!(!format!("{c:?}").contains("admin-token-0123456789"));
    let e = err("admin: { token: \"${ADMIN}\", key_refresh: 1ms }");
    assert!(
        e.contains("admin.key_refresh") && !e.contains("admin-token-0123456789"),
        "{e}"
    );
}
