#!/usr/bin/env python3
"""Builds conf/models.json, the priced model catalog embedded in the gateway.

Source: `model_prices_and_context_window_backup.json` from the MIT-licensed `litellm` PyPI
package (pinned below). The wheel is fetched with `pip download --no-deps` and read with
zipfile; nothing of litellm is installed or imported. `--source FILE` uses a local copy of the
JSON instead (the license text then comes from `--license FILE`, else the existing
conf/models.LICENSE is kept).

Only chat and embedding models of providers Switchyard can talk to are kept, keyed by our
provider kind or preset name and by the model id that provider's API expects. Prices are
written in USD per million tokens; a price the source does not give is null. Output is sorted
and one model per line, so regenerating diffs cleanly.

Python 3.11, standard library only. Run with `make catalog`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

LITELLM_VERSION = "1.110.2"
SOURCE_PATH = "litellm/model_prices_and_context_window_backup.json"
LICENSE_SUFFIX = ".dist-info/licenses/LICENSE"

# litellm_provider -> (our provider name, priority when two entries give the same id; lower wins).
# bedrock_converse is preferred over bedrock because the gateway speaks Converse.
PROVIDERS: dict[str, tuple[str, int]] = {
    "openai": ("openai", 0),
    "anthropic": ("anthropic", 0),
    "gemini": ("gemini", 0),
    "bedrock_converse": ("bedrock", 0),
    "bedrock": ("bedrock", 1),
    "azure": ("azure", 0),
    "ollama": ("ollama", 0),
    "cohere_chat": ("cohere", 0),
    "cohere": ("cohere", 1),
    "mistral": ("mistral", 0),
    "groq": ("groq", 0),
    "deepseek": ("deepseek", 0),
    "xai": ("xai", 0),
    "together_ai": ("together", 0),
    "fireworks_ai": ("fireworks", 0),
    "openrouter": ("openrouter", 0),
    "perplexity": ("perplexity", 0),
    "cerebras": ("cerebras", 0),
}

# litellm's key prefixes per litellm_provider (`gemini/gemini-2.5-flash` -> `gemini-2.5-flash`).
PREFIXES: dict[str, str] = {
    "together_ai": "together_ai/",
    "fireworks_ai": "fireworks_ai/",
    "bedrock_converse": "bedrock/",
    "cohere_chat": "cohere/",
}

MODES = ("chat", "embedding")

# supports_* flag -> capability name.
CAPABILITIES: dict[str, str] = {
    "supports_function_calling": "tools",
    "supports_parallel_function_calling": "parallel_tools",
    "supports_tool_choice": "tool_choice",
    "supports_vision": "vision",
    "supports_pdf_input": "pdf",
    "supports_audio_input": "audio_input",
    "supports_audio_output": "audio_output",
    "supports_reasoning": "reasoning",
    "supports_prompt_caching": "prompt_caching",
    "supports_response_schema": "response_schema",
    "supports_system_messages": "system_messages",
    "supports_web_search": "web_search",
    "supports_computer_use": "computer_use",
}


def per_million(value: object) -> float | None:
    """A per-token USD cost as USD per million tokens, without binary-float noise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value < 0:
        return None
    return float(Decimal(repr(value)) * 1_000_000)


def positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value > 0 else None


def model_id(key: str, litellm_provider: str) -> str | None:
    """The id the provider's API expects, or None for entries that are not a plain model
    (region- or commitment-specific Bedrock prices, Azure data-zone prices, fine-tune bases)."""
    prefix = PREFIXES.get(litellm_provider, litellm_provider + "/")
    mid = key[len(prefix):] if key.startswith(prefix) else key
    if not mid or mid.startswith("ft:"):
        return None
    if litellm_provider in ("bedrock", "bedrock_converse", "azure") and "/" in mid:
        return None
    return mid


def convert(key: str, entry: dict) -> tuple[tuple[str, str], int, dict] | None:
    lp = entry.get("litellm_provider")
    if lp not in PROVIDERS or entry.get("mode") not in MODES:
        return None
    mid = model_id(key, lp)
    if mid is None:
        return None
    provider, priority = PROVIDERS[lp]
    mode = entry["mode"]
    prices = None
    inp = per_million(entry.get("input_cost_per_token"))
    out = per_million(entry.get("output_cost_per_token"))
    if out is None and mode == "embedding" and inp is not None:
        out = 0.0  # embeddings produce no output tokens
    if inp is not None and out is not None:
        prices = {
            "input": inp,
            "output": out,
            "cache_read": per_million(entry.get("cache_read_input_token_cost")),
            "cache_write": per_million(entry.get("cache_creation_input_token_cost")),
        }
    caps = sorted(name for flag, name in CAPABILITIES.items() if entry.get(flag) is True)
    model = {
        "provider": provider,
        "id": mid,
        "mode": mode,
        "context_window": positive_int(entry.get("max_input_tokens")),
        "max_output_tokens": positive_int(entry.get("max_output_tokens")),
        "prices": prices,
        "capabilities": caps,
    }
    # Within one priority, an entry keyed with litellm's provider prefix is litellm's own
    # provider-specific record: prefer it over an unprefixed alias.
    prefixed = 0 if key != mid else 1
    return (provider, mid), priority * 2 + prefixed, model


def build(source: dict) -> list[dict]:
    chosen: dict[tuple[str, str], tuple[int, str, dict]] = {}
    for key in sorted(source):
        entry = source[key]
        if not isinstance(entry, dict):
            continue
        got = convert(key, entry)
        if got is None:
            continue
        ident, rank, model = got
        prev = chosen.get(ident)
        if prev is None or (rank, key) < (prev[0], prev[1]):
            chosen[ident] = (rank, key, model)
    return [chosen[k][2] for k in sorted(chosen)]


def render(models: list[dict], header: dict) -> str:
    lines = ["{", ' "_source": ' + json.dumps(header, sort_keys=True) + ",", ' "models": [']
    body = [
        "  " + json.dumps(m, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
        for m in models
    ]
    lines.append(",\n".join(body))
    lines += [" ]", "}", ""]
    return "\n".join(lines)


def copyright_line(license_text: str) -> str:
    for line in license_text.splitlines():
        if line.strip().lower().startswith("copyright"):
            return line.strip()
    raise SystemExit("no copyright line in the litellm license text")


def mit_text(license_text: str) -> str:
    """The MIT part of litellm's LICENSE (it starts with a note about its enterprise/ dir)."""
    at = license_text.find("MIT License")
    return license_text[at:] if at >= 0 else license_text


def fetch_wheel(version: str, into: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", f"litellm=={version}",
        "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(into),
    ]
    subprocess.run(cmd, check=True)
    wheels = sorted(into.glob(f"litellm-{version}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download produced no litellm {version} wheel")
    return wheels[0]


def read_wheel(wheel: Path) -> tuple[dict, str]:
    with zipfile.ZipFile(wheel) as z:
        source = json.loads(z.read(SOURCE_PATH))
        lic = [n for n in z.namelist() if n.endswith(LICENSE_SUFFIX)]
        if not lic:
            raise SystemExit(f"{wheel.name}: no license file")
        return source, z.read(lic[0]).decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="local model_prices_and_context_window JSON")
    ap.add_argument("--license", type=Path, help="litellm LICENSE text (with --source)")
    ap.add_argument("--version", default=LITELLM_VERSION, help="litellm version to fetch")
    ap.add_argument("--out", type=Path, default=root / "conf" / "models.json")
    args = ap.parse_args(argv)

    license_out = args.out.with_name(args.out.stem + ".LICENSE")
    if args.source:
        source = json.loads(args.source.read_text(encoding="utf-8"))
        if args.license:
            license_text = args.license.read_text(encoding="utf-8")
        elif license_out.exists():
            license_text = license_out.read_text(encoding="utf-8")
        else:
            raise SystemExit("--source needs --license FILE (no existing models.LICENSE)")
        origin = f"{args.source.name} (local copy, said to be litellm {args.version})"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            source, license_text = read_wheel(fetch_wheel(args.version, Path(tmp)))
        origin = SOURCE_PATH

    models = build(source)
    header = {
        "package": "litellm",
        "version": args.version,
        "file": origin,
        "license": "MIT",
        "copyright": copyright_line(license_text),
        "license_file": license_out.name,
        "units": "prices in USD per million tokens; null = unknown",
    }
    args.out.write_text(render(models, header), encoding="utf-8")
    notice = (
        f"conf/{args.out.name} is derived from {SOURCE_PATH} of the litellm "
        f"{args.version} package (https://pypi.org/project/litellm/), used under the MIT "
        "license below.\n\n"
    )
    license_out.write_text(notice + mit_text(license_text).rstrip() + "\n", encoding="utf-8")
    by_provider: dict[str, int] = {}
    for m in models:
        by_provider[m["provider"]] = by_provider.get(m["provider"], 0) + 1
    summary = ", ".join(f"{p} {n}" for p, n in sorted(by_provider.items()))
    print(f"{args.out.name}: {len(models)} models ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
