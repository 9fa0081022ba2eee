#!/usr/bin/env bash
# Fetches what ML inference needs and keeps it in a cache outside git
# (idempotent: whatever is already there is kept):
#   - the ONNX Runtime shared library from npm's onnxruntime-node (npm pack,
#     no install scripts): $cache/ort/<version>/libonnxruntime.so.1
#   - the vision test model: npm nsfwjs's MobileNetV2 (TF.js layers format)
#     converted to ONNX with Debian's python3-onnx and python3-numpy:
#     $cache/models/nsfwjs-<version>/mobilenet_v2.onnx and labels.txt
# $cache is $BORDA_CACHE_DIR, else $XDG_CACHE_HOME/borda, else ~/.cache/borda.
# Needs npm, node and /usr/bin/python3 with onnx and numpy (make test-deps).
set -euo pipefail

ORT_VERSION=1.24.1
NSFWJS_VERSION=4.4.0
here=$(cd "$(dirname "$0")" && pwd)
cache=${BORDA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/borda}
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# npm_fetch PACKAGE@VERSION: the package tarball, unpacked under $work/<name>.
npm_fetch() {
  local dir=$work/${1%@*}
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent --ignore-scripts "$1" >/dev/null && tar xzf ./*.tgz)
  echo "$dir/package"
}

ort_lib() {
  local dst=$cache/ort/$ORT_VERSION/libonnxruntime.so.1
  [ -s "$dst" ] && return 0
  echo "ml-deps: fetching onnxruntime-node@$ORT_VERSION"
  local pkg
  pkg=$(npm_fetch "onnxruntime-node@$ORT_VERSION")
  mkdir -p "$(dirname "$dst")"
  cp "$pkg/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$dst.tmp"
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
