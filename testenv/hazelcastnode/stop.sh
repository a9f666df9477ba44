#!/usr/bin/env bash
# Stop a node started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (the launcher's shutdown hook shuts the members down), waits up to 30 s, then SIGKILL.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=hazelcastnode
. "$HERE/../nodelib.sh"
[ $# -eq 1 ] || die "usage: stop.sh DATADIR"
stop_node "$1" "leakwatch.testenv.HazelcastNodeMain"
