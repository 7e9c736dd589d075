//! Passive latency health through the real gateway: a target that turns slow after a healthy
//! baseline is marked degraded and loses most of its traffic share, without failing anything.

use crate::common::{Emulator, Gateway};
use serde_json::json;

const ROUTE: &str = r#"
  - name: deg
    match: { model: "deg" }
    targets:
      - { provider: emu-openai, model: "gpt-turns-slow#slow_after=40;ttfb_ms=400", weight: 50 }
      - { provider: emu-openai, model: "gpt-steady", weight: 50 }
"#;

/// Share of requests served by the target that turns slow, over `n` sequential requests.
fn slow_share(gw: &Gateway, n: usize) -> f64 {
    let mut slow = 0;
    for _ in 0..n {
        let r = gw.chat(&json!({"model": "deg", "messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(r.status, 200, "{}", r.body);
        if r.header("x-switchyard-model")
            .is_some_and(|m| m.starts_with("gpt-turns-slow"))
        {
            slow += 1;
        }
    }
    slow as f64 / n as f64
}

/// 50/50 while both are fast; once one stays above its own p95 baseline for five requests it is
/// degraded and its share decays towards the canary floor (5 %), with no request failing.
#[test]
fn slow_target_loses_traffic_gradually() {
    let emu = Emulator::start();
    let gw = Gateway::with_routes(&emu, ROUTE);
    let before = slow_share(&gw, 80);
    assert!((0.3..=0.7).contains(&before), "healthy share {before}");
    // The slow target's first ~40 requests built its baseline; from here it answers slowly.
    let after = slow_share(&gw, 200);
    eprintln!("slow target share: {before:.2} healthy, {after:.2} after turning slow");
    assert!(
        after < 0.2,
        "degraded target still got {after} of the traffic"
    );
    assert!(after > 0.0, "a degraded target keeps a canary share");
    let metrics = gw.metrics();
    let factor = metrics
        .lines()
        .find(|l| l.starts_with("switchyard_target_weight_factor") && l.contains("gpt-turns-slow"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("weight factor gauge for the slow target");
    assert!(factor < 0.5, "weight factor {factor}");
}
