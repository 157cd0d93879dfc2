#!/usr/bin/env bash
# Cross-builds Pushd's release binaries: static (CGO off), -trimpath, with the
# version, commit and build date stamped into `pushd --version`, and a
# SHA256SUMS file beside them. The JS clients and push.wasm are embedded in
# the binary as in any build. Run it as `go tool task release`.
#
#   DIST     output directory (default dist)
#   TARGETS  GOOS/GOARCH pairs (default: the five release targets)
#   VERSION  default: `git describe --tags --always --dirty`, else dev
#   COMMIT   default: `git rev-parse HEAD`
#   DATE     default: now (or SOURCE_DATE_EPOCH), UTC, RFC 3339
set -euo pipefail
cd "$(dirname "$0")/../.."

dist=${DIST:-dist}
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
if [ -z "${DATE:-}" ]; then
  DATE=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
fi

mkdir -p "$dist"
rm -f "$dist"/pushd-* "$dist"/SHA256SUMS
ldflags="-s -w -X main.version=$version -X main.commit=$commit -X main.date=$DATE"
for t in $targets; do
  goos=${t%/*} goarch=${t#*/} ext=
  if [ "$goos" = windows ]; then ext=.exe; fi
  out="$dist/pushd-$goos-$goarch$ext"
  echo "build $out"
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/pushd
done
(cd "$dist" && sha256sum pushd-* > SHA256SUMS)
echo "$dist/SHA256SUMS:"
cat "$dist/SHA256SUMS"
