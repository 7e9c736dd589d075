//! Provider entries: the kind's own settings (Bedrock region and credentials, Azure
//! api-version, Anthropic version), base URL, parameter policy and price overrides.

use super::{Lookup, VResult, check_name, positive};
use crate::catalog::Prices;
use crate::config::raw::{Preset, RawBedrock, RawCommon, RawKind, RawPrices, RawProvider};
use crate::config::{
    AwsCredentials, ConfigError, Endpoint, ParamAction, ParamPolicy, ProviderKind,
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
    let RawProvider { common: raw, kind } = raw;
    check_name(&format!("{at}.name"), &raw.name)?;
    if raw.name.contains('/') {
        return Err(ConfigError::new(
            format!("{at}.name"),
            "must not contain '/'",
        ));
    }
    let own = kind_settings(at, kind, env)?;
    let bedrock_url;
    let base_url = match (&raw.base_url, own.preset, own.kind) {
        (Some(u), _, _) => u.as_str(),
        (None, Some((_, url)), _) => url,
        (None, None, ProviderKind::Bedrock) => {
            bedrock_url = format!("https://bedrock-runtime.{}.amazonaws.com", own.region);
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
        kind: own.kind,
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
        anthropic_version: own.anthropic_version,
        headers,
        health_check: raw.health_check.unwrap_or(true),
        preset: own.preset.map(|(name, _)| name),
        region: own.region,
        aws: own.aws,
        api_version: own.api_version,
        params,
        prices,
        prompt_cache_auto: own.prompt_cache_auto,
    })
}

/// `prompt_cache`: `auto` or `off`.
fn prompt_cache(at: &str, raw: Option<&str>) -> VResult<bool> {
    match raw {
        None | Some("off") => Ok(false),
        Some("auto") => Ok(true),
        Some(other) => Err(ConfigError::new(
            format!("{at}.prompt_cache"),
            format!("\"{other}\" must be auto or off"),
        )),
    }
}

/// What a provider's kind decides: the wire protocol, the preset, and the settings only some
/// kinds take (every other kind keeps the defaults, which it does not use).
struct KindSettings {
    kind: ProviderKind,
    preset: Option<Preset>,
    region: String,
    aws: Option<AwsCredentials>,
    api_version: String,
    anthropic_version: String,
    prompt_cache_auto: bool,
}

fn kind_settings(at: &str, kind: RawKind, env: Lookup<'_>) -> VResult<KindSettings> {
    let mut own = KindSettings {
        kind: ProviderKind::OpenAi,
        preset: None,
        region: String::new(),
        aws: None,
        api_version: "2024-10-21".to_string(),
        anthropic_version: "2023-06-01".to_string(),
        prompt_cache_auto: false,
    };
    match kind {
        RawKind::OpenAi { preset } => own.preset = preset,
        RawKind::Anthropic(a) => {
            own.kind = ProviderKind::Anthropic;
            own.prompt_cache_auto = prompt_cache(at, a.prompt_cache.as_deref())?;
            if let Some(v) = a.anthropic_version {
                own.anthropic_version = v;
            }
        }
        RawKind::Gemini => own.kind = ProviderKind::Gemini,
        RawKind::Bedrock(b) => {
            own.kind = ProviderKind::Bedrock;
            own.prompt_cache_auto = prompt_cache(at, b.prompt_cache.as_deref())?;
            own.region = region(at, b.region.clone(), env)?;
            own.aws = Some(aws_credentials(at, &b, env)?);
        }
        RawKind::Azure(a) => {
            own.kind = ProviderKind::Azure;
            if let Some(v) = a.api_version {
                own.api_version = api_version(at, v)?;
            }
        }
        RawKind::Ollama => own.kind = ProviderKind::Ollama,
        RawKind::Cohere => own.kind = ProviderKind::Cohere,
    }
    Ok(own)
}

/// Bedrock: the region from config, else `AWS_REGION` / `AWS_DEFAULT_REGION`.
fn region(at: &str, raw: Option<String>, env: Lookup<'_>) -> VResult<String> {
    let region = raw
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
    Ok(region)
}

/// Azure: the `api-version` of deployment URLs.
fn api_version(at: &str, v: String) -> VResult<String> {
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ConfigError::new(
            format!("{at}.api_version"),
            "must be an api-version such as 2024-10-21",
        ));
    }
    Ok(v)
}

/// Bedrock credentials: config first, else the standard AWS environment variables.
fn aws_credentials(at: &str, raw: &RawBedrock, env: Lookup<'_>) -> VResult<AwsCredentials> {
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

fn param_policy(at: &str, raw: &RawCommon) -> VResult<ParamPolicy> {
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
