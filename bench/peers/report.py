#!/usr/bin/env python3
"""Turn one bench.sh results folder into a markdown table (stdlib only).

Usage: report.py RESULTS_DIR   (reads results.csv, ttft.txt, idle_rss.csv, verify.txt, meta.txt; prints markdown)

One row per target and scenario. Row names in results.csv are TARGET[-anth][_stream]: "-anth" marks the anthropic
scenario (OpenAI in, Anthropic Messages upstream; direct-anth / nginx-anth send the Anthropic body straight through),
"_stream" the streaming runs. Added latency and TTFT are differences to `direct` in the same scenario.
"""
import csv
import os
import re
import sys

ORDER = ["direct", "nginx", "switchyard", "portkey", "litellm"]
SCENARIOS = [("openai", "openai"), ("anthropic", "anthropic")]


def split_name(name):
    stream = name.endswith("_stream")
    base = name[: -len("_stream")] if stream else name
    scen = "anthropic" if base.endswith("-anth") else "openai"
    target = base[: -len("-anth")] if scen == "anthropic" else base
    return target, scen, stream


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def rps(v):
    if v is None:
        return "—"
    return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:.0f}"


def ratio(a, b):
    if a is None or not b:
        return "—"
    r = a / b
    return f"{r:.2f}" if r >= 0.1 else f"{r:.3f}"


def added(v, base, unit=" ms"):
    if v is None or base is None:
        return "—"
    d = v - base
    return f"{'+' if d >= 0 else '−'}{abs(d):.3f}{unit}" if abs(d) < 10 else f"{'+' if d >= 0 else '−'}{abs(d):.1f}{unit}"


def load(folder):
    rows = {}  # (target, scen, stream, conc) -> dict
    names = []
    path = os.path.join(folder, "results.csv")
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if not r.get("name") or not r.get("conc"):
                continue
            t, s, st = split_name(r["name"])
            rows[(t, s, st, int(r["conc"]))] = r
            if t not in names:
                names.append(t)
    ttft = {}
    p = os.path.join(folder, "ttft.txt")
    if os.path.exists(p):
        for line in open(p):
            m = re.match(r"^\s*(\S+?)\s*:\s*ttft_ms p50=([\d.]+) p99=([\d.]+).*?(?:bad=(\d+))?\)?\s*$", line)
            if m:
                t, s, _ = split_name(m.group(1))
                ttft[(t, s)] = (float(m.group(2)), float(m.group(3)), int(m.group(4) or 0))
    idle = {}
    p = os.path.join(folder, "idle_rss.csv")
    if os.path.exists(p):
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                idle[r["target"]] = int(r["rss_kib"]) / 1024
    verify = {}
    p = os.path.join(folder, "verify.txt")
    if os.path.exists(p):
        for line in open(p):
            m = re.match(r"^(OK|FAIL)\s+([^\s:]+)", line)
            if m:
                t, s, _ = split_name(m.group(2))
                verify.setdefault((t, s), []).append((m.group(1), line.strip()))
    meta = open(os.path.join(folder, "meta.txt")).read().strip() if os.path.exists(os.path.join(folder, "meta.txt")) else ""
    return rows, names, ttft, idle, verify, meta


def table(folder):
    """The markdown report of one results folder: meta lines, the table, notes and failed checks."""
    rows, names, ttft, idle, verify, meta = load(folder)
    targets = [t for t in ORDER if t in names] + [t for t in names if t not in ORDER]
    get = lambda t, s, st, c, k: fnum((rows.get((t, s, st, c)) or {}).get(k))  # noqa: E731
    out = []
    if meta:
        out += [f"_{line}_  " for line in meta.splitlines()] + [""]
    out.append("| target | scenario | req/s c=16 | req/s c=64 | p50 / p99 ms c=16 | added p50 / p99 c=1 | stream req/s c=16 "
               "| stream TTFT added | RSS idle → peak MiB | non-2xx / sock err | c=16 ÷ nginx | c=16 ÷ direct |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    failures = []
    for scen, label in SCENARIOS:
        for t in targets:
            if not any(k[0] == t and k[1] == scen for k in rows):
                continue
            v = verify.get((t, scen), [])
            bad = [line for st, line in v if st == "FAIL"]
            failures += bad
            mark = " ✗" if bad else ""
            r16, r64 = get(t, scen, False, 16, "rps"), get(t, scen, False, 64, "rps")
            p50, p99 = get(t, scen, False, 16, "p50_ms"), get(t, scen, False, 16, "p99_ms")
            lat = f"{p50:.2f} / {p99:.2f}" if p50 is not None and p99 is not None else "—"
            add1 = "—" if t == "direct" else " / ".join(
                added(get(t, scen, False, 1, k), get("direct", scen, False, 1, k)) for k in ("p50_ms", "p99_ms"))
            tt, td = ttft.get((t, scen)), ttft.get(("direct", scen))
            tadd = "—" if t == "direct" or not tt or not td else added(tt[0], td[0])
            if tt and tt[2]:
                tadd += f" ({tt[2]} bad)"
            mine = [r for k, r in rows.items() if k[0] == t and k[1] == scen]
            peak = max((fnum(r.get("rss_peak_mib")) or 0) for r in mine)
            rss = "—" if t == "direct" else (f"{idle[t]:.0f} → {peak:.0f}" if t in idle else f"? → {peak:.0f}")
            n2 = sum(int(fnum(r.get("non2xx")) or 0) for r in mine)
            se = sum(int(fnum(r.get("sockerr")) or 0) for r in mine)
            out.append(f"| {t}{mark} | {label} | {rps(r16)} | {rps(r64)} | {lat} | {add1} | "
                       f"{rps(get(t, scen, True, 16, 'rps'))} | {tadd} | {rss} | {n2} / {se} | "
                       f"{ratio(r16, get('nginx', scen, False, 16, 'rps'))} | {ratio(r16, get('direct', scen, False, 16, 'rps'))} |")
    out += ["", "Scenario `openai`: OpenAI body to an OpenAI upstream. Scenario `anthropic`: OpenAI body in, Anthropic "
            "Messages to the mock, OpenAI back (direct and nginx send the Anthropic body straight to /v1/messages, no "
            "translation). Added p50 / p99 at c=1 and TTFT are against `direct` in the same scenario; RSS idle is at start-up, peak "
            "is the highest sample during that scenario's runs; errors are summed over all its runs."]
    if failures:
        out += ["", "✗ = the pre-run check failed:"] + [f"- `{f}`" for f in failures]
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(table(sys.argv[1]))


if __name__ == "__main__":
    main()
