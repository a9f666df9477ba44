#!/usr/bin/env bash
# Measures leakwatch serve's open→alert latency at the default settings
# (15s sweep cadence ±10% jitter, 10s re-check, every prober's port on a
# loopback /24): an in-process `serve` watches a 127.x.y.0/24, a real
# redis-server opens on it at a random phase of the sweep schedule, and the
# time until the signed webhook alert arrives at a loopback receiver is
# measured. The goal is ≤30 s.
#
#   scripts/bench-alert-latency.sh          # 5 measurements
#   RUNS=10 scripts/bench-alert-latency.sh
#
# Needs redis-server (scripts/install-deps.sh). Only loopback is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
LEAKWATCH_LATENCY_RUNS=$RUNS LEAKWATCH_REQUIRE_SERVICES=1 \
  go test -count=1 -run '^TestServeAlertLatencyDefaults$' -v -timeout $((RUNS * 60 + 120))s ./cmd/leakwatch/ |
  grep -E 'open→alert latency|^(--- |ok|FAIL)'
