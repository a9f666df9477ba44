#!/usr/bin/env bash
# Stop a node started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (Cassandra's shutdown hook drains the node), waits up to 30 s, then SIGKILL.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=cassandranode
. "$HERE/../nodelib.sh"
[ $# -eq 1 ] || die "usage: stop.sh DATADIR"
stop_node "$1" "leakwatch.testenv.CassandraNodeMain"
