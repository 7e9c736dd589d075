//! One Pingora background service running discovery and active health checks for the
//! balancers of the config in force. Each tick it asks for the current balancers (so providers
//! added by a reload are picked up and removed ones stop being probed) and starts a task for
//! each one that is due; a slow probe of one provider never delays another's.

use super::balancer::Balancer;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Scheduling granularity: how late a due pass can start.
const TICK: Duration = Duration::from_millis(100);

/// The balancers of the current config.
pub type CurrentBalancers = Box<dyn Fn() -> Vec<Arc<Balancer>> + Send + Sync>;

/// Drives [`Balancer::run_due`] for whatever [`CurrentBalancers`] returns.
pub struct HealthService {
    current: CurrentBalancers,
}

impl HealthService {
    pub fn new(current: CurrentBalancers) -> Self {
        Self { current }
    }
}

#[async_trait]
impl BackgroundService for HealthService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
            let now = Instant::now();
            for b in (self.current)() {
                if b.claim_if_due(now) {
                    // A task per balancer, so one slow pass delays no other; it owns an Arc: a
                    // balancer dropped by a reload finishes its pass.
                    crate::task::spawn_named("health check pass", async move { b.run_due().await });
                }
            }
        }
    }
}
