package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Building borda is what makes this package slow (a cold build of one
// platform takes minutes on two cores), so every artifact is built at most
// once per test run, by the first test that needs it, into a directory
// shared by all tests and removed when they are done.
var (
	sharedDir string

	releaseOnce sync.Once
	releaseOut  string // scripts/release.sh output for releasePlatforms
	releaseLog  string
	releaseErr  error

	debOnce sync.Once
	debFile string // the .deb for this machine with the cgo binary scripts/deb.sh builds
	debLog  string
	debErr  error
)

// releasePlatforms are the platforms `make release` builds.
var releasePlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}

// debVersion is the package version the tests build.
const debVersion = "1.2.3"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "borda-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// script runs one of the repository's scripts with env added, from the
// repository root; it returns the combined output.
func script(name string, env ...string) (string, error) {
	cmd := exec.Command("./scripts/" + name)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	b, err := cmd.CombinedOutput()
	out := fmt.Sprintf("%s %s (%s):\n%s", name, strings.Join(env, " "), time.Since(start).Round(time.Second), b)
	if err != nil {
		return out, fmt.Errorf("scripts/%s: %w\n%s", name, err, out)
	}
	return out, nil
}

// releaseBinaries is the folder holding scripts/release.sh's static
// binaries for every release platform, with SHA256SUMS.
func releaseBinaries(t *testing.T) string {
	t.Helper()
	releaseOnce.Do(func() {
		releaseOut = filepath.Join(sharedDir, "release")
		releaseLog, releaseErr = script("release.sh", "OUT="+releaseOut, "VERSION=0.0.0-test",
			"PLATFORMS="+strings.Join(releasePlatforms, " "))
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	return releaseOut
}

// debArch is this machine's Debian architecture.
var debArch = map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "armhf"}[runtime.GOARCH]

// debPackage is the .deb for this machine that scripts/deb.sh builds as
// `make deb` does: with the real binary, built with cgo (CGO=1 fails
// rather than falling back to a static binary).
func debPackage(t *testing.T) string {
	t.Helper()
	if debArch == "" {
		t.Skipf("no Debian architecture for GOARCH %s", runtime.GOARCH)
	}
	debOnce.Do(func() {
		out := filepath.Join(sharedDir, "deb")
		debLog, debErr = script("deb.sh", "OUT="+out, "ARCH="+debArch, "VERSION="+debVersion, "CGO=1")
		debFile = filepath.Join(out, "borda_"+debVersion+"-1_"+debArch+".deb")
	})
	if debErr != nil {
		t.Fatal(debErr)
	}
	return debFile
}
