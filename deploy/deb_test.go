package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/testkit"
)

// TestPackagedConfigs: the configuration files the .deb and the image
// install are valid and keep their data in /var/lib/borda.
func TestPackagedConfigs(t *testing.T) {
	for _, path := range []string{"debian/borda.yaml", "docker/borda.yaml"} {
		cfg, err := config.Load(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if cfg.DataDir != "/var/lib/borda" {
			t.Errorf("%s: data_dir %q, want /var/lib/borda", path, cfg.DataDir)
		}
	}
}

// TestDebPackage builds the .deb with scripts/deb.sh (nfpm, as `make deb`
// does) and inspects it with dpkg-deb: control fields, maintainer
// scripts, conffiles, every file with its mode. The binary is a stand-in
// so that the test stays well under a minute without a warm build cache;
// `make deb` packages the real one with the same script.
func TestDebPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package with nfpm (go run, ~5-30 s)")
	}
	dpkgDeb := testkit.RequireCommand(t, "dpkg-deb", "dpkg")
	out := t.TempDir()
	bin := filepath.Join(out, "borda-stand-in")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho borda stand-in\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command("./scripts/deb.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "OUT="+out, "ARCH=amd64", "VERSION=1.2.3", "BORDA_BINARY="+bin)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/deb.sh: %v\n%s", err, b)
	}
	t.Logf("deb built in %s", time.Since(start).Round(time.Millisecond))
	deb := filepath.Join(out, "borda_1.2.3-1_amd64.deb")
	info := run(t, dpkgDeb, "--info", deb)
	for _, want := range []string{"Package: borda", "Version: 1.2.3-1", "Architecture: amd64", "Depends: passwd",
		"postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
		}
	}
	if got := run(t, dpkgDeb, "--ctrl-tarfile", deb); len(got) == 0 {
		t.Error("empty control archive")
	}
	checkContents(t, run(t, dpkgDeb, "--contents", deb))
	ctrl := filepath.Join(t.TempDir(), "control")
	run(t, dpkgDeb, "--control", deb, ctrl)
	if b, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); strings.TrimSpace(string(b)) != "/etc/borda/borda.yaml" {
		t.Errorf("conffiles: %q", b)
	}
	postinst, _ := os.ReadFile(filepath.Join(ctrl, "postinst"))
	for _, want := range []string{"useradd --system", "install -d -o borda -g borda -m 0750 /var/lib/borda", "deb-systemd-invoke"} {
		if !bytes.Contains(postinst, []byte(want)) {
			t.Errorf("postinst lacks %q", want)
		}
	}
	root := t.TempDir()
	run(t, dpkgDeb, "--extract", deb, root)
	for src, dst := range map[string]string{"systemd/borda.service": "lib/systemd/system/borda.service",
		"debian/borda.yaml": "etc/borda/borda.yaml", "../borda.example.yaml": "usr/share/doc/borda/borda.example.yaml"} {
		want, _ := os.ReadFile(src)
		if got, err := os.ReadFile(filepath.Join(root, dst)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s in the package is not %s (%v)", dst, src, err)
		}
	}
}

// checkContents compares `dpkg-deb --contents` (mode, owner, path) with
// what the package must hold.
func checkContents(t *testing.T, listing string) {
	t.Helper()
	want := map[string]string{
		"./usr/bin/borda":                                         "-rwxr-xr-x",
		"./lib/systemd/system/borda.service":                      "-rw-r--r--",
		"./etc/borda/borda.yaml":                                  "-rw-r-----",
		"./var/lib/borda/":                                        "drwxr-x---",
		"./usr/share/doc/borda/borda.example.yaml":                "-rw-r--r--",
		"./usr/share/doc/borda/examples/smart-factory/borda.yaml": "-rw-r--r--",
		"./usr/share/doc/borda/examples/smart-city/borda.yaml":    "-rw-r--r--",
		"./usr/share/doc/borda/examples/vehicles/borda.yaml":      "-rw-r--r--",
	}
	line := regexp.MustCompile(`^(\S+)\s+(\S+)\s+\d+\s+\S+\s+\S+\s+(\S+)$`)
	var files []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected dpkg-deb --contents line %q", l)
		}
		if m[2] != "root/root" {
			t.Errorf("%s owned by %s", m[3], m[2])
		}
		if mode, ok := want[m[3]]; ok && mode != m[1] {
			t.Errorf("%s: mode %s, want %s", m[3], m[1], mode)
		}
		if !strings.HasSuffix(m[3], "/") || m[3] == "./var/lib/borda/" {
			files = append(files, m[3])
		}
	}
	for p := range want {
		if !slices.Contains(files, p) {
			t.Errorf("package lacks %s", p)
		}
	}
	if len(files) != len(want) {
		t.Errorf("package holds %d entries, want %d: %v", len(files), len(want), files)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}
