#!/usr/bin/env bash
# Installs pouchdb-server (a CouchDB-API server on Node.js and PouchDB), the
# real server of the couchdb prober's integration tests, from the npm
# registry into ./.cache/pouchdb: the exact tree that
# testenv/pouchdb/package-lock.json pins (pouchdb-server 4.2.0 and every
# dependency, by integrity hash), with `npm ci`. leveldown's native module
# comes prebuilt in its package; no install script has to run.
# Idempotent: an install made from the same lock file is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$PWD/testenv/pouchdb"
DEST="$PWD/.cache/pouchdb"
BIN="$DEST/node_modules/.bin/pouchdb-server"
stamp=$(sha256sum "$SRC/package-lock.json" | cut -d' ' -f1)
if [ -x "$BIN" ] && [ -f "$DEST/.lock-sha256" ] && [ "$(cat "$DEST/.lock-sha256")" = "$stamp" ]; then
  echo "build-pouchdb: $BIN present"
  exit 0
fi
command -v npm >/dev/null || { echo "build-pouchdb: npm not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
start=$(date +%s)
mkdir -p "$DEST"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
npm ci --prefix "$DEST" --no-audit --no-fund --loglevel=error
"$BIN" --help >/dev/null
echo "$stamp" > "$DEST/.lock-sha256"
echo "build-pouchdb: installed pouchdb-server 4.2.0 into $DEST in $(( $(date +%s) - start ))s"
