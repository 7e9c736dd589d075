#!/usr/bin/env bash
# Zero-downtime binary upgrade of a running Switchyard (README "Zero-downtime upgrade").
#
#   scripts/upgrade.sh OLD_PID --config FILE
#
# Starts the new binary ($SWITCHYARD_BIN, default `switchyard` on PATH) with `--upgrade` and
# the given arguments, then sends SIGQUIT to OLD_PID: the old process hands its listening
# sockets (API and admin) to the new one over server.upgrade_sock, keeps serving 5 s, then
# finishes its requests in flight, flushes its logs and ledger, and exits. Run it from the old
# process's working directory (relative ledger and socket paths resolve there). The new
# process's output is appended to $SWITCHYARD_LOG (default ./switchyard.log).
#
# Not for the systemd unit in conf/switchyard.service: there, use `systemctl restart` for a new
# binary (the unit file says why).
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 OLD_PID [--config FILE]" >&2
    exit 64
fi
old=$1
shift
bin=${SWITCHYARD_BIN:-switchyard}
log=${SWITCHYARD_LOG:-./switchyard.log}

kill -0 "$old" 2>/dev/null || { echo "upgrade: no process $old" >&2; exit 1; }
# A bad config must not cost the running gateway: SIGQUIT ends it whatever happens next.
"$bin" check "$@" >/dev/null

start=$(wc -c 2>/dev/null <"$log" || echo 0)
nohup "$bin" --upgrade "$@" >>"$log" 2>&1 &
new=$!

# SIGQUIT only once the new process waits for the sockets (Pingora gives it about 6 s).
for _ in $(seq 100); do
    kill -0 "$new" 2>/dev/null || { echo "upgrade: new process exited; see $log" >&2; exit 1; }
    tail -c +"$((start + 1))" "$log" | grep -q "waiting for the running gateway" && break
    sleep 0.1
done
kill -QUIT "$old"

for _ in $(seq 100); do
    if tail -c +"$((start + 1))" "$log" | grep -q "listening sockets taken over"; then
        echo "upgrade: process $new took over from $old, which now drains and exits"
        exit 0
    fi
    kill -0 "$new" 2>/dev/null || break
    sleep 0.1
done
echo "upgrade: process $new did not take over; see $log (process $old still shuts down)" >&2
exit 1
