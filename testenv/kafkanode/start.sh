#!/usr/bin/env bash
# Start a real single-node Apache Kafka 4.x broker (kafka_2.13 from Maven Central, the broker's own main
# classes; KRaft mode, combined broker+controller) on a loopback address, for leakwatch integration tests.
#
#   start.sh HOST PORT SASLPORT DATADIR [TLSPORT]
#     HOST      literal IPv4 loopback address, 127.x.y.z (anything else is refused)
#     PORT      PLAINTEXT listener: no authentication (the "open" broker)
#     SASLPORT  SASL_PLAINTEXT listener, SCRAM-SHA-256 only (the "protected" broker); the user
#               admin / admin-secret is created at format time (--add-scram)
#     DATADIR   gets server.properties, log4j2.properties, data/, node.pid, node.log and
#               request.log (the broker's request logger: one line per request it served)
#     TLSPORT   optional SSL listener (TLS, no client certificate: "open over TLS"); needs
#               DATADIR/keystore.pem holding a PKCS#8 private key and its certificate chain
#   The KRaft controller listener is on an ephemeral port of HOST (free at start time).
#
# Environment (all optional):
#   KAFKANODE_HEAP       JVM heap flags            (default: -Xms256m -Xmx256m)
#   KAFKANODE_JAVA_OPTS  extra JVM flags
#   KAFKANODE_TIMEOUT    seconds to wait for the broker (default: 120)
#   KAFKANODE_MVN_ARGS   extra maven args, e.g. -Dmaven.repo.local=/path
#   KAFKANODE_JOIN       DATADIR of a running broker: start a broker-only node (node id
#                        KAFKANODE_NODE_ID, default 2) in its cluster instead of a new cluster
#   KAFKANODE_ACL        1: turn the authorizer on (StandardAuthorizer, allow.everyone.if.no.acl.found=false,
#                        super user User:admin). The PLAINTEXT listener still lets anyone connect (as
#                        User:ANONYMOUS) but authorizes only what ACLs grant; admin reaches everything over
#                        SASL_PLAINTEXT (SCRAM) and the controller listener (SASL PLAIN, admin). New
#                        cluster only (not with KAFKANODE_JOIN).
#   JAVA                 java binary (default: $JAVA_HOME/bin/java or java; Java 17+)
#
# Exits 0 once the broker logs that it started and both listeners accept connections; on failure
# prints the log tail and exits 1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=kafkanode
. "$HERE/../nodelib.sh"

[ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: start.sh 127.0.0.X PORT SASLPORT DATADIR [TLSPORT]"
HOST=$1 PORT=$2 SPORT=$3 DATADIR=$4 TPORT=${5:-}
loopback_host "$HOST"
for p in "$PORT" "$SPORT" $TPORT; do user_port "$p"; done
[ "$PORT" != "$SPORT" ] || die "PORT and SASLPORT must differ"
if [ -n "$TPORT" ]; then
  [ "$TPORT" != "$PORT" ] && [ "$TPORT" != "$SPORT" ] || die "TLSPORT must differ from the other ports"
fi

TIMEOUT=${KAFKANODE_TIMEOUT:-120}
HEAP=${KAFKANODE_HEAP:--Xms256m -Xmx256m}
find_java

node_files "$DATADIR" "a broker is"
for p in "$PORT" "$SPORT" $TPORT; do
  port_open "$HOST" "$p" && die "something already listens on $HOST:$p"
done
if [ -n "$TPORT" ]; then
  [ -f "$DATADIR/keystore.pem" ] || die "TLSPORT needs $DATADIR/keystore.pem"
fi

# ---- build (once; later runs reuse target/ and build offline) -------------------------
# shellcheck disable=SC2086
maven_build ${KAFKANODE_MVN_ARGS:-}

# ---- configure ------------------------------------------------------------------------
LISTENERS=PLAINTEXT://$HOST:$PORT,SASL_PLAINTEXT://$HOST:$SPORT
# The SSL listener is part of LISTENERS before the roles below copy it into listeners=.
SSLPROPS=
if [ -n "$TPORT" ]; then
  LISTENERS=$LISTENERS,SSL://$HOST:$TPORT
  SSLPROPS="ssl.keystore.type=PEM
ssl.keystore.location=$DATADIR/keystore.pem
ssl.client.auth=none"
fi
JOIN=${KAFKANODE_JOIN:-}
ACL=${KAFKANODE_ACL:-}
case "$ACL" in ""|0) ACL= ;; 1) [ -z "$JOIN" ] || die "KAFKANODE_ACL and KAFKANODE_JOIN do not mix" ;; *) die "bad KAFKANODE_ACL '$ACL'" ;; esac
# With the authorizer on, every principal the broker itself uses must be a super user: the controller
# listener authenticates the broker (and the controller) as User:admin with SASL PLAIN.
CONTROLLER_PROTOCOL=PLAINTEXT
ACLPROPS=
if [ -n "$ACL" ]; then
  CONTROLLER_PROTOCOL=SASL_PLAINTEXT
  ACLPROPS="authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\";"
fi
if [ -n "$JOIN" ]; then
  [ -f "$JOIN/cluster.id" ] && [ -f "$JOIN/controller" ] || die "KAFKANODE_JOIN=$JOIN is no broker's DATADIR"
  CLUSTER_ID=$(cat "$JOIN/cluster.id") CONTROLLER=$(cat "$JOIN/controller")
  NODE_ID=${KAFKANODE_NODE_ID:-2}
  [[ "$NODE_ID" =~ ^[0-9]+$ ]] && [ "$NODE_ID" != 1 ] || die "bad KAFKANODE_NODE_ID '$NODE_ID'"
  ROLES="process.roles=broker
node.id=$NODE_ID
controller.quorum.voters=1@$CONTROLLER
listeners=$LISTENERS"
  SCRAM=()
else
  # The controller port: an ephemeral port of HOST that is free now.
  CPORT=
  for _ in $(seq 50); do
    c=$(( 41000 + RANDOM % 8000 ))  # clear of the ports probers claim
    if [ "$c" != "$PORT" ] && [ "$c" != "$SPORT" ] && [ "$c" != "$TPORT" ] && ! port_open "$HOST" "$c"; then CPORT=$c; break; fi
  done
  [ -n "$CPORT" ] || die "no free controller port on $HOST"
  # Cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid form), not
  # starting with '-' (the storage tool would read it as an option; 1 start in 64 failed so).
  CLUSTER_ID=-
  while [ "${CLUSTER_ID#-}" != "$CLUSTER_ID" ]; do
    CLUSTER_ID=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  ROLES="process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=$LISTENERS,CONTROLLER://$HOST:$CPORT"
  SCRAM=(--add-scram 'SCRAM-SHA-256=[name=admin,password=admin-secret]')
fi

rm -rf "$DATADIR/data"
mkdir -p "$DATADIR/data" "$DATADIR/tmp"
cat >"$DATADIR/server.properties" <<PROPS
$ROLES
advertised.listeners=$LISTENERS
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:$CONTROLLER_PROTOCOL
$SSLPROPS
$ACLPROPS
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$DATADIR/data
num.partitions=1
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
offsets.topic.num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# left at Kafka's default on purpose: the tests prove the probe's Metadata request auto-creates nothing
auto.create.topics.enable=true
PROPS
cat >"$DATADIR/log4j2.properties" <<PROPS
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
appender.req.type = File
appender.req.name = REQ
appender.req.fileName = $DATADIR/request.log
appender.req.layout.type = PatternLayout
appender.req.layout.pattern = [%d] %m%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.req.name = kafka.request.logger
logger.req.level = DEBUG
logger.req.additivity = false
logger.req.appenderRef.req.ref = REQ
PROPS

JVM_OPTS=(
  $HEAP
  -XX:TieredStopAtLevel=1
  -XX:+UseSerialGC
  -Xss512k
  -XX:+PerfDisableSharedMem
  -XX:+ExitOnOutOfMemoryError
  -XX:ActiveProcessorCount=2
  -Djava.net.preferIPv4Stack=true
  -Djava.io.tmpdir="$DATADIR/tmp"
  -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$DATADIR/log4j2.properties"
  ${KAFKANODE_JAVA_OPTS:-}
)
CP="$HERE/target/lib/*"

T0=$(date +%s%N)
"$JAVA" "${JVM_OPTS[@]}" -cp "$CP" kafka.tools.StorageTool format \
  --cluster-id "$CLUSTER_ID" --config "$DATADIR/server.properties" --ignore-formatted \
  "${SCRAM[@]}" >"$DATADIR/format.log" 2>&1 \
  || { cat "$DATADIR/format.log" >&2; die "storage format failed"; }
T1=$(date +%s%N)

launch_node "$JAVA" "${JVM_OPTS[@]}" -Dleakwatch.kafkanode="$DATADIR" -cp "$CP" kafka.Kafka "$DATADIR/server.properties"

# up: the broker logged its start and every listener accepts connections.
up() {
  grep -q 'Kafka Server started' "$LOG" 2>/dev/null && port_open "$HOST" "$PORT" && port_open "$HOST" "$SPORT" &&
    { [ -z "$TPORT" ] || port_open "$HOST" "$TPORT"; }
}
wait_node 0.25 "no broker on $HOST:$PORT" up
T2=$(date +%s%N)
echo "$CLUSTER_ID" >"$DATADIR/cluster.id"
[ -n "$JOIN" ] || echo "$HOST:$CPORT" >"$DATADIR/controller"
echo "$NODE: kafka up on $HOST:$PORT (plaintext${ACL:+, acls}), $HOST:$SPORT (sasl scram-sha-256)${TPORT:+ and $HOST:$TPORT (ssl)} (pid $PID): format $(( (T1 - T0) / 1000000 )) ms, broker $(( (T2 - T1) / 1000000 )) ms" >&2
