//! Server bootstrap: builds the Pingora server and its services from a validated [`Config`].
//! No business logic lives here.

use crate::access_log::AccessLog;
use crate::admin::AdminApp;
use crate::config::Config;
use crate::keys::{KeyDirectory, KeyRefresher, KeyStore, KeysAdmin};
use crate::ledger::LedgerTarget;
use crate::lifecycle::{InFlight, ShutdownWatcher};
use crate::proxy::{Gateway, GatewayState};
use crate::reload::{ReloadService, build_snapshot, config_keys};
use crate::routing::health::HealthRegistry;
use crate::routing::health_service::HealthService;
use crate::routing::retry::RetryBudget;
use arc_swap::ArcSwap;
use pingora::connectors::ConnectorOptions;
use pingora::connectors::http::Connector;
use pingora::server::Server;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::services::background::background_service;
use pingora::services::listening::Service;
use std::path::Path;
use std::sync::Arc;

/// Why the server could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the listening sockets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listeners {
    /// Bind them: a normal start.
    Bind,
    /// Take them over from the running gateway (`switchyard --upgrade`): it sends every
    /// listening socket (API and admin) over `server.upgrade_sock` once it gets SIGQUIT, then
    /// drains and exits. Pingora waits about 6 s for them, then gives up (exit 1).
    Upgrade,
}

/// Pingora's process settings derived from ours.
fn server_conf(config: &Config) -> ServerConf {
    let s = &config.server;
    ServerConf {
        threads: s.threads,
        grace_period_seconds: Some(s.grace_period.as_secs().max(1)),
        graceful_shutdown_timeout_seconds: Some(1),
        upstream_keepalive_pool_size: s.upstream_keepalive_pool_size,
        pid_file: s.pid_file.clone(),
        upgrade_sock: s.upgrade_sock.clone(),
        work_stealing: true,
        ..ServerConf::default()
    }
}

/// Checks that both listeners can bind, so a busy port is a clear error, not a panic.
fn check_listeners(config: &Config) -> Result<(), StartError> {
    for (name, addr) in [
        ("server.listen", config.server.listen),
        ("server.admin_listen", config.server.admin_listen),
    ] {
        std::net::TcpListener::bind(addr)
            .map_err(|e| StartError(format!("{name}: cannot listen on {addr}: {e}")))?;
    }
    Ok(())
}

/// Checks that the upgrade socket can be created: Pingora panics when it cannot bind it.
fn check_upgrade_sock(config: &Config) -> Result<(), StartError> {
    let sock = Path::new(&config.server.upgrade_sock);
    let dir = sock
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.is_dir() {
        Ok(())
    } else {
        Err(StartError(format!(
            "server.upgrade_sock: directory {} does not exist",
            dir.display()
        )))
    }
}

/// The key directory under the HMAC secret: `admin.key_secret` when set (every instance
/// sharing a Postgres key store needs the same one); else, with the embedded SQLite ledger, a
/// secret file next to the database (`<db>.keysecret`, created 0600 on first start), so API
/// keys survive restarts; otherwise a per-process secret.
fn key_directory(
    target: &LedgerTarget,
    configured: Option<&crate::config::Secret>,
) -> Result<KeyDirectory, StartError> {
    if let Some(secret) = configured {
        return Ok(KeyDirectory::new(secret.expose().as_bytes()));
    }
    match target {
        LedgerTarget::Sqlite(db) => {
            let mut path = db.clone().into_os_string();
            path.push(".keysecret");
            let secret = crate::keys::load_or_create_secret(Path::new(&path))
                .map_err(|e| StartError(format!("server.ledger: {e}")))?;
            Ok(KeyDirectory::new(&secret))
        }
        LedgerTarget::Postgres(_) => {
            log::warn!(
                "keys: admin.key_secret is not set; API keys made here verify only on this \
                 instance until it restarts"
            );
            Ok(KeyDirectory::ephemeral())
        }
        LedgerTarget::Off => Ok(KeyDirectory::ephemeral()),
    }
}

/// Every secret of the config (provider keys, AWS credentials, client keys, the admin token
/// and key secret): the audit trail redacts each one wherever it appears.
fn config_secrets(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for p in &config.providers {
        out.push(p.api_key.expose().to_string());
        if let Some(aws) = &p.aws {
            out.push(aws.access_key_id.expose().to_string());
            out.push(aws.secret_access_key.expose().to_string());
            if let Some(t) = &aws.session_token {
                out.push(t.expose().to_string());
            }
        }
    }
    for k in &config.keys {
        out.push(k.key.expose().to_string());
    }
    for s in [&config.admin.token, &config.admin.key_secret]
        .into_iter()
        .flatten()
    {
        out.push(s.expose().to_string());
    }
    if let crate::config::CounterTarget::Redis(url) = &config.server.counters {
        out.push(url.expose().to_string());
    }
    out.retain(|s| s.len() >= 8);
    out
}

/// Builds the server with all services from `config`, loaded from `path` (watched for hot
/// reload); call [`Server::run_forever`] on the result. With [`Listeners::Upgrade`] this blocks
/// until the running gateway has handed over its listening sockets.
pub fn build(config: Config, path: &Path, listeners: Listeners) -> Result<Server, StartError> {
    let upgrade = listeners == Listeners::Upgrade;
    if upgrade {
        // The old process still holds both listeners, so a test bind would fail.
        check_upgrade_sock(&config)?;
        log::info!(
            "upgrade: waiting for the running gateway's listening sockets on {} (send it SIGQUIT)",
            config.server.upgrade_sock
        );
    } else {
        check_listeners(&config)?;
    }
    let conf = server_conf(&config);
    let opt = Opt {
        upgrade,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    if upgrade {
        log::info!("upgrade: listening sockets taken over");
    }
    let config = Arc::new(config);
    let snapshot = build_snapshot(config.clone(), None);
    let (access_log, writer) = AccessLog::new(&config.server.access_log);
    let (ledger, ledger_writer) = crate::ledger::Ledger::new(&config.server.ledger);
    let in_flight = InFlight::default();
    let keys = Arc::new(key_directory(
        &config.server.ledger,
        config.admin.key_secret.as_ref(),
    )?);
    keys.set_config_keys(config_keys(&config));
    let key_store = Arc::new(KeyStore::new(&config.server.ledger));
    let (alerts, alert_sender) = match &config.alerts.webhook {
        Some(url) => {
            let (a, s) = crate::alerts::Alerts::new(url)
                .map_err(|e| StartError(format!("alerts.webhook: {e}")))?;
            (a, Some(s))
        }
        None => (crate::alerts::Alerts::off(), None),
    };
    let (audit, audit_writer) =
        if config.keys.iter().any(|k| k.policy.audit) || config.admin.token.is_some() {
            let secrets = config_secrets(&config);
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let (a, w) = crate::audit::AuditLog::new(&config.audit, &secrets)
                .map_err(|e| StartError(format!("audit: {e}")))?;
            (a, Some(w))
        } else {
            (crate::audit::AuditLog::off(), None)
        };
    let state_quota = crate::quota::build(&config.server.counters, config.limits.lease)
        .map_err(|e| StartError(format!("server.counters: {e}")))?;
    let ledger_reader = Arc::new(crate::ledger::query::ReaderCell::new(
        config.server.ledger.clone(),
    ));
    let (settlements, settle_inbox) = crate::proxy::observe::settle::queue();
    let state = Arc::new(GatewayState {
        snapshot: ArcSwap::from_pointee(snapshot),
        connector: Connector::new(Some(ConnectorOptions::from_server_conf(
            &server.configuration,
        ))),
        access_log: access_log.clone(),
        ledger: ledger.clone(),
        in_flight: in_flight.clone(),
        keys: keys.clone(),
        quota: state_quota.clone(),
        ledger_reader: ledger_reader.clone(),
        alerts,
        audit: audit.clone(),
        health: HealthRegistry::new(config.server.health),
        retry_budget: RetryBudget::new(config.server.retry.budget, std::time::Instant::now()),
        settlements,
    });
    // The in-process store settles inline; only a remote store needs the settlement service.
    if !state.quota.completes_inline() {
        server.add_service(background_service(
            "limit settlement",
            crate::proxy::observe::settle::SettleService::new(settle_inbox, state.clone()),
        ));
    }

    let mut proxy = pingora::proxy::http_proxy_service_with_name(
        &server.configuration,
        Gateway {
            state: state.clone(),
        },
        "switchyard",
    );
    proxy.add_tcp(&config.server.listen.to_string());
    server.add_service(proxy);

    let mut admin = Service::new(
        "switchyard admin".to_string(),
        AdminApp {
            in_flight: in_flight.clone(),
            admin_token: config.admin.token.clone(),
            keys: Arc::new(KeysAdmin::new(keys.clone(), key_store.clone())),
            ledger_reader: ledger_reader.clone(),
        },
    );
    admin.add_tcp(&config.server.admin_listen.to_string());
    admin.threads = Some(1);
    server.add_service(admin);

    let health_state = state.clone();
    server.add_service(background_service(
        "upstream health",
        HealthService::new(Box::new(move || {
            health_state.snapshot.load().upstreams.balancers().to_vec()
        })),
    ));
    server.add_service(background_service(
        "config reload",
        ReloadService::new(path.to_path_buf(), state),
    ));
    if key_store.is_shared() {
        server.add_service(background_service(
            "key refresh",
            KeyRefresher::new(keys, key_store, config.admin.key_refresh),
        ));
    }
    if let Some(w) = writer {
        server.add_service(background_service("access log", w));
    }
    if let Some(w) = ledger_writer {
        server.add_service(background_service("usage ledger", w));
    }
    if config.server.ledger != LedgerTarget::Off {
        server.add_service(background_service(
            "budget seed",
            crate::quota::seed::SeedService {
                reader: ledger_reader.clone(),
                store: state_quota.clone(),
            },
        ));
    }
    if let Some(s) = alert_sender {
        server.add_service(background_service("budget alerts", s));
    }
    if let Some(w) = audit_writer {
        server.add_service(background_service("audit trail", w));
    }
    server.add_service(background_service(
        "shutdown watcher",
        ShutdownWatcher {
            in_flight,
            access_log,
            ledger,
            audit,
            grace: config.server.grace_period,
        },
    ));
    Ok(server)
}
