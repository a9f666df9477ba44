#!/usr/bin/env bash
# Mutation testing of the packages whose tests guard the README's promises:
# the classifier (validators, masking), scope, output, finding and the
# lifecycle state machine. Each mutant is a mutated copy of one file handed
# to `go test -overlay` (package tests only, -count=1, no -race); no source
# file is ever written (tools/mutate).
#
#   scripts/mutate.sh                           # default samples (below)
#   N=0 scripts/mutate.sh                       # every mutant of every package (slow)
#   scripts/mutate.sh -n 20 ./internal/scope    # any tools/mutate flags + packages
#   SURVIVORS_OF=/tmp/leakwatch-mutate.json scripts/mutate.sh   # re-test earlier survivors
#
# It prints, per package, the mutation sites, the sample size,
# killed/survived/not-viable and the score, then every surviving mutant as
# file:line: mutation [function] source line. Every result goes to
# ${OUT:-/tmp/leakwatch-mutate}.json.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-/tmp/leakwatch-mutate}
bin=$(mktemp -d)/mutate
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./tools/mutate

args=(-timeout "${TIMEOUT:-90s}" -equivalent tools/mutate/equivalent.txt -json "$out.json")
if [[ -n "${SURVIVORS_OF:-}" ]]; then
	args+=(-survivors-of "$SURVIVORS_OF")
fi
if [[ $# -gt 0 ]]; then
	exec "$bin" "${args[@]}" "$@"
fi

# Default sample sizes: every mutant where the package is small, a seeded
# sample (the same mutants again after unrelated edits) where it is large.
# N overrides them all (0 = every mutant).
if [[ -n "${N:-}" ]]; then
	"$bin" "${args[@]}" -n "$N" ./internal/classify ./internal/scope ./internal/output \
		./internal/finding ./internal/lifecycle
else
	"$bin" "${args[@]}" ./internal/classify=80 ./internal/scope=80 ./internal/output=60 \
		./internal/finding=0 ./internal/lifecycle=0
fi
