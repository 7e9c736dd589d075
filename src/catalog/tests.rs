use super::cost::{usd, usd_string};
use super::*;
use crate::translate::Usage;

fn small() -> Catalog {
    Catalog::from_json(
        r#"{"_source": {"package": "test", "version": "1"}, "models": [
  {"provider": "openai", "id": "m", "mode": "chat", "context_window": 1000, "max_output_tokens": 100,
   "prices": {"input": 2.0, "output": 8.0, "cache_read": 0.5, "cache_write": 2.5}, "capabilities": ["tools"]},
  {"provider": "openai", "id": "nocache", "mode": "chat", "prices": {"input": 3.0, "output": 15.0, "cache_read": null, "cache_write": null}, "capabilities": []},
  {"provider": "openai", "id": "unpriced", "mode": "chat", "prices": null, "capabilities": []},
  {"provider": "gemini", "id": "gemini-2.5-flash", "mode": "chat", "prices": {"input": 0.3, "output": 2.5}},
  {"provider": "bedrock", "id": "anthropic.claude-x-v1:0", "mode": "chat", "prices": {"input": 1.0, "output": 5.0}},
  {"provider": "bedrock", "id": "eu.anthropic.claude-x-v1:0", "mode": "chat", "prices": {"input": 1.1, "output": 5.5}},
  {"provider": "ollama", "id": "llama3", "mode": "chat", "prices": {"input": 0, "output": 0}},
  {"provider": "azure", "id": "gpt-4o-mini", "mode": "chat", "prices": {"input": 0.15, "output": 0.6}}
]}"#,
    )
    .unwrap()
}

fn usage(prompt: u64, completion: u64, cached: u64, write: u64, reasoning: u64) -> Usage {
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        cached_tokens: cached,
        cache_write_tokens: write,
        reasoning_tokens: reasoning,
    }
}

/// USD per million tokens become exact integer pico-dollars per token and back.
#[test]
fn prices_convert_exactly() {
    for (usd_m, pico) in [
        (0.15, 150_000),
        (0.6, 600_000),
        (0.075, 75_000),
        (15.0, 15_000_000),
    ] {
        let p = Price::from_usd_per_million(usd_m).unwrap();
        assert_eq!(p, Price(pico), "{usd_m}");
        assert_eq!(p.usd_per_million(), usd_m);
    }
    for bad in [-1.0, f64::NAN, f64::INFINITY, 2e6] {
        assert!(Price::from_usd_per_million(bad).is_err(), "{bad}");
    }
}

/// Cached and cache-write tokens are carved out of the prompt and billed at their own prices;
/// reasoning is part of completion and not billed twice.
#[test]
fn cost_splits_the_prompt() {
    let c = small();
    let m = c.lookup("openai", "m").unwrap();
    // 1000 prompt = 600 uncached ×2 + 300 cached ×0.5 + 100 written ×2.5 (USD/M)
    // = 1200 + 150 + 250 = 1600 µ$; 500 completion (200 reasoning) ×8 = 4000 µ$.
    assert_eq!(cost(m, &usage(1000, 500, 300, 100, 200)), Some(5600));
    // Reasoning does not add to completion.
    assert_eq!(cost(m, &usage(1000, 500, 300, 100, 0)), Some(5600));
    // Without cache prices, cached and written tokens cost the input price.
    let n = c.lookup("openai", "nocache").unwrap();
    assert_eq!(cost(n, &usage(1000, 0, 300, 100, 0)), Some(3000));
    assert_eq!(cost(n, &usage(0, 0, 0, 0, 0)), Some(0));
}

/// Costs are rounded up to whole micro-dollars: a tiny request is never free.
#[test]
fn cost_rounds_up() {
    let c = small();
    let az = c.lookup("azure", "gpt-4o-mini").unwrap();
    // 10 × 0.15 µ$ = 1.5 µ$ → 2.
    assert_eq!(cost(az, &usage(10, 0, 0, 0, 0)), Some(2));
    // 1 token × 0.15 µ$ → 1.
    assert_eq!(cost(az, &usage(1, 0, 0, 0, 0)), Some(1));
    // Exact multiples are not rounded: 20 × 0.15 = 3 µ$.
    assert_eq!(cost(az, &usage(20, 0, 0, 0, 0)), Some(3));
    // 1M in + 1M out = 0.15 + 0.60 USD.
    assert_eq!(
        cost(az, &usage(1_000_000, 1_000_000, 0, 0, 0)),
        Some(750_000)
    );
}

/// Counts a provider got wrong (cached > prompt) are clamped, not billed twice or panicking.
#[test]
fn inconsistent_usage_is_clamped() {
    let c = small();
    let m = c.lookup("openai", "m").unwrap();
    // All 10 prompt tokens count as cached (0.5 each): 5 µ$.
    assert_eq!(cost(m, &usage(10, 0, 50, 50, 0)), Some(5));
    // Absurd counts saturate instead of overflowing.
    assert_eq!(cost(m, &usage(u64::MAX, u64::MAX, 0, 0, 0)), Some(u64::MAX));
}

/// A model without prices is unpriced (None), never free; an unknown model is not found.
#[test]
fn unknown_and_unpriced() {
    let c = small();
    assert_eq!(
        cost(
            c.lookup("openai", "unpriced").unwrap(),
            &usage(10, 10, 0, 0, 0)
        ),
        None
    );
    assert!(c.lookup("openai", "m-2025").is_none());
    assert!(c.lookup("openai", "M").is_none());
    assert!(
        c.lookup("groq", "m").is_none(),
        "no borrowing across providers"
    );
    assert!(c.lookup("azure", "gpt-4o").is_none());
    // Ollama's source price is an explicit 0: free, and priced.
    assert_eq!(
        cost(
            c.lookup("ollama", "llama3").unwrap(),
            &usage(10, 10, 0, 0, 0)
        ),
        Some(0)
    );
}

/// The documented fallbacks: same model, other spelling.
#[test]
fn lookup_fallbacks() {
    let c = small();
    let id = |p: &str, m: &str| c.lookup(p, m).map(|m| m.id.as_str());
    assert_eq!(
        id("gemini", "models/gemini-2.5-flash"),
        Some("gemini-2.5-flash")
    );
    assert_eq!(id("openai", "models/m"), None, "models/ is Gemini's only");
    // An exact regional profile wins over the base model.
    assert_eq!(
        id("bedrock", "eu.anthropic.claude-x-v1:0"),
        Some("eu.anthropic.claude-x-v1:0")
    );
    assert_eq!(
        id("bedrock", "us.anthropic.claude-x-v1:0"),
        Some("anthropic.claude-x-v1:0")
    );
    assert_eq!(
        id(
            "bedrock",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-x-v1:0"
        ),
        Some("anthropic.claude-x-v1:0")
    );
    assert_eq!(
        id(
            "bedrock",
            "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-x-v1:0"
        ),
        Some("anthropic.claude-x-v1:0")
    );
    assert_eq!(
        id(
            "bedrock",
            "arn:aws:bedrock:us-east-1:123:application-inference-profile/abc"
        ),
        None
    );
    assert_eq!(id("bedrock", "xx.anthropic.claude-x-v1:0"), None);
    assert_eq!(id("ollama", "llama3:latest"), Some("llama3"));
    assert_eq!(id("ollama", "llama3:8b"), None);
}

/// Bad files name the entry; duplicates are rejected.
#[test]
fn invalid_catalogs() {
    let err = Catalog::from_json(r#"{"models": [{"provider": "openai", "id": "x", "mode": "chat", "prices": {"input": -1, "output": 0}}]}"#)
        .unwrap_err();
    assert!(err.contains("models[0] (openai/x): prices.input"), "{err}");
    let dup = r#"{"models": [{"provider": "a", "id": "x", "mode": "chat"}, {"provider": "a", "id": "x", "mode": "embedding"}]}"#;
    assert!(Catalog::from_json(dup).unwrap_err().contains("duplicate"));
    assert!(
        Catalog::from_json("[]")
            .unwrap_err()
            .contains("not a model catalog")
    );
    assert!(
        Catalog::from_json(r#"{"models": [{"provider": "a", "id": "x", "mode": "image"}]}"#)
            .is_err()
    );
}

/// The embedded catalog parses, is large, and carries the source's prices for known models.
#[test]
fn embedded_catalog() {
    let c = Catalog::embedded().unwrap();
    assert!(c.len() >= 500, "{} models", c.len());
    assert_eq!(c.source().package, "litellm");
    let mini = c.lookup("openai", "gpt-4o-mini").unwrap();
    let p = mini.prices.unwrap();
    // litellm 1.110.2: input_cost_per_token 1.5e-07, output 6e-07, cache read 7.5e-08.
    assert_eq!(
        (p.input, p.output, p.cache_read),
        (Price(150_000), Price(600_000), Some(Price(75_000)))
    );
    assert_eq!(mini.context_window, Some(128_000));
    assert!(mini.capabilities.iter().any(|c| c == "tools"));
    assert_eq!(mini.mode, Mode::Chat);
    let haiku = c
        .lookup("anthropic", "claude-haiku-4-5")
        .unwrap()
        .prices
        .unwrap();
    assert!(haiku.cache_write.is_some() && haiku.cache_read.is_some());
    assert_eq!(
        c.lookup("openai", "text-embedding-3-small").unwrap().mode,
        Mode::Embedding
    );
    for kind in [
        "gemini",
        "bedrock",
        "azure",
        "mistral",
        "groq",
        "together",
        "fireworks",
    ] {
        assert!(c.models().iter().any(|m| m.provider == kind), "{kind}");
    }
}

/// Display helpers.
#[test]
fn usd_formats() {
    assert_eq!(usd_string(0), "0.000000");
    assert_eq!(usd_string(5600), "0.005600");
    assert_eq!(usd_string(12_345_678), "12.345678");
    assert_eq!(usd(750_000), 0.75);
}
