//! Budget-alert webhook: when spend crosses a threshold of a budget (e.g. 50 %, 80 %, 100 %),
//! the quota layer calls [`Alerts::notify`], which queues it ([`crate::batch::Queue`]) and never
//! waits. The [`AlertSender`] background service POSTs each alert as JSON to the configured
//! `http://` or `https://` URL, one at a time, with a 5 s timeout and 2 retries with backoff
//! (on connection errors, 5xx, 408 and 429). Outcomes are counted in
//! `switchyard_budget_alerts_total{outcome}` (`sent`, `failed`, `dropped`); failures are logged
//! with the URL's scheme and host only (webhook URLs often carry a token in the path or query).
//!
//! [`crossed`] tells which thresholds one spend increment crossed; deduplication across
//! gateway instances is the caller's.
//!
//! Body: `{"type":"budget_threshold","scope":"key"|"team"|"global","id":…,
//! "budget":"daily"|"monthly"|"total","window":"2026-11-26","threshold_percent":80,
//! "limit_usd":…,"spent_usd":…,"ts":RFC 3339}`, amounts as numbers with six decimals.

use crate::batch::{self, Policy, Queue, Sink};
use crate::billing::usage::Usd;
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use prometheus::{IntCounterVec, Opts};
use serde::Serialize;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

/// Thresholds (percent of a budget) alerted by default.
pub const DEFAULT_THRESHOLDS: &[u8] = &[50, 80, 100];
/// Alerts the queue holds before new ones are dropped.
pub const CHANNEL_CAPACITY: usize = 256;
/// Timeout of one POST (connect to last response byte).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Retries after a failed first attempt.
pub const RETRIES: u32 = 2;
/// Wait before the first retry; doubled before each further one.
pub const BACKOFF: Duration = Duration::from_millis(500);

/// `switchyard_budget_alerts_total{outcome}`.
pub static ALERTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "static metric definition; a bad name is a bug caught by the unit tests"
    )]
    let c = IntCounterVec::new(
        Opts::new(
            "switchyard_budget_alerts_total",
            "Budget-alert webhooks by outcome (sent, failed after retries, dropped when queued)",
        ),
        &["outcome"],
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(c.clone()));
    c
});

/// Whose budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Key,
    Team,
    Global,
}

/// Which budget of the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    Daily,
    Monthly,
    Total,
}

/// One threshold crossing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAlert {
    pub scope: Scope,
    /// The key id, the team name, or `global`.
    pub id: String,
    pub budget: Budget,
    /// The budget window: `2026-11-26` (daily), `2026-11` (monthly), `all` (total).
    pub window: String,
    pub threshold_percent: u8,
    pub limit_micros: u64,
    pub spent_micros: u64,
    pub ts: SystemTime,
}

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    scope: Scope,
    id: &'a str,
    budget: Budget,
    window: &'a str,
    threshold_percent: u8,
    limit_usd: Usd,
    spent_usd: Usd,
    ts: String,
}

impl BudgetAlert {
    /// The webhook body.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&Payload {
            kind: "budget_threshold",
            scope: self.scope,
            id: &self.id,
            budget: self.budget,
            window: &self.window,
            threshold_percent: self.threshold_percent,
            limit_usd: Usd(self.limit_micros),
            spent_usd: Usd(self.spent_micros),
            ts: DateTime::<Utc>::from(self.ts).to_rfc3339_opts(SecondsFormat::Millis, true),
        })
    }
}

/// The thresholds (percent of `limit_micros`) that spend going from `before` to `after`
/// crossed: `before < limit × t / 100 <= after`, compared exactly. Ascending, no repeats;
/// nothing for a zero limit or a zero threshold.
pub fn crossed(limit_micros: u64, before: u64, after: u64, thresholds: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = thresholds
        .iter()
        .copied()
        .filter(|&t| {
            let level = u128::from(limit_micros) * u128::from(t);
            level > 0 && u128::from(before) * 100 < level && u128::from(after) * 100 >= level
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Handle used by the quota layer (cheap to clone).
#[derive(Debug, Clone)]
pub struct Alerts {
    queue: Queue<BudgetAlert>,
}

/// Alerts are sent one at a time as soon as they are taken; none are held (a failed one is
/// retried inside [`Webhook`]'s write), and nothing is buffered.
const POLICY: Policy = Policy {
    capacity: CHANNEL_CAPACITY,
    max_batch: 16,
    linger: Duration::ZERO,
    pause: Duration::ZERO,
    flush_every: None,
};

impl Alerts {
    /// The handle and its sender service for webhook `url` (`http://` or `https://`). The
    /// error never repeats the URL (it may hold a token).
    pub fn new(url: &str) -> Result<(Self, AlertSender), String> {
        Self::with_backoff(url, BACKOFF)
    }

    /// As [`Alerts::new`], retrying after `backoff` (then twice that).
    pub fn with_backoff(url: &str, backoff: Duration) -> Result<(Self, AlertSender), String> {
        let shown = endpoint(url)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("switchyard-budget-alerts")
            .build()
            .into();
        LazyLock::force(&ALERTS);
        let sink = Webhook {
            url: url.to_string(),
            shown,
            agent,
            backoff,
        };
        let (queue, sender) = batch::channel(POLICY, sink, |_| {
            ALERTS.with_label_values(&["dropped"]).inc();
        });
        Ok((Self { queue }, sender))
    }

    /// A handle that sends nothing (no webhook configured).
    pub fn off() -> Self {
        Self {
            queue: Queue::off(),
        }
    }

    /// Queues `alert`; drops (and counts) it when the queue is full. Never waits.
    pub fn notify(&self, alert: BudgetAlert) {
        self.queue.record(alert);
    }
}

/// `scheme://host[:port]` of a valid webhook URL, for logs.
fn endpoint(url: &str) -> Result<String, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| "the budget-alert webhook URL is not a valid URL".to_string())?;
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme @ ("http" | "https")), Some(auth)) if !auth.host().is_empty() => {
            let port = auth.port().map(|p| format!(":{p}")).unwrap_or_default();
            Ok(format!("{scheme}://{}{port}", auth.host()))
        }
        _ => Err("the budget-alert webhook URL must be an http:// or https:// URL".into()),
    }
}

/// Background service POSTing queued alerts. Alerts are best effort: pending ones are not
/// awaited at shutdown (nobody asks it for a flush).
pub type AlertSender = batch::Writer<Webhook>;

/// POSTs alerts to the webhook.
pub struct Webhook {
    url: String,
    /// Scheme and host only.
    shown: String,
    agent: ureq::Agent,
    backoff: Duration,
}

/// Why one attempt failed.
enum Failure {
    /// Worth another attempt (connection error, timeout, 5xx, 408, 429).
    Transient(String),
    /// The receiver refused the alert (other 4xx).
    Rejected(u16),
}

#[async_trait]
impl Sink for Webhook {
    type Item = BudgetAlert;

    /// Delivers each alert in turn (with its retries), counting the outcome.
    async fn write(&mut self, batch: &mut Vec<BudgetAlert>) {
        for alert in batch.drain(..) {
            let outcome = if self.deliver(&alert).await {
                "sent"
            } else {
                "failed"
            };
            ALERTS.with_label_values(&[outcome]).inc();
        }
    }
}

impl Webhook {
    /// POSTs with retries; whether the receiver accepted it.
    async fn deliver(&self, alert: &BudgetAlert) -> bool {
        let body = match alert.to_json() {
            Ok(b) => b,
            Err(e) => {
                log::error!("budget alert: cannot serialize: {e}");
                return false;
            }
        };
        let mut wait = self.backoff;
        for attempt in 0..=RETRIES {
            if attempt > 0 {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            let (agent, url, body) = (self.agent.clone(), self.url.clone(), body.clone());
            let result = tokio::task::spawn_blocking(move || post(&agent, &url, &body))
                .await
                .unwrap_or_else(|e| Err(Failure::Transient(format!("send task: {e}"))));
            match result {
                Ok(()) => return true,
                Err(Failure::Rejected(status)) => {
                    log::error!(
                        "budget alert to {} rejected with HTTP {status}; not retried",
                        self.shown
                    );
                    return false;
                }
                Err(Failure::Transient(why)) => log::warn!(
                    "budget alert to {} failed (attempt {} of {}): {why}",
                    self.shown,
                    attempt + 1,
                    RETRIES + 1
                ),
            }
        }
        log::error!(
            "budget alert ({:?} {:?} {}%) to {} not delivered after {} attempts",
            alert.scope,
            alert.budget,
            alert.threshold_percent,
            self.shown,
            RETRIES + 1
        );
        false
    }
}

/// One POST (blocking). Error texts name no URL.
fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<(), Failure> {
    match agent.post(url).content_type("application/json").send(body) {
        Ok(resp) => match resp.status().as_u16() {
            200..=299 => Ok(()),
            s @ (408 | 429 | 500..=599) => Err(Failure::Transient(format!("HTTP {s}"))),
            s => Err(Failure::Rejected(s)),
        },
        Err(e) => Err(Failure::Transient(describe(&e))),
    }
}

/// A transport error without the URL (ureq's messages may include it).
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => format!("connection error ({:?})", io.kind()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS error".into(),
        _ => "request failed".into(),
    }
}

#[cfg(test)]
mod tests;
