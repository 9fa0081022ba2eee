package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReleaseBuilds runs scripts/release.sh (what `make release` runs)
// for linux/amd64 and linux/arm/v7: static CGO_ENABLED=0 binaries, each at
// most 40 MB (the script fails otherwise), with their checksums. These two
// catch what breaks cross-builds (code that needs cgo, 32-bit overflows);
// linux/arm64 is left to `make release` to keep `make test` shorter. Cold,
// this compiles borda twice (~4 min on 2 cores); warm, seconds.
func TestReleaseBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles borda for three platforms")
	}
	out := t.TempDir()
	start := time.Now()
	cmd := exec.Command("./scripts/release.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "OUT="+out, "VERSION=0.0.0-test", "PLATFORMS=linux/amd64 linux/arm/v7")
	b, err := cmd.CombinedOutput()
	t.Logf("release builds in %s:\n%s", time.Since(start).Round(time.Second), b)
	if err != nil {
		t.Fatalf("scripts/release.sh: %v", err)
	}
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"borda-linux-amd64", "borda-linux-arm-v7"} {
		st, err := os.Stat(filepath.Join(out, name))
		if err != nil || st.Size() == 0 || st.Size() > 40<<20 {
			t.Errorf("%s: %v (size %d)", name, err, st.Size())
		}
		if !strings.Contains(string(sums), "  "+name+"\n") {
			t.Errorf("SHA256SUMS lacks %s", name)
		}
	}
	// The binary for this machine runs: static, with the version stamped in.
	native := map[string]string{"amd64": "borda-linux-amd64", "arm": "borda-linux-arm-v7"}[runtime.GOARCH]
	if native == "" || runtime.GOOS != "linux" {
		return
	}
	v, err := exec.Command(filepath.Join(out, native), "version").CombinedOutput()
	if err != nil || !strings.Contains(string(v), "borda 0.0.0-test") {
		t.Errorf("%s version: %v %s", native, err, v)
	}
}
