package ort

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeELF is the 64-byte header of a little-endian ELF shared object
// for machine m: enough for scripts/ml-deps.sh and debug/elf.
func fakeELF(m elf.Machine) []byte {
	h := elf.Header64{Type: uint16(elf.ET_DYN), Machine: uint16(m), Version: 1, Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, h)
	return b.Bytes()
}

// ortTarball is an onnxruntime-node package with the given files
// (path under package/ → content).
func ortTarball(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	_ = gz.Close()
	p := filepath.Join(t.TempDir(), "onnxruntime-node-1.24.1.tgz")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeBin puts uname (printing arch) and npm (copying tgz into the
// current directory, or failing when tgz is empty) first on PATH; npm
// records each call in the returned file.
func fakeBin(t *testing.T, arch, tgz string) (path, npmLog string) {
	t.Helper()
	dir := t.TempDir()
	npmLog = filepath.Join(dir, "npm.log")
	scripts := map[string]string{
		"uname": "#!/bin/sh\necho " + arch + "\n",
		"npm": "#!/bin/sh\necho \"$*\" >>" + npmLog + "\n" +
			"[ -n '" + tgz + "' ] || { echo 'npm: offline' >&2; exit 3; }\ncp '" + tgz + "' .\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH"), npmLog
}

// TestMLDepsArchitectures runs scripts/ml-deps.sh with a fake uname and
// npm: it takes the library of the machine's architecture from
// onnxruntime-node, refuses one whose ELF machine is not the host's, and
// fails naming the architecture (and vision.ort_library) on one the
// package does not ship, unless BORDA_ORT_LIB names a fitting library.
func TestMLDepsArchitectures(t *testing.T) {
	x64, arm64 := fakeELF(elf.EM_X86_64), fakeELF(elf.EM_AARCH64)
	shipped := map[string][]byte{ // what onnxruntime-node@1.24.1 ships for Linux
		"bin/napi-v6/linux/x64/libonnxruntime.so.1":   x64,
		"bin/napi-v6/linux/arm64/libonnxruntime.so.1": arm64,
	}
	swapped := map[string][]byte{
		"bin/napi-v6/linux/x64/libonnxruntime.so.1":   arm64,
		"bin/napi-v6/linux/arm64/libonnxruntime.so.1": x64,
	}
	for _, tc := range []struct {
		name    string
		arch    string
		pkg     map[string][]byte // nil: npm fails if called
		cached  []byte            // a library already in the cache
		envLib  []byte            // BORDA_ORT_LIB's content
		want    []byte            // the library afterwards (nil: the script fails)
		errWant []string
	}{
		{name: "x86_64", arch: "x86_64", pkg: shipped, want: x64},
		{name: "aarch64", arch: "aarch64", pkg: shipped, want: arm64},
		{name: "cached", arch: "x86_64", cached: x64, want: x64},
		{name: "cached for another machine", arch: "aarch64", pkg: shipped, cached: x64, want: arm64},
		{name: "wrong machine in the package", arch: "x86_64", pkg: swapped,
			errWant: []string{"is aarch64", "(x86_64) needs x86_64"}},
		{name: "armv7 not shipped", arch: "armv7l",
			errWant: []string{"no Linux library for armv7l", "vision.ort_library", "BORDA_ORT_LIB"}},
		{name: "armv7 with BORDA_ORT_LIB", arch: "armv7l", envLib: fakeELF(elf.EM_ARM)},
		{name: "BORDA_ORT_LIB for another machine", arch: "armv7l", envLib: x64,
			errWant: []string{"is x86_64", "(armv7l) needs arm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, lib, npmLog, err := runMLDeps(t, tc.arch, tc.pkg, tc.cached, tc.envLib)
			if len(tc.errWant) > 0 {
				if err == nil {
					t.Fatalf("succeeded:\n%s", out)
				}
				for _, s := range tc.errWant {
					if !strings.Contains(out, s) {
						t.Errorf("output lacks %q:\n%s", s, out)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if tc.pkg == nil {
				if _, err := os.Stat(npmLog); err == nil {
					t.Errorf("npm was called:\n%s", out)
				}
			}
			if tc.want == nil {
				return
			}
			if got, err := os.ReadFile(lib); err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("cached library %v (%d bytes), want the package's %s:\n%s", err, len(got), tc.arch, out)
			}
		})
	}
}

// runMLDeps runs the script in a fresh cache holding the test model
// (so only the library is fetched) and returns its output, the cached
// library's path and npm's call log.
func runMLDeps(t *testing.T, arch string, pkg map[string][]byte, cached, envLib []byte) (out, lib, npmLog string, err error) {
	t.Helper()
	cache := t.TempDir()
	models := filepath.Join(cache, "models", "nsfwjs-4.4.0")
	lib = filepath.Join(cache, "ort", Version, "libonnxruntime.so.1")
	write(t, filepath.Join(models, "mobilenet_v2.onnx"), []byte("model"))
	write(t, filepath.Join(models, "labels.txt"), []byte("a\n"))
	if cached != nil {
		write(t, lib, cached)
	}
	tgz := ""
	if pkg != nil {
		tgz = ortTarball(t, pkg)
	}
	path, npmLog := fakeBin(t, arch, tgz)
	cmd := exec.Command("bash", filepath.Join("..", "..", "..", "scripts", "ml-deps.sh"))
	cmd.Env = append(os.Environ(), "PATH="+path, "BORDA_CACHE_DIR="+cache, "BORDA_ORT_LIB=")
	if envLib != nil {
		p := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
		write(t, p, envLib)
		cmd.Env = append(cmd.Env, "BORDA_ORT_LIB="+p)
	}
	b, err := cmd.CombinedOutput()
	return string(b), lib, npmLog, err
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
