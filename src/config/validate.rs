//! Raw config → runtime [`Config`]: every cross-reference resolved, every value range-checked,
//! each failure reported with the YAML path of the offending field.

mod governance;
mod provider;
mod routing;

#[cfg(test)]
pub(super) use provider::endpoint;
use provider::provider;

use super::raw::{RawConfig, RawProvider, RawServer};
use super::{
    AccessLogTarget, ClientKey, Config, ConfigError, Route, Secret, ServerSettings, Timeouts,
};
use crate::catalog::Catalog;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9090";
const DEFAULT_MAX_BODY: u64 = 32 * 1024 * 1024;
/// Default `server.upgrade_sock`, next to the default pid file.
pub const DEFAULT_UPGRADE_SOCK: &str = "/tmp/switchyard-upgrade.sock";
/// Longest Unix socket path Linux accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCK_PATH: usize = 107;

type VResult<T> = Result<T, ConfigError>;

/// Environment lookup (the process environment, or a test's map).
pub(super) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(super) fn validate(raw: RawConfig, env: Lookup<'_>) -> VResult<Config> {
    let catalog = catalog(raw.server.catalog.as_deref())?;
    let server = server(raw.server)?;
    let limits = governance::limits(raw.limits)?;
    let admin = governance::admin(raw.admin)?;
    let audit = governance::audit(raw.audit)?;
    let alerts = governance::alerts(raw.alerts)?;
    let mut providers = Vec::with_capacity(raw.providers.len());
    let mut names = HashSet::new();
    for (i, p) in raw.providers.into_iter().enumerate() {
        let at = format!("providers[{i}]");
        let p = RawProvider::from_yaml(p).map_err(|e| e.within(&at))?;
        let p = provider(&at, p, &server, env)?;
        if !names.insert(p.name.clone()) {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!("duplicate provider name \"{}\"", p.name),
            ));
        }
        providers.push(Arc::new(p));
    }
    let provider_names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    let mut routes = Vec::with_capacity(raw.routes.len());
    for (i, r) in raw.routes.into_iter().enumerate() {
        let route = routing::route(i, r, &provider_names)?;
        if let Some(prev) = routes.iter().position(|p: &Route| p.name == route.name) {
            return Err(ConfigError::new(
                format!("routes[{i}].name"),
                format!("duplicate route name (also routes[{prev}])"),
            ));
        }
        routes.push(route);
    }
    let mut keys = Vec::with_capacity(raw.keys.len());
    for (i, k) in raw.keys.into_iter().enumerate() {
        let at = format!("keys[{i}]");
        check_name(&format!("{at}.name"), &k.name)?;
        if k.key.len() < 8 {
            return Err(ConfigError::new(
                format!("{at}.key"),
                "must be at least 8 characters (is the environment variable set?)",
            ));
        }
        if keys.iter().any(|c: &ClientKey| c.name == k.name) {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!("duplicate key name \"{}\"", k.name),
            ));
        }
        if keys.iter().any(|c: &ClientKey| c.key.expose() == k.key) {
            return Err(ConfigError::new(format!("{at}.key"), "duplicate key value"));
        }
        if k.team.as_deref() == Some("") {
            return Err(ConfigError::new(format!("{at}.team"), "must not be empty"));
        }
        if let Some(j) = k.tags.iter().position(String::is_empty) {
            return Err(ConfigError::new(
                format!("{at}.tags[{j}]"),
                "must not be empty",
            ));
        }
        let policy = governance::key_policy(&at, &k)?;
        keys.push(ClientKey {
            name: k.name,
            key: Secret::new(k.key),
            team: k.team,
            tags: k.tags,
            policy,
        });
    }
    if keys.is_empty() && admin.token.is_none() {
        return Err(ConfigError::new(
            "keys",
            "at least one client key is required (or set admin.token and create keys through the admin API)",
        ));
    }
    Ok(Config {
        server,
        providers,
        routes,
        keys,
        catalog,
        limits,
        admin,
        audit,
        alerts,
    })
}

/// The built-in catalog, or the file named by `server.catalog`.
fn catalog(path: Option<&str>) -> VResult<Arc<Catalog>> {
    match path {
        None => Catalog::embedded().map_err(|e| ConfigError::new("server.catalog", e)),
        Some("") => Err(ConfigError::new("server.catalog", "must be a file path")),
        Some(path) => Catalog::load(std::path::Path::new(path))
            .map(Arc::new)
            .map_err(|e| ConfigError::new("server.catalog", e)),
    }
}

fn server(raw: RawServer) -> VResult<ServerSettings> {
    let health = routing::health(raw.health)?;
    let retry = routing::retry(raw.retry)?;
    let listen = addr(
        "server.listen",
        raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN),
    )?;
    let admin_listen = addr(
        "server.admin_listen",
        raw.admin_listen.as_deref().unwrap_or(DEFAULT_ADMIN_LISTEN),
    )?;
    if listen == admin_listen {
        return Err(ConfigError::new(
            "server.admin_listen",
            "must differ from server.listen",
        ));
    }
    let threads = raw.threads.unwrap_or(2);
    if !(1..=256).contains(&threads) {
        return Err(ConfigError::new(
            "server.threads",
            "must be between 1 and 256",
        ));
    }
    let max_body = raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
    if !(1024..=1 << 30).contains(&max_body) {
        return Err(ConfigError::new(
            "server.max_body_bytes",
            "must be between 1024 and 1073741824",
        ));
    }
    let max_attempts = raw.max_attempts.unwrap_or(4);
    if !(1..=16).contains(&max_attempts) {
        return Err(ConfigError::new(
            "server.max_attempts",
            "must be between 1 and 16",
        ));
    }
    let access_log = match raw.access_log.as_deref() {
        None | Some("stdout") => AccessLogTarget::Stdout,
        Some("off") => AccessLogTarget::Off,
        Some("") => {
            return Err(ConfigError::new(
                "server.access_log",
                "must be stdout, off or a file path",
            ));
        }
        Some(path) => AccessLogTarget::File(path.to_string()),
    };
    let counters = governance::counters(raw.counters)?;
    let ledger = crate::ledger::LedgerTarget::parse(
        raw.ledger
            .as_deref()
            .unwrap_or(crate::ledger::target::DEFAULT_URL),
    )
    .map_err(|e| ConfigError::new("server.ledger", e))?;
    let grace_period = raw.grace_period.unwrap_or(Duration::from_secs(5));
    if grace_period > Duration::from_secs(3600) {
        return Err(ConfigError::new(
            "server.grace_period",
            "must be at most 1h",
        ));
    }
    Ok(ServerSettings {
        listen,
        admin_listen,
        threads,
        max_body_bytes: usize::try_from(max_body).unwrap_or(usize::MAX),
        request_timeout: positive(
            "server.request_timeout",
            raw.request_timeout,
            Duration::from_secs(600),
        )?,
        max_attempts,
        grace_period,
        access_log,
        ledger,
        counters,
        upstream_keepalive_pool_size: raw.upstream_keepalive_pool_size.unwrap_or(128),
        health_check_interval: positive(
            "server.health_check_interval",
            raw.health_check_interval,
            Duration::from_secs(10),
        )?,
        pid_file: raw
            .pid_file
            .unwrap_or_else(|| "/tmp/switchyard.pid".to_string()),
        upgrade_sock: upgrade_sock(raw.upgrade_sock)?,
        default_timeouts: Timeouts {
            connect: positive(
                "server.connect_timeout",
                raw.connect_timeout,
                Duration::from_secs(5),
            )?,
            first_byte: positive(
                "server.first_byte_timeout",
                raw.first_byte_timeout,
                Duration::from_secs(120),
            )?,
            stream_idle: positive(
                "server.stream_idle_timeout",
                raw.stream_idle_timeout,
                Duration::from_secs(120),
            )?,
        },
        health,
        retry,
    })
}

/// `server.upgrade_sock`: a path short enough for a Unix socket address.
fn upgrade_sock(value: Option<String>) -> VResult<String> {
    let path = value.unwrap_or_else(|| DEFAULT_UPGRADE_SOCK.to_string());
    if path.is_empty() || path.ends_with('/') || path.contains('\0') {
        return Err(ConfigError::new(
            "server.upgrade_sock",
            "must be a file path for a Unix socket",
        ));
    }
    if path.len() > MAX_SOCK_PATH {
        return Err(ConfigError::new(
            "server.upgrade_sock",
            format!("must be at most {MAX_SOCK_PATH} bytes long (a Unix socket address)"),
        ));
    }
    Ok(path)
}

fn check_name(at: &str, name: &str) -> VResult<()> {
    if name.is_empty() || name.len() > 64 {
        return Err(ConfigError::new(at, "must be 1 to 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ConfigError::new(
            at,
            format!("\"{name}\" may only contain letters, digits, '-', '_' and '.'"),
        ));
    }
    Ok(())
}

fn addr(at: &str, value: &str) -> VResult<SocketAddr> {
    value
        .parse::<SocketAddr>()
        .map_err(|_| ConfigError::new(at, format!("\"{value}\" is not an IP:port address")))
}

fn positive(at: &str, value: Option<Duration>, default: Duration) -> VResult<Duration> {
    match value {
        Some(d) if d.is_zero() => Err(ConfigError::new(at, "must be greater than zero")),
        Some(d) => Ok(d),
        None => Ok(default),
    }
}
