#!/usr/bin/env bash
# Benchmarks leakwatch's TCP sweep on loopback: a /20 of 127.x (4,096
# addresses) × 25 data-store ports by default, and prints host:port checks per
# second, wall time and peak RSS (from /usr/bin/time -v, Debian package
# "time", installed by scripts/install-deps.sh).
#
#   scripts/bench-sweep.sh                      # 127.1.0.0/20 × 25 ports
#   TARGETS=127.2.0.0/16 scripts/bench-sweep.sh # any 127.x targets
#   CONCURRENCY=1024 RATE=50000 scripts/bench-sweep.sh
#
# Only 127.0.0.0/8 is ever swept (the program refuses anything else).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=${TARGETS:-127.1.0.0/20}
PORTS=${PORTS:-9200,9201,9300,5601,27017,6379,11211,5432,3306,8123,2379,5984,9042,1883,4222,15672,5000,21,873,8888,9090,8086,2181,7474,8529}
CONCURRENCY=${CONCURRENCY:-512}
RATE=${RATE:-0}
TIMEOUT=${TIMEOUT:-1s}

if [ ! -x /usr/bin/time ]; then
  echo "bench-sweep: /usr/bin/time missing; run scripts/install-deps.sh (package \"time\")" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/sweepbench" ./tools/sweepbench

/usr/bin/time -v "$work/sweepbench" -targets "$TARGETS" -ports "$PORTS" \
  -concurrency "$CONCURRENCY" -rate "$RATE" -timeout "$TIMEOUT" 2>"$work/time.log" | tee "$work/out.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  cat "$work/time.log" >&2
  exit "$status"
fi
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.log")
cpu=$(awk -F': ' '/Percent of CPU this job got/ {print $2}' "$work/time.log")
awk -v kb="$rss_kb" -v cpu="$cpu" 'BEGIN { printf "peak RSS: %.1f MiB  cpu: %s\n", kb / 1024, cpu }'
