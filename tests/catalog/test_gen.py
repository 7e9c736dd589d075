"""Unit tests of scripts/gen_catalog.py and checks of the committed conf/models.json.

Run: pytest -q tests/catalog. Set LITELLM_WHEEL to a downloaded litellm wheel of the pinned
version to also check that the committed catalog is exactly what the generator produces.
"""

import importlib.util
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("gen_catalog", ROOT / "scripts" / "gen_catalog.py")
gen = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gen)

REQUIRED = {"provider", "id", "mode", "context_window", "max_output_tokens", "prices", "capabilities"}
PROVIDERS = {name for name, _ in gen.PROVIDERS.values()}


def entry(provider, mode="chat", **extra):
    return {"litellm_provider": provider, "mode": mode, **extra}


SOURCE = {
    "sample_spec": {"litellm_provider": "one of ...", "mode": "one of ..."},
    "gpt-x": entry("openai", input_cost_per_token=1.5e-07, output_cost_per_token=6e-07,
                   cache_read_input_token_cost=7.5e-08, max_input_tokens=128000,
                   max_output_tokens=16384, supports_function_calling=True,
                   supports_vision=True, supports_reasoning=False),
    "ft:gpt-x": entry("openai", input_cost_per_token=3e-07, output_cost_per_token=1.2e-06),
    "dall-e-9": entry("openai", "image_generation", input_cost_per_token=1e-06,
                      output_cost_per_token=1e-06),
    "text-embedding-x": entry("openai", "embedding", input_cost_per_token=2e-08),
    "gemini/gemini-z": entry("gemini", input_cost_per_token=1e-07, output_cost_per_token=4e-07,
                             cache_creation_input_token_cost=1.25e-07),
    "groq/openai/gpt-oss-1": entry("groq", input_cost_per_token=1e-07, output_cost_per_token=5e-07),
    "together_ai/meta/llama": entry("together_ai", input_cost_per_token=8.8e-07,
                                    output_cost_per_token=8.8e-07),
    "anthropic.claude-q": entry("bedrock", input_cost_per_token=9e-06, output_cost_per_token=9e-06),
    "bedrock/anthropic.claude-q": entry("bedrock_converse", input_cost_per_token=1e-06,
                                        output_cost_per_token=5e-06),
    "bedrock/us-west-2/anthropic.claude-q": entry("bedrock", input_cost_per_token=2e-06,
                                                  output_cost_per_token=2e-06),
    "azure/eu/gpt-x": entry("azure", input_cost_per_token=1.65e-07, output_cost_per_token=6.6e-07),
    "azure/gpt-x": entry("azure", input_cost_per_token=1.5e-07, output_cost_per_token=6e-07),
    "mystery": entry("openai"),
    "vertex-only": entry("vertex_ai-language-models", input_cost_per_token=1e-06,
                         output_cost_per_token=1e-06),
}


def by_key(models):
    return {(m["provider"], m["id"]): m for m in models}


def test_maps_providers_and_ids():
    got = by_key(gen.build(SOURCE))
    assert set(got) == {
        ("openai", "gpt-x"), ("openai", "text-embedding-x"), ("openai", "mystery"),
        ("gemini", "gemini-z"), ("groq", "openai/gpt-oss-1"), ("together", "meta/llama"),
        ("bedrock", "anthropic.claude-q"), ("azure", "gpt-x"),
    }, "modes, fine-tune bases, region/data-zone entries and unknown providers are dropped"


def test_prices_are_exact_per_million():
    got = by_key(gen.build(SOURCE))
    p = got[("openai", "gpt-x")]["prices"]
    assert p == {"input": 0.15, "output": 0.6, "cache_read": 0.075, "cache_write": None}
    assert got[("gemini", "gemini-z")]["prices"]["cache_write"] == 0.125
    assert got[("together", "meta/llama")]["prices"]["input"] == 0.88
    # Embeddings have no output tokens; an absent output price is 0 there, not unknown.
    assert got[("openai", "text-embedding-x")]["prices"]["output"] == 0.0
    # A chat model without prices stays unpriced instead of free.
    assert got[("openai", "mystery")]["prices"] is None


def test_converse_entry_wins_for_bedrock():
    got = by_key(gen.build(SOURCE))
    assert got[("bedrock", "anthropic.claude-q")]["prices"]["input"] == 1.0


def test_fields_and_capabilities():
    m = by_key(gen.build(SOURCE))[("openai", "gpt-x")]
    assert set(m) == REQUIRED
    assert (m["context_window"], m["max_output_tokens"]) == (128000, 16384)
    assert m["capabilities"] == ["tools", "vision"]


def test_render_is_deterministic_and_sorted():
    shuffled = dict(reversed(list(SOURCE.items())))
    header = {"package": "litellm", "version": "0"}
    a = gen.render(gen.build(SOURCE), header)
    assert a == gen.render(gen.build(shuffled), header)
    doc = json.loads(a)
    keys = [(m["provider"], m["id"]) for m in doc["models"]]
    assert keys == sorted(keys)
    # One model per line: a changed price is a one-line diff.
    assert len(a.splitlines()) == len(keys) + 5


def committed():
    return json.loads((ROOT / "conf" / "models.json").read_text(encoding="utf-8"))


def test_committed_catalog():
    doc = committed()
    src = doc["_source"]
    assert (src["package"], src["version"], src["license"]) == ("litellm", gen.LITELLM_VERSION, "MIT")
    lic = (ROOT / "conf" / src["license_file"]).read_text(encoding="utf-8")
    assert src["copyright"] in lic and "MIT License" in lic
    models = doc["models"]
    assert len(models) >= 500
    keys = [(m["provider"], m["id"]) for m in models]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for m in models:
        assert set(m) == REQUIRED, m
        assert m["provider"] in PROVIDERS and m["mode"] in gen.MODES and m["id"]
        if m["prices"] is not None:
            assert m["prices"]["input"] >= 0 and m["prices"]["output"] >= 0
    assert {"openai", "anthropic", "gemini", "bedrock", "azure", "mistral"} <= {k[0] for k in keys}


@pytest.mark.skipif(not os.environ.get("LITELLM_WHEEL"), reason="LITELLM_WHEEL not set")
def test_committed_catalog_matches_source(tmp_path):
    source, license_text = gen.read_wheel(Path(os.environ["LITELLM_WHEEL"]))
    got = by_key(gen.build(source))
    ours = by_key(committed()["models"])
    assert got == ours, "conf/models.json is stale: run make catalog"
    # Known prices, read from the source record rather than typed in.
    rec = source["gpt-4o-mini"]
    mini = ours[("openai", "gpt-4o-mini")]["prices"]
    assert mini["input"] == round(rec["input_cost_per_token"] * 1e6, 9)
    assert mini["output"] == round(rec["output_cost_per_token"] * 1e6, 9)
