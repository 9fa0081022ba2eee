//go:build cgo

package main

// visionBuild says whether this binary can run vision: with cgo, the ONNX
// Runtime library (vision.model.ort_library) is loaded at run time. The
// build tag is the one internal/vision/ort's engine is compiled under.
const visionBuild = "vision compiled in (cgo; ONNX Runtime loaded at run time)"
