package ort

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestResolveLibrary: the first path set (vision.ort_library,
// BORDA_ORT_LIB, the ml-deps cache) is the one used; when it is missing
// or not a library for this machine the error is ErrNoLibrary naming the
// path, where it came from, what is unset and `make ml-deps`.
func TestResolveLibrary(t *testing.T) {
	dir := t.TempDir()
	host, ok := elfMachines[runtime.GOARCH]
	if !ok {
		t.Fatalf("no ELF machine known for %s", runtime.GOARCH)
	}
	other := elf.EM_AARCH64
	if host == other {
		other = elf.EM_X86_64
	}
	good, foreign, text := filepath.Join(dir, "good.so"), filepath.Join(dir, "foreign.so"), filepath.Join(dir, "text.so")
	write(t, good, fakeELF(host))
	write(t, foreign, fakeELF(other))
	write(t, text, []byte("not a library"))
	cacheLib := filepath.Join(dir, "cache", "ort", Version, "libonnxruntime.so.1")
	missing := filepath.Join(dir, "missing.so")
	for _, tc := range []struct {
		name             string
		configured, env  string
		cached           bool
		want             string   // path chosen
		errWant, errLack []string // in and not in the message
	}{
		{name: "configured", configured: good, env: foreign, want: good},
		{name: "env", env: good, want: good},
		{name: "cache", cached: true, want: cacheLib},
		{name: "configured missing, no fallback", configured: missing, env: good, cached: true,
			errWant: []string{"tried " + missing + " (vision.ort_library)", "no such file", "make ml-deps"},
			errLack: []string{"model.ort_library", "unset"}},
		{name: "env missing", env: missing, cached: true,
			errWant: []string{"tried " + missing + " (BORDA_ORT_LIB; vision.ort_library unset)"}},
		{name: "nothing", errWant: []string{"tried " + cacheLib +
			" (the `make ml-deps` cache; vision.ort_library and BORDA_ORT_LIB unset)", "no such file"}},
		{name: "other machine", configured: foreign,
			errWant: []string{"built for " + machineName(other), "this machine (" + runtime.GOARCH + ") needs " + machineName(host)}},
		{name: "not ELF", env: text, errWant: []string{"not an ELF shared library"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"BORDA_CACHE_DIR": filepath.Join(dir, "cache"), LibraryEnv: tc.env}
			t.Cleanup(func() { _ = os.RemoveAll(env["BORDA_CACHE_DIR"]) })
			if tc.cached {
				write(t, cacheLib, fakeELF(host))
			}
			got, err := ResolveLibrary(tc.configured, func(k string) string { return env[k] })
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrNoLibrary) {
				t.Fatalf("err = %v, want ErrNoLibrary", err)
			}
			for _, s := range tc.errWant {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			for _, s := range tc.errLack {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error has %q: %v", s, err)
				}
			}
		})
	}
}
