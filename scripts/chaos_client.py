#!/usr/bin/env python3
"""Bounded load for the chaos benchmark (scripts/chaos.sh): N requests at a fixed concurrency
against one endpoint; prints one JSON line with success rate and latency percentiles.
Standard library only. A request succeeds when it gets HTTP 200 with a non-empty message."""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def one(url, key, model, timeout):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello"}]}).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "content-type": "application/json", "authorization": f"Bearer {key}"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = json.loads(r.read())
            ok = r.status == 200 and bool(data["choices"][0]["message"]["content"])
            outcome = "200" if ok else "bad-body"
    except urllib.error.HTTPError as e:
        ok, outcome = False, str(e.code)
    except Exception as e:  # connection reset, timeout, malformed JSON
        ok, outcome = False, type(e).__name__
    return ok, time.perf_counter() - t0, outcome


def pct(sorted_s, p):
    """Nearest-rank percentile in milliseconds."""
    if not sorted_s:
        return float("nan")
    rank = max(1, -(-len(sorted_s) * p // 100))
    return sorted_s[int(rank) - 1] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(a.concurrency) as pool:
        results = list(pool.map(lambda _: one(a.url, a.key, a.model, a.timeout), range(a.requests)))
    wall = time.perf_counter() - t0
    lat = sorted(r[1] for r in results)
    outcomes = {}
    for _, _, o in results:
        outcomes[o] = outcomes.get(o, 0) + 1
    ok = sum(1 for r in results if r[0])
    print(json.dumps({
        "label": a.label, "requests": a.requests, "ok": ok,
        "success_rate": ok / a.requests, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
        "max_ms": lat[-1] * 1000, "wall_s": wall, "outcomes": outcomes,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
