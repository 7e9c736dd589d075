#!/usr/bin/env bash
# Start the mock + LiteLLM + Portkey + nginx (+ Switchyard when SWITCHYARD_BIN is set) on 127.0.0.1, check that every
# target really does the job, measure, write report.md, and stop everything by PID.
# CPU layout on a 2-core box: gateway under test on CPU1; wrk/k6 + mock on CPU0.
# Env: W (work dir, $HOME/.cache/sy-peers), DUR (seconds per point, 8), CONCS ("1 16 64"),
#      SCEN (openai | anthropic | both; default both), TARGETS ("direct nginx litellm portkey switchyard"),
#      SWITCHYARD_BIN (path to a switchyard binary; without it the switchyard target is skipped),
#      SWITCHYARD_BENCH_CONFIG (optional: a config file to use instead of the one written here),
#      BENCH_CMD (the command line recorded in meta.txt).
# Ports: free loopback ports are picked at start; MOCK_PORT, NGINX_PORT, LITELLM_PORT, PORTKEY_PORT, SY_PORT and
# SY_ADMIN_PORT override them. The last results folder is also reachable as $W/results/latest.
set -uo pipefail
KIT=$(cd "$(dirname "$0")" && pwd)
W=${W:-$HOME/.cache/sy-peers}; DUR=${DUR:-8}; CONCS=${CONCS:-"1 16 64"}; SCEN=${SCEN:-both}
TARGETS=${TARGETS:-"direct nginx litellm portkey switchyard"}
case $SCEN in openai|anthropic) SCENS=$SCEN ;; both) SCENS="openai anthropic" ;;
  *) echo "SCEN must be openai, anthropic or both" >&2; exit 2 ;; esac
has() { [[ " $TARGETS " == *" $1 "* ]]; }
if has switchyard; then
  if [ -z "${SWITCHYARD_BIN:-}" ]; then echo "switchyard: SWITCHYARD_BIN is unset, skipping it"; TARGETS=${TARGETS/switchyard/}
  elif [ ! -f "$SWITCHYARD_BIN" ] || [ ! -x "$SWITCHYARD_BIN" ]; then
    echo "switchyard: SWITCHYARD_BIN=$SWITCHYARD_BIN is not an executable file, skipping it"; TARGETS=${TARGETS/switchyard/}
  fi
fi
# shellcheck source=procs.sh
. "$KIT/procs.sh"
export OUT="$W/results/$(date +%Y%m%dT%H%M%S)"; mkdir -p "$OUT" "$W/nginx/logs"; ln -sfn "$OUT" "$W/results/latest"
MOCK_PORT=${MOCK_PORT:-$(port)}; NGINX_PORT=${NGINX_PORT:-$(port)}; LITELLM_PORT=${LITELLM_PORT:-$(port)}
PORTKEY_PORT=${PORTKEY_PORT:-$(port)}; SY_PORT=${SY_PORT:-$(port)}; SY_ADMIN_PORT=${SY_ADMIN_PORT:-$(port)}
export MOCK_PORT MOCK_URL="http://127.0.0.1:$MOCK_PORT"
MOCK=http://127.0.0.1:$MOCK_PORT


MOCKPID=; NGX=; LIT=; PK=; SY=
taskset -c 0 node "$KIT/mock.js" >"$OUT/mock.log" 2>&1 & MOCKPID=$!; PIDS+=("$MOCKPID")
KEY="sk-$(openssl rand -hex 32)"
if has litellm; then
  sed "s#127.0.0.1:9000#127.0.0.1:$MOCK_PORT#g" "$KIT/litellm_config.yaml" > "$OUT/litellm_config.yaml"
  LITELLM_MASTER_KEY=$KEY LITELLM_LOCAL_MODEL_COST_MAP=True taskset -c 1 "$W/venv/bin/litellm" --config "$OUT/litellm_config.yaml" \
    --host 127.0.0.1 --port "$LITELLM_PORT" --num_workers 1 >"$OUT/litellm.log" 2>&1 & LIT=$!; PIDS+=("$LIT")
fi
if has portkey; then
  taskset -c 1 node "$W/portkey/node_modules/@portkey-ai/gateway/build/start-server.js" --port="$PORTKEY_PORT" --headless \
    >"$OUT/portkey.log" 2>&1 & PK=$!; PIDS+=("$PK")
fi
if has nginx; then
  sed "s#\$W#$W#g; s#\$MOCK_PORT#$MOCK_PORT#g; s#\$NGINX_PORT#$NGINX_PORT#g" "$KIT/nginx.conf" > "$W/nginx/nginx.conf"
  taskset -c 1 nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" >"$OUT/nginx.log" 2>&1 & NGX=$!; PIDS+=("$NGX")
fi
if has switchyard; then
  SYCONF=${SWITCHYARD_BENCH_CONFIG:-$OUT/switchyard.yaml}
  # shellcheck source=switchyard_conf.sh
  . "$KIT/switchyard_conf.sh"
  [ -n "${SWITCHYARD_BENCH_CONFIG:-}" ] || switchyard_conf "$SYCONF" "$MOCK_PORT" "$SY_PORT" "$SY_ADMIN_PORT" "$OUT/switchyard-ledger.db"
  taskset -c 1 "$SWITCHYARD_BIN" --config "$SYCONF" >"$OUT/switchyard.log" 2>&1 & SY=$!; PIDS+=("$SY")
fi
wait_up $MOCK/v1/models "$MOCKPID" || exit 1
[ -n "$NGX" ] && { wait_up http://127.0.0.1:$NGINX_PORT/v1/models "$NGX" || TARGETS=${TARGETS/nginx/}; }
[ -n "$PK" ] && { wait_up http://127.0.0.1:$PORTKEY_PORT/ "$PK" || TARGETS=${TARGETS/portkey/}; }
[ -n "$SY" ] && { wait_up http://127.0.0.1:$SY_PORT/healthz "$SY" || TARGETS=${TARGETS/switchyard/}; }
[ -n "$LIT" ] && { wait_up http://127.0.0.1:$LITELLM_PORT/health/liveliness "$LIT" || TARGETS=${TARGETS/litellm/}; }
sleep 2
{ echo "target,rss_kib"; for t in direct:$MOCKPID nginx:$NGX litellm:$LIT portkey:$PK switchyard:$SY; do
    [ -n "${t#*:}" ] && alive "${t#*:}" && echo "${t%%:*},$(rss_kib "${t#*:}")"; done; } | tee "$OUT/idle_rss.csv"
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  cpus: $(nproc)  DUR: ${DUR}s  CONCS: $CONCS  SCEN: $SCEN  targets: $(echo $TARGETS)"
  echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: ${BENCH_CMD:-bash bench/peers/bench.sh}"
  echo "versions: litellm $("$W/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null)," \
    "portkey $(node -p 'require(process.argv[1]).version' "$W/portkey/node_modules/@portkey-ai/gateway/package.json" 2>/dev/null)," \
    "$(nginx -v 2>&1 | sed 's#.*/##; s#^#nginx #'), $(wrk --version 2>&1 | head -1 | awk '{print "wrk", $2}'), node $(node --version)"
} > "$OUT/meta.txt"; cat "$OUT/meta.txt"

# Request bodies: the OpenAI body with the model each target routes on; the Anthropic body for direct/nginx.
mkbody() { local f="$OUT/$(basename "$1" .json)_$2.json"; sed "s/\"model\":\"[^\"]*\"/\"model\":\"$2\"/" "$KIT/$1" > "$f"; echo "$f"; }
AH="anthropic-version: 2023-06-01|x-api-key: sk-mock"
PKH="x-portkey-custom-host: $MOCK/v1|Authorization: Bearer sk-mock"
def() {  # def SCENARIO TARGET -> NAME URL PID HDRS B (body) BS (stream body) FMT (reply format) UP (path the mock must see)
  local model=mock-gpt
  NAME=$2; FMT=openai; UP=/chat/completions; URL=/v1/chat/completions; B=body.json; HDRS=""
  [ "$1" = anthropic ] && { NAME=$2-anth; UP=/v1/messages; }
  case "$1/$2" in
    */direct)       PID=$MOCKPID; URL=$MOCK$URL ;;
    */nginx)        PID=$NGX;  URL=http://127.0.0.1:$NGINX_PORT$URL ;;   # plain proxy (anthropic: /v1/messages passed through)
    */litellm)      PID=$LIT;  URL=http://127.0.0.1:$LITELLM_PORT$URL; HDRS="Authorization: Bearer $KEY" ;;
    */portkey)      PID=$PK;   URL=http://127.0.0.1:$PORTKEY_PORT$URL; HDRS="x-portkey-provider: ${1}|$PKH" ;;
    */switchyard)   PID=$SY;   URL=http://127.0.0.1:$SY_PORT$URL; HDRS="Authorization: Bearer sk-bench"; model=bench-openai ;;
  esac
  case "$1/$2" in
    anthropic/direct|anthropic/nginx) URL=${URL%/chat/completions}/messages; HDRS=$AH; B=anth_body.json; FMT=anthropic ;;
    anthropic/litellm|anthropic/switchyard) model=bench-anthropic ;;
    anthropic/portkey) model=claude-haiku-4-5 ;;
  esac
  if [ "$B" = body.json ] && [ "$model" != mock-gpt ]; then B=$(mkbody body.json "$model"); BS=$(mkbody body_stream.json "$model")
  else BS=${B%.json}_stream.json; fi
}

cd "$KIT"
echo "== checks: does each target reach the right upstream path and answer in the right format?"
for s in $SCENS; do for t in $TARGETS; do def "$s" "$t"
  for b in "$B" "$BS"; do python3 verify.py "$NAME" "$URL" "$b" "$HDRS" "$FMT" "$UP"; done
done; done | tee "$OUT/verify.txt"

echo "== load"
echo "name,conc,requests,rps,p50_ms,p90_ms,p99_ms,p999_ms,mean_ms,non2xx,sockerr,rss_before_mib,rss_peak_mib" | tee "$OUT/results.csv"
for s in $SCENS; do
  for st in "" _stream; do for t in $TARGETS; do def "$s" "$t"
    ./run.sh "$NAME$st" "$URL" "$PID" "$([ -z "$st" ] && echo "$B" || echo "$BS")" "$HDRS" "$CONCS" "$DUR" | tee -a "$OUT/results.csv"
  done; done
  for t in $TARGETS; do def "$s" "$t"
    echo "$NAME: $(taskset -c 0 node ttft.js "$URL" 200 "$HDRS" "$BS")"
  done | tee -a "$OUT/ttft.txt"
done
[ -n "$SY" ] && curl -s http://127.0.0.1:$SY_ADMIN_PORT/metrics > "$OUT/switchyard_metrics.txt"
curl -s $MOCK/_mock/stats > "$OUT/mock_stats.json"
python3 report.py "$OUT" | tee "$OUT/report.md"
echo "results in $OUT"
