#!/usr/bin/env bash
# Builds the Java launchers of the test servers that come from Maven Central
# (testenv/*node: OpenSearch, Elasticsearch 7, Cassandra, Kafka, Solr,
# Hazelcast) ahead of the test run, so that no test waits on a download.
# Each launcher's start.sh would build it on first use anyway (same function,
# testenv/nodelib.sh maven_build, same stamp); this only moves the cold
# download to the dependency phase, where it overlaps the other builds.
# One after the other: Maven's local repository takes no concurrent writers.
# Idempotent: a launcher whose stamp is newer than its sources is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
build() { # NODE DIR [MODULE]
  local t0=$SECONDS
  (
    NODE=$1 HERE=$ROOT/testenv/$2 MAVEN_MODULE=${3:-}
    . "$ROOT/testenv/nodelib.sh"
    maven_build
  )
  echo "build-javanodes: $2${3:+/$3} ready in $((SECONDS - t0)) s"
}
build searchnode searchnode opensearch
build searchnode searchnode elasticsearch7
build cassandranode cassandranode
build kafkanode kafkanode
build solrnode solrnode
build hazelcastnode hazelcastnode
