#!/usr/bin/env bash
# Classifier throughput over a generated breach-shaped JSON corpus
# (default 128 MB): MB/s per wall second and per CPU second on one core
# (GOMAXPROCS=1), allocations, peak RSS; then the go test benchmarks.
# Usage: scripts/bench-classify.sh [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-128}"
CORPUS="${LW_CORPUS:-/tmp/leakwatch-classify-corpus-${MB}mb.jsonl}"
BIN="$(mktemp -d)/classify-bench"
go build -o "$BIN" ./tools/classify-bench
echo "== streaming classification, one core"
if [ -x /usr/bin/time ]; then
	GOMAXPROCS=1 /usr/bin/time -f "max RSS (time -v)  %M KB" "$BIN" -corpus "$CORPUS" -gen "$MB" -repeat 3
else
	GOMAXPROCS=1 "$BIN" -corpus "$CORPUS" -gen "$MB" -repeat 3
fi
echo
echo "== go test benchmarks (16 MB corpus; MB/cpu-s counts all threads)"
go test ./internal/classify -run '^$' -bench 'Classify' -benchtime 5x -benchmem
rm -rf "$(dirname "$BIN")"
