//! Provider endpoints on `pingora-load-balancing`: one [`LoadBalancer`] per provider, fed by DNS
//! (or the literal IP of the base URL) and probed by active TCP/TLS health checks. Discovery and
//! checks are driven by one background service ([`super::health_service`]) over the balancers
//! of the config in force, so providers added by a hot reload are checked too. Requests ask for
//! an address and never block on DNS: before the first discovery completes they fall back to a
//! literal IP or a one-off async lookup.
//!
//! A reload reuses the [`Balancer`] of every provider whose name, endpoint and health settings
//! are unchanged ([`BalancerKey`]), keeping its resolved addresses and health state.

use super::settings::RoutingSource;
use crate::providers::settings::{Endpoint, ProviderId, ProviderSettings};
use async_trait::async_trait;
use parking_lot::Mutex;
use pingora::lb::discovery::ServiceDiscovery;
use pingora::lb::health_check::TcpHealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, LoadBalancer};
use pingora::protocols::l4::socket::SocketAddr as PingoraAddr;
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often DNS is re-resolved.
const DNS_REFRESH: Duration = Duration::from_secs(60);
/// Retry delay after a failed discovery.
const DISCOVERY_RETRY: Duration = Duration::from_secs(5);
/// Longest connect timeout of a health probe.
const MAX_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Resolves a provider host to backends.
struct DnsDiscovery {
    endpoint: Endpoint,
}

#[async_trait]
impl ServiceDiscovery for DnsDiscovery {
    async fn discover(&self) -> pingora::Result<(BTreeSet<Backend>, HashMap<u64, bool>)> {
        let addrs = resolve(&self.endpoint).await.map_err(|e| {
            pingora::Error::explain(
                pingora::ErrorType::ConnectNoRoute,
                format!("resolving {}: {e}", self.endpoint.host),
            )
        })?;
        let set = addrs
            .into_iter()
            .map(|a| Backend {
                addr: PingoraAddr::Inet(a),
                weight: 1,
                ext: http::Extensions::new(),
            })
            .collect();
        Ok((set, HashMap::new()))
    }
}

async fn resolve(endpoint: &Endpoint) -> std::io::Result<Vec<SocketAddr>> {
    let host = endpoint.host.trim_matches(['[', ']']);
    Ok(tokio::net::lookup_host((host, endpoint.port))
        .await?
        .collect())
}

/// What a balancer is built from: equal keys mean a balancer can be reused across reloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancerKey {
    pub provider: String,
    pub endpoint: Endpoint,
    /// Probe interval, or `None` without active health checks.
    pub health_check: Option<Duration>,
    pub probe_timeout: Duration,
}

impl BalancerKey {
    /// The key of provider `p` under `config`.
    pub fn of(p: &ProviderSettings, config: &dyn RoutingSource) -> Self {
        Self {
            provider: p.name.clone(),
            endpoint: p.endpoint.clone(),
            health_check: p.health_check.then_some(config.health_check_interval()),
            probe_timeout: p.timeouts.connect.min(MAX_PROBE_TIMEOUT),
        }
    }
}

/// When the next discovery and health check of a balancer are due (`None`: never again).
#[derive(Debug)]
struct Schedule {
    update: Option<Instant>,
    check: Option<Instant>,
}

/// One provider's endpoint balancer and its discovery/health-check schedule.
pub struct Balancer {
    key: BalancerKey,
    lb: LoadBalancer<RoundRobin>,
    schedule: Mutex<Schedule>,
    /// A discovery or check pass is running (they must not overlap).
    busy: AtomicBool,
}

impl std::fmt::Debug for Balancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Balancer {
    fn new(key: BalancerKey) -> Self {
        let discovery = Box::new(DnsDiscovery {
            endpoint: key.endpoint.clone(),
        });
        let mut lb =
            LoadBalancer::<RoundRobin>::from_backends(pingora::lb::Backends::new(discovery));
        if key.health_check.is_some() {
            let mut hc = if key.endpoint.tls {
                TcpHealthCheck::new_tls(&key.endpoint.host)
            } else {
                TcpHealthCheck::new()
            };
            hc.consecutive_failure = 2;
            hc.peer_template.options.connection_timeout = Some(key.probe_timeout);
            lb.set_health_check(hc);
        }
        let now = Instant::now();
        Self {
            key,
            lb,
            schedule: Mutex::new(Schedule {
                update: Some(now),
                check: Some(now),
            }),
            busy: AtomicBool::new(false),
        }
    }

    /// What this balancer was built from.
    pub fn key(&self) -> &BalancerKey {
        &self.key
    }

    /// Claims the balancer if discovery or a check is due at `now` and no pass is running;
    /// the caller must then run [`Balancer::run_due`].
    pub fn claim_if_due(&self, now: Instant) -> bool {
        let due = {
            let s = self.schedule.lock();
            s.update.is_some_and(|t| t <= now) || s.check.is_some_and(|t| t <= now)
        };
        due && self
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Runs the due discovery, then the due health check, and releases the claim.
    pub async fn run_due(&self) {
        let now = Instant::now();
        let (update, check) = {
            let s = self.schedule.lock();
            (
                s.update.is_some_and(|t| t <= now),
                s.check.is_some_and(|t| t <= now),
            )
        };
        if update {
            let next = match self.lb.update().await {
                Ok(()) => (!self.key.endpoint.host_is_ip()).then_some(DNS_REFRESH),
                Err(e) => {
                    log::warn!("provider {}: discovery failed: {e}", self.key.provider);
                    Some(DISCOVERY_RETRY)
                }
            };
            self.schedule.lock().update = next.map(|d| Instant::now() + d);
        }
        if check {
            match self.key.health_check {
                Some(every) => {
                    self.lb.backends().run_health_check(false).await;
                    self.schedule.lock().check = Some(Instant::now() + every);
                }
                None => self.schedule.lock().check = None,
            }
        }
        self.busy.store(false, Ordering::Release);
    }

    fn is_healthy(&self) -> bool {
        self.lb.backends().get_backend().is_empty() || self.lb.select(b"", 16).is_some()
    }
}

/// The endpoint balancers of all providers of one config, indexed by [`ProviderId`].
#[derive(Debug)]
pub struct Upstreams {
    balancers: Vec<Arc<Balancer>>,
}

impl Upstreams {
    /// One balancer per provider of `config`, reusing those of `previous` whose
    /// [`BalancerKey`] is unchanged.
    pub fn build(config: &dyn RoutingSource, previous: Option<&Upstreams>) -> Self {
        let balancers = config
            .providers()
            .iter()
            .map(|p| {
                let key = BalancerKey::of(p, config);
                previous
                    .and_then(|prev| prev.balancers.iter().find(|b| b.key == key))
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Balancer::new(key)))
            })
            .collect();
        Self { balancers }
    }

    /// All balancers, for the health service.
    pub fn balancers(&self) -> &[Arc<Balancer>] {
        &self.balancers
    }

    /// How many balancers `self` took over from `previous` unchanged.
    pub fn reused_from(&self, previous: &Upstreams) -> usize {
        self.balancers
            .iter()
            .filter(|b| previous.balancers.iter().any(|p| Arc::ptr_eq(b, p)))
            .count()
    }

    /// False only when the provider has known endpoints and health checks failed on all of them.
    pub fn is_healthy(&self, provider: ProviderId) -> bool {
        self.balancers.get(provider).is_some_and(|b| b.is_healthy())
    }

    /// An address for `provider`: a healthy endpoint if there is one, any known endpoint if
    /// all failed their checks (better to try than to refuse), else a direct resolution.
    pub async fn address(&self, provider: ProviderId) -> std::io::Result<SocketAddr> {
        let not_found = || std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        let b = self.balancers.get(provider).ok_or_else(not_found)?;
        let picked =
            b.lb.select(b"", 16)
                .or_else(|| b.lb.select_with(b"", 16, |_, _| true));
        if let Some(PingoraAddr::Inet(a)) = picked.map(|b| b.addr) {
            return Ok(a);
        }
        resolve(&b.key.endpoint)
            .await?
            .into_iter()
            .next()
            .ok_or_else(not_found)
    }
}

#[cfg(test)]
mod tests;
