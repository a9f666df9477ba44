#!/usr/bin/env bash
# The demo: boots a real OpenSearch 2.19 node on 127.0.0.10:9200 (from Maven
# Central artifacts), loads 100,000 breach-shaped customer records into it,
# runs `leakwatch scan 127.0.0.0/24` against loopback, and stops the node.
# Needs Java 17 and Maven (first run downloads the node's jars, ~1-2 min).
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=127.0.0.10 PORT=9200
DATA=$(mktemp -d -t leakwatch-demo-XXXX)
trap 'bash testenv/searchnode/stop.sh "$DATA" >/dev/null 2>&1 || true; rm -rf "$DATA"' EXIT

echo "demo: starting OpenSearch on $HOST:$PORT ..."
bash testenv/searchnode/start.sh opensearch "$HOST" "$PORT" "$DATA" >/dev/null
go run ./testenv/seedbreach --url "http://$HOST:$PORT" --records "${DEMO_RECORDS:-100000}"
go build -o "$DATA/leakwatch" ./cmd/leakwatch
echo "demo: leakwatch scan 127.0.0.0/24"
set +e
"$DATA/leakwatch" scan --format table -v --key-file "$DATA/key" 127.0.0.0/24
code=$?
set -e
echo "demo: leakwatch exited $code (1 = exposed data stores found)"
