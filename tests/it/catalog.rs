//! Catalog end to end: per-request cost in the header, access log and metrics; unpriced
//! models counted and never free; `prices:` overrides; `/v1/models` with catalog facts.

use crate::common;

use crate::common::{Emulator, Gateway, KEY};
use serde_json::{Value, json};

const EXTRA: &str = r#"
  - { name: cached, match: { model: "cached" }, targets: [ { provider: emu-cache, model: "claude-haiku-4-5" } ] }
  - { name: house, match: { model: "house" }, targets: [ { provider: emu-openai, model: "house-model-x" } ] }
  - { name: negotiated, match: { model: "negotiated" }, targets: [ { provider: emu-cheap, model: "house-model-x" } ] }
  - name: mixed
    match: { model: "mixed" }
    targets: [ { provider: emu-openai, model: "gpt-4o-mini", weight: 3 }, { provider: emu-anthropic, model: "claude-haiku-4-5" } ]
    fallback: [ { provider: emu-openai, model: "house-model-x" } ]
"#;

/// A provider with negotiated prices (USD per million tokens), and one whose answers report
/// prompt-cache reads and writes (an emulator directive sent as a provider header).
const CHEAP: &str = r#"  - { name: emu-cheap, kind: openai, base_url: "http://{EMU}/v1", api_key: "k", prices: { input: 1.0, output: 2.0 } }
  - { name: emu-cache, kind: anthropic, base_url: "http://{EMU}", api_key: "k", headers: { x-emulator: "cache_read=1000;cache_write=300" } }
routes:"#;

fn gateway(emu: &Emulator) -> Gateway {
    let body = format!("{}{EXTRA}", common::ROUTES.replacen("routes:", CHEAP, 1));
    let (yaml, port, admin) = common::config(emu, &body, "");
    Gateway::start(&yaml, port, admin)
}

/// The committed catalog entry, read from the file the binary embeds.
fn catalog(provider: &str, id: &str) -> Value {
    let doc: Value = serde_json::from_str(include_str!("../../conf/models.json")).unwrap();
    doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider"] == provider && m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{provider}/{id} not in conf/models.json"))
}

/// Integer pico-dollars per token from a USD-per-million price (as the gateway converts it).
fn pico(price: &Value) -> Option<u128> {
    price.as_f64().map(|p| (p * 1e6).round() as u128)
}

/// Expected cost in micro-dollars of an OpenAI `usage` object at `prices`.
fn expected_micros(usage: &Value, prices: &Value) -> u64 {
    let n = |v: &Value| u128::from(v.as_u64().unwrap_or(0));
    let prompt = n(&usage["prompt_tokens"]);
    let cached = n(&usage["prompt_tokens_details"]["cached_tokens"]);
    let write = n(&usage["prompt_tokens_details"]["cache_write_tokens"]);
    let input = pico(&prices["input"]).unwrap();
    let total = (prompt - cached - write) * input
        + cached * pico(&prices["cache_read"]).unwrap_or(input)
        + write * pico(&prices["cache_write"]).unwrap_or(input)
        + n(&usage["completion_tokens"]) * pico(&prices["output"]).unwrap();
    u64::try_from(total.div_ceil(1_000_000)).unwrap()
}

fn usd(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The value of one Prometheus sample line (labels in the registry's sorted order).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

/// Access-log records, once `want` lines for `model` were written (the writer flushes
/// asynchronously; health probes also log lines).
fn log_lines(gw: &Gateway, model: &str, want: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let lines = gw.access_log(0);
        let n = lines.iter().filter(|l| l["model"] == model).count();
        if n >= want || std::time::Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn get(gw: &Gateway, path: &str) -> common::Reply {
    common::get(
        &gw.url(path),
        &[("authorization", &format!("Bearer {KEY}"))],
    )
}

/// Priced models: the cost is in the header (non-streaming), the access log and the metrics,
/// and equals the usage at the catalog's prices (cache reads and writes included).
#[test]
fn priced_requests_carry_their_cost() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let mini = catalog("openai", "gpt-4o-mini")["prices"].clone();
    let haiku = catalog("anthropic", "claude-haiku-4-5")["prices"].clone();

    let r = gw.chat(&json!({"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let gpt_cost = expected_micros(&r.json()["usage"], &mini);
    assert!(gpt_cost > 0);
    assert_eq!(
        r.header("x-switchyard-cost-usd"),
        Some(usd(gpt_cost).as_str())
    );

    // Anthropic with cache reads and writes, streamed: no cost header (headers precede usage).
    let r = common::post(
        &gw.url("/v1/chat/completions"),
        &json!({"model": "cached", "stream": true, "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "Hi"}]})
        .to_string(),
        &[("authorization", &format!("Bearer {KEY}"))],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-switchyard-cost-usd"), None);
    let usage: Value = r
        .events()
        .iter()
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .find(|v| v["usage"].is_object())
        .expect("usage chunk")["usage"]
        .clone();
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 1000);
    assert_eq!(usage["prompt_tokens_details"]["cache_write_tokens"], 300);
    let claude_cost = expected_micros(&usage, &haiku);
    // Cache reads are cheaper than fresh input: the split matters.
    assert_ne!(claude_cost, {
        let flat = json!({"input": haiku["input"], "output": haiku["output"]});
        expected_micros(&usage, &flat)
    });

    log_lines(&gw, "gpt", 1);
    let lines = log_lines(&gw, "cached", 1);
    let cost_of = |model: &str| {
        let l = lines
            .iter()
            .find(|l| l["model"] == model)
            .unwrap_or_else(|| panic!("no log line for {model}: {lines:?}"));
        assert!(l.get("priced").is_none(), "{l}");
        l["cost_usd"]
            .as_f64()
            .unwrap_or_else(|| panic!("no cost_usd: {l}"))
    };
    assert_eq!(cost_of("gpt"), gpt_cost as f64 / 1e6);
    assert_eq!(cost_of("cached"), claude_cost as f64 / 1e6);

    let m = gw.metrics();
    let series = |p: &str, model: &str| {
        sample(
            &m,
            &format!("switchyard_cost_usd_total{{model=\"{model}\",provider=\"{p}\"}}"),
        )
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(
        close(
            series("emu-openai", "gpt-4o-mini").unwrap(),
            gpt_cost as f64 / 1e6
        ),
        "{m}"
    );
    assert!(close(
        series("emu-cache", "claude-haiku-4-5").unwrap(),
        claude_cost as f64 / 1e6
    ));
}

/// A model the catalog does not know is never free: no cost anywhere, `priced: false`, the
/// unpriced counter, and one warning however many requests. A `prices:` override prices it.
#[test]
fn unpriced_models_are_counted_not_free() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    for _ in 0..3 {
        let r =
            gw.chat(&json!({"model": "house", "messages": [{"role": "user", "content": "Hi"}]}));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-switchyard-cost-usd"), None);
    }
    let r =
        gw.chat(&json!({"model": "negotiated", "messages": [{"role": "user", "content": "Hi"}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let overridden = expected_micros(&r.json()["usage"], &json!({"input": 1.0, "output": 2.0}));
    assert_eq!(
        r.header("x-switchyard-cost-usd"),
        Some(usd(overridden).as_str())
    );

    log_lines(&gw, "negotiated", 1);
    let lines = log_lines(&gw, "house", 3);
    let house: Vec<&Value> = lines.iter().filter(|l| l["model"] == "house").collect();
    assert_eq!(house.len(), 3);
    for l in house {
        assert_eq!(l["priced"], false, "{l}");
        assert!(l.get("cost_usd").is_none(), "{l}");
    }
    let neg = lines.iter().find(|l| l["model"] == "negotiated").unwrap();
    assert_eq!(neg["cost_usd"].as_f64(), Some(overridden as f64 / 1e6));

    let m = gw.metrics();
    assert_eq!(
        sample(
            &m,
            "switchyard_unpriced_requests_total{model=\"house-model-x\",provider=\"emu-openai\"}"
        ),
        Some(3.0),
        "{m}"
    );
    assert!(
        !m.contains("switchyard_cost_usd_total{model=\"house-model-x\",provider=\"emu-openai\"}")
    );
    assert!(
        m.contains("switchyard_cost_usd_total{model=\"house-model-x\",provider=\"emu-cheap\"}")
    );
    let warnings = gw
        .stderr()
        .matches("no price for model \"house-model-x\"")
        .count();
    assert_eq!(warnings, 1, "{}", gw.stderr());
}

/// /v1/models lists routes and targets with context windows, prices and capabilities from the
/// catalog; unknown models with null pricing; one model by id; 404 otherwise.
#[test]
fn models_endpoint_shows_catalog_facts() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let r = get(&gw, "/v1/models");
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["object"], "list");
    let data = v["data"].as_array().unwrap();
    let by_id = |id: &str| {
        data.iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed: {v}"))
            .clone()
    };
    let mini = catalog("openai", "gpt-4o-mini");
    let haiku = catalog("anthropic", "claude-haiku-4-5");

    let target = by_id("emu-openai/gpt-4o-mini");
    assert_eq!(target["object"], "model");
    assert_eq!(target["owned_by"], "emu-openai");
    assert_eq!(target["context_window"], mini["context_window"]);
    assert_eq!(target["max_output_tokens"], mini["max_output_tokens"]);
    assert_eq!(target["pricing"], mini["prices"]);
    assert_eq!(target["capabilities"], mini["capabilities"]);
    assert_eq!(target["mode"], "chat");

    let gpt = by_id("gpt");
    assert_eq!(gpt["owned_by"], "switchyard");
    assert_eq!(gpt["pricing"], mini["prices"]);
    assert_eq!(
        gpt["targets"],
        json!([{"id": "emu-openai/gpt-4o-mini", "weight": 1, "fallback": false}])
    );

    let unknown = by_id("emu-openai/house-model-x");
    assert!(
        unknown["pricing"].is_null() && unknown["context_window"].is_null(),
        "{unknown}"
    );
    let cheap = by_id("emu-cheap/house-model-x");
    assert_eq!(
        cheap["pricing"],
        json!({"input": 1.0, "output": 2.0, "cache_read": null, "cache_write": null})
    );

    // A route over different models: only what holds for every target.
    let mixed = by_id("mixed");
    assert!(
        mixed["pricing"].is_null(),
        "targets cost differently: {mixed}"
    );
    assert!(
        mixed["context_window"].is_null(),
        "one target is unknown: {mixed}"
    );
    assert_eq!(mixed["targets"].as_array().unwrap().len(), 3);
    assert_eq!(
        mixed["targets"][2],
        json!({"id": "emu-openai/house-model-x", "weight": null, "fallback": true})
    );
    let claude = by_id("claude");
    assert_eq!(claude["context_window"], haiku["context_window"]);

    let one = get(&gw, "/v1/models/emu-openai%2Fgpt-4o-mini");
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["pricing"], mini["prices"]);
    let missing = get(&gw, "/v1/models/nope");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error()["code"], "model_not_found");
}
