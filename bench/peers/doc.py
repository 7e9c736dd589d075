#!/usr/bin/env python3
"""Write bench-compare and soak results into a markdown file (docs/benchmarks.md), judged against the targets.

Usage: doc.py results RESULTS_DIR DOC   replaces what is between <!-- bench-compare:start --> and
                                        <!-- bench-compare:end --> with the machine, the command, the peer table
                                        (report.py) and the performance targets, each met or missed
       doc.py soak SOAK_DIR DOC         replaces what is between <!-- soak:start --> and <!-- soak:end --> with the
                                        RSS samples of soak.sh and the no-growth verdict
Targets are judged on the `switchyard` row of the anthropic scenario (OpenAI in, Anthropic Messages out, with auth,
quota and the SQLite ledger on), against `direct` in the same scenario. Stdlib only.
"""
import csv
import os
import sys

import report

# (label, limit, unit, higher_is_better)
TARGETS = {
    "rps": ("non-streaming req/s on one core (best of c=16, c=64)", 20000, "req/s", True),
    "add_p50": ("added latency at c=1, p50", 0.1, "ms", False),
    "add_p99": ("added latency at c=1, p99", 0.5, "ms", False),
    "ttft": ("streaming time to first token added (p50, sequential)", 0.3, "ms", False),
    "rss_idle": ("RSS idle", 30, "MiB", False),
    "rss_peak": ("RSS peak with 64 concurrent streams", 100, "MiB", False),
}
# Soak: no growth means the highest RSS of the last third of the run is at most this much above the highest RSS of
# the first third (both after the warm-up, which fills the 60 s rate windows and the connection pools).
SOAK_WARMUP_S = 60
SOAK_SLACK_MIB = 2.0
SOAK_SLACK_RATIO = 0.05


def replace_between(path, name, body):
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else f"{start}\n{end}\n"
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{start}\n{body.strip()}\n{end}{tail}")


def measured(folder):
    """The figures the targets are about, for switchyard in the anthropic scenario; None where missing."""
    rows, _, ttft, idle, _, _ = report.load(folder)

    def get(t, st, c, k):
        return report.fnum((rows.get((t, "anthropic", st, c)) or {}).get(k))

    def diff(a, b):
        return None if a is None or b is None else a - b

    rps = [v for v in (get("switchyard", False, 16, "rps"), get("switchyard", False, 64, "rps")) if v is not None]
    sy, dt = ttft.get(("switchyard", "anthropic")), ttft.get(("direct", "anthropic"))
    return {
        "rps": max(rps) if rps else None,
        "add_p50": diff(get("switchyard", False, 1, "p50_ms"), get("direct", False, 1, "p50_ms")),
        "add_p99": diff(get("switchyard", False, 1, "p99_ms"), get("direct", False, 1, "p99_ms")),
        "ttft": diff(sy[0], dt[0]) if sy and dt else None,
        "rss_idle": idle.get("switchyard"),
        "rss_peak": get("switchyard", True, 64, "rss_peak_mib"),
    }


def targets_table(folder):
    m = measured(folder)
    out = ["| target | goal | measured | |", "|---|--:|--:|---|"]
    for key, (label, limit, unit, higher) in TARGETS.items():
        v = m[key]
        goal = f"{'≥' if higher else '≤'} {limit:g} {unit}"
        if v is None:
            out.append(f"| {label} | {goal} | not measured | — |")
            continue
        met = v >= limit if higher else v <= limit
        shown = f"{v:,.0f}" if unit == "req/s" else f"{v:.3f}" if unit == "ms" else f"{v:.0f}"
        out.append(f"| {label} | {goal} | {shown} {unit} | {'met' if met else '**missed**'} |")
    out.append("| no RSS growth over a 10-minute soak | flat | `make soak` (not run by default) | see Soak |")
    return "\n".join(out)


def results(folder, doc):
    body = [report.table(folder), "", "**Targets** (switchyard, anthropic scenario: translation + auth + quota + "
            "ledger, against `direct` in the same scenario):", "", targets_table(folder), "",
            f"Raw results: `{os.path.basename(os.path.realpath(folder))}` (wrk outputs, checks, TTFT probes, the "
            "Switchyard config and /metrics) under the work dir's `results/`."]
    replace_between(doc, "bench-compare", "\n".join(body))


def soak_verdict(samples):
    """(verdict line, met) from [(t_s, rss_mib)]."""
    after = [(t, r) for t, r in samples if t >= SOAK_WARMUP_S]
    if len(after) < 6:
        return "too few samples after the warm-up to judge", False
    third = len(after) // 3
    first, last = max(r for _, r in after[:third]), max(r for _, r in after[-third:])
    allowed = max(SOAK_SLACK_MIB, SOAK_SLACK_RATIO * first)
    met = last - first <= allowed
    # Least-squares slope after the warm-up: a steady leak shows here even when it stays within the allowance.
    n, mt, mr = len(after), sum(t for t, _ in after) / len(after), sum(r for _, r in after) / len(after)
    var = sum((t - mt) ** 2 for t, _ in after)
    slope = 60 * sum((t - mt) * (r - mr) for t, r in after) / var if var else 0.0
    return (f"highest RSS {first:.1f} MiB in the first third after {SOAK_WARMUP_S} s, {last:.1f} MiB in the last "
            f"third: {last - first:+.1f} MiB (allowed +{allowed:.1f}): {'met' if met else '**missed**'}; trend after "
            f"the warm-up {slope:+.2f} MiB/min over {n} samples"), met


def soak(folder, doc):
    samples, extra = [], {}
    with open(os.path.join(folder, "soak.csv"), newline="") as f:
        for r in csv.DictReader(f):
            samples.append((int(r["t_s"]), int(r["rss_kib"]) / 1024))
            extra[int(r["t_s"])] = r
    meta_path = os.path.join(folder, "meta.txt")
    meta = open(meta_path).read().strip() if os.path.exists(meta_path) else ""
    verdict, _ = soak_verdict(samples)
    peak = max(r for _, r in samples)
    limit = TARGETS["rss_peak"][1]
    wrk_path = os.path.join(folder, "wrk.txt")
    load = open(wrk_path).read().strip().replace("\n", "; ") if os.path.exists(wrk_path) else "?"
    out = [f"_{line}_  " for line in meta.splitlines()] + ["", f"**Verdict:** {verdict}.", "",
           f"**Peak RSS** {peak:.1f} MiB with 64 connections busy (half of them streams), against the ≤ {limit} MiB "
           f"target: {'met' if peak <= limit else '**missed**'}.", "",
           f"wrk (requests, req/s, p50, p90, p99, p99.9, mean ms, non-2xx, socket errors): {load}", "",
                                                            "| t (s) | RSS MiB | ledger rows |", "|--:|--:|--:|"]
    step = max(1, len(samples) // 20)
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    for t, r in shown:
        out.append(f"| {t} | {r:.1f} | {extra[t].get('ledger_rows', '')} |")
    replace_between(doc, "soak", "\n".join(out))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("results", "soak"):
        sys.exit(__doc__)
    (results if sys.argv[1] == "results" else soak)(sys.argv[2], sys.argv[3])
    print(f"wrote {sys.argv[3]}")


if __name__ == "__main__":
    main()
