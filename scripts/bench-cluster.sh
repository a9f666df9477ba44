#!/usr/bin/env bash
# Benchmarks a clustered sweep (issue 11): a real nats-server (JetStream,
# file storage), a real PostgreSQL, one coordinator and 1, 2 and 4
# `leakwatch worker` processes of one site, each limited to the same
# connection rate (every vantage point has its own budget), sweeping a
# loopback /16 with a few real Redis listeners. Prints checks per second,
# the scaling over one worker, and the coordinator's and PostgreSQL's CPU
# time per 10,000 checks.
#
#   scripts/bench-cluster.sh                          # 127.77.0.0/16, 1500/s per worker
#   BENCH_RATE=1000 BENCH_WORKERS=1,2,4,8 scripts/bench-cluster.sh
#   BENCH_TARGET=127.78.0.0/18 scripts/bench-cluster.sh
#
# Only loopback is ever swept (the bench refuses anything else).
set -euo pipefail
cd "$(dirname "$0")/.."
export LEAKWATCH_BENCH_CLUSTER=1
export BENCH_TARGET=${BENCH_TARGET:-127.77.0.0/16}
export BENCH_RATE=${BENCH_RATE:-1500}
export BENCH_WORKERS=${BENCH_WORKERS:-1,2,4}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! go test -count=1 -timeout 60m -run '^TestBenchCluster$' ./cmd/leakwatch -v >"$out" 2>&1; then
  tail -80 "$out" >&2
  exit 1
fi
grep '^BENCH ' "$out"
grep -q 'SKIP' "$out" && { grep -B2 -A2 SKIP "$out" >&2; exit 1; }
awk '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } last = v["scaling"]; n = v["workers"] }
     END { if (n) printf "scaling at %s workers: %s (goal >= 3.5x at 4)\n", n, last }' "$out"
