//! Balancer reuse across reloads, and the discovery/health-check pass.

use super::*;
use crate::config::Config;

fn config(providers: &str, interval: &str) -> Config {
    let yaml = format!(
        "server: {{ health_check_interval: {interval} }}\nproviders:\n{providers}\nkeys: [ {{ name: k, key: abcdefghijk }} ]\n"
    );
    Config::from_yaml(&yaml, &|_| None).unwrap()
}

const A: &str =
    r#"  - { name: a, kind: openai, base_url: "http://127.0.0.1:9001/v1", api_key: x }"#;
const B: &str =
    r#"  - { name: b, kind: openai, base_url: "http://127.0.0.1:9002/v1", api_key: x }"#;
const B_MOVED: &str =
    r#"  - { name: b, kind: openai, base_url: "http://127.0.0.1:9003/v1", api_key: x }"#;
const C: &str =
    r#"  - { name: c, kind: anthropic, base_url: "http://127.0.0.1:9004", api_key: x }"#;

/// Unchanged providers keep their balancer (even when reordered); a changed endpoint, a new
/// provider or changed health settings get a fresh one.
#[test]
fn balancers_are_reused_by_name_and_endpoint() {
    let old_cfg = config(&format!("{A}\n{B}"), "1s");
    let old = Upstreams::build(&old_cfg, None);

    let new_cfg = config(&format!("{C}\n{B_MOVED}\n{A}"), "1s");
    let new = Upstreams::build(&new_cfg, Some(&old));
    assert!(
        Arc::ptr_eq(&new.balancers()[2], &old.balancers()[0]),
        "a reused"
    );
    assert!(
        !old.balancers()
            .iter()
            .any(|o| Arc::ptr_eq(o, &new.balancers()[1])),
        "b moved: fresh balancer"
    );
    assert_eq!(new.balancers()[1].key().endpoint.port, 9003);
    assert_eq!(new.balancers()[0].key().provider, "c");
    assert_eq!(new.reused_from(&old), 1);

    // Same file again: everything reused.
    let same = Upstreams::build(&config(&format!("{A}\n{B}"), "1s"), Some(&old));
    assert_eq!(same.reused_from(&old), 2);

    // Another probe interval or health checks switched off: fresh balancers.
    let slower = Upstreams::build(&config(&format!("{A}\n{B}"), "5s"), Some(&old));
    assert_eq!(slower.reused_from(&old), 0);
    let unchecked = A.replace("api_key: x", "api_key: x, health_check: false");
    let off = Upstreams::build(&config(&format!("{unchecked}\n{B}"), "1s"), Some(&old));
    assert_eq!(off.reused_from(&old), 1);
    assert_eq!(off.balancers()[0].key().health_check, None);
}

/// Discovery then health checks run when due; a dead endpoint turns unhealthy after two
/// failed probes while a listening one stays healthy.
#[tokio::test]
async fn due_passes_discover_and_probe() {
    let live = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let live_port = live.local_addr().unwrap().port();
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let providers = format!(
        "  - {{ name: live, kind: openai, base_url: \"http://127.0.0.1:{live_port}/v1\", api_key: x }}\n  - {{ name: dead, kind: openai, base_url: \"http://127.0.0.1:{dead_port}/v1\", api_key: x }}"
    );
    let up = Upstreams::build(&config(&providers, "20ms"), None);
    assert!(up.is_healthy(1), "healthy until probed");
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        for b in up.balancers() {
            assert!(b.claim_if_due(Instant::now()));
            assert!(!b.claim_if_due(Instant::now()), "claims do not overlap");
            b.run_due().await;
        }
    }
    assert!(up.is_healthy(0));
    assert!(!up.is_healthy(1), "two failed probes mark it unhealthy");
    assert_eq!(
        up.address(0).await.unwrap(),
        SocketAddr::from(([127, 0, 0, 1], live_port))
    );
    // An IP endpoint is discovered once: only the health check stays scheduled.
    assert!(up.balancers()[0].schedule.lock().update.is_none());
    drop(live);
}
