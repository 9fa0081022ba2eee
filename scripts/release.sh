#!/usr/bin/env bash
# Builds static (CGO_ENABLED=0) borda binaries for the release platforms into
# $OUT (dist/), prints their sizes and fails if one is larger than $MAX_MB.
# Used by `make release`; PLATFORMS selects others (os/arch[/variant]).
set -euo pipefail

GO=${GO:-go}
VERSION=${VERSION:-0.1.0}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
OUT=${OUT:-dist}
MAX_MB=${MAX_MB:-40}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64 linux/arm/v7"}

mkdir -p "$OUT"
fail=0
for p in $PLATFORMS; do
  IFS=/ read -r os arch variant <<<"$p"
  name="borda-$os-$arch${variant:+-$variant}"
  start=$(date +%s)
  env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOARM="${variant#v}" \
    "$GO" build -trimpath -ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" \
    -o "$OUT/$name" ./cmd/borda
  size=$(stat -c %s "$OUT/$name")
  awk -v n="$name" -v s="$size" -v t="$(( $(date +%s) - start ))" \
    'BEGIN { printf "%-24s %6.1f MB  (%d bytes, built in %d s)\n", n, s / 1048576, s, t }'
  if [ "$size" -gt $((MAX_MB * 1048576)) ]; then
    echo "$name is larger than $MAX_MB MB" >&2
    fail=1
  fi
done
(cd "$OUT" && sha256sum borda-* > SHA256SUMS)
exit $fail
