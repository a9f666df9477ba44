#!/usr/bin/env bash
# Stop a broker started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (the broker shuts down cleanly), waits up to 30 s, then SIGKILL.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=kafkanode
. "$HERE/../nodelib.sh"
[ $# -eq 1 ] || die "usage: stop.sh DATADIR"
DATADIR=$(cd "$1" 2>/dev/null && pwd) || { echo "$NODE: no $1, nothing to stop" >&2; exit 0; }
stop_node "$DATADIR" "-Dleakwatch.kafkanode=$DATADIR "
