#!/usr/bin/env bash
# Runs leakwatch's whole test suite on a fresh machine: installs the real
# servers the integration tests run against (Debian packages; FerretDB and
# SeaweedFS built from their Go modules; pouchdb-server from npm; Chroma from
# PyPI; the Maven launchers of OpenSearch, Elasticsearch, Cassandra, Kafka,
# Solr and Hazelcast) into ./.cache, then vets and runs every test with the
# race detector. Tests start and stop their own servers on loopback
# addresses; a missing server fails the run (LEAKWATCH_REQUIRE_SERVICES=1)
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS

# The Debian packages and every scripts/build-*.sh (Go-module servers, npm
# and PyPI servers, the Maven launchers) are independent: run them at once,
# so downloads overlap compilation. Each step's output goes to its own log,
# printed when the step fails.
mkdir -p .cache/logs
pids=() names=()
for b in scripts/install-deps.sh scripts/build-*.sh; do
  [ -f "$b" ] || continue
  name=$(basename "$b" .sh)
  ( s=$SECONDS; bash "$b" >".cache/logs/$name.log" 2>&1; echo "test.sh: $name done in $((SECONDS - s)) s" ) &
  pids+=($!) names+=("$name")
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "test.sh: ${names[$i]} failed; its log:" >&2
    tail -n 60 ".cache/logs/${names[$i]}.log" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "test.sh: dependencies ready in $((SECONDS - t0)) s"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt needed:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...

export LEAKWATCH_REQUIRE_SERVICES=1
# Test artifacts (the dashboard's browser screenshots) land here.
export LEAKWATCH_ARTIFACTS=${LEAKWATCH_ARTIFACTS:-$PWD/.cache/artifacts}
go test -race -count=1 -timeout 45m "$@" ./...

# Coverage-guided fuzzing of every Fuzz* target (found automatically), on
# top of the seed corpora the run above already replayed: up to 8 s each,
# 330 s for the whole step (about 6 minutes at most, discovery included).
# FUZZ_BUDGET=0 skips it.
if [ "${FUZZ_BUDGET:-330}" != 0 ]; then
  FUZZTIME=${FUZZTIME:-8s} FUZZ_BUDGET=${FUZZ_BUDGET:-330} bash scripts/fuzz.sh
fi
echo "test.sh: done in $((SECONDS - t0)) s"
