#!/usr/bin/env bash
# Soak: Switchyard (the bench config: translation, auth, quota, SQLite ledger, one thread pinned to CPU 1) under
# constant load from two wrk processes on CPU 0 (non-streaming and streaming OpenAI -> Anthropic requests, C
# connections each) against the mock, for SOAK seconds. Samples the gateway's RSS and the ledger's row count every
# 10 s into soak.csv, so a leak shows as growth. Results go to $W/soak/<time>/ (also $W/soak/latest).
# Env: SWITCHYARD_BIN (required), W (default $HOME/.cache/sy-peers), SOAK (seconds, default 600), C (default 32),
#      BENCH_CMD (the command line recorded in meta.txt).
set -uo pipefail
KIT=$(cd "$(dirname "$0")" && pwd)
W=${W:-$HOME/.cache/sy-peers}; SOAK=${SOAK:-600}; C=${C:-32}
[ -x "${SWITCHYARD_BIN:-}" ] || { echo "soak: SWITCHYARD_BIN must name the switchyard binary" >&2; exit 2; }
# shellcheck source=procs.sh
. "$KIT/procs.sh"
# shellcheck source=switchyard_conf.sh
. "$KIT/switchyard_conf.sh"
export OUT="$W/soak/$(date +%Y%m%dT%H%M%S)"; mkdir -p "$OUT"; ln -sfn "$OUT" "$W/soak/latest"
MOCK_PORT=$(port); SY_PORT=$(port); SY_ADMIN_PORT=$(port); export MOCK_PORT
LEDGER=$OUT/switchyard-ledger.db
switchyard_conf "$OUT/switchyard.yaml" "$MOCK_PORT" "$SY_PORT" "$SY_ADMIN_PORT" "$LEDGER"
taskset -c 0 node "$KIT/mock.js" >"$OUT/mock.log" 2>&1 & MOCKPID=$!; PIDS+=("$MOCKPID")
taskset -c 1 "$SWITCHYARD_BIN" --config "$OUT/switchyard.yaml" >"$OUT/switchyard.log" 2>&1 & SY=$!; PIDS+=("$SY")
wait_up "http://127.0.0.1:$MOCK_PORT/v1/models" "$MOCKPID" || exit 1
wait_up "http://127.0.0.1:$SY_PORT/healthz" "$SY" || exit 1
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  SOAK: ${SOAK}s  load: wrk non-streaming c=$C + wrk streaming c=$C, OpenAI in, Anthropic out"
  echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: ${BENCH_CMD:-bash bench/peers/soak.sh}"; } > "$OUT/meta.txt"; cat "$OUT/meta.txt"

for b in body body_stream; do sed 's/"model":"[^"]*"/"model":"bench-anthropic"/' "$KIT/$b.json" > "$OUT/$b.json"; done
URL=http://127.0.0.1:$SY_PORT/v1/chat/completions
cd "$KIT"
WRKS=()
for b in body body_stream; do
  BODY_FILE=$OUT/$b.json HDRS="Authorization: Bearer sk-bench" taskset -c 0 wrk -t1 -c"$C" -d"${SOAK}s" --timeout 10s \
    -s post.lua "$URL" >"$OUT/wrk_$b.txt" 2>&1 & WRKS+=($!); PIDS+=($!)
done
# Rows in the ledger's `requests` table (read-only; empty if the database is busy or not there yet).
rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True, timeout=5).execute("select count(*) from requests").fetchone()[0])' "$LEDGER" 2>/dev/null || echo ""; }
echo "t_s,rss_kib,ledger_rows" | tee "$OUT/soak.csv"
start=$(date +%s)
while :; do
  t=$(( $(date +%s) - start ))
  alive "$SY" || { echo "switchyard exited during the soak: see $OUT/switchyard.log"; exit 1; }
  echo "$t,$(rss_kib "$SY"),$(rows)" | tee -a "$OUT/soak.csv"
  [ "$t" -ge "$SOAK" ] && break
  sleep 10
done
for p in "${WRKS[@]}"; do wait "$p" 2>/dev/null; done
for b in body body_stream; do echo "$b: $(grep '^CSV' "$OUT/wrk_$b.txt" | cut -d, -f2-)"; done | tee "$OUT/wrk.txt"
echo "(requests,rps,p50_ms,p90_ms,p99_ms,p999_ms,mean_ms,non2xx,sockerr)"
echo "results in $OUT"
