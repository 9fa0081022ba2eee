#!/usr/bin/env bash
# Builds the borda .deb with nfpm (deploy/nfpm.yaml) for one architecture:
# ARCH is the Debian name (amd64, arm64, armhf); BORDA_BINARY an existing
# static binary, else one is built. Output: $OUT/borda_<version>-1_<arch>.deb.
set -euo pipefail

GO=${GO:-go}
NFPM_VERSION=${NFPM_VERSION:-v2.45.2}
export VERSION=${VERSION:-0.1.0}
export ARCH=${ARCH:-$("$GO" env GOARCH | sed 's/^arm$/armhf/')}
OUT=${OUT:-dist}
mkdir -p "$OUT"

if [ -z "${BORDA_BINARY:-}" ]; then
  case "$ARCH" in
    amd64) platform=linux/amd64 ;;
    arm64) platform=linux/arm64 ;;
    armhf) platform=linux/arm/v7 ;;
    *) echo "deb.sh: unknown ARCH $ARCH (amd64, arm64, armhf)" >&2; exit 2 ;;
  esac
  OUT="$OUT" PLATFORMS=$platform GO="$GO" VERSION="$VERSION" "$(dirname "$0")/release.sh"
  BORDA_BINARY="$OUT/borda-${platform//\//-}"
fi
# nfpm expands environment variables in some fields only (not contents
# src): fill in the three placeholders here.
cfg=$(mktemp --suffix=.yaml)
trap 'rm -f "$cfg"' EXIT
sed -e "s|\${ARCH}|$ARCH|g" -e "s|\${VERSION}|$VERSION|g" -e "s|\${BORDA_BINARY}|$BORDA_BINARY|g" \
  deploy/nfpm.yaml > "$cfg"
"$GO" run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" package \
  --config "$cfg" --packager deb --target "$OUT/"
