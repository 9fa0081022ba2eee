package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseBuilds: scripts/release.sh (what `make release` runs) builds
// static CGO_ENABLED=0 binaries for linux/amd64, linux/arm64 and
// linux/arm/v7, each at most 40 MB (the script fails otherwise), with
// their checksums; the one for this machine runs and says it has no
// vision. Cold, this compiles borda three times (minutes on two cores);
// the binaries are shared with the other tests of this package.
func TestReleaseBuilds(t *testing.T) {
	t.Parallel()
	out := releaseBinaries(t)
	t.Log(releaseLog)
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range releasePlatforms {
		name := "borda-" + strings.ReplaceAll(p, "/", "-")
		st, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.Size() == 0 || st.Size() > 40<<20 {
			t.Errorf("%s: %d bytes, want at most 40 MB", name, st.Size())
		}
		if !strings.Contains(string(sums), "  "+name+"\n") {
			t.Errorf("SHA256SUMS lacks %s", name)
		}
		if !strings.Contains(releaseLog, name+" ") {
			t.Errorf("release.sh does not report the size of %s", name)
		}
	}
	native := map[string]string{"amd64": "borda-linux-amd64", "arm64": "borda-linux-arm64", "arm": "borda-linux-arm-v7"}[runtime.GOARCH]
	if native == "" {
		return
	}
	v, err := exec.Command(filepath.Join(out, native), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(v), "borda 0.0.0-test ") || !strings.Contains(string(v), "vision not compiled in") {
		t.Errorf("%s version: %v %s", native, err, v)
	}
}
