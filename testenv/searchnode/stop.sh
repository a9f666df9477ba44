#!/usr/bin/env bash
# Stop a node started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (the launcher closes the node cleanly), waits up to 30 s, then SIGKILL.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=searchnode
. "$HERE/../nodelib.sh"
[ $# -eq 1 ] || die "usage: stop.sh DATADIR"
# either flavor's launcher (leakwatch.testenv.OpenSearchNodeMain or Elasticsearch7NodeMain)
stop_node "$1" "leakwatch.testenv."
