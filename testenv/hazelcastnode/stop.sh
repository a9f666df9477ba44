#!/usr/bin/env bash
# Stop a node started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (the launcher's shutdown hook shuts the members down), waits up to 30 s, then SIGKILL.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: stop.sh DATADIR" >&2; exit 1; }
PIDFILE=$1/node.pid
if [ ! -f "$PIDFILE" ]; then
  echo "stop.sh: no $PIDFILE, nothing to stop" >&2
  exit 0
fi
PID=$(cat "$PIDFILE")
# only signal our own launcher (guards against a recycled pid)
if kill -0 "$PID" 2>/dev/null && tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -q 'leakwatch\.testenv\.HazelcastNodeMain'; then
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$PID" 2>/dev/null; then
    echo "stop.sh: pid $PID did not exit after 30 s, sending SIGKILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
  fi
  echo "stop.sh: stopped pid $PID" >&2
else
  echo "stop.sh: pid $PID is not running (stale pid file)" >&2
fi
rm -f "$PIDFILE"
