//! Raw config → runtime [`Config`]: every cross-reference resolved, every value range-checked,
//! each failure reported with the YAML path of the offending field.

use super::raw::{RawConfig, RawPrices, RawProvider, RawRoute, RawServer};
use super::{
    AccessLogTarget, AwsCredentials, ClientKey, Config, ConfigError, Endpoint, PRESETS,
    ParamAction, ParamPolicy, ProviderKind, ProviderSettings, Route, Secret, ServerSettings,
    Target, Timeouts,
};
use crate::catalog::{Catalog, Prices};
use http::{HeaderName, HeaderValue, Uri};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9090";
const DEFAULT_MAX_BODY: u64 = 32 * 1024 * 1024;
const MAX_WEIGHT: u32 = 1_000_000;

type VResult<T> = Result<T, ConfigError>;

/// Environment lookup (the process environment, or a test's map).
pub(super) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(super) fn validate(raw: RawConfig, env: Lookup<'_>) -> VResult<Config> {
    let catalog = catalog(raw.server.catalog.as_deref())?;
    let server = server(raw.server)?;
    let mut providers = Vec::with_capacity(raw.providers.len());
    let mut names = HashSet::new();
    for (i, p) in raw.providers.into_iter().enumerate() {
        let at = format!("providers[{i}]");
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
        let at = format!("routes[{i}]");
        let route = route(&at, r, &provider_names)?;
        if let Some(prev) = routes.iter().position(|p: &Route| p.name == route.name) {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!("duplicate route name (also routes[{prev}])"),
            ));
        }
        if let Some(prev) = routes.iter().position(|p: &Route| p.model == route.model) {
            return Err(ConfigError::new(
                format!("{at}.match.model"),
                format!(
                    "model \"{}\" is already matched by routes[{prev}]",
                    route.model
                ),
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
        keys.push(ClientKey {
            name: k.name,
            key: Secret::new(k.key),
        });
    }
    if keys.is_empty() {
        return Err(ConfigError::new(
            "keys",
            "at least one client key is required",
        ));
    }
    Ok(Config {
        server,
        providers,
        routes,
        keys,
        catalog,
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

/// `prices: free` or `{ input, output, cache_read, cache_write }` (USD per million tokens).
fn prices(at: &str, raw: Option<&RawPrices>) -> VResult<Option<Prices>> {
    match raw {
        None => Ok(None),
        Some(RawPrices::Word(w)) if w == "free" => Ok(Some(Prices::FREE)),
        Some(RawPrices::Word(w)) => Err(ConfigError::new(
            format!("{at}.prices"),
            format!("\"{w}\" must be free or {{ input, output, cache_read, cache_write }}"),
        )),
        Some(RawPrices::Table(t)) => {
            Prices::from_usd(t.input, t.output, t.cache_read, t.cache_write)
                .map(Some)
                .map_err(|(field, e)| ConfigError::new(format!("{at}.prices.{field}"), e))
        }
    }
}

fn server(raw: RawServer) -> VResult<ServerSettings> {
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
        upstream_keepalive_pool_size: raw.upstream_keepalive_pool_size.unwrap_or(128),
        health_check_interval: positive(
            "server.health_check_interval",
            raw.health_check_interval,
            Duration::from_secs(10),
        )?,
        pid_file: raw
            .pid_file
            .unwrap_or_else(|| "/tmp/switchyard.pid".to_string()),
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
    })
}

fn provider(
    at: &str,
    raw: RawProvider,
    server: &ServerSettings,
    env: Lookup<'_>,
) -> VResult<ProviderSettings> {
    check_name(&format!("{at}.name"), &raw.name)?;
    if raw.name.contains('/') {
        return Err(ConfigError::new(
            format!("{at}.name"),
            "must not contain '/'",
        ));
    }
    let (kind, preset) = kind(&format!("{at}.kind"), &raw.kind)?;
    let region = if kind == ProviderKind::Bedrock {
        let region = raw
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{at}.region"),
                    "required for bedrock (or set AWS_REGION)",
                )
            })?;
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ConfigError::new(
                format!("{at}.region"),
                format!("\"{region}\" is not an AWS region name"),
            ));
        }
        region
    } else {
        if raw.region.is_some() {
            return Err(only_for(at, "region", "bedrock"));
        }
        String::new()
    };
    let aws = if kind == ProviderKind::Bedrock {
        Some(aws_credentials(at, &raw, env)?)
    } else {
        for (field, v) in [
            ("aws_access_key_id", &raw.aws_access_key_id),
            ("aws_secret_access_key", &raw.aws_secret_access_key),
            ("aws_session_token", &raw.aws_session_token),
        ] {
            if v.is_some() {
                return Err(only_for(at, field, "bedrock"));
            }
        }
        None
    };
    if kind != ProviderKind::Azure && raw.api_version.is_some() {
        return Err(only_for(at, "api_version", "azure"));
    }
    let api_version = raw
        .api_version
        .clone()
        .unwrap_or_else(|| "2024-10-21".to_string());
    if api_version.is_empty()
        || !api_version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ConfigError::new(
            format!("{at}.api_version"),
            "must be an api-version such as 2024-10-21",
        ));
    }
    let bedrock_url;
    let base_url = match (&raw.base_url, preset, kind) {
        (Some(u), _, _) => u.as_str(),
        (None, Some((_, url)), _) => url,
        (None, None, ProviderKind::Bedrock) => {
            bedrock_url = format!("https://bedrock-runtime.{region}.amazonaws.com");
            bedrock_url.as_str()
        }
        (None, None, k) => k.default_base_url().ok_or_else(|| {
            ConfigError::new(
                format!("{at}.base_url"),
                format!("required for kind {}", k.as_str()),
            )
        })?,
    };
    let endpoint = endpoint(&format!("{at}.base_url"), base_url)?;
    let params = param_policy(at, &raw)?;
    let prices = prices(at, raw.prices.as_ref())?;
    let mut headers = Vec::with_capacity(raw.headers.len());
    for (name, value) in &raw.headers {
        let hat = format!("{at}.headers.{name}");
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConfigError::new(&hat, "invalid header name"))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| ConfigError::new(&hat, "invalid header value"))?;
        headers.push((n, v));
    }
    let default_max_tokens = raw.default_max_tokens.unwrap_or(4096);
    if default_max_tokens == 0 {
        return Err(ConfigError::new(
            format!("{at}.default_max_tokens"),
            "must be at least 1",
        ));
    }
    let api_key = raw.api_key.unwrap_or_default();
    if api_key.chars().any(|c| c.is_control()) {
        return Err(ConfigError::new(
            format!("{at}.api_key"),
            "contains control characters",
        ));
    }
    Ok(ProviderSettings {
        name: raw.name,
        kind,
        endpoint,
        api_key: Secret::new(api_key),
        // Provider values override the server-level defaults.
        timeouts: Timeouts {
            connect: positive(
                &format!("{at}.connect_timeout"),
                raw.connect_timeout,
                server.default_timeouts.connect,
            )?,
            first_byte: positive(
                &format!("{at}.first_byte_timeout"),
                raw.first_byte_timeout,
                server.default_timeouts.first_byte,
            )?,
            stream_idle: positive(
                &format!("{at}.stream_idle_timeout"),
                raw.stream_idle_timeout,
                server.default_timeouts.stream_idle,
            )?,
        },
        default_max_tokens,
        anthropic_version: raw
            .anthropic_version
            .unwrap_or_else(|| "2023-06-01".to_string()),
        headers,
        health_check: raw.health_check.unwrap_or(true),
        preset: preset.map(|(name, _)| name),
        region,
        aws,
        api_version,
        params,
        prices,
    })
}

/// A kind name or a preset name (which is the `openai` kind with a default base URL).
fn kind(at: &str, name: &str) -> VResult<(ProviderKind, Option<(&'static str, &'static str)>)> {
    if let Some((_, k)) = ProviderKind::ALL.iter().find(|(n, _)| *n == name) {
        return Ok((*k, None));
    }
    if let Some(p) = PRESETS.iter().find(|(n, _)| *n == name) {
        return Ok((ProviderKind::OpenAi, Some(*p)));
    }
    let kinds: Vec<&str> = ProviderKind::ALL.iter().map(|(n, _)| *n).collect();
    let presets: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
    Err(ConfigError::new(
        at,
        format!(
            "unknown kind \"{name}\" (expected one of: {}; or an OpenAI-compatible preset: {})",
            kinds.join(", "),
            presets.join(", ")
        ),
    ))
}

fn only_for(at: &str, field: &str, kind: &str) -> ConfigError {
    ConfigError::new(
        format!("{at}.{field}"),
        format!("only applies to kind {kind}"),
    )
}

/// Bedrock credentials: config first, else the standard AWS environment variables.
fn aws_credentials(at: &str, raw: &RawProvider, env: Lookup<'_>) -> VResult<AwsCredentials> {
    let pick =
        |v: &Option<String>, var: &str| v.clone().or_else(|| env(var)).filter(|s| !s.is_empty());
    let id = pick(&raw.aws_access_key_id, "AWS_ACCESS_KEY_ID").ok_or_else(|| {
        ConfigError::new(
            format!("{at}.aws_access_key_id"),
            "required for bedrock (or set AWS_ACCESS_KEY_ID)",
        )
    })?;
    let secret = pick(&raw.aws_secret_access_key, "AWS_SECRET_ACCESS_KEY").ok_or_else(|| {
        ConfigError::new(
            format!("{at}.aws_secret_access_key"),
            "required for bedrock (or set AWS_SECRET_ACCESS_KEY)",
        )
    })?;
    // A session token from the environment belongs to the environment's key pair only.
    let token = if raw.aws_access_key_id.is_some() {
        raw.aws_session_token.clone().filter(|s| !s.is_empty())
    } else {
        pick(&raw.aws_session_token, "AWS_SESSION_TOKEN")
    };
    for (field, v) in [
        ("aws_access_key_id", Some(&id)),
        ("aws_secret_access_key", Some(&secret)),
        ("aws_session_token", token.as_ref()),
    ] {
        if v.is_some_and(|v| v.chars().any(|c| c.is_control() || c == ' ')) {
            return Err(ConfigError::new(
                format!("{at}.{field}"),
                "contains spaces or control characters",
            ));
        }
    }
    Ok(AwsCredentials {
        access_key_id: Secret::new(id),
        secret_access_key: Secret::new(secret),
        session_token: token.map(Secret::new),
    })
}

fn param_action(at: &str, value: &str) -> VResult<ParamAction> {
    match value {
        "reject" => Ok(ParamAction::Reject),
        "drop" => Ok(ParamAction::Drop),
        other => Err(ConfigError::new(
            at,
            format!("\"{other}\" must be reject or drop"),
        )),
    }
}

fn param_policy(at: &str, raw: &RawProvider) -> VResult<ParamPolicy> {
    let all = raw
        .unsupported_params
        .as_deref()
        .map(|v| param_action(&format!("{at}.unsupported_params"), v))
        .transpose()?;
    let mut overrides = Vec::with_capacity(raw.params.len());
    for (name, value) in &raw.params {
        let pat = format!("{at}.params.{name}");
        if !crate::providers::params::KNOWN.contains(&name.as_str()) {
            return Err(ConfigError::new(
                pat,
                format!(
                    "unknown parameter (expected one of: {})",
                    crate::providers::params::KNOWN.join(", ")
                ),
            ));
        }
        overrides.push((name.clone(), param_action(&pat, value)?));
    }
    Ok(ParamPolicy { all, overrides })
}

fn route(at: &str, raw: RawRoute, providers: &[&str]) -> VResult<Route> {
    check_name(&format!("{at}.name"), &raw.name)?;
    if raw.matcher.model.is_empty() {
        return Err(ConfigError::new(
            format!("{at}.match.model"),
            "must not be empty",
        ));
    }
    if raw.targets.is_empty() {
        return Err(ConfigError::new(
            format!("{at}.targets"),
            "at least one target is required",
        ));
    }
    let mut targets = Vec::with_capacity(raw.targets.len());
    for (i, t) in raw.targets.into_iter().enumerate() {
        let tat = format!("{at}.targets[{i}]");
        if t.weight == 0 || t.weight > MAX_WEIGHT {
            return Err(ConfigError::new(
                format!("{tat}.weight"),
                format!("must be between 1 and {MAX_WEIGHT}"),
            ));
        }
        targets.push(target(&tat, &t.provider, t.model, t.weight, providers)?);
    }
    let mut fallback = Vec::with_capacity(raw.fallback.len());
    for (i, f) in raw.fallback.into_iter().enumerate() {
        fallback.push(target(
            &format!("{at}.fallback[{i}]"),
            &f.provider,
            f.model,
            1,
            providers,
        )?);
    }
    Ok(Route {
        name: raw.name,
        model: raw.matcher.model,
        targets,
        fallback,
    })
}

fn target(
    at: &str,
    provider: &str,
    model: String,
    weight: u32,
    providers: &[&str],
) -> VResult<Target> {
    let id = providers
        .iter()
        .position(|p| *p == provider)
        .ok_or_else(|| {
            ConfigError::new(
                format!("{at}.provider"),
                format!(
                    "unknown provider \"{provider}\" (configured: {})",
                    if providers.is_empty() {
                        "none".to_string()
                    } else {
                        providers.join(", ")
                    }
                ),
            )
        })?;
    if model.is_empty() {
        return Err(ConfigError::new(format!("{at}.model"), "must not be empty"));
    }
    Ok(Target {
        provider: id,
        model,
        weight,
    })
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

/// Splits a base URL (`https://api.openai.com/v1`) into an [`Endpoint`].
pub(super) fn endpoint(at: &str, url: &str) -> VResult<Endpoint> {
    let bad = |why: &str| ConfigError::new(at, format!("\"{url}\" is not a valid base URL: {why}"));
    if !url.contains("://") {
        return Err(bad("missing scheme (http:// or https://)"));
    }
    let uri: Uri = url.parse().map_err(|_| bad("cannot parse"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        Some(_) => return Err(bad("scheme must be http or https")),
        None => return Err(bad("missing scheme (http:// or https://)")),
    };
    let authority = uri.authority().ok_or_else(|| bad("missing host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("credentials in the URL are not allowed; use api_key"));
    }
    let host = authority.host().to_string();
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(bad("query and fragment are not allowed"));
    }
    let default_port = if tls { 443 } else { 80 };
    let port = authority.port_u16().unwrap_or(default_port);
    let path_prefix = uri.path().trim_end_matches('/').to_string();
    let authority = if port == default_port {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    Ok(Endpoint {
        tls,
        host,
        port,
        path_prefix,
        authority,
    })
}
