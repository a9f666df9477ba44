#!/usr/bin/env bash
# Stop a node started by start.sh:  stop.sh DATADIR
# Sends SIGTERM (the launcher's shutdown hook stops Jetty and closes the cores), waits up to 30 s, then SIGKILL.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=solrnode
. "$HERE/../nodelib.sh"
[ $# -eq 1 ] || die "usage: stop.sh DATADIR"
stop_node "$1" "leakwatch.testenv.SolrNodeMain"
