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
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=hazelcastnode
. "$HERE/../nodelib.sh"

[ $# -ge 3 ] || die "usage: start.sh DATADIR SEEDFILE 127.0.0.X:PORT:CLUSTER..."
DATADIR=$1 SEED=$2
shift 2
ARGS=()
for m in "$@"; do
  [[ "$m" =~ ^[0-9.]+:[0-9]+:[A-Za-z0-9_.-]+$ ]] || die "MEMBER must be 127.x.y.z:PORT:CLUSTER, got '$m'"
  IFS=: read -r h p _ <<<"$m"
  loopback_host "$h" # the Java launcher checks this again
  user_port "$p"
  port_open "$h" "$p" && die "something already listens on $h:$p"
  ARGS+=(--member "$m")
done
[ -z "$SEED" ] || { [ -f "$SEED" ] || die "no seed file $SEED"; ARGS+=(--seed "$SEED"); }

TIMEOUT=${HZNODE_TIMEOUT:-180}
HEAP=${HZNODE_HEAP:--Xms64m -Xmx256m}
find_java

node_files "$DATADIR" "members are"

maven_build ${HZNODE_MVN_ARGS:-}

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
launch_node "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/target/classes:$HERE/target/lib/*" leakwatch.testenv.HazelcastNodeMain "${ARGS[@]}"

# up: the launcher started and seeded every member.
up() { grep -q 'HZNODE READY' "$LOG" 2>/dev/null; }
wait_node 0.3 "members not up" up
T1=$(date +%s%N)
echo "start.sh: hazelcast members $* up (pid $PID) after $(( (T1 - T0) / 1000000 )) ms" >&2
