//! [`Attempts`]: the sequence of targets one request tries, and when it must stop.
//!
//! Per target, in plan order: the balancer's active health check and the target's passive
//! health (admission, right before sending) may skip it; every attempt after the first needs
//! the gateway's retry budget; failing over to a different target is immediate, while a second
//! pass over targets already tried (when `server.max_attempts` exceeds the distinct targets)
//! first waits a full-jitter backoff that must fit the request deadline. A target is tried
//! again only after a failure that says something about its health (not after a
//! context-window or client error). A client that hangs up during a backoff ends the request.

use super::verdict::{self, TargetLabels};
use crate::config::ProviderSettings;
use crate::metrics::METRICS;
use crate::proxy::ctx::RequestCtx;
use crate::proxy::upstream::AttemptFailure;
use crate::proxy::{Fail, GatewayState, Snapshot};
use crate::routing::health::{Admission, TargetHealth};
use crate::routing::retry::Deadline;
use crate::routing::{Plan, PlannedTarget};
use pingora::proxy::Session;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The attempt sequence of one request.
pub struct Attempts<'p> {
    state: &'p GatewayState,
    snapshot: &'p Snapshot,
    plan: &'p Plan<'p>,
    deadline: Deadline,
    /// Per plan target: tried once, and whether trying it again may help.
    tried: Vec<bool>,
    repeatable: Vec<bool>,
    /// Some target passes the balancer's active health check (else none is skipped for it).
    healthy_exists: bool,
    backoffs: u32,
    /// Next plan index of the current pass, and whether this pass sent anything.
    cursor: usize,
    sent_this_pass: bool,
}

/// A target the sequence offers next (not yet admitted).
pub struct Candidate<'p> {
    index: usize,
    pub target: &'p PlannedTarget<'p>,
    pub provider: &'p Arc<ProviderSettings>,
}

impl Candidate<'_> {
    /// The upstream model name.
    pub fn model(&self) -> &str {
        self.target.model
    }
}

/// A candidate cleared to be sent: its health slot is taken until [`Attempts::record`] or
/// [`Ticket::abandon`].
pub struct Ticket<'p> {
    index: usize,
    labels: TargetLabels<'p>,
    health: Option<&'p TargetHealth>,
    /// The target's health admitted it (a slot to release with a verdict).
    admitted: bool,
}

impl Ticket<'_> {
    /// The attempt was dropped without a verdict (the client went away): frees its slot.
    pub fn abandon(&self) {
        verdict::abandoned(self.health, self.admitted);
    }

    /// Provider name, for metrics.
    pub fn provider(&self) -> &str {
        self.labels.provider
    }
}

/// What [`Attempts::admit`] decided for a candidate.
pub enum Admit<'p> {
    /// Send it.
    Go(Ticket<'p>),
    /// Its health denies it now: go on with the next candidate.
    Skip,
    /// No further attempt may be made (retry budget, deadline).
    Stop,
}

impl<'p> Attempts<'p> {
    /// A fresh sequence over `plan`, under the request deadline that started at `start`.
    pub fn new(
        state: &'p GatewayState,
        snapshot: &'p Snapshot,
        plan: &'p Plan<'p>,
        start: Instant,
    ) -> Self {
        let n = plan.targets.len();
        state.retry_budget.record_request(Instant::now());
        Self {
            state,
            snapshot,
            plan,
            deadline: Deadline::new(start, snapshot.config.server.request_timeout),
            tried: vec![false; n],
            repeatable: vec![true; n],
            healthy_exists: plan
                .targets
                .iter()
                .any(|t| snapshot.upstreams.is_healthy(t.provider)),
            backoffs: 0,
            cursor: 0,
            sent_this_pass: false,
        }
    }

    /// The overall request deadline.
    pub fn deadline(&self) -> Instant {
        self.deadline.at()
    }

    /// The next target to consider, or `None` when the sequence is over (attempt limit,
    /// deadline, or a pass that sent nothing). Targets failing the balancer's active health
    /// check are skipped (unless none passes it).
    pub fn next(&mut self, ctx: &RequestCtx) -> Option<Candidate<'p>> {
        let server = &self.snapshot.config.server;
        loop {
            if self.cursor == self.plan.targets.len() {
                if !self.sent_this_pass {
                    return None;
                }
                self.cursor = 0;
                self.sent_this_pass = false;
            }
            if ctx.attempts >= server.max_attempts || self.deadline.expired(Instant::now()) {
                return None;
            }
            let index = self.cursor;
            self.cursor += 1;
            if self.tried[index] && !self.repeatable[index] {
                continue;
            }
            let target = &self.plan.targets[index];
            let provider = &self.snapshot.config.providers[target.provider];
            if self.healthy_exists && !self.snapshot.upstreams.is_healthy(target.provider) {
                METRICS
                    .upstream_attempts
                    .with_label_values(&[provider.name.as_str(), "skipped_unhealthy"])
                    .inc();
                continue;
            }
            return Some(Candidate {
                index,
                target,
                provider,
            });
        }
    }

    /// Clears `c` to be sent: its passive health, the retry budget, and (for a target tried
    /// before) a backoff that must fit the deadline. On `Go` the attempt is counted in `ctx`.
    pub async fn admit(
        &mut self,
        c: &Candidate<'p>,
        ctx: &mut RequestCtx,
        session: &mut Session,
    ) -> Result<Admit<'p>, Fail> {
        let labels = TargetLabels::new(&c.provider.name, c.target.model);
        let health = c.target.health.as_deref();
        let admitted = match health {
            Some(h) if !c.target.last_resort => match h.admit(Instant::now()) {
                Admission::Deny(reason) => {
                    verdict::skipped(ctx, &labels, reason, h);
                    return Ok(Admit::Skip);
                }
                _ => true,
            },
            _ => false,
        };
        let ticket = Ticket {
            index: c.index,
            labels,
            health,
            admitted,
        };
        if ctx.attempts > 0 && !self.state.retry_budget.try_retry(Instant::now()) {
            verdict::retry_denied(ctx, &ticket.labels);
            ticket.abandon();
            return Ok(Admit::Stop);
        }
        if self.tried[c.index] {
            let Some(wait) = self.backoff() else {
                ticket.abandon();
                return Ok(Admit::Stop);
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                gone = crate::proxy::client_gone(session) => {
                    ticket.abandon();
                    return Err(Fail::Downstream(gone));
                }
            }
        }
        self.tried[c.index] = true;
        self.sent_this_pass = true;
        ctx.attempts += 1;
        ctx.provider = Some(c.provider.clone());
        ctx.served_model = Some(c.target.model.to_string());
        Ok(Admit::Go(ticket))
    }

    /// `c`'s translator refused the request (a parameter its kind cannot honour): the
    /// sequence goes on without it and never offers it again. Nothing was sent, so its health
    /// and the retry budget are untouched.
    pub fn refused(&mut self, c: &Candidate<'p>) {
        self.tried[c.index] = true;
        self.repeatable[c.index] = false;
        METRICS
            .upstream_attempts
            .with_label_values(&[c.provider.name.as_str(), "refused"])
            .inc();
    }

    /// The next full-jitter backoff, if it fits the deadline.
    fn backoff(&mut self) -> Option<Duration> {
        let retry = &self.snapshot.config.server.retry;
        let wait = retry.backoff.delay(self.backoffs, fastrand::f64());
        self.backoffs += 1;
        self.deadline.fits(Instant::now(), wait).then_some(wait)
    }

    /// Records the verdict of a sent attempt (`None`: it succeeded) on the target's health,
    /// the metrics and `ctx.tried`.
    pub fn record(
        &mut self,
        ctx: &mut RequestCtx,
        ticket: Ticket<'_>,
        failure: Option<&AttemptFailure>,
        ttfb: Duration,
    ) {
        verdict::record(
            ctx,
            &ticket.labels,
            ticket.health,
            ticket.admitted,
            failure,
            ttfb,
        );
        self.repeatable[ticket.index] = failure.is_some_and(AttemptFailure::repeatable);
    }
}
