#!/usr/bin/env bash
# Builds SeaweedFS's `weed` binary (the S3 server of the s3 prober's
# integration tests) from its Go module, pinned, into ./.cache/bin.
# SeaweedFS is NOT a dependency of leakwatch's go.mod: its module is huge.
# Its go.mod has a replace directive, so `go install mod@version` refuses it:
# the module is copied out of the module cache and built in place.
# Idempotent: an existing binary of the pinned version is kept.
set -euo pipefail
VERSION=v0.0.0-20261109003541-7506e5f91cd6
MODULE=github.com/seaweedfs/seaweedfs
cd "$(dirname "$0")/.."
BIN="$PWD/.cache/bin"
SRC="$PWD/.cache/src/seaweedfs-$VERSION"
mkdir -p "$BIN"
if [ -x "$BIN/weed" ] && [ -f "$BIN/weed.version" ] && [ "$(cat "$BIN/weed.version")" = "$VERSION" ]; then
  echo "build-seaweedfs: $BIN/weed $VERSION present"
  exit 0
fi
start=$(date +%s)
# Download outside any module context so that leakwatch's go.mod is untouched.
dir=$(cd / && go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "build-seaweedfs: module dir not found" >&2; exit 1; }
rm -rf "$SRC"
mkdir -p "$(dirname "$SRC")"
cp -r "$dir" "$SRC"
chmod -R u+w "$SRC"
(cd "$SRC" && GOFLAGS="-buildvcs=false -mod=mod" go build -trimpath -o "$BIN/weed" ./weed)
rm -rf "$SRC" # the Go build cache keeps what a rebuild needs
echo "$VERSION" > "$BIN/weed.version"
echo "build-seaweedfs: built $BIN/weed $VERSION in $(( $(date +%s) - start ))s"
