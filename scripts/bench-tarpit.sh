#!/usr/bin/env bash
# Benchmarks tarpits: ports that accept and never say a word.
#
# 1. N (default 10,000) tarpit endpoints on loopback — every prober's default
#    port on 127.77.0.1, 127.77.0.2, … (tools/tarpit, a hand-written hostile
#    listener) — scanned at default settings: prints wall time.
# 2. One tarpit among ~18,000 endpoints (127.78.0.0/23 × the default ports)
#    holding real stores (Debian memcached ×2 with 777 items each, one on
#    ClickHouse's port 9000, and redis-server): prints the wall time without
#    and with the tarpit.
#
#   scripts/bench-tarpit.sh            # N=10000
#   N=2000 scripts/bench-tarpit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d -t leakwatch-tarpit-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/leakwatch" ./cmd/leakwatch
go build -o "$work/tarpit" ./tools/tarpit
ports=$("$work/leakwatch" probers | awk '{print $2}' | tr ',' '\n' | sort -un | paste -sd, -)
nports=$(echo "$ports" | tr ',' '\n' | wc -l)

scan() { # label, then scan arguments
  local label=$1; shift
  local start end code=0
  start=$(date +%s.%N)
  "$work/leakwatch" scan --format jsonl -o "$work/out.jsonl" --progress never --key-file "$work/key" "$@" \
    2> "$work/err.txt" || code=$?
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v l="$label" -v c="$code" 'BEGIN { printf "bench-tarpit: %-44s wall %7.2f s  exit %d\n", l, e - s, c }'
  grep '^leakwatch:' "$work/err.txt" | sed 's/^/    /'
}

# 1. N tarpits.
"$work/tarpit" -net 127.77 -ports "$ports" -n "$N" > "$work/tarpit1.txt" &
pids+=($!)
until grep -q ready "$work/tarpit1.txt" 2>/dev/null; do sleep 0.2; done
hosts=$(( (N + nports - 1) / nports ))
last=$(( hosts ))
echo "bench-tarpit: $N tarpit endpoints ($nports ports × $hosts addresses of 127.77.0.0/16)"
scan "$N tarpits, default settings" "127.77.0.1-127.77.$(( last / 256 )).$(( last % 256 ))"
kill "${pids[0]}"; pids=()

# 2. One tarpit among ~18,000 endpoints with real stores.
seed_memcached() { # addr port
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf = b""
for i in range(777):
    v = ('{"email":"user%d@example.com","name":"User %d","token":"tok_%032x"}' % (i, i, i * 7919)).encode()
    buf += b"set user:%d 0 0 %d\r\n%s\r\n" % (i, len(v), v)
s.sendall(buf + b"mn\r\n")
d = b""
while not d.endswith(b"MN\r\n"):
    d += s.recv(65536)
PY
}
memcached -l 127.78.0.10 -p 11211 -U 0 -m 8 -u nobody & pids+=($!)
memcached -l 127.78.0.12 -p 9000 -U 0 -m 8 -u nobody & pids+=($!)
redis-server --bind 127.78.0.11 --port 6379 --save '' --appendonly no --protected-mode no --daemonize no > /dev/null & pids+=($!)
sleep 1
seed_memcached 127.78.0.10 11211
seed_memcached 127.78.0.12 9000
echo "bench-tarpit: real stores: memcached 127.78.0.10:11211 and 127.78.0.12:9000 (777 items each), redis 127.78.0.11:6379"
echo "bench-tarpit: sweep 127.78.0.0/23 × $nports ports = $(( 512 * nports )) endpoints"
scan "real stores, no tarpit" 127.78.0.0/23
"$work/tarpit" -net 127.78 -ports 9200 -n 1 -first 300 > "$work/tarpit2.txt" & pids+=($!)
until grep -q ready "$work/tarpit2.txt" 2>/dev/null; do sleep 0.2; done
scan "real stores + 1 tarpit (127.78.1.44:9200)" 127.78.0.0/23
