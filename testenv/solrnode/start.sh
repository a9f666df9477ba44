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

die() { echo "start.sh: $*" >&2; exit 1; }

[ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: start.sh 127.0.0.X PORT DATADIR CORE[,CORE...] [PASSWORD]"
HOST=$1 PORT=$2 DATADIR=$3 CORES=$4 PASSWORD=${5:-}
# Network rule: loopback only. The Java launcher checks this again.
[[ "$HOST" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "HOST must be a literal 127.x.y.z address, got '$HOST'"
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] || die "bad PORT '$PORT'"
[[ "$CORES" =~ ^[A-Za-z0-9_,]*$ ]] || die "bad CORES '$CORES'"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${SOLRNODE_TIMEOUT:-180}
HEAP=${SOLRNODE_HEAP:--Xms128m -Xmx384m}
if [ -z "${JAVA:-}" ]; then
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
fi
command -v "$JAVA" >/dev/null || die "java not found"

mkdir -p "$DATADIR"
DATADIR=$(cd "$DATADIR" && pwd)
PIDFILE=$DATADIR/node.pid
LOG=$DATADIR/node.log

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  die "a node is already running from $DATADIR (pid $(cat "$PIDFILE")); run stop.sh $DATADIR first"
fi
port_open "$HOST" "$PORT" && die "something already listens on $HOST:$PORT"

# ---- build (once; later runs reuse target/ and build offline) -------------------------
build() {
  exec 9>"${TMPDIR:-/tmp}/leakwatch-solrnode-build.lock"
  flock 9
  local stamp=$HERE/target/.solrnode-built
  if [ -f "$stamp" ] && [ -d "$HERE/target/lib" ] \
     && [ -z "$(find "$HERE/pom.xml" "$HERE/src" -newer "$stamp" -print -quit)" ]; then
    exec 9>&-; return 0
  fi
  echo "start.sh: building the Solr launcher with maven ..." >&2
  local t0=$SECONDS
  local mvnargs=(-q -B -f "$HERE/pom.xml" ${SOLRNODE_MVN_ARGS:-} package)
  if ! mvn -o "${mvnargs[@]}" >"$HERE/.mvn-build.log" 2>&1; then
    # first time (or new deps): resolve from Maven Central
    mvn "${mvnargs[@]}" >"$HERE/.mvn-build.log" 2>&1 || { cat "$HERE/.mvn-build.log" >&2; die "maven build failed"; }
  fi
  rm -f "$HERE/.mvn-build.log"
  touch "$stamp"
  echo "start.sh: build took $((SECONDS - t0)) s" >&2
  exec 9>&-
}
command -v mvn >/dev/null || [ -f "$HERE/target/.solrnode-built" ] || die "mvn not found"
build

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
# setsid: own session, so the node survives the calling shell and ignores its SIGHUP/SIGINT.
setsid "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/target/classes:$HERE/target/lib/*" leakwatch.testenv.SolrNodeMain "${ARGS[@]}" \
  </dev/null >"$LOG" 2>&1 &
PID=$!
echo "$PID" >"$PIDFILE"

fail() {
  echo "start.sh: $*" >&2
  echo "---- last lines of $LOG ----" >&2
  tail -n 40 "$LOG" >&2 || true
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$PID" 2>/dev/null || true
  rm -f "$PIDFILE"
  exit 1
}

deadline=$((SECONDS + TIMEOUT))
while :; do
  kill -0 "$PID" 2>/dev/null || fail "node process $PID exited during startup"
  if grep -q 'SOLRNODE READY' "$LOG" 2>/dev/null && port_open "$HOST" "$PORT"; then
    break
  fi
  [ $SECONDS -lt $deadline ] || fail "no Solr on $HOST:$PORT within ${TIMEOUT}s"
  sleep 0.3
done
T1=$(date +%s%N)
echo "start.sh: solr up on http://$HOST:$PORT/solr (pid $PID) after $(( (T1 - T0) / 1000000 )) ms" >&2
