#!/usr/bin/env bash
# Start real open-source Hazelcast 5.5.0 members (com.hazelcast:hazelcast from Maven Central, run by a small Java
# launcher; several members share one JVM) on loopback addresses, for leakwatch integration tests.
#
#   start.sh DATADIR SEEDFILE MEMBER...
#     DATADIR   gets node.pid and node.log
#     SEEDFILE  lines MAP<TAB>json|string<TAB>KEY<TAB>VALUE written into every member's maps ("" for none)
#     MEMBER    HOST:PORT:CLUSTER — HOST a literal 127.x.y.z address (anything else is refused), PORT the member
#               port (client protocol), CLUSTER the cluster name a client must present ("dev" is Hazelcast's default)
#
# Each member is standalone: multicast, TCP/IP and auto-detection join off, phone-home off, bound to HOST only.
#
# Environment (all optional):
#   HZNODE_HEAP       JVM heap flags (default: -Xms64m -Xmx256m)
#   HZNODE_JAVA_OPTS  extra JVM flags
#   HZNODE_TIMEOUT    seconds to wait for the members (default: 180)
#   HZNODE_MVN_ARGS   extra maven args, e.g. -Dmaven.repo.local=/path
#   JAVA              java binary (default: $JAVA_HOME/bin/java or java; Java 17)
#
# Exits 0 once every member is up and seeded; on failure prints the log tail and exits 1.
set -euo pipefail

die() { echo "start.sh: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: start.sh DATADIR SEEDFILE 127.0.0.X:PORT:CLUSTER..."
DATADIR=$1 SEED=$2
shift 2
ARGS=()
for m in "$@"; do
  # Network rule: loopback only. The Java launcher checks this again.
  [[ "$m" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}:[0-9]+:[A-Za-z0-9_.-]+$ ]] || die "MEMBER must be 127.x.y.z:PORT:CLUSTER, got '$m'"
  ARGS+=(--member "$m")
done
[ -z "$SEED" ] || { [ -f "$SEED" ] || die "no seed file $SEED"; ARGS+=(--seed "$SEED"); }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${HZNODE_TIMEOUT:-180}
HEAP=${HZNODE_HEAP:--Xms64m -Xmx256m}
if [ -z "${JAVA:-}" ]; then
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
fi
command -v "$JAVA" >/dev/null || die "java not found"

mkdir -p "$DATADIR"
DATADIR=$(cd "$DATADIR" && pwd)
PIDFILE=$DATADIR/node.pid
LOG=$DATADIR/node.log

# ---- build (once; later runs reuse target/ and build offline) -------------------------
build() {
  exec 9>"${TMPDIR:-/tmp}/leakwatch-hazelcastnode-build.lock"
  flock 9
  local stamp=$HERE/target/.hazelcastnode-built
  if [ -f "$stamp" ] && [ -d "$HERE/target/lib" ] \
     && [ -z "$(find "$HERE/pom.xml" "$HERE/src" -newer "$stamp" -print -quit)" ]; then
    exec 9>&-; return 0
  fi
  echo "start.sh: building the Hazelcast launcher with maven ..." >&2
  local t0=$SECONDS
  local mvnargs=(-q -B -f "$HERE/pom.xml" ${HZNODE_MVN_ARGS:-} package)
  if ! mvn -o "${mvnargs[@]}" >"$HERE/.mvn-build.log" 2>&1; then
    # first time (or new deps): resolve from Maven Central
    mvn "${mvnargs[@]}" >"$HERE/.mvn-build.log" 2>&1 || { cat "$HERE/.mvn-build.log" >&2; die "maven build failed"; }
  fi
  rm -f "$HERE/.mvn-build.log"
  touch "$stamp"
  echo "start.sh: build took $((SECONDS - t0)) s" >&2
  exec 9>&-
}
command -v mvn >/dev/null || [ -f "$HERE/target/.hazelcastnode-built" ] || die "mvn not found"
build

# ---- launch ---------------------------------------------------------------------------
mkdir -p "$DATADIR/tmp"
JVM_OPTS=(
  $HEAP
  -XX:TieredStopAtLevel=1
  -XX:+UseSerialGC
  -Xss1m
  -XX:+ExitOnOutOfMemoryError
  -Djava.io.tmpdir="$DATADIR/tmp"
  -Djava.awt.headless=true
  -Dfile.encoding=UTF-8
  -Dhazelcast.phone.home.enabled=false
  --add-modules java.se
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  ${HZNODE_JAVA_OPTS:-}
)

T0=$(date +%s%N)
# setsid: own session, so the node survives the calling shell and ignores its SIGHUP/SIGINT.
setsid "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/target/classes:$HERE/target/lib/*" leakwatch.testenv.HazelcastNodeMain "${ARGS[@]}" \
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
  if grep -q 'HZNODE READY' "$LOG" 2>/dev/null; then
    break
  fi
  [ $SECONDS -lt $deadline ] || fail "members not up within ${TIMEOUT}s"
  sleep 0.3
done
T1=$(date +%s%N)
echo "start.sh: hazelcast members $* up (pid $PID) after $(( (T1 - T0) / 1000000 )) ms" >&2
