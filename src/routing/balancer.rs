//! Provider endpoints on `pingora-load-balancing`: one [`LoadBalancer`] per provider, fed by DNS
//! (or the literal IP of the base URL) and probed by active TCP/TLS health checks, both run as
//! Pingora background services. Requests ask for an address and never block on DNS: before the
//! first discovery completes they fall back to a literal IP or a one-off async lookup.

use crate::config::{Config, Endpoint, ProviderId};
use async_trait::async_trait;
use pingora::lb::discovery::ServiceDiscovery;
use pingora::lb::health_check::TcpHealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, LoadBalancer};
use pingora::protocols::l4::socket::SocketAddr as PingoraAddr;
use pingora::services::background::{GenBackgroundService, background_service};
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often DNS is re-resolved.
const DNS_REFRESH: Duration = Duration::from_secs(60);

/// A background service running discovery and health checks of one provider.
pub type BalancerService = GenBackgroundService<LoadBalancer<RoundRobin>>;

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

/// The endpoint balancers of all providers.
pub struct Upstreams {
    balancers: Vec<Arc<LoadBalancer<RoundRobin>>>,
    endpoints: Vec<Endpoint>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstreams")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Upstreams {
    /// Builds one balancer per provider and the background services that keep them fresh.
    pub fn build(config: &Config) -> (Self, Vec<BalancerService>) {
        let mut balancers = Vec::with_capacity(config.providers.len());
        let mut services = Vec::with_capacity(config.providers.len());
        for p in &config.providers {
            let discovery = Box::new(DnsDiscovery {
                endpoint: p.endpoint.clone(),
            });
            let mut lb =
                LoadBalancer::<RoundRobin>::from_backends(pingora::lb::Backends::new(discovery));
            if p.health_check {
                let mut hc = if p.endpoint.tls {
                    TcpHealthCheck::new_tls(&p.endpoint.host)
                } else {
                    TcpHealthCheck::new()
                };
                hc.consecutive_failure = 2;
                hc.peer_template.options.connection_timeout =
                    Some(p.timeouts.connect.min(Duration::from_secs(3)));
                lb.set_health_check(hc);
                lb.health_check_frequency = Some(config.server.health_check_interval);
            }
            lb.update_frequency = (!p.endpoint.host_is_ip()).then_some(DNS_REFRESH);
            let svc = background_service(&format!("upstream {}", p.name), lb);
            balancers.push(svc.task());
            services.push(svc);
        }
        let endpoints = config
            .providers
            .iter()
            .map(|p| p.endpoint.clone())
            .collect();
        (
            Self {
                balancers,
                endpoints,
            },
            services,
        )
    }

    /// False only when the provider has known endpoints and health checks failed on all of them.
    pub fn is_healthy(&self, provider: ProviderId) -> bool {
        let Some(lb) = self.balancers.get(provider) else {
            return false;
        };
        lb.backends().get_backend().is_empty() || lb.select(b"", 16).is_some()
    }

    /// An address for `provider`: a healthy endpoint if there is one, any known endpoint if
    /// all failed their checks (better to try than to refuse), else a direct resolution.
    pub async fn address(&self, provider: ProviderId) -> std::io::Result<SocketAddr> {
        let not_found = || std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        let lb = self.balancers.get(provider).ok_or_else(not_found)?;
        let picked = lb
            .select(b"", 16)
            .or_else(|| lb.select_with(b"", 16, |_, _| true));
        if let Some(PingoraAddr::Inet(a)) = picked.map(|b| b.addr) {
            return Ok(a);
        }
        let endpoint = self.endpoints.get(provider).ok_or_else(not_found)?;
        resolve(endpoint)
            .await?
            .into_iter()
            .next()
            .ok_or_else(not_found)
    }
}
