//! Provider entries: kind or preset, base URL, credentials, Bedrock and Azure settings,
//! parameter policy and price overrides.

use super::{Lookup, VResult, check_name, positive};
use crate::catalog::Prices;
use crate::config::raw::{RawPrices, RawProvider};
use crate::config::{
    AwsCredentials, ConfigError, Endpoint, PRESETS, ParamAction, ParamPolicy, ProviderKind,
    ProviderSettings, Secret, ServerSettings, Timeouts,
};
use http::{HeaderName, HeaderValue, Uri};

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

pub(super) fn provider(
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

/// Splits a base URL (`https://api.openai.com/v1`) into an [`Endpoint`].
pub(in crate::config) fn endpoint(at: &str, url: &str) -> VResult<Endpoint> {
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
