//! The background service that reloads API keys from the shared store every `every` (1 s by
//! default), so a key created, rotated or revoked on another gateway instance starts or stops
//! working here within about that long. Mutations made through this instance's admin API are
//! applied to the directory at once and do not wait for it.

use super::directory::KeyDirectory;
use super::store::KeyStore;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::Arc;
use std::time::Duration;

/// Default refresh interval.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(1);

/// Keeps the directory's API keys in step with the store.
pub struct KeyRefresher {
    directory: Arc<KeyDirectory>,
    store: Arc<KeyStore>,
    every: Duration,
}

impl KeyRefresher {
    pub fn new(directory: Arc<KeyDirectory>, store: Arc<KeyStore>, every: Duration) -> Self {
        Self {
            directory,
            store,
            every: every.max(Duration::from_millis(10)),
        }
    }

    /// Loads the store once and applies it; `Err` carries the store failure.
    pub async fn refresh_once(&self) -> Result<usize, super::KeyStoreError> {
        let epoch = self.directory.epoch();
        let keys = self.store.load_all().await?;
        let n = keys.len();
        self.directory.replace_api_keys(keys, epoch);
        Ok(n)
    }
}

#[async_trait]
impl BackgroundService for KeyRefresher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            match self.refresh_once().await {
                Ok(n) if failing => {
                    failing = false;
                    log::info!("key store: reachable again ({n} API keys)");
                }
                Ok(_) => {}
                Err(e) if !failing => {
                    failing = true;
                    log::error!(
                        "key store: cannot load API keys ({e}); the keys loaded last stay in force"
                    );
                }
                Err(_) => {}
            }
        }
    }
}
