//! A Redis store created on first use, inside the runtime that serves requests: the redis
//! connection manager needs a Tokio reactor, which the server's startup code does not have.

use super::{
    BudgetCrossing, CounterStore, Demand, Denial, Period, RedisConfig, RedisStore, Reservation,
    Scope, ScopeKind, ScopeUsage,
};
use crate::secret::Secret;
use async_trait::async_trait;
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;

/// [`RedisStore`] opened when first needed.
pub struct LazyRedis {
    url: Secret,
    prefix: String,
    cfg: RedisConfig,
    store: OnceCell<RedisStore>,
}

impl LazyRedis {
    /// Checks the URL now (without connecting) so a malformed one fails at start.
    pub fn new(url: Secret, prefix: &str, cfg: RedisConfig) -> Result<Self, String> {
        redis::Client::open(url.expose()).map_err(|_| "invalid redis URL".to_string())?;
        Ok(Self {
            url,
            prefix: prefix.to_string(),
            cfg,
            store: OnceCell::new(),
        })
    }

    async fn get(&self) -> Result<&RedisStore, String> {
        self.store
            .get_or_try_init(|| async {
                RedisStore::open(self.url.expose(), &self.prefix, self.cfg)
            })
            .await
    }
}

#[async_trait]
impl CounterStore for LazyRedis {
    async fn reserve(
        &self,
        scopes: &[Scope],
        demand: Demand,
        now: SystemTime,
    ) -> Result<Reservation, Denial> {
        self.get()
            .await
            .map_err(Denial::Unavailable)?
            .reserve(scopes, demand, now)
            .await
    }

    async fn settle(
        &self,
        r: Reservation,
        tokens: u64,
        cost_micros: u64,
        now: SystemTime,
    ) -> Result<Vec<BudgetCrossing>, String> {
        self.get().await?.settle(r, tokens, cost_micros, now).await
    }

    async fn usage(&self, scope: &Scope, now: SystemTime) -> Result<ScopeUsage, String> {
        self.get().await?.usage(scope, now).await
    }

    async fn claim_once(&self, flag: &str, ttl: Duration) -> Result<bool, String> {
        self.get().await?.claim_once(flag, ttl).await
    }

    async fn seed_spend(
        &self,
        kind: ScopeKind,
        id: &str,
        period: Period,
        window: &str,
        micros: u64,
    ) -> Result<(), String> {
        self.get()
            .await?
            .seed_spend(kind, id, period, window, micros)
            .await
    }
}
