# Sourced by bench.sh and soak.sh: process bookkeeping. Every process the rig starts is appended to PIDS and stopped
# by PID on exit (SIGTERM, then SIGKILL after 5 s); port() picks a free loopback port; rss_kib sums a process's RSS
# with its children's. The caller sets OUT (where logs go) before using wait_up.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PIDS=()
alive() { local s; s=$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
stop() {  # SIGTERM, then SIGKILL after 5 s (Switchyard, like Pingora, may sit in a shutdown grace period)
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 1 50); do alive "$p" || break; sleep 0.1; done
  if alive "$p"; then echo "pid $p still up 5 s after SIGTERM: SIGKILL"; kill -KILL "$p" 2>/dev/null; fi
  wait "$p" 2>/dev/null
}
cleanup() { local p; for p in "${PIDS[@]}"; do stop "$p"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_up() {  # wait_up URL PID: any HTTP answer counts; gives up when the process dies or after 120 s
  for _ in $(seq 1 240); do curl -s -o /dev/null "$1" && return 0; alive "$2" || break; sleep 0.5; done
  echo "not up: $1 (pid $2; see its log in $OUT)"; return 1
}
rss_kib() { local t=0 p r; for p in $1 $(pgrep -P "$1" 2>/dev/null); do r=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null); t=$((t+${r:-0})); done; echo $t; }
