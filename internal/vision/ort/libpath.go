package ort

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Version is the ONNX Runtime release the Go wrapper's C API headers
// match; scripts/ml-deps.sh fetches the same one.
const Version = "1.24.1"

// LibraryEnv names the environment variable that overrides the library path.
const LibraryEnv = "BORDA_ORT_LIB"

// ConfigKey is where borda.yaml names the library.
const ConfigKey = "vision.ort_library"

// ErrNoLibrary says no usable runtime library was found (missing, or
// not a shared library for this machine); run `make ml-deps` or set
// BORDA_ORT_LIB / vision.ort_library.
var ErrNoLibrary = errors.New("no usable ONNX Runtime library")

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

// ResolveLibrary picks the library path: configured (vision.ort_library),
// else $BORDA_ORT_LIB, else the ml-deps cache — the first that is set is
// the one used, so a wrong explicit path is reported rather than passed
// over. It must exist and be an ELF library for this machine; the error
// names the path tried, where it came from and the places not set.
func ResolveLibrary(configured string, getenv func(string) string) (string, error) {
	p, from := configured, ConfigKey
	var unset []string
	if p == "" {
		unset = append(unset, ConfigKey)
		p, from = getenv(LibraryEnv), LibraryEnv
	}
	if p == "" {
		unset = append(unset, LibraryEnv)
		p, from = DefaultLibrary(getenv), "the `make ml-deps` cache"
	}
	if len(unset) > 0 {
		from += "; " + strings.Join(unset, " and ") + " unset"
	}
	if err := checkLibrary(p); err != nil {
		return "", fmt.Errorf("%w: tried %s (%s): %w; run `make ml-deps` or set %s or %s to a libonnxruntime.so.1 for %s",
			ErrNoLibrary, p, from, err, ConfigKey, LibraryEnv, runtime.GOARCH)
	}
	return p, nil
}

// elfMachines are the ELF machines of the architectures Go and ONNX
// Runtime both run on.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "loong64": elf.EM_LOONGARCH,
}

// checkLibrary says why p cannot be this machine's runtime library
// (nil when it can be tried).
func checkLibrary(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return fmt.Errorf("not an ELF shared library: %w", err)
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Errorf("built for %s, this machine (%s) needs %s", machineName(f.Machine), runtime.GOARCH, machineName(want))
	}
	return nil
}

// machineName is m without the EM_ prefix, lower case (x86_64, aarch64).
func machineName(m elf.Machine) string {
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}
