#!/usr/bin/env bash
# Runs every Fuzz* target of the module under the coverage-guided fuzzer,
# one target at a time (`go test -fuzz` takes one target per run), and
# fails if any of them finds a crash or an invariant violation.
#
# Targets are discovered, not listed: `go test -list '^Fuzz'` over every
# package, so a new target is fuzzed as soon as it exists.
#
#   FUZZTIME    fuzzing time per target (default 10s)
#   FUZZ_BUDGET if set, a bound in seconds on the whole run, discovery
#               included: each target gets min(FUZZTIME, what is left of
#               the budget / targets left, less the measured per-target
#               build/start overhead), at least 2 s.
#   FUZZ_PARALLEL  fuzzing workers per target (default 2)
#   FUZZ_SAVE   if set to N > 0, copy N of the inputs the fuzzer kept for
#               each target (Go build cache; at most 4 KiB, spread over the
#               size range) into the package's testdata/fuzz/<FuzzName>/, to
#               commit as corpus.
#
# Arguments are package patterns (default ./...). A crashing input is
# written by Go to <package>/testdata/fuzz/<FuzzName>/<hash>: commit it with
# the fix, it then runs as a regression seed in every `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
budget=${FUZZ_BUDGET:-}
parallel=${FUZZ_PARALLEL:-2}
save=${FUZZ_SAVE:-0}
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then pkgs=(./...); fi

secs() { # "10s" / "1m" / "10" -> seconds
  case $1 in
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}
per_max=$(secs "$fuzztime")
t0=$SECONDS # the budget counts discovery (building every test binary) too

# Discover: "FuzzX" lines followed by "ok  <pkg> ..." for each package; a
# package whose tests do not build is a failure of the run.
list=$(go test -run '^$' -list '^Fuzz' "${pkgs[@]}" || true)
targets=()
names=()
broken=()
while IFS= read -r line; do
  case $line in
    Fuzz*) names+=("$line") ;;
    ok*)
      pkg=$(awk '{print $2}' <<<"$line")
      for n in "${names[@]}"; do targets+=("$pkg $n"); done
      names=()
      ;;
    FAIL*\[*)
      broken+=("$(awk '{print $2}' <<<"$line")")
      names=()
      ;;
  esac
done <<<"$list"
total=${#targets[@]}
if [ "$total" -eq 0 ]; then
  echo "fuzz.sh: no Fuzz targets found" >&2
  exit 1
fi
echo "fuzz.sh: $total targets, up to ${per_max} s each${budget:+, ${budget} s in all}, -parallel $parallel"

gocache=$(go env GOCACHE)
module=$(go list -m)
overhead=3 # build + seed-corpus run, re-measured as targets run
failed=${#broken[@]}
rows=()
for b in "${broken[@]}"; do
  rows+=("$(printf '%-6s %-26s %-30s %5s %10s %5s' FAIL '(build failed)' "${b#"$module"/}" - - -)")
done
i=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  per=$per_max
  if [ -n "$budget" ]; then
    left=$((budget - (SECONDS - t0)))
    share=$((left / (total - i) - overhead))
    if [ "$share" -lt "$per" ]; then per=$share; fi
    if [ "$per" -lt 2 ]; then per=2; fi
  fi
  i=$((i + 1))
  log=$(mktemp)
  start=$SECONDS
  status=ok
  # The hard stop covers a fuzzer that hangs past -fuzztime (minimising a
  # crash takes up to a minute on its own).
  fuzz_once() {
    timeout --signal=INT --kill-after=10s $((per + 180))s \
      go test -run '^$' -fuzz "^${name}\$" -fuzztime "${per}s" -parallel "$parallel" "$pkg" >"$log" 2>&1
  }
  if ! fuzz_once; then
    # Go's fuzz coordinator can report "context deadline exceeded" when
    # -fuzztime ends while a worker is still busy with an input (seen on
    # a loaded 2-core machine); no failing input is written then. That one
    # case is run once more; a crash or invariant failure never is.
    if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "fuzz.sh: $name: the toolchain's fuzz deadline hit a busy worker, no failing input; running it once more" >&2
      tail -5 "$log" >&2
      fuzz_once || status=FAIL
    else
      status=FAIL
    fi
    if [ "$status" = FAIL ]; then failed=$((failed + 1)); fi
  fi
  took=$((SECONDS - start))
  o=$((took - per))
  if [ "$o" -gt 0 ]; then overhead=$(((overhead + o + 1) / 2)); fi
  # (a run that did not build prints neither)
  execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  news=$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | awk '{print $3}' || true)
  rows+=("$(printf '%-6s %-26s %-30s %4ss %10s %5s' "$status" "$name" "${pkg#"$module"/}" "$took" "${execs:--}" "${news:--}")")
  if [ "$status" = FAIL ]; then
    echo "--- $name ($pkg) failed:" >&2
    tail -40 "$log" >&2
  fi
  rm -f "$log"
  if [ "$save" -gt 0 ]; then
    src="$gocache/fuzz/$pkg/$name"
    dir=$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name
    if [ -d "$src" ]; then
      mkdir -p "$dir"
      # N inputs of at most 4 KiB spread evenly over the size range (file
      # names are content hashes, so a copy never clobbers another input)
      find "$src" -type f -size -4097c -printf '%s %p\n' | sort -n |
        awk -v n="$save" '{f[NR] = $2} END {
          if (NR <= n) { for (i = 1; i <= NR; i++) print f[i]; exit }
          for (k = 0; k < n; k++) print f[1 + int(k * (NR - 1) / (n - 1))] }' |
        while read -r f; do cp "$f" "$dir/"; done
    fi
  fi
done

echo
printf '%-6s %-26s %-30s %5s %10s %5s\n' RESULT TARGET PACKAGE TIME EXECS NEW
printf '%s\n' "${rows[@]}"
echo "fuzz.sh: $total targets (+${#broken[@]} packages that do not build), $failed failed, $((SECONDS - t0)) s"
[ "$failed" -eq 0 ]
