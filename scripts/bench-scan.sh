#!/usr/bin/env bash
# Benchmarks a whole `leakwatch scan` (sweep + identification + deep probe +
# classification) of a /20 of 127.x (4,096 addresses) × every prober's
# default ports, with real fixtures present: an open OpenSearch node holding
# breach-shaped records, and an Elasticsearch 7.10.2 node, inside the /20.
# Prints host:port checks per second, wall time and peak RSS, and the ratio
# to the reference figure given for nuclei 3.4 on this machine class
# (~49,000 host:port inputs in ~12 s wall, ~170 MB; not re-measured here).
#
#   scripts/bench-scan.sh              # 127.3.0.0/20, rate unlimited
#   NET=127.4.0 RATE=20000 RECORDS=20000 scripts/bench-scan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
NET=${NET:-127.3.0}          # first three octets; the /20 is NET.0/20
RATE=${RATE:-0}
RECORDS=${RECORDS:-20000}
CONCURRENCY=${CONCURRENCY:-512}
[[ "$NET" =~ ^127\.[0-9]+\.[0-9]+$ ]] || { echo "bench-scan: NET must be 127.x.y" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-scan: /usr/bin/time missing (scripts/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d -t leakwatch-bench-XXXX)
cleanup() {
  for d in "$work"/os "$work"/es; do bash testenv/searchnode/stop.sh "$d" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench-scan: booting fixtures in $NET.0/20 ..."
bash testenv/searchnode/start.sh opensearch "$NET.10" 9200 "$work/os" >/dev/null &
bash testenv/searchnode/start.sh elasticsearch7 "$NET.11" 9200 "$work/es" >/dev/null &
wait
go run ./testenv/seedbreach --url "http://$NET.10:9200" --records "$RECORDS"
go build -o "$work/leakwatch" ./cmd/leakwatch

CIDR="$NET.0/20"
set +e
/usr/bin/time -v "$work/leakwatch" scan --format jsonl -o "$work/findings.jsonl" --progress never \
  --rate "$RATE" --concurrency "$CONCURRENCY" --key-file "$work/key" "$CIDR" 2> "$work/time.txt"
code=$?
set -e
[ "$code" -le 1 ] || { cat "$work/time.txt" >&2; exit 1; }

checks=$(grep -oE '[0-9]+ endpoints? checked' "$work/time.txt" | awk '{print $1}')
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
findings=$(wc -l < "$work/findings.jsonl")
grep '^leakwatch:' "$work/time.txt" || true
awk -v c="$checks" -v s="$secs" -v r="$rss_kb" -v f="$findings" 'BEGIN {
  rate = c / s; mb = r / 1024
  printf "bench-scan: %d host:port checks, %d findings, wall %.2f s, %.0f checks/s, peak RSS %.1f MiB\n", c, f, s, rate, mb
  ref_rate = 49000 / 12.0
  printf "bench-scan: vs reference nuclei 3.4 (49,000 inputs, 12 s, 170 MB): %.1fx the throughput, %.2fx the memory\n", rate / ref_rate, mb / 170
}'
