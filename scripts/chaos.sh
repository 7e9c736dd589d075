#!/usr/bin/env bash
# Chaos benchmark (issue 4 §8): two providers, one failing 30% of requests with random 5xx,
# 429 and timeouts. Sends the same bounded load (a) straight to the failing provider and
# (b) through Switchyard, whose route tries the failing provider first and fails over to the
# healthy one: (b) with the breaker disabled (failover alone), (c) the same with a per-target
# first-byte deadline (`max_latency_ms`) on the failing provider, (d) with the default breaker
# and (e) with a breaker tripping on a lower error ratio and a short cooldown; prints
# client-visible success rate and p50/p99 latency as a markdown table.
#
# Starts the emulator and the gateway on free loopback ports and stops both by PID
# (SIGTERM, short grace, SIGKILL) on exit. Not a test: the numbers depend on the machine.
#   BIN_DIR      switchyard and switchyard-emulator (default target/release; build with
#                `cargo build --release --bins`)
#   REQUESTS     requests per arm (default 1000)     CONCURRENCY  (default 16)
#   FAIL_RATE    failure probability of the flaky provider (default 0.3)
#   FAIL_MODES   emulator fail_modes (default 500,502,503,429,timeout)
#   HANG_MS      how long a `timeout` failure holds the connection (default 3000)
#   FIRST_BYTE   gateway first_byte_timeout of the flaky provider (default 1s)
#   SEED         emulator seed of the failure draws (default 42)
#   RETRY        gateway `server.retry` (default `{ budget_ratio: 0.5 }`: a primary failing
#                30 % of the time needs retries for 30 % of the traffic, above the 20 % default)
#   MAX_LATENCY_MS  first-byte deadline of the flaky target in arm (c) (default 250)
#   BREAKER_RATIO   breaker error ratio of arm (e) (default 0.2, window 10 s, cooldown 5 s)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-target/release}
REQUESTS=${REQUESTS:-1000}
CONCURRENCY=${CONCURRENCY:-16}
FAIL_RATE=${FAIL_RATE:-0.3}
FAIL_MODES=${FAIL_MODES:-500,502,503,429,timeout}
HANG_MS=${HANG_MS:-3000}
FIRST_BYTE=${FIRST_BYTE:-1s}
SEED=${SEED:-42}
RETRY=${RETRY:-"{ budget_ratio: 0.5 }"}
MAX_LATENCY_MS=${MAX_LATENCY_MS:-250}
BREAKER_RATIO=${BREAKER_RATIO:-0.2}
KEY=sk-chaos-benchmark-0001
PY=${PYTHON:-python3}

for b in switchyard switchyard-emulator; do
  [ -x "$BIN_DIR/$b" ] || { echo "missing $BIN_DIR/$b: run cargo build --release --bins" >&2; exit 1; }
done

port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
EMU=$(port)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0; for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

FLAKY_MODEL="gpt-4o-mini#fail_rate=$FAIL_RATE;fail_modes=$FAIL_MODES;hang_ms=$HANG_MS"
"$BIN_DIR/switchyard-emulator" --listen "127.0.0.1:$EMU" --no-record --seed "$SEED" 2>"$WORK/emulator.log" & PIDS+=($!)

ready() { "$PY" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('$1', timeout=1).status == 200 else 1)" 2>/dev/null; }
run() { "$PY" scripts/chaos_client.py --requests "$REQUESTS" --concurrency "$CONCURRENCY" --key "$KEY" "$@"; }

# One gateway per arm, so health state and settings do not leak between arms.
#   $1 label  $2 extra `server:` settings  $3 extra settings of the flaky target
arm() {
  local label=$1 server_extra=$2 target_extra=$3 gw admin pid
  gw=$(port); admin=$(port)
  cat > "$WORK/switchyard.yaml" <<YAML
server:
  listen: "127.0.0.1:$gw"
  admin_listen: "127.0.0.1:$admin"
  grace_period: 1s
  access_log: off
  ledger: "sqlite://$WORK/ledger-$gw.db"
  max_attempts: 4
  request_timeout: 30s
  retry: $RETRY
$server_extra
providers:
  - { name: flaky, kind: openai, base_url: "http://127.0.0.1:$EMU/v1", api_key: emulator, first_byte_timeout: $FIRST_BYTE }
  - { name: steady, kind: openai, base_url: "http://127.0.0.1:$EMU/v1", api_key: emulator }
routes:
  - name: chaos
    match: { model: chaos }
    targets: [ { provider: flaky, model: "$FLAKY_MODEL"$target_extra } ]
    fallback: [ { provider: steady, model: gpt-4o-mini } ]
keys: [ { name: chaos, key: "$KEY" } ]
YAML
  "$BIN_DIR/switchyard" --config "$WORK/switchyard.yaml" >"$WORK/gateway.out" 2>"$WORK/gateway.log" & pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do ready "http://127.0.0.1:$gw/healthz" && break; sleep 0.1; done
  ready "http://127.0.0.1:$gw/healthz" || { echo "gateway did not start:" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
  run --label "$label" --url "http://127.0.0.1:$gw/v1/chat/completions" --model chaos
  "$PY" -c "import urllib.request; print(''.join(l for l in urllib.request.urlopen('http://127.0.0.1:$admin/metrics').read().decode().splitlines(True) if l.startswith(('switchyard_target_attempts_total', 'switchyard_retries_denied_total'))))" >"$WORK/attempts-$pid.txt" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  { echo "$label:"; cat "$WORK/attempts-$pid.txt"; } >>"$WORK/attempts.txt"
}

for _ in $(seq 1 100); do ready "http://127.0.0.1:$EMU/_emulator/health" && break; sleep 0.1; done
ROWS=()
ROWS+=("$(run --label "direct to the failing provider" --url "http://127.0.0.1:$EMU/v1/chat/completions" --model "$FLAKY_MODEL")")
# A breaker that never trips, to measure failover alone.
OFF="  health: { breaker: { consecutive_failures: 1000000, min_requests: 1000000 } }"
ROWS+=("$(arm "Switchyard: failover only (breaker off)" "$OFF" "")")
ROWS+=("$(arm "Switchyard: failover + max_latency_ms $MAX_LATENCY_MS (breaker off)" "$OFF" ", max_latency_ms: $MAX_LATENCY_MS")")
ROWS+=("$(arm "Switchyard: defaults (breaker on)" "" "")")
ROWS+=("$(arm "Switchyard: breaker on error ratio $BREAKER_RATIO, cooldown 5s" "  health: { breaker: { error_ratio: $BREAKER_RATIO, min_requests: 20, window: 10s, cooldown: 5s } }" "")")

"$PY" - "${ROWS[@]}" <<'PY'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
print("| path | requests | success rate | p50 ms | p99 ms | max ms | failures by outcome |")
print("|---|---:|---:|---:|---:|---:|---|")
for r in rows:
    fails = ", ".join(f"{k}: {v}" for k, v in sorted(r["outcomes"].items()) if k != "200") or "none"
    print(f"| {r['label']} | {r['requests']} | {100 * r['success_rate']:.2f}% | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {fails} |")
PY
echo
echo "flaky provider: fail_rate=$FAIL_RATE fail_modes=$FAIL_MODES hang_ms=$HANG_MS; gateway first_byte_timeout=$FIRST_BYTE, retry=$RETRY; $REQUESTS requests per path at concurrency $CONCURRENCY"
echo; echo "gateway attempts per target:"; cat "$WORK/attempts.txt"
