//! One `providers:` entry, per kind: the fields every kind takes ([`RawCommon`]) and the ones
//! only its own kind takes ([`RawKind`]). A field of another kind is an unknown field.
//!
//! An entry is read in two steps, so that every error keeps the YAML path of its field: first
//! its `kind`, then the whole mapping as that kind's struct (`deny_unknown_fields`). serde's
//! internally tagged enums (`tag = "kind"`) buffer the mapping and lose the field path, and
//! `flatten` cannot be combined with `deny_unknown_fields`.

use crate::config::{ConfigError, PRESETS, ProviderKind};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// A `providers:` entry.
#[derive(Debug)]
pub struct RawProvider {
    pub common: RawCommon,
    pub kind: RawKind,
}

/// An OpenAI-compatible preset from [`PRESETS`]: (name, default base URL).
pub type Preset = (&'static str, &'static str);

/// The kind of a provider with the fields only that kind takes.
#[derive(Debug)]
pub enum RawKind {
    /// `openai`, or an OpenAI-compatible preset (`kind: groq`).
    OpenAi {
        preset: Option<Preset>,
    },
    Anthropic(RawAnthropic),
    Gemini,
    Bedrock(RawBedrock),
    Azure(RawAzure),
    Ollama,
    Cohere,
}

/// Declares [`RawCommon`] and, for every kind with fields of its own, the struct of those
/// fields plus the private struct an entry of that kind is read as (common fields and its own,
/// nothing else). The common fields are written once, here.
macro_rules! provider_structs {
    (
        $common:tt
        $( $(#[$km:meta])* $entry:ident => $own:ident $fields:tt )*
    ) => {
        provider_structs!(@common $common);
        $( provider_structs!(@kind $common $(#[$km])* $entry => $own $fields); )*
    };
    (@common { $( $(#[$cm:meta])* $cf:ident: $cty:ty, )* }) => {
        /// The fields every kind takes.
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawCommon {
            $( $(#[$cm])* pub $cf: $cty, )*
        }
    };
    (
        @kind { $( $(#[$cm:meta])* $cf:ident: $cty:ty, )* }
        $(#[$km:meta])* $entry:ident => $own:ident { $( $(#[$fm:meta])* $f:ident: $fty:ty, )* }
    ) => {
        $(#[$km])*
        #[derive(Debug)]
        pub struct $own {
            $( $(#[$fm])* pub $f: $fty, )*
        }

        impl $own {
            /// The config spelling of this kind's own fields.
            pub const FIELDS: &'static [&'static str] = &[$( stringify!($f) ),*];
        }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $entry {
            $( $(#[$cm])* $cf: $cty, )*
            $( $(#[$fm])* $f: $fty, )*
        }

        impl $entry {
            fn split(self) -> (RawCommon, $own) {
                (RawCommon { $( $cf: self.$cf, )* }, $own { $( $f: self.$f, )* })
            }
        }
    };
}

provider_structs! {
    {
        name: String,
        /// As written: a kind (`openai`, `anthropic`, …) or an OpenAI-compatible preset (`groq`,
        /// `mistral`, …); [`RawKind`] says which.
        kind: String,
        /// What the provider's own SDK takes; optional where the kind or preset has a default.
        #[serde(default)]
        base_url: Option<String>,
        #[serde(default)]
        api_key: Option<String>,
        /// What to do with a parameter this provider cannot honour, for every such parameter:
        /// `reject` (400 naming it) or `drop`. Unset: each parameter's documented default.
        #[serde(default)]
        unsupported_params: Option<String>,
        /// Per-parameter override of `unsupported_params` (`seed: reject`, `n: drop`, …).
        #[serde(default)]
        params: BTreeMap<String, String>,
        #[serde(default, with = "humantime_serde")]
        connect_timeout: Option<Duration>,
        #[serde(default, with = "humantime_serde")]
        first_byte_timeout: Option<Duration>,
        #[serde(default, with = "humantime_serde")]
        stream_idle_timeout: Option<Duration>,
        /// `max_tokens` sent to providers that require it when the client gave none.
        #[serde(default)]
        default_max_tokens: Option<u64>,
        /// Extra headers sent on every request to this provider.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// Active health checks (TCP/TLS connect) of this provider's endpoints.
        #[serde(default)]
        health_check: Option<bool>,
        /// Prices (USD per million tokens) for every model of this provider, replacing the
        /// catalog's: `free`, or `{ input, output, cache_read, cache_write }`.
        #[serde(default)]
        prices: Option<RawPrices>,
    }
    /// `kind: anthropic`'s own fields.
    AnthropicEntry => RawAnthropic {
        /// The `anthropic-version` header.
        anthropic_version: Option<String>,
        /// `auto`: the gateway sets prompt-cache breakpoints (tools, system, last user turn)
        /// when the client set none; `off` (default).
        prompt_cache: Option<String>,
    }
    /// `kind: bedrock`'s own fields.
    BedrockEntry => RawBedrock {
        /// AWS region (default `AWS_REGION` / `AWS_DEFAULT_REGION`).
        region: Option<String>,
        /// Credentials (default the standard AWS environment variables).
        aws_access_key_id: Option<String>,
        aws_secret_access_key: Option<String>,
        aws_session_token: Option<String>,
        /// `auto` or `off` (default), as for `anthropic`: `cachePoint`s instead.
        prompt_cache: Option<String>,
    }
    /// `kind: azure`'s own fields.
    AzureEntry => RawAzure {
        /// Deployment URLs: the `api-version` query parameter.
        api_version: Option<String>,
    }
}

/// Kinds with fields of their own, for naming where a misplaced field belongs.
const OWN_FIELDS: [(&str, &[&str]); 3] = [
    ("anthropic", RawAnthropic::FIELDS),
    ("bedrock", RawBedrock::FIELDS),
    ("azure", RawAzure::FIELDS),
];

/// `prices:` of a provider.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPrices {
    /// `free` (the only accepted word).
    Word(String),
    Table(RawPriceTable),
}

/// `prices: { input, output, cache_read, cache_write }` in USD per million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPriceTable {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub cache_write: Option<f64>,
}

impl RawProvider {
    /// Reads one `providers:` entry. An error's path is relative to the entry (`region`,
    /// `prices.input`, or empty for the entry itself).
    pub fn from_yaml(entry: Value) -> Result<RawProvider, ConfigError> {
        let map: Mapping =
            serde_yaml::from_value(entry).map_err(|e| ConfigError::new("", e.to_string()))?;
        let written = match map.get("kind") {
            None => return Err(ConfigError::new("", "missing field `kind`")),
            Some(v) => serde_yaml::from_value::<String>(v.clone())
                .map_err(|e| ConfigError::new("kind", e.to_string()))?,
        };
        let (kind, preset) = kind(&written)?;
        let (common, kind) = match kind {
            ProviderKind::OpenAi => (read(map, &written)?, RawKind::OpenAi { preset }),
            ProviderKind::Gemini => (read(map, &written)?, RawKind::Gemini),
            ProviderKind::Ollama => (read(map, &written)?, RawKind::Ollama),
            ProviderKind::Cohere => (read(map, &written)?, RawKind::Cohere),
            ProviderKind::Anthropic => {
                let (c, own) = read::<AnthropicEntry>(map, &written)?.split();
                (c, RawKind::Anthropic(own))
            }
            ProviderKind::Bedrock => {
                let (c, own) = read::<BedrockEntry>(map, &written)?.split();
                (c, RawKind::Bedrock(own))
            }
            ProviderKind::Azure => {
                let (c, own) = read::<AzureEntry>(map, &written)?.split();
                (c, RawKind::Azure(own))
            }
        };
        Ok(RawProvider { common, kind })
    }
}

/// A kind name, or a preset name (the `openai` kind with a default base URL).
fn kind(name: &str) -> Result<(ProviderKind, Option<Preset>), ConfigError> {
    if let Some((_, k)) = ProviderKind::ALL.iter().find(|(n, _)| *n == name) {
        return Ok((*k, None));
    }
    if let Some(p) = PRESETS.iter().find(|(n, _)| *n == name) {
        return Ok((ProviderKind::OpenAi, Some(*p)));
    }
    let kinds: Vec<&str> = ProviderKind::ALL.iter().map(|(n, _)| *n).collect();
    let presets: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
    Err(ConfigError::new(
        "kind",
        format!(
            "unknown kind \"{name}\" (expected one of: {}; or an OpenAI-compatible preset: {})",
            kinds.join(", "),
            presets.join(", ")
        ),
    ))
}

/// The entry as the struct of its kind (`written`: the kind or preset as written).
fn read<T: DeserializeOwned>(map: Mapping, written: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(Value::Mapping(map)).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = match e.path().iter().collect::<Vec<_>>()[..] {
            [Segment::Map { key }] => misplaced(key, written),
            _ => None,
        };
        ConfigError::new(path, message.unwrap_or_else(|| e.into_inner().to_string()))
    })
}

/// The message for an error at top-level field `field` when that field belongs to other kinds
/// only: serde rejected it as unknown for this kind.
fn misplaced(field: &str, written: &str) -> Option<String> {
    let owners: Vec<&str> = OWN_FIELDS
        .iter()
        .filter(|(_, fields)| fields.contains(&field))
        .map(|(k, _)| *k)
        .collect();
    if owners.is_empty() || owners.contains(&written) {
        return None;
    }
    let kinds = if owners.len() == 1 { "kind" } else { "kinds" };
    Some(format!(
        "unknown field `{field}` for kind {written} (it applies to {kinds} {})",
        owners.join(", ")
    ))
}
