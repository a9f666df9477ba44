#!/usr/bin/env bash
# Builds the FerretDB binary (the MongoDB-wire server of the mongodb prober's
# integration tests) from its Go module, pinned, into ./.cache/bin.
# FerretDB is not a dependency of leakwatch's go.mod: its tree (pgx, modernc
# sqlite, opentelemetry, ...) would weigh on every build for a test server.
# Idempotent: an existing binary of the pinned version is kept.
set -euo pipefail
VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB
cd "$(dirname "$0")/.."
BIN="$PWD/.cache/bin"
SRC="$PWD/.cache/src/ferretdb-$VERSION"
mkdir -p "$BIN"
if [ -x "$BIN/ferretdb" ] && [ -f "$BIN/ferretdb.version" ] && [ "$(cat "$BIN/ferretdb.version")" = "$VERSION" ]; then
  echo "build-ferretdb: $BIN/ferretdb $VERSION present"
  exit 0
fi
start=$(date +%s)
# Download outside any module context so that leakwatch's go.mod is untouched.
dir=$(cd / && go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "build-ferretdb: module dir not found" >&2; exit 1; }
# FerretDB's own main refuses to run without build/version/version.txt,
# which `bin/task gen-version` writes from git in its repository; write it.
rm -rf "$SRC"
mkdir -p "$(dirname "$SRC")"
cp -r "$dir" "$SRC"
chmod -R u+w "$SRC"
echo "$VERSION" > "$SRC/build/version/version.txt"
(cd "$SRC" && GOFLAGS="-buildvcs=false -mod=mod" go build -trimpath -o "$BIN/ferretdb" ./cmd/ferretdb)
rm -rf "$SRC" # the Go build cache keeps what a rebuild needs
echo "$VERSION" > "$BIN/ferretdb.version"
echo "build-ferretdb: built $BIN/ferretdb $VERSION in $(( $(date +%s) - start ))s"
