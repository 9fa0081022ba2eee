//go:build !cgo

package main

// visionBuild says whether this binary can run vision: a static build
// (CGO_ENABLED=0, as `make release` builds) cannot load ONNX Runtime.
const visionBuild = "vision not compiled in (CGO_ENABLED=0)"
