#!/usr/bin/env bash
# Print a SHA-256 over every map of a member (names, sizes, entries), read with the real Hazelcast Java client:
#   digest.sh 127.x.y.z:PORT CLUSTER
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: digest.sh 127.x.y.z:PORT CLUSTER" >&2; exit 2; }
[[ "$1" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}:[0-9]+$ ]] || { echo "digest.sh: loopback HOST:PORT only" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "${JAVA:-java}" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Dhazelcast.phone.home.enabled=false \
  -cp "$HERE/target/classes:$HERE/target/lib/*" leakwatch.testenv.HazelcastDigestMain "$1" "$2"
