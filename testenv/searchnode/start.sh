#!/usr/bin/env bash
# Start an embedded, unauthenticated OpenSearch 2.19.6 or Elasticsearch 7.10.2 node on a
# loopback address, for leakwatch integration tests.
#
#   start.sh FLAVOR HOST PORT DATADIR
#     FLAVOR   opensearch | elasticsearch7
#     HOST     literal IPv4 loopback address, 127.x.y.z (anything else is refused)
#     PORT     HTTP port; the transport port is PORT+100 on the same HOST
#     DATADIR  node home/data/logs; gets node.pid and node.log
#
# Environment (all optional):
#   SEARCHNODE_HEAP        JVM heap flags            (default: -Xms256m -Xmx512m)
#   SEARCHNODE_JAVA_OPTS   extra JVM flags
#   SEARCHNODE_C1_ONLY     1 (default) = -XX:TieredStopAtLevel=1: boots ~2.5x faster on 2 cores,
#                          fine for test loads; 0 = full C2 JIT
#   SEARCHNODE_TIMEOUT     seconds to wait for HTTP  (default: 180)
#   SEARCHNODE_MVN_ARGS    extra maven args, e.g. -Dmaven.repo.local=/path
#   JAVA                   java binary               (default: $JAVA_HOME/bin/java or java)
#
# Prints the GET / body on success and exits 0; on failure prints the log tail and exits 1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=searchnode
. "$HERE/../nodelib.sh"

[ $# -eq 4 ] || die "usage: start.sh opensearch|elasticsearch7 127.0.0.X PORT DATADIR"
FLAVOR=$1 HOST=$2 PORT=$3 DATADIR=$4

case "$FLAVOR" in
  opensearch)     MAIN=leakwatch.testenv.OpenSearchNodeMain ;;
  elasticsearch7) MAIN=leakwatch.testenv.Elasticsearch7NodeMain ;;
  *) die "unknown flavor '$FLAVOR' (opensearch | elasticsearch7)" ;;
esac
# Network rule: loopback only. The Java launcher checks this again.
loopback_host "$HOST"
user_port "$PORT"
[ "$PORT" -le 65435 ] || die "bad PORT '$PORT' (the transport port PORT+100 must be a port too)"

MOD=$HERE/$FLAVOR
TIMEOUT=${SEARCHNODE_TIMEOUT:-180}
HEAP=${SEARCHNODE_HEAP:--Xms256m -Xmx512m}
find_java
command -v curl >/dev/null || die "curl not found"

node_files "$DATADIR" "a node is"
URL="http://$HOST:$PORT"
if curl -s -m 2 -o /dev/null "$URL/"; then
  die "something already answers on $URL"
fi

# ---- build (once; later runs reuse target/ and build offline) -------------------------
# Both flavors share the parent pom and ~/.m2; maven_build serialises them.
MAVEN_MODULE=$FLAVOR
# shellcheck disable=SC2086
maven_build ${SEARCHNODE_MVN_ARGS:-}

# ---- launch ---------------------------------------------------------------------------
mkdir -p "$DATADIR/tmp"
# jvm.options equivalents from the real distributions (minus heap dumps / GC logs)
JVM_OPTS=(
  $HEAP
  -XX:+UseG1GC
  -Xss1m
  -Djava.awt.headless=true
  -Dfile.encoding=UTF-8
  -Djna.nosys=true
  -XX:-OmitStackTraceInFastThrow
  -Dio.netty.noUnsafe=true
  -Dio.netty.noKeySetOptimization=true
  -Dio.netty.recycler.maxCapacityPerThread=0
  -Dlog4j.shutdownHookEnabled=false
  -Dlog4j2.disable.jmx=true
  -Dlog4j2.formatMsgNoLookups=true
  -Djava.locale.providers=SPI,COMPAT
  -Djava.io.tmpdir="$DATADIR/tmp"
  ${SEARCHNODE_JAVA_OPTS:-}
)
[ "${SEARCHNODE_C1_ONLY:-1}" = 1 ] && JVM_OPTS=(-XX:TieredStopAtLevel=1 "${JVM_OPTS[@]}")

T0=$(date +%s%N)
launch_node "$JAVA" "${JVM_OPTS[@]}" -cp "$MOD/target/classes:$MOD/target/lib/*" "$MAIN" \
  --host "$HOST" --port "$PORT" --transport-port "$((PORT + 100))" --data "$DATADIR"

# up: GET / answers with the node's version (kept in BODY).
BODY=
up() {
  BODY=$(curl -s -m 2 "$URL/" 2>/dev/null || true)
  case "$BODY" in *'"version"'*) return 0 ;; esac
  return 1
}
wait_node 0.5 "no answer from $URL/" up
# wait until the (empty or recovered) cluster state is usable
curl -s -m 70 -o /dev/null "$URL/_cluster/health?wait_for_status=yellow&timeout=60s" || true
T1=$(date +%s%N)
echo "start.sh: $FLAVOR up on $URL (pid $PID) after $(( (T1 - T0) / 1000000 )) ms" >&2
echo "$BODY"
