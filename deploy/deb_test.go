package deploy

import (
	"bytes"
	"cmp"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

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

// TestDebPackage inspects the package scripts/deb.sh builds (as `make
// deb` does, with the real cgo binary) with dpkg-deb: control fields,
// maintainer scripts, conffiles, every file with its mode, the binary (with
// cgo, needing no newer glibc than the package depends on), and has
// systemd-analyze verify the unit as extracted from the package.
func TestDebPackage(t *testing.T) {
	dpkgDeb := testkit.RequireCommand(t, "dpkg-deb", "dpkg")
	t.Parallel()
	deb := debPackage(t)
	t.Log(debLog)
	info := run(t, dpkgDeb, "--info", deb)
	for _, want := range []string{"Package: borda", "Version: " + debVersion + "-1", "Architecture: " + debArch,
		"Depends: passwd, libc6 (>= ", "postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
		}
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
	checkCgoBinary(t, filepath.Join(root, "usr/bin/borda"), run(t, dpkgDeb, "--field", deb, "Depends"))
	t.Run("systemd-analyze verify", func(t *testing.T) {
		sa := testkit.RequireCommand(t, "systemd-analyze", "systemd")
		// The unit names /usr/bin/borda, which verify wants to exist: the
		// package's files are unpacked over / in an overlay (without dpkg,
		// keeping the host's /lib -> usr/lib).
		o := newOverlay(t)
		o.put(t, deb, "/borda-test/borda.deb", 0o644)
		o.must(t, "sh", "-c", "dpkg-deb --fsys-tarfile /borda-test/borda.deb | tar -x --keep-directory-symlink -C /")
		out := o.must(t, sa, "verify", "/lib/systemd/system/borda.service")
		if strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify warns:\n%s", out)
		}
	})
}

// checkCgoBinary: the packaged binary is dynamically linked against glibc
// (cgo: vision can load ONNX Runtime), needs no GLIBC_x.y newer than the
// package's libc6 dependency, and says vision is compiled in.
func checkCgoBinary(t *testing.T, bin, depends string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
		t.Errorf("%s is statically linked: built without cgo", bin)
	}
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	m := regexp.MustCompile(`libc6 \(>= ([0-9.]+)\)`).FindStringSubmatch(depends)
	if m == nil {
		t.Fatalf("Depends %q names no libc6 version", depends)
	}
	for _, s := range syms {
		if v, ok := strings.CutPrefix(s.Version, "GLIBC_"); ok && compareVersions(v, m[1]) > 0 {
			t.Errorf("%s needs %s@GLIBC_%s, newer than the package's %s", bin, s.Name, v, m[0])
		}
	}
	if v := run(t, bin, "version"); !strings.Contains(v, "vision compiled in") {
		t.Errorf("packaged borda version: %q", v)
	}
}

// compareVersions compares dotted numbers: -1, 0 or 1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
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

// TestDebArchitectures: scripts/deb.sh builds each architecture's binary
// with cgo when this machine has the C compiler for it (gcc for its own
// architecture, Debian's cross compilers for the others), else a static
// one with a warning naming the package to install (PLAN=1 only says
// which). A static binary (here the release builds) makes a package
// without the libc6 dependency.
func TestDebArchitectures(t *testing.T) {
	dpkgDeb := testkit.RequireCommand(t, "dpkg-deb", "dpkg")
	t.Parallel()
	tests := []struct{ arch, cc, pkg, platform string }{
		{"amd64", "x86_64-linux-gnu-gcc", "gcc-x86-64-linux-gnu", "linux/amd64"},
		{"arm64", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", "linux/arm64"},
		{"armhf", "arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf", "linux/arm/v7"},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			cc := tt.cc
			if tt.arch == debArch {
				cc = "gcc"
			}
			want := "build " + tt.arch + " CGO_ENABLED=1 CC=" + cc
			if _, err := exec.LookPath(cc); err != nil {
				want = "build " + tt.arch + " CGO_ENABLED=0"
			}
			plan, err := script("deb.sh", "PLAN=1", "ARCH="+tt.arch)
			if err != nil || !strings.Contains(plan, want) {
				t.Errorf("want %q: %v\n%s", want, err, plan)
			}
			warned := strings.Contains(plan, "WARNING: no C compiler for "+tt.arch+" ("+tt.cc+"; Debian package "+tt.pkg+")")
			if warned != strings.HasSuffix(want, "=0") {
				t.Errorf("warning printed %v, static build %v:\n%s", warned, strings.HasSuffix(want, "=0"), plan)
			}
			if plan, _ := script("deb.sh", "PLAN=1", "ARCH="+tt.arch, "CGO=0"); !strings.Contains(plan, "CGO_ENABLED=0") || strings.Contains(plan, "WARNING") {
				t.Errorf("CGO=0:\n%s", plan)
			}
			if tt.arch == debArch {
				return // TestDebPackage packages the cgo build
			}
			bin := filepath.Join(releaseBinaries(t), "borda-"+strings.ReplaceAll(tt.platform, "/", "-"))
			out := t.TempDir()
			if log, err := script("deb.sh", "OUT="+out, "ARCH="+tt.arch, "VERSION="+debVersion, "BORDA_BINARY="+bin); err != nil {
				t.Fatal(err)
			} else if !strings.Contains(log, "static, no vision") {
				t.Errorf("deb.sh does not say the binary is static:\n%s", log)
			}
			deb := filepath.Join(out, "borda_"+debVersion+"-1_"+tt.arch+".deb")
			if got := strings.TrimSpace(run(t, dpkgDeb, "--field", deb, "Architecture", "Depends")); got != "Architecture: "+tt.arch+"\nDepends: passwd" {
				t.Errorf("fields: %q", got)
			}
		})
	}
}
