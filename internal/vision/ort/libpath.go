package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Version is the ONNX Runtime release the Go wrapper's C API headers
// match; scripts/ml-deps.sh fetches the same one.
const Version = "1.24.1"

// LibraryEnv names the environment variable that overrides the library path.
const LibraryEnv = "BORDA_ORT_LIB"

// ErrNoLibrary says the runtime library was not found; run `make ml-deps`
// or set BORDA_ORT_LIB / vision.model.ort_library.
var ErrNoLibrary = errors.New("ONNX Runtime library not found")

// ErrUnavailable is what Open returns in a build without cgo.
var ErrUnavailable = errors.New("vision unavailable: built without cgo (ONNX Runtime needs CGO_ENABLED=1)")

// CacheDir is where scripts/ml-deps.sh keeps what it fetches:
// $BORDA_CACHE_DIR, else $XDG_CACHE_HOME/borda, else ~/.cache/borda.
// getenv is os.Getenv outside tests.
func CacheDir(getenv func(string) string) string {
	if d := getenv("BORDA_CACHE_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "borda")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "borda")
	}
	return filepath.Join(os.TempDir(), "borda-cache")
}

// DefaultLibrary is the library scripts/ml-deps.sh installs.
func DefaultLibrary(getenv func(string) string) string {
	return filepath.Join(CacheDir(getenv), "ort", Version, "libonnxruntime.so.1")
}

// TestModel is the nsfwjs MobileNetV2 that scripts/ml-deps.sh converts
// to ONNX, and its labels file.
func TestModel(getenv func(string) string) (model, labels string) {
	dir := filepath.Join(CacheDir(getenv), "models", "nsfwjs-4.4.0")
	return filepath.Join(dir, "mobilenet_v2.onnx"), filepath.Join(dir, "labels.txt")
}

// ResolveLibrary picks the library path: configured, else $BORDA_ORT_LIB,
// else the ml-deps cache. It must exist.
func ResolveLibrary(configured string, getenv func(string) string) (string, error) {
	p, from := configured, "vision.model.ort_library"
	if p == "" {
		p, from = getenv(LibraryEnv), LibraryEnv
	}
	if p == "" {
		p, from = DefaultLibrary(getenv), "the ml-deps cache"
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w at %s (from %s): run `make ml-deps` or set %s: %w",
			ErrNoLibrary, p, from, LibraryEnv, err)
	}
	return p, nil
}
