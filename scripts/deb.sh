#!/usr/bin/env bash
# Builds the borda .deb with nfpm (deploy/nfpm.yaml) for one architecture.
#
#   ARCH     Debian architecture: amd64, arm64 or armhf (default: this machine's)
#   VERSION  package version (default 0.1.0); OUT output folder (default dist)
#   BORDA_BINARY  package this binary instead of building one
#   CGO      auto (default), 1 (fail without a C compiler) or 0 (static, no vision)
#   PLAN=1   print which binary would be built (and any warning), build nothing
#
# The binary is built with cgo (CGO_ENABLED=1, linked against glibc) so that
# vision can load ONNX Runtime (dlopen of vision.model.ort_library): with gcc
# for this machine's own architecture, across with Debian's cross compilers
# (gcc-aarch64-linux-gnu for arm64, gcc-arm-linux-gnueabihf for armhf).
# Without the compiler it warns and packages a static binary (CGO_ENABLED=0:
# no vision), as `make release` builds. A cgo binary makes the package depend
# on the libc6 version its symbols need.
# Output: $OUT/borda_<version>-1_<arch>.deb and the binary $OUT/borda-deb-<arch>.
set -euo pipefail

GO=${GO:-go}
NFPM_VERSION=${NFPM_VERSION:-v2.45.2}
export VERSION=${VERSION:-0.1.0}
export ARCH=${ARCH:-$("$GO" env GOARCH | sed 's/^arm$/armhf/')}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
OUT=${OUT:-dist}
CGO=${CGO:-auto}

case "$ARCH" in
  amd64) goarch=amd64 goarm= cross=x86_64-linux-gnu-gcc crosspkg=gcc-x86-64-linux-gnu ;;
  arm64) goarch=arm64 goarm= cross=aarch64-linux-gnu-gcc crosspkg=gcc-aarch64-linux-gnu ;;
  armhf) goarch=arm goarm=7 cross=arm-linux-gnueabihf-gcc crosspkg=gcc-arm-linux-gnueabihf ;;
  *) echo "deb.sh: unknown ARCH $ARCH (amd64, arm64, armhf)" >&2; exit 2 ;;
esac

# choose_cc prints the C compiler for ARCH, or nothing when there is none.
choose_cc() {
  if [ "$goarch" = "$("$GO" env GOHOSTARCH)" ] && command -v gcc >/dev/null; then
    echo gcc
  elif command -v "$cross" >/dev/null; then
    echo "$cross"
  fi
}

cc=""
if [ -z "${BORDA_BINARY:-}" ] && [ "$CGO" != 0 ]; then
  cc=$(choose_cc)
  if [ -z "$cc" ] && [ "$CGO" = 1 ]; then
    echo "deb.sh: CGO=1 but no C compiler for $ARCH (install $crosspkg)" >&2
    exit 1
  fi
  if [ -z "$cc" ]; then
    echo "deb.sh: WARNING: no C compiler for $ARCH ($cross; Debian package $crosspkg):" \
      "packaging a static binary (CGO_ENABLED=0) in which vision is not available" >&2
  fi
fi
if [ "${PLAN:-}" = 1 ]; then
  if [ -n "${BORDA_BINARY:-}" ]; then echo "binary $BORDA_BINARY"
  elif [ -n "$cc" ]; then echo "build $ARCH CGO_ENABLED=1 CC=$cc"
  else echo "build $ARCH CGO_ENABLED=0"; fi
  exit 0
fi

mkdir -p "$OUT"
if [ -z "${BORDA_BINARY:-}" ]; then
  BORDA_BINARY="$OUT/borda-deb-$ARCH"
  # No -trimpath: the compiled packages are then the ones `go build ./cmd/borda`
  # (and the tests) leave in the build cache, and only the link step is new.
  env CGO_ENABLED=$([ -n "$cc" ] && echo 1 || echo 0) ${cc:+CC=$cc} GOOS=linux GOARCH="$goarch" GOARM="$goarm" \
    "$GO" build -ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" -o "$BORDA_BINARY" ./cmd/borda
fi

# A dynamically linked (cgo) binary needs the newest GLIBC_x.y its symbols name.
libc=""
if readelf -lW "$BORDA_BINARY" 2>/dev/null | grep -q 'Requesting program interpreter'; then
  v=$(readelf -W --dyn-syms "$BORDA_BINARY" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1)
  libc="libc6 (>= ${v:?no GLIBC symbol versions in $BORDA_BINARY})"
fi
size=$(stat -c %s "$BORDA_BINARY")
awk -v n="$(basename "$BORDA_BINARY")" -v s="$size" -v l="${libc:-static, no vision}" \
  'BEGIN { printf "%-24s %6.1f MB  (%s)\n", n, s / 1048576, l }'

# nfpm expands environment variables in some fields only (not contents
# src): fill in the placeholders here.
cfg=$(mktemp --suffix=.yaml)
trap 'rm -f "$cfg"' EXIT
if [ -n "$libc" ]; then
  libc_edit="s|\${LIBC_DEPENDS}|$libc|"
else
  libc_edit='/\${LIBC_DEPENDS}/d'
fi
sed -e "s|\${ARCH}|$ARCH|g" -e "s|\${VERSION}|$VERSION|g" -e "s|\${BORDA_BINARY}|$BORDA_BINARY|g" \
  -e "$libc_edit" deploy/nfpm.yaml > "$cfg"
"$GO" run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" package \
  --config "$cfg" --packager deb --target "$OUT/"
