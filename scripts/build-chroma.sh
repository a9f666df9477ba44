#!/usr/bin/env bash
# Installs Chroma (the vector database) from PyPI into virtual environments
# under ./.cache, the real servers of the chroma prober's integration tests:
#   .cache/chroma-1.5.9  chromadb 1.5.9, the Rust server of today's releases
#                        (no server-side authentication of its own);
#   .cache/chroma-0.6.3  chromadb 0.6.3, the last Python server, whose token
#                        authentication provider is the protected case.
# Every package is pinned by testenv/chroma/requirements-<version>.txt (the
# whole tree, installed with --no-deps). The tests start both with
# ANONYMIZED_TELEMETRY=False and ORT_DISABLE_TELEMETRY=1: nothing dials out.
# Idempotent: an environment made from the same requirements file is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || { echo "build-chroma: $PY not found" >&2; exit 1; }
install() {
  local v=$1
  local req="$PWD/testenv/chroma/requirements-$v.txt"
  local dest="$PWD/.cache/chroma-$v"
  local stamp start
  stamp=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$dest/bin/chroma" ] && [ -f "$dest/.requirements-sha256" ] && [ "$(cat "$dest/.requirements-sha256")" = "$stamp" ]; then
    echo "build-chroma: $dest present"
    return 0
  fi
  start=$(date +%s)
  rm -rf "$dest"
  "$PY" -m venv "$dest"
  "$dest/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req"
  "$dest/bin/python" -c 'import chromadb, sys; assert chromadb.__version__ == sys.argv[1], chromadb.__version__' "$v"
  echo "$stamp" > "$dest/.requirements-sha256"
  echo "build-chroma: installed chromadb $v into $dest in $(( $(date +%s) - start ))s"
}
for v in 1.5.9 0.6.3; do
  install "$v"
done
