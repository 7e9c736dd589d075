//! `GET /v1/models` and `GET /v1/models/{id}`: what this gateway can route.

use crate::catalog::{Mode, Prices};
use crate::config::Target;
use crate::error::GatewayError;
use crate::proxy::ctx::RequestCtx;
use crate::proxy::observe::pricing;
use crate::proxy::{Fail, Snapshot, respond};
use bytes::Bytes;
use pingora::proxy::Session;
use serde::Serialize;

/// One model of the list: OpenAI's fields plus what the catalog knows. Unknown values are null.
#[derive(Debug, Serialize)]
struct Entry {
    id: String,
    object: &'static str,
    created: u64,
    owned_by: String,
    mode: Option<&'static str>,
    context_window: Option<u64>,
    max_output_tokens: Option<u64>,
    /// USD per million tokens.
    pricing: Option<Pricing>,
    capabilities: Option<Vec<String>>,
    /// Routes only: where requests for this name go.
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<Vec<TargetRef>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Pricing {
    input: f64,
    output: f64,
    cache_read: Option<f64>,
    cache_write: Option<f64>,
}

impl From<Prices> for Pricing {
    fn from(p: Prices) -> Self {
        Pricing {
            input: p.input.usd_per_million(),
            output: p.output.usd_per_million(),
            cache_read: p.cache_read.map(|c| c.usd_per_million()),
            cache_write: p.cache_write.map(|c| c.usd_per_million()),
        }
    }
}

#[derive(Debug, Serialize)]
struct TargetRef {
    id: String,
    /// Weighted targets have a weight; fallbacks, tried in order afterwards, have none.
    weight: Option<u32>,
    fallback: bool,
}

#[derive(Serialize)]
struct List {
    object: &'static str,
    data: Vec<Entry>,
}

/// Lists route models and `provider/model` names (OpenAI list format).
pub async fn list(
    snapshot: &Snapshot,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
) -> Result<(), Fail> {
    let models = entries(snapshot);
    let body = match path.strip_prefix("/v1/models/") {
        Some(id) => {
            let id = percent_decode(id);
            let model = models
                .into_iter()
                .find(|m| m.id == id)
                .ok_or_else(|| GatewayError::unknown_model(&id))?;
            serde_json::to_vec(&model)
        }
        None => serde_json::to_vec(&List {
            object: "list",
            data: models,
        }),
    }
    .map_err(|_| GatewayError::internal())?;
    respond::json(session, ctx, 200, Bytes::from(body), &[])
        .await
        .map_err(Fail::Downstream)
}

/// Every exact route model (first, in config order; glob-only routes have no entry), then
/// each distinct `provider/model` target.
fn entries(snapshot: &Snapshot) -> Vec<Entry> {
    let config = &snapshot.config;
    let mut out: Vec<Entry> = Vec::new();
    for (r, model) in config
        .routes
        .iter()
        .flat_map(|r| r.models.iter().map(move |m| (r, m)))
    {
        if out.iter().any(|o| o.id == *model) {
            continue;
        }
        let all: Vec<(&Target, bool)> = r
            .targets
            .iter()
            .map(|t| (t, false))
            .chain(r.fallback.iter().map(|t| (t, true)))
            .collect();
        let infos: Vec<Entry> = all.iter().map(|(t, _)| target(snapshot, t)).collect();
        let mut route = combine(&infos);
        route.id.clone_from(model);
        route.owned_by = "switchyard".to_string();
        route.targets = Some(
            all.iter()
                .zip(&infos)
                .map(|((t, fallback), info)| TargetRef {
                    id: info.id.clone(),
                    weight: (!fallback).then_some(t.weight),
                    fallback: *fallback,
                })
                .collect(),
        );
        out.push(route);
    }
    let routes = out.len();
    for r in &config.routes {
        for t in r.targets.iter().chain(&r.fallback) {
            let e = target(snapshot, t);
            if !out[routes..].iter().any(|o| o.id == e.id) {
                out.push(e);
            }
        }
    }
    out
}

/// A configured target as `provider/model`, with its catalog facts and effective prices.
fn target(snapshot: &Snapshot, t: &Target) -> Entry {
    let provider = &snapshot.config.providers[t.provider];
    let model = snapshot.catalog.lookup(provider.catalog_name(), &t.model);
    Entry {
        id: format!("{}/{}", provider.name, t.model),
        object: "model",
        created: 0,
        owned_by: provider.name.clone(),
        mode: model.map(|m| match m.mode {
            Mode::Chat => "chat",
            Mode::Embedding => "embedding",
        }),
        context_window: model.and_then(|m| m.context_window),
        max_output_tokens: model.and_then(|m| m.max_output_tokens),
        pricing: pricing::prices(snapshot, provider, &t.model).map(Pricing::from),
        capabilities: model.map(|m| m.capabilities.clone()),
        targets: None,
    }
}

/// What holds for a route whichever target serves it: the smallest limits and the shared
/// capabilities when every target's are known, and pricing when all targets cost the same.
fn combine(targets: &[Entry]) -> Entry {
    fn all<T: Clone>(items: Vec<Option<T>>) -> Option<Vec<T>> {
        items.into_iter().collect()
    }
    let min = |f: fn(&Entry) -> Option<u64>| {
        all(targets.iter().map(f).collect()).and_then(|v| v.into_iter().min())
    };
    let pricing = all(targets.iter().map(|t| t.pricing.clone()).collect())
        .filter(|p| p.windows(2).all(|w| w[0] == w[1]))
        .and_then(|p| p.into_iter().next());
    let capabilities = all(targets.iter().map(|t| t.capabilities.clone()).collect()).map(|caps| {
        let mut shared = caps.first().cloned().unwrap_or_default();
        shared.retain(|c| caps.iter().all(|set| set.contains(c)));
        shared
    });
    let mode = targets
        .first()
        .and_then(|t| t.mode)
        .filter(|m| targets.iter().all(|t| t.mode == Some(m)));
    Entry {
        id: String::new(),
        object: "model",
        created: 0,
        owned_by: String::new(),
        mode,
        context_window: min(|t| t.context_window),
        max_output_tokens: min(|t| t.max_output_tokens),
        pricing,
        capabilities,
        targets: None,
    }
}

/// Decodes `%2F` and friends in a model id taken from the path.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{Entry, Pricing, combine};

    fn entry(window: Option<u64>, price: Option<f64>, caps: Option<&[&str]>) -> Entry {
        Entry {
            id: String::new(),
            object: "model",
            created: 0,
            owned_by: String::new(),
            mode: Some("chat"),
            context_window: window,
            max_output_tokens: window.map(|w| w / 10),
            pricing: price.map(|p| Pricing {
                input: p,
                output: p,
                cache_read: None,
                cache_write: None,
            }),
            capabilities: caps.map(|c| c.iter().map(|s| s.to_string()).collect()),
            targets: None,
        }
    }

    /// A route shows only what holds whichever target serves it.
    #[test]
    fn routes_combine_their_targets() {
        let r = combine(&[
            entry(Some(200), Some(1.0), Some(&["tools", "vision"])),
            entry(Some(100), Some(1.0), Some(&["vision", "reasoning"])),
        ]);
        assert_eq!(
            (r.context_window, r.max_output_tokens),
            (Some(100), Some(10))
        );
        assert_eq!(r.pricing.map(|p| p.input), Some(1.0));
        assert_eq!(r.capabilities, Some(vec!["vision".to_string()]));
        assert_eq!(r.mode, Some("chat"));
        let r = combine(&[
            entry(Some(200), Some(1.0), Some(&["tools"])),
            entry(None, Some(2.0), None),
        ]);
        assert_eq!(r.context_window, None, "an unknown target hides the limit");
        assert!(r.pricing.is_none(), "targets cost differently");
        assert_eq!(r.capabilities, None);
        let single = combine(&[entry(Some(5), Some(0.5), Some(&[]))]);
        assert_eq!(single.pricing.map(|p| p.output), Some(0.5));
    }

    /// Percent-encoded slashes decode.
    #[test]
    fn decodes() {
        assert_eq!(
            super::percent_decode("anthropic%2Fclaude"),
            "anthropic/claude"
        );
        assert_eq!(super::percent_decode("a%2"), "a%2");
        assert_eq!(super::percent_decode("plain"), "plain");
        assert_eq!(super::percent_decode("%é%4"), "%é%4");
    }
}
