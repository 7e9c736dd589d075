#!/usr/bin/env bash
# `make bench-compare` and `make soak`: install the rig (setup.sh), measure, and write the results into
# docs/benchmarks.md (doc.py). Works from a fresh clone; the Makefile builds the release binaries first.
#   compare.sh        bench.sh: direct, nginx, Switchyard, LiteLLM, Portkey side by side; then, if SOAK is set
#                     and not 0, soak.sh for SOAK seconds
#   compare.sh soak   soak.sh only (SOAK seconds, default 600)
# Env: W (work dir, default $HOME/.cache/sy-peers), DUR (seconds per point, default 8), SWITCHYARD_BIN (default
#      target/release/switchyard), DOC (default docs/benchmarks.md), and bench.sh's CONCS, SCEN, TARGETS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIT=$ROOT/bench/peers
export W=${W:-$HOME/.cache/sy-peers}
export DUR=${DUR:-8}
DOC=${DOC:-$ROOT/docs/benchmarks.md}
export SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/target/release/switchyard}
MODE=${1:-bench}
[ -x "$SWITCHYARD_BIN" ] || { echo "missing $SWITCHYARD_BIN: run cargo build --release --bins" >&2; exit 2; }
t0=$(date +%s)
bash "$KIT/setup.sh"

if [ "$MODE" = bench ]; then
  BENCH_CMD="${BENCH_CMD:-DUR=$DUR make bench-compare}" bash "$KIT/bench.sh"
  RES=$(readlink -f "$W/results/latest")
  python3 "$KIT/doc.py" results "$RES" "$DOC"
  if grep -q '^FAIL' "$RES/verify.txt"; then
    echo "==> some targets failed their pre-run check (marked ✗ in the table):"; grep '^FAIL' "$RES/verify.txt"
  fi
fi
if [ "$MODE" = soak ] || [ "${SOAK:-0}" != 0 ]; then
  SOAK=${SOAK:-600} BENCH_CMD="${SOAK_CMD:-SOAK=${SOAK:-600} make soak}" bash "$KIT/soak.sh"
  python3 "$KIT/doc.py" soak "$(readlink -f "$W/soak/latest")" "$DOC"
fi
echo "==> took $(( $(date +%s) - t0 )) s; results in $DOC"
