#!/usr/bin/env bash
# Benchmarks memory under hostile servers: 16 hosts (127.79.0.1–16) "of the
# worst kind" (tools/hostile: hand-written servers streaming endless or
# huge data on MySQL, HTTP (length and chunked), Redis, memcached, MongoDB,
# PostgreSQL and FTP ports — 128 endpoints), all in one scan at default
# settings. Prints wall time and peak RSS (goal: < 256 MB).
#
#   scripts/bench-hostile-rss.sh
#   HOSTS=32 EXTRA="--memory-ceiling 64MiB" scripts/bench-hostile-rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${HOSTS:-16}
EXTRA=${EXTRA:-}
[ -x /usr/bin/time ] || { echo "bench-hostile-rss: /usr/bin/time missing" >&2; exit 1; }
work=$(mktemp -d -t leakwatch-hostile-XXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/leakwatch" ./cmd/leakwatch
go build -o "$work/hostile" ./tools/hostile
"$work/hostile" -hosts "$HOSTS" > "$work/ready.txt" &
pid=$!
until grep -q ready "$work/ready.txt" 2>/dev/null; do sleep 0.2; done
echo "bench-hostile-rss: $(cat "$work/ready.txt" | awk '{print $2}') hostile endpoints on $HOSTS hosts"
set +e
# shellcheck disable=SC2086
/usr/bin/time -v "$work/leakwatch" scan --format jsonl -o "$work/out.jsonl" --progress never \
  --key-file "$work/key" --ports 21,3306,5432,6379,8080,9200,11211,27017 $EXTRA \
  "127.79.0.1-127.79.0.$HOSTS" 2> "$work/time.txt"
code=$?
set -e
grep '^leakwatch:' "$work/time.txt" | sed 's/^/    /' || true
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
flags=$(grep -o '"flags":\[[^]]*\]' "$work/out.jsonl" | sort | uniq -c | sort -rn | head -5 || true)
echo "bench-hostile-rss: findings by flags:"; echo "$flags" | sed 's/^/    /'
awk -v r="$rss_kb" -v w="$wall" -v c="$code" 'BEGIN { printf "bench-hostile-rss: exit %d, wall %s, peak RSS %.1f MiB\n", c, w, r / 1024 }'
