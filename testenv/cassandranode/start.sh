#!/usr/bin/env bash
# Start a real single-node Apache Cassandra 5.0 (cassandra-all from Maven Central, run in-process by a
# small Java launcher) on a loopback address, for leakwatch integration tests.
#
#   start.sh HOST PORT DATADIR [AUTH]
#     HOST     literal IPv4 loopback address, 127.x.y.z (anything else is refused)
#     PORT     CQL native transport port (the inter-node storage port is 7000 on the same HOST)
#     DATADIR  node data/commitlog/conf; gets node.pid and node.log
#     AUTH     none (default: AllowAllAuthenticator) | password (PasswordAuthenticator with the
#              default superuser cassandra/cassandra, which start.sh waits for)
#
# Environment (all optional):
#   CASSANDRANODE_HEAP          JVM heap flags        (default: -Xms512m -Xmx512m)
#   CASSANDRANODE_JAVA_OPTS     extra JVM flags
#   CASSANDRANODE_STORAGE_PORT  inter-node port       (default: 7000)
#   CASSANDRANODE_TIMEOUT       seconds to wait for CQL (default: 180)
#   CASSANDRANODE_MVN_ARGS      extra maven args, e.g. -Dmaven.repo.local=/path
#   JAVA                        java binary (default: $JAVA_HOME/bin/java or java; Java 17 or 11)
#
# Exits 0 once the node answers CQL (and, with AUTH=password, the default superuser exists); on
# failure prints the log tail and exits 1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=cassandranode
. "$HERE/../nodelib.sh"

[ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: start.sh 127.0.0.X PORT DATADIR [none|password]"
HOST=$1 PORT=$2 DATADIR=$3 AUTH=${4:-none}
# Network rule: loopback only. The Java launcher checks this again.
loopback_host "$HOST"
user_port "$PORT"
SPORT=${CASSANDRANODE_STORAGE_PORT:-7000}
user_port "$SPORT"
[ "$SPORT" != "$PORT" ] || die "bad storage port '$SPORT' (it is PORT)"
case "$AUTH" in none|password) ;; *) die "AUTH must be none or password" ;; esac

TIMEOUT=${CASSANDRANODE_TIMEOUT:-180}
HEAP=${CASSANDRANODE_HEAP:--Xms512m -Xmx512m}
find_java

node_files "$DATADIR" "a node is"
port_open "$HOST" "$PORT" && die "something already listens on $HOST:$PORT"
port_open "$HOST" "$SPORT" && die "something already listens on $HOST:$SPORT"

# ---- build (once; later runs reuse target/ and build offline) -------------------------
# shellcheck disable=SC2086
maven_build ${CASSANDRANODE_MVN_ARGS:-}

# ---- launch ---------------------------------------------------------------------------
mkdir -p "$DATADIR/tmp"
JAMM=$(ls "$HERE"/target/lib/jamm-*.jar | head -n 1)
# From Cassandra 5.0's jvm-server.options and jvm17-server.options (minus heap dumps, GC logs, JMX).
JVM_OPTS=(
  $HEAP
  -XX:TieredStopAtLevel=1
  -XX:+UseG1GC
  -XX:+ParallelRefProcEnabled
  -XX:MaxTenuringThreshold=1
  -Xss256k
  -XX:+PerfDisableSharedMem
  -XX:+ExitOnOutOfMemoryError
  -ea -da:net.openhft...
  -javaagent:"$JAMM"
  -Djava.net.preferIPv4Stack=true
  -Djava.io.tmpdir="$DATADIR/tmp"
  -Djava.awt.headless=true
  -Djdk.attach.allowAttachSelf=true
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11
  -Dcassandra.available_processors=2
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  ${CASSANDRANODE_JAVA_OPTS:-}
)

T0=$(date +%s%N)
launch_node "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/target/classes:$HERE/target/lib/*" leakwatch.testenv.CassandraNodeMain \
  --host "$HOST" --port "$PORT" --storage-port "$SPORT" --data "$DATADIR" --auth "$AUTH"

# up: CQL answers and, with AUTH=password, the default superuser exists.
up() {
  grep -q 'Startup complete' "$LOG" 2>/dev/null && port_open "$HOST" "$PORT" &&
    { [ "$AUTH" = none ] || grep -q "Created default superuser role" "$LOG" 2>/dev/null; }
}
wait_node 0.5 "no CQL on $HOST:$PORT" up
T1=$(date +%s%N)
echo "start.sh: cassandra ($AUTH) up on $HOST:$PORT (pid $PID) after $(( (T1 - T0) / 1000000 )) ms" >&2
