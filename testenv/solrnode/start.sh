#!/usr/bin/env bash
# Start a real standalone Apache Solr 9.10.1 node (solr-core + solr-test-framework's JettySolrRunner from
# Maven Central, run by a small Java launcher) on a loopback address, for leakwatch integration tests.
#
#   start.sh HOST PORT DATADIR CORES [PASSWORD]
#     HOST      literal IPv4 loopback address, 127.x.y.z (anything else is refused)
#     PORT      HTTP port (Solr answers under /solr)
#     DATADIR   solr home (made here: solr.xml, configsets/, one folder per core); gets node.pid, node.log
#     CORES     comma-separated core names, each created at start from configsets/leakwatch-minimal
#     PASSWORD  if given: security.json with the BasicAuthPlugin (blockUnknown) and user "solr" with this
#               password, the only one allowed anything (RuleBasedAuthorizationPlugin, permission "all")
#
# Environment (all optional):
#   SOLRNODE_HEAP       JVM heap flags (default: -Xms128m -Xmx384m)
#   SOLRNODE_JAVA_OPTS  extra JVM flags
#   SOLRNODE_TIMEOUT    seconds to wait for the node (default: 180)
#   SOLRNODE_MVN_ARGS   extra maven args, e.g. -Dmaven.repo.local=/path
#   JAVA                java binary (default: $JAVA_HOME/bin/java or java; Java 17)
#
# Exits 0 once the node has loaded its cores and answers HTTP; on failure prints the log tail and exits 1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=solrnode
. "$HERE/../nodelib.sh"

[ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: start.sh 127.0.0.X PORT DATADIR CORE[,CORE...] [PASSWORD]"
HOST=$1 PORT=$2 DATADIR=$3 CORES=$4 PASSWORD=${5:-}
loopback_host "$HOST" # the Java launcher checks this again
user_port "$PORT"
[[ "$CORES" =~ ^[A-Za-z0-9_,]*$ ]] || die "bad CORES '$CORES'"

TIMEOUT=${SOLRNODE_TIMEOUT:-180}
HEAP=${SOLRNODE_HEAP:--Xms128m -Xmx384m}
find_java

node_files "$DATADIR" "a node is"
port_open "$HOST" "$PORT" && die "something already listens on $HOST:$PORT"

maven_build ${SOLRNODE_MVN_ARGS:-}

# ---- launch ---------------------------------------------------------------------------
mkdir -p "$DATADIR/tmp"
ARGS=(--host "$HOST" --port "$PORT" --home "$DATADIR/home" --configsets "$HERE/configsets")
IFS=, read -r -a CORELIST <<<"$CORES"
for c in "${CORELIST[@]}"; do [ -n "$c" ] && ARGS+=(--core "$c"); done
[ -n "$PASSWORD" ] && ARGS+=(--password "$PASSWORD")
JVM_OPTS=(
  $HEAP
  -XX:TieredStopAtLevel=1
  -XX:+UseSerialGC
  -Xss1m
  -XX:+ExitOnOutOfMemoryError
  -Djava.io.tmpdir="$DATADIR/tmp"
  -Djava.awt.headless=true
  -Dfile.encoding=UTF-8
  -Dlog4j2.formatMsgNoLookups=true
  -Dlog4j2.level=WARN
  -Dsolr.disable.shardsWhitelist=false
  ${SOLRNODE_JAVA_OPTS:-}
)

T0=$(date +%s%N)
launch_node "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/target/classes:$HERE/target/lib/*" leakwatch.testenv.SolrNodeMain "${ARGS[@]}"

# up: the launcher loaded the cores and the port accepts connections.
up() { grep -q 'SOLRNODE READY' "$LOG" 2>/dev/null && port_open "$HOST" "$PORT"; }
wait_node 0.3 "no Solr on $HOST:$PORT" up
T1=$(date +%s%N)
echo "start.sh: solr up on http://$HOST:$PORT/solr (pid $PID) after $(( (T1 - T0) / 1000000 )) ms" >&2
