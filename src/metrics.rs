//! Prometheus metrics in the default registry (the one `prometheus` 0.14 crate that Pingora's
//! Prometheus service reads), rendered by the admin listener at `/metrics`.
//!
//! Labels are bounded: route, provider and status come from config or code; model names a
//! client can choose (`provider/model`) pass through [`model_label`], which caps distinct values.

use parking_lot::RwLock;
use prometheus::{
    CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, Opts, exponential_buckets,
};
use std::collections::HashSet;
use std::sync::LazyLock;

/// Most distinct model label values before new ones are reported as `other`.
const MAX_MODEL_LABELS: usize = 500;

/// All gateway metrics.
pub struct Metrics {
    pub requests: IntCounterVec,
    pub request_duration: HistogramVec,
    pub ttfb: HistogramVec,
    pub overhead: Histogram,
    pub tokens: IntCounterVec,
    pub cost_usd: CounterVec,
    pub unpriced_requests: IntCounterVec,
    pub upstream_attempts: IntCounterVec,
    pub failovers: IntCounter,
    pub stream_errors: IntCounterVec,
    pub active_requests: IntGauge,
    pub access_log_dropped: IntCounter,
    /// Ledger rows dropped, by reason (`queue_full`, `store_error`, `closed`).
    pub ledger_dropped: IntCounterVec,
    /// Requests refused by a limit, by scope (`key`, `team`, `global`) and limit
    /// (`rpm`, `tpm`, `concurrency`, `budget`).
    pub limit_denied: IntCounterVec,
    /// Counter-store failures, by operation (`reserve`, `settle`, `usage`).
    pub quota_store_errors: IntCounterVec,
    /// Settlements that found their queue full and ran on a task of their own.
    pub settle_overflow: IntCounter,
    pub config_reloads: IntCounterVec,
    pub config_loaded_at: Gauge,
    /// Per target (provider, model): attempts by outcome, including skips.
    pub target_attempts: IntCounterVec,
    /// Per target: failures by kind (`FailureKind::as_str`).
    pub target_failures: IntCounterVec,
    /// Per target: breaker state, 0 closed, 1 half-open, 2 open.
    pub target_breaker_state: GaugeVec,
    /// Per target: EWMA of time to first byte, in milliseconds.
    pub target_ttfb_ewma_ms: GaugeVec,
    /// Per target: traffic weight factor (1 healthy, down to the floor while degraded).
    pub target_weight_factor: GaugeVec,
    /// Per target: retries refused by the retry budget.
    pub retries_denied: IntCounterVec,
}

/// The process-wide metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::register);

impl Metrics {
    #[expect(
        clippy::expect_used,
        reason = "static metric definitions; a bad name is a bug caught by the unit test"
    )]
    fn register() -> Self {
        let latency = exponential_buckets(0.0005, 2.0, 20).expect("valid buckets");
        let small = exponential_buckets(0.00002, 2.0, 16).expect("valid buckets");
        let reg = |c: Box<dyn prometheus::core::Collector>| {
            // Registering twice (tests creating several gateways) is harmless.
            let _ = prometheus::register(c);
        };
        let m = Metrics {
            requests: IntCounterVec::new(
                Opts::new("switchyard_requests_total", "Requests by route, provider, model and HTTP status"),
                &["route", "provider", "model", "status"],
            )
            .expect("metric"),
            request_duration: HistogramVec::new(
                HistogramOpts::new("switchyard_request_duration_seconds", "Total request latency, first request byte to last response byte")
                    .buckets(latency.clone()),
                &["route", "provider"],
            )
            .expect("metric"),
            ttfb: HistogramVec::new(
                HistogramOpts::new("switchyard_time_to_first_byte_seconds", "Time until the first response body byte reached the client")
                    .buckets(latency),
                &["provider", "stream"],
            )
            .expect("metric"),
            overhead: Histogram::with_opts(
                HistogramOpts::new("switchyard_gateway_overhead_seconds", "Latency added by the gateway: total minus time waiting on providers and on the client's request body")
                    .buckets(small),
            )
            .expect("metric"),
            tokens: IntCounterVec::new(
                Opts::new("switchyard_tokens_total", "Tokens by provider, model and type (prompt, completion, cached, cache_write, reasoning)"),
                &["provider", "model", "type"],
            )
            .expect("metric"),
            cost_usd: CounterVec::new(
                Opts::new("switchyard_cost_usd_total", "Cost of served requests in USD (catalog or configured prices), by provider and model"),
                &["provider", "model"],
            )
            .expect("metric"),
            unpriced_requests: IntCounterVec::new(
                Opts::new("switchyard_unpriced_requests_total", "Served requests whose cost is unknown (model without prices, or no usage reported)"),
                &["provider", "model"],
            )
            .expect("metric"),
            upstream_attempts: IntCounterVec::new(
                Opts::new("switchyard_upstream_attempts_total", "Provider attempts by outcome"),
                &["provider", "outcome"],
            )
            .expect("metric"),
            failovers: IntCounter::new("switchyard_failovers_total", "Requests answered by a target other than the first tried").expect("metric"),
            stream_errors: IntCounterVec::new(
                Opts::new("switchyard_stream_errors_total", "Streams that ended with an in-band error after the response started"),
                &["provider", "kind"],
            )
            .expect("metric"),
            active_requests: IntGauge::new("switchyard_active_requests", "Requests in flight").expect("metric"),
            access_log_dropped: IntCounter::new("switchyard_access_log_dropped_total", "Access log lines dropped because the writer fell behind")
                .expect("metric"),
            ledger_dropped: IntCounterVec::new(
                Opts::new("switchyard_ledger_dropped_total", "Usage ledger rows dropped, by reason"),
                &["reason"],
            )
            .expect("metric"),
            limit_denied: IntCounterVec::new(
                Opts::new("switchyard_limit_denied_total", "Requests refused by a rate, concurrency or budget limit"),
                &["scope", "limit"],
            )
            .expect("metric"),
            settle_overflow: IntCounter::new("switchyard_settle_overflow_total", "Limit settlements that found their queue full and ran on a task of their own")
                .expect("metric"),
            quota_store_errors: IntCounterVec::new(
                Opts::new("switchyard_quota_store_errors_total", "Limit counter store failures by operation"),
                &["op"],
            )
            .expect("metric"),
            config_reloads: IntCounterVec::new(
                Opts::new("switchyard_config_reloads_total", "Config reloads (SIGHUP or file change) by result: applied or rejected"),
                &["result"],
            )
            .expect("metric"),
            config_loaded_at: Gauge::new("switchyard_config_last_reload_success_timestamp_seconds", "Unix time at which the config in force was loaded (startup or last applied reload)")
                .expect("metric"),
            target_attempts: IntCounterVec::new(
                Opts::new("switchyard_target_attempts_total", "Attempts per routing target by outcome (ok, status_429, timeout, skipped_breaker, skipped_retry_after, skipped_context_window, ...)"),
                &["provider", "model", "outcome"],
            )
            .expect("metric"),
            target_failures: IntCounterVec::new(
                Opts::new("switchyard_target_failures_total", "Failed attempts per routing target by failure kind"),
                &["provider", "model", "kind"],
            )
            .expect("metric"),
            target_breaker_state: GaugeVec::new(
                Opts::new("switchyard_target_breaker_state", "Circuit breaker state per routing target: 0 closed, 1 half-open, 2 open"),
                &["provider", "model"],
            )
            .expect("metric"),
            target_ttfb_ewma_ms: GaugeVec::new(
                Opts::new("switchyard_target_ttfb_ewma_ms", "EWMA of time to first byte per routing target, in milliseconds"),
                &["provider", "model"],
            )
            .expect("metric"),
            target_weight_factor: GaugeVec::new(
                Opts::new("switchyard_target_weight_factor", "Traffic weight factor per routing target (1 healthy; lower while degraded)"),
                &["provider", "model"],
            )
            .expect("metric"),
            retries_denied: IntCounterVec::new(
                Opts::new("switchyard_retries_denied_total", "Retries refused by the retry budget, by the target that would have been tried"),
                &["provider", "model"],
            )
            .expect("metric"),
        };
        reg(Box::new(m.requests.clone()));
        reg(Box::new(m.request_duration.clone()));
        reg(Box::new(m.ttfb.clone()));
        reg(Box::new(m.overhead.clone()));
        reg(Box::new(m.tokens.clone()));
        reg(Box::new(m.cost_usd.clone()));
        reg(Box::new(m.unpriced_requests.clone()));
        reg(Box::new(m.upstream_attempts.clone()));
        reg(Box::new(m.failovers.clone()));
        reg(Box::new(m.stream_errors.clone()));
        reg(Box::new(m.active_requests.clone()));
        reg(Box::new(m.access_log_dropped.clone()));
        reg(Box::new(m.ledger_dropped.clone()));
        reg(Box::new(m.limit_denied.clone()));
        reg(Box::new(m.quota_store_errors.clone()));
        reg(Box::new(m.settle_overflow.clone()));
        reg(Box::new(m.config_reloads.clone()));
        reg(Box::new(m.config_loaded_at.clone()));
        reg(Box::new(m.target_attempts.clone()));
        reg(Box::new(m.target_failures.clone()));
        reg(Box::new(m.target_breaker_state.clone()));
        reg(Box::new(m.target_ttfb_ewma_ms.clone()));
        reg(Box::new(m.target_weight_factor.clone()));
        reg(Box::new(m.retries_denied.clone()));
        m
    }
}

static MODEL_LABELS: LazyLock<RwLock<HashSet<String>>> =
    LazyLock::new(|| RwLock::new(HashSet::new()));

/// `model` as a label value, or `other` once too many distinct models were seen.
pub fn model_label(model: &str) -> String {
    if MODEL_LABELS.read().contains(model) {
        return model.to_string();
    }
    let mut set = MODEL_LABELS.write();
    if set.len() < MAX_MODEL_LABELS || set.contains(model) {
        set.insert(model.to_string());
        model.to_string()
    } else {
        "other".to_string()
    }
}

/// Renders the default registry in the Prometheus text format.
pub fn render() -> Vec<u8> {
    use prometheus::Encoder;
    LazyLock::force(&METRICS);
    let mut buf = Vec::with_capacity(16 * 1024);
    let _ = prometheus::TextEncoder::new().encode(&prometheus::gather(), &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All metrics register and render.
    #[test]
    fn metrics_render() {
        METRICS
            .requests
            .with_label_values(&["r", "p", "m", "200"])
            .inc();
        METRICS.overhead.observe(0.0001);
        let text = String::from_utf8(render()).unwrap();
        assert!(text.contains(
            "switchyard_requests_total{model=\"m\",provider=\"p\",route=\"r\",status=\"200\"}"
        ));
        assert!(text.contains("switchyard_gateway_overhead_seconds_bucket"));
    }

    /// Model labels are capped.
    #[test]
    fn model_labels_are_bounded() {
        for i in 0..(MAX_MODEL_LABELS + 20) {
            let _ = model_label(&format!("model-{i}"));
        }
        assert_eq!(model_label("brand-new-model"), "other");
        assert_eq!(model_label("model-3"), "model-3");
    }
}
