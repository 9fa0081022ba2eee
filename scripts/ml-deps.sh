#!/usr/bin/env bash
# Fetches what ML inference needs and keeps it in a cache outside git
# (idempotent: whatever is already there is kept):
#   - the ONNX Runtime shared library from npm's onnxruntime-node (npm pack,
#     no install scripts) for this machine's architecture — the package
#     ships Linux libraries for x86_64 (bin/napi-v6/linux/x64/) and aarch64
#     (bin/napi-v6/linux/arm64/) only: $cache/ort/<version>/libonnxruntime.so.1
#   - the vision test model: npm nsfwjs's MobileNetV2 (TF.js layers format)
#     converted to ONNX with Debian's python3-onnx and python3-numpy:
#     $cache/models/nsfwjs-<version>/mobilenet_v2.onnx and labels.txt
# $cache is $BORDA_CACHE_DIR, else $XDG_CACHE_HOME/borda, else ~/.cache/borda.
# With BORDA_ORT_LIB set, that library is checked and used instead of the
# npm one (the way on armv7 and other architectures the package lacks).
# Every library is checked to be an ELF file for this machine first.
# Needs npm, node and /usr/bin/python3 with onnx and numpy (make test-deps).
set -euo pipefail

ORT_VERSION=1.24.1
NSFWJS_VERSION=4.4.0
here=$(cd "$(dirname "$0")" && pwd)
cache=${BORDA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/borda}
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
arch=$(uname -m)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

die() {
  echo "ml-deps: $*" >&2
  exit 1
}

# npm_fetch PACKAGE@VERSION: the package tarball, unpacked under $work/<name>.
npm_fetch() {
  local dir=$work/${1%@*}
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent --ignore-scripts "$1" >/dev/null && tar xzf ./*.tgz) ||
    die "npm pack $1 failed"
  echo "$dir/package"
}

# elf_machine FILE: the ELF e_machine name of FILE (x86_64, aarch64, arm,
# i386 or machine-<number>); "not-elf" when FILE is no ELF file.
elf_machine() {
  local magic m
  magic=$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')
  [ "$magic" = 7f454c46 ] || { echo not-elf; return; }
  m=$(od -An -tu2 -j18 -N2 "$1" | tr -d ' \n')
  case $m in
  62) echo x86_64 ;;
  183) echo aarch64 ;;
  40) echo arm ;;
  3) echo i386 ;;
  *) echo "machine-$m" ;;
  esac
}

# host_machine: what elf_machine says of a library this machine can load.
host_machine() {
  case $arch in
  x86_64 | amd64) echo x86_64 ;;
  aarch64 | arm64) echo aarch64 ;;
  armv6* | armv7* | armv8l | armhf) echo arm ;;
  i?86) echo i386 ;;
  *) echo "$arch" ;;
  esac
}

# npm_dir: onnxruntime-node's directory for this architecture, or a clear
# failure on one it does not ship.
npm_dir() {
  case $arch in
  x86_64 | amd64) echo x64 ;;
  aarch64 | arm64) echo arm64 ;;
  *)
    die "onnxruntime-node@$ORT_VERSION ships no Linux library for $arch (only x86_64 and aarch64).
  Build ONNX Runtime $ORT_VERSION for $arch (https://onnxruntime.ai/docs/build/inferencing.html),
  then set vision.ort_library in borda.yaml (or BORDA_ORT_LIB) to its libonnxruntime.so.1;
  run this script again with BORDA_ORT_LIB set to check it and fetch the test model.
  Everything but vision runs without it."
    ;;
  esac
}

# machine_ok FILE: whether FILE is a library for this machine.
machine_ok() {
  [ "$(elf_machine "$1")" = "$(host_machine)" ]
}

ort_lib() {
  if [ -n "${BORDA_ORT_LIB:-}" ]; then
    [ -s "$BORDA_ORT_LIB" ] || die "BORDA_ORT_LIB=$BORDA_ORT_LIB: no such file"
    machine_ok "$BORDA_ORT_LIB" ||
      die "BORDA_ORT_LIB=$BORDA_ORT_LIB is $(elf_machine "$BORDA_ORT_LIB"), this machine ($arch) needs $(host_machine)"
    echo "ml-deps: using $BORDA_ORT_LIB ($(host_machine))"
    return 0
  fi
  local dst=$cache/ort/$ORT_VERSION/libonnxruntime.so.1
  if [ -s "$dst" ]; then
    machine_ok "$dst" && return 0
    echo "ml-deps: $dst is $(elf_machine "$dst"), not $(host_machine): fetching again" >&2
  fi
  local dir pkg lib
  dir=$(npm_dir)
  echo "ml-deps: fetching onnxruntime-node@$ORT_VERSION ($dir)"
  pkg=$(npm_fetch "onnxruntime-node@$ORT_VERSION")
  lib=$pkg/bin/napi-v6/linux/$dir/libonnxruntime.so.1
  [ -s "$lib" ] || die "onnxruntime-node@$ORT_VERSION has no bin/napi-v6/linux/$dir/libonnxruntime.so.1"
  machine_ok "$lib" ||
    die "$lib from onnxruntime-node@$ORT_VERSION is $(elf_machine "$lib"), this machine ($arch) needs $(host_machine)"
  mkdir -p "$(dirname "$dst")"
  cp "$lib" "$dst.tmp"
  mv "$dst.tmp" "$dst"
  echo "ml-deps: $dst"
}

test_model() {
  local dir=$cache/models/nsfwjs-$NSFWJS_VERSION
  [ -s "$dir/mobilenet_v2.onnx" ] && [ -s "$dir/labels.txt" ] && return 0
  echo "ml-deps: converting nsfwjs@$NSFWJS_VERSION MobileNetV2 to ONNX"
  local pkg
  pkg=$(npm_fetch "nsfwjs@$NSFWJS_VERSION")
  node "$here/ml/nsfwjs-extract.js" "$pkg" "$work/tfjs"
  mkdir -p "$dir"
  "$python" "$here/ml/tfjs2onnx.py" "$work/tfjs/model.json" "$work/tfjs/weights.bin" "$dir/mobilenet_v2.onnx.tmp"
  printf '%s\n' Drawing Hentai Neutral Porn Sexy >"$dir/labels.txt"
  mv "$dir/mobilenet_v2.onnx.tmp" "$dir/mobilenet_v2.onnx"
  echo "ml-deps: $dir/mobilenet_v2.onnx"
}

ort_lib
test_model
