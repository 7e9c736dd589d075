//! The model catalog: context windows, output limits, capabilities and prices per
//! (provider, model), generated into `conf/models.json` by `scripts/gen_catalog.py` from
//! litellm's MIT-licensed price list and embedded in the binary. `server.catalog` replaces it
//! with a file of the same format.
//!
//! Prices are held as integer pico-dollars per token ([`Price`]) and costs are integer
//! micro-dollars ([`cost`]); no float ever touches a running total.
//!
//! [`Catalog::lookup`] tries the exact `(provider, model)` first, then a few documented,
//! provider-specific spellings of the *same* model (see [`fallbacks`]). It never borrows a price
//! from a different model: an unknown model is `None`, never free.

pub mod cost;

pub use cost::cost;

use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, LazyLock};

/// The catalog generated from litellm (see `conf/models.LICENSE`).
const EMBEDDED: &str = include_str!("../../conf/models.json");

/// Highest accepted price: 1,000,000 USD per million tokens (1 USD per token).
const MAX_USD_PER_MILLION: f64 = 1_000_000.0;

/// A price in integer pico-dollars (1e-12 USD) per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(pub u64);

impl Price {
    /// From USD per million tokens (the catalog and config unit), rounded to the nearest
    /// pico-dollar per token. `Err` for negative, non-finite or absurd values.
    pub fn from_usd_per_million(usd: f64) -> Result<Price, String> {
        if !usd.is_finite() || usd < 0.0 {
            return Err(format!(
                "{usd} is not a price (USD per million tokens, >= 0)"
            ));
        }
        if usd > MAX_USD_PER_MILLION {
            return Err(format!(
                "{usd} USD per million tokens is above the limit of {MAX_USD_PER_MILLION}"
            ));
        }
        // USD/M → USD/token is 1e-6; USD → pico-dollars is 1e12: together ×1e6.
        // Cast: finite, non-negative and at most 1e12 after the checks above.
        Ok(Price((usd * 1e6).round() as u64))
    }

    /// Back to USD per million tokens, for display.
    // Cast: prices are at most 1e12, exact in f64.
    pub fn usd_per_million(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

/// What a model costs per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    pub input: Price,
    pub output: Price,
    /// Cached prompt tokens; `None`: unknown (billed at `input`).
    pub cache_read: Option<Price>,
    /// Prompt tokens written to the cache; `None`: unknown (billed at `input`).
    pub cache_write: Option<Price>,
}

impl Prices {
    /// Every price zero (`prices: free` for self-hosted models).
    pub const FREE: Prices = Prices {
        input: Price(0),
        output: Price(0),
        cache_read: Some(Price(0)),
        cache_write: Some(Price(0)),
    };

    /// From USD-per-million values.
    pub fn from_usd(
        input: f64,
        output: f64,
        cache_read: Option<f64>,
        cache_write: Option<f64>,
    ) -> Result<Prices, (&'static str, String)> {
        let p =
            |field: &'static str, v: f64| Price::from_usd_per_million(v).map_err(|e| (field, e));
        Ok(Prices {
            input: p("input", input)?,
            output: p("output", output)?,
            cache_read: cache_read.map(|v| p("cache_read", v)).transpose()?,
            cache_write: cache_write.map(|v| p("cache_write", v)).transpose()?,
        })
    }
}

/// What a model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Chat,
    Embedding,
}

/// One catalog entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Our provider kind or preset name (`openai`, `bedrock`, `groq`, …).
    pub provider: String,
    /// The model id as that provider's API expects it.
    pub id: String,
    pub mode: Mode,
    /// Most input tokens (`max_input_tokens`).
    pub context_window: Option<u64>,
    pub max_output_tokens: Option<u64>,
    /// `None`: the source gives no price; such a model is unpriced, never free.
    pub prices: Option<Prices>,
    /// `tools`, `vision`, `reasoning`, `prompt_caching`, `response_schema`, …
    pub capabilities: Vec<String>,
}

/// Where the catalog came from (the `_source` header).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Source {
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub version: String,
}

/// All known models, indexed by provider then model id.
pub struct Catalog {
    source: Source,
    models: Vec<Model>,
    index: HashMap<String, HashMap<String, usize>>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("source", &self.source)
            .field("models", &self.models.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(rename = "_source", default)]
    source: Source,
    models: Vec<RawModel>,
}

#[derive(Deserialize)]
struct RawModel {
    provider: String,
    id: String,
    mode: Mode,
    #[serde(default)]
    context_window: Option<u64>,
    #[serde(default)]
    max_output_tokens: Option<u64>,
    #[serde(default)]
    prices: Option<RawPrices>,
    #[serde(default)]
    capabilities: Vec<String>,
}

#[derive(Deserialize)]
struct RawPrices {
    input: f64,
    output: f64,
    #[serde(default)]
    cache_read: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
}

static EMBEDDED_CATALOG: LazyLock<Result<Arc<Catalog>, String>> =
    LazyLock::new(|| Catalog::from_json(EMBEDDED).map(Arc::new));

impl Catalog {
    /// The catalog built into the binary (parsed once per process).
    pub fn embedded() -> Result<Arc<Catalog>, String> {
        EMBEDDED_CATALOG.clone()
    }

    /// Reads a catalog file in the `conf/models.json` format.
    pub fn load(path: &Path) -> Result<Catalog, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses catalog JSON; the first bad entry is named in the error.
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let raw: RawFile =
            serde_json::from_str(text).map_err(|e| format!("not a model catalog: {e}"))?;
        let mut models = Vec::with_capacity(raw.models.len());
        let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, m) in raw.models.into_iter().enumerate() {
            let at = || format!("models[{i}] ({}/{})", m.provider, m.id);
            if m.provider.is_empty() || m.id.is_empty() {
                return Err(format!("{}: provider and id must not be empty", at()));
            }
            let prices = m
                .prices
                .map(|p| Prices::from_usd(p.input, p.output, p.cache_read, p.cache_write))
                .transpose()
                .map_err(|(field, e)| format!("{}: prices.{field}: {e}", at()))?;
            let slot = index.entry(m.provider.clone()).or_default();
            if slot.insert(m.id.clone(), i).is_some() {
                return Err(format!("{}: duplicate entry", at()));
            }
            models.push(Model {
                provider: m.provider,
                id: m.id,
                mode: m.mode,
                context_window: m.context_window,
                max_output_tokens: m.max_output_tokens,
                prices,
                capabilities: m.capabilities,
            });
        }
        Ok(Catalog {
            source: raw.source,
            models,
            index,
        })
    }

    /// The model `model` of provider kind or preset `provider`: the exact id first, then the
    /// spellings of the same model listed in [`fallbacks`].
    pub fn lookup(&self, provider: &str, model: &str) -> Option<&Model> {
        let ids = self.index.get(provider)?;
        let found = ids
            .get(model)
            .or_else(|| fallbacks(provider, model).find_map(|alt| ids.get(alt)))?;
        self.models.get(*found)
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// True when the catalog has no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Every model, sorted as in the file.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The `_source` header.
    pub fn source(&self) -> &Source {
        &self.source
    }
}

/// Bedrock cross-region inference profile prefixes (`us.anthropic.claude-…`).
const BEDROCK_GEO_PREFIXES: [&str; 9] = [
    "us.", "us-gov.", "eu.", "apac.", "global.", "au.", "jp.", "ca.", "in.",
];

/// Other spellings of the same model, tried in order after the exact id:
///
/// - gemini: the REST resource name `models/gemini-2.5-flash` → `gemini-2.5-flash`;
/// - bedrock: a foundation-model or inference-profile ARN → its model id; then a cross-region
///   inference profile `us.anthropic.claude-…` → `anthropic.claude-…` (the catalog lists most
///   profiles itself, so this only applies when the exact profile is missing);
/// - ollama: the implicit tag `llama3:latest` → `llama3`.
///
/// Azure deployments are looked up by deployment name, which matches when the deployment is
/// named like its model (`gpt-4o-mini`); nothing else is guessed.
pub fn fallbacks<'a>(provider: &str, model: &'a str) -> impl Iterator<Item = &'a str> {
    let mut out: [Option<&'a str>; 3] = [None; 3];
    match provider {
        "gemini" => out[0] = model.strip_prefix("models/"),
        "bedrock" => {
            let arn_id = model
                .strip_prefix("arn:")
                .and_then(|_| {
                    ["foundation-model/", "inference-profile/"]
                        .iter()
                        .find_map(|k| model.split_once(k).map(|(_, id)| id))
                })
                .filter(|id| !id.is_empty() && !id.contains('/'));
            out[0] = arn_id;
            let base = arn_id.unwrap_or(model);
            out[1] = BEDROCK_GEO_PREFIXES
                .iter()
                .find_map(|p| base.strip_prefix(p))
                .filter(|id| !id.is_empty());
        }
        "ollama" => out[0] = model.strip_suffix(":latest").filter(|m| !m.is_empty()),
        _ => {}
    }
    out.into_iter().flatten()
}

#[cfg(test)]
mod tests;
