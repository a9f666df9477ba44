#!/usr/bin/env bash
# bench-stdin.sh — peak memory and wall time of `leakwatch scan -` fed a
# 1,000,000-line masscan -oL target list on stdin (issue 8, item 8a).
#
# The list is generated on the fly by awk and piped in (no committed data):
# distinct loopback addresses 127.0.0.1 … 127.15.66.64, port 1 (closed), so
# the scan contacts loopback only. Two runs:
#   refused  default --max-hosts (65536): must be refused (exit 2) after
#            reading about twice the cap, never holding the list;
#   allowed  --max-hosts 1000000: the whole list is streamed into the
#            scope and swept (connection refused everywhere), exit 0.
# Each prints peak RSS (/usr/bin/time -v) and wall time.
#
# Usage: scripts/bench-stdin.sh            (N=1000000 lines)
#        N=200000 scripts/bench-stdin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/leakwatch" ./cmd/leakwatch

gen() {
	awk -v n="$N" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "open tcp 1 127.%d.%d.%d 1700000000\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256
	}'
}

run() { # name, leakwatch flags...
	local name=$1
	shift
	local rc=0
	gen | /usr/bin/time -v -o "$work/time.$name" "$work/leakwatch" scan --progress never --format jsonl \
		-o "$work/out.$name" --key-file "$work/key" "$@" - 2>"$work/err.$name" || rc=$?
	local rss wall
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.$name")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/time.$name")
	printf '%-8s lines=%d exit=%d peak_rss=%.1f MB wall=%s\n' "$name" "$N" "$rc" "$(echo "$rss / 1024" | bc -l)" "$wall"
	tail -n 2 "$work/err.$name" | sed 's/^/         stderr: /'
}

run refused
run allowed --max-hosts "$N" --rate 0 --concurrency 512 --connect-timeout 1s
