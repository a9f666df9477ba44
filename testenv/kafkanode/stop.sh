#!/usr/bin/env bash
# Stop a broker started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (the broker shuts down cleanly), waits up to 30 s, then SIGKILL.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: stop.sh DATADIR" >&2; exit 1; }
DATADIR=$(cd "$1" 2>/dev/null && pwd) || { echo "stop.sh: no $1, nothing to stop" >&2; exit 0; }
PIDFILE=$DATADIR/node.pid
if [ ! -f "$PIDFILE" ]; then
  echo "stop.sh: no $PIDFILE, nothing to stop" >&2
  exit 0
fi
PID=$(cat "$PIDFILE")
# only signal our own broker (guards against a recycled pid)
if kill -0 "$PID" 2>/dev/null && tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -qF -- "-Dleakwatch.kafkanode=$DATADIR "; then
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
