package systemd

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite deploy/systemd/borda.service")

const deployed = "../../../deploy/systemd/borda.service"

// TestDeployedUnitIsRendered: the unit the .deb ships is the one
// `borda host install-service` writes with the default paths.
func TestDeployedUnitIsRendered(t *testing.T) {
	got, err := Unit(Default())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(deployed, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(deployed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the rendered unit (go test -update ./internal/hostsetup/systemd):\n%s", deployed, got)
	}
	for _, line := range []string{"User=borda", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/borda", "StateDirectory=borda", "CapabilityBoundingSet=\n"} {
		if !bytes.Contains(got, []byte(line)) {
			t.Errorf("unit lacks %q", line)
		}
	}
}

// TestSystemdAnalyzeVerify has Debian's systemd-analyze verify the unit
// alone and with the netmon drop-in (appended: repeated sections merge),
// and fails on any warning it prints, not only on its exit status.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa := testkit.RequireCommand(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	bin := filepath.Join(dir, "borda")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := Default()
	o.Binary = bin
	unit, err := Unit(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{{"plain", unit}, {"netmon", append(append(bytes.Clone(unit), '\n'), NetmonDropIn()...)}} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "borda.service")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(sa, "verify", path).CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
			}
			out, err = exec.Command(sa, "security", "--offline=true", path).CombinedOutput()
			if err != nil {
				t.Fatalf("systemd-analyze security: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Logf("%s", lines[len(lines)-1]) // overall exposure level
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"relative binary", func(o *Options) { o.Binary = "borda" }, `binary "borda"`},
		{"config with blank", func(o *Options) { o.Config = "/etc/my borda.yaml" }, "config"},
		{"data dir outside /var/lib", func(o *Options) { o.DataDir = "/srv/borda" }, "must be a clean path under /var/lib"},
		{"bad user", func(o *Options) { o.User = "Borda Edge" }, "not a valid system user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Default()
			tt.edit(&o)
			if _, err := Unit(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestInstallUninstall: under a root, install writes the unit and the
// drop-in with manage_routes, removes the drop-in without it, and
// uninstall gives back every file as it was before the first install
// (an admin's drop-in included); the user is left to the host (printed).
func TestInstallUninstall(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	old := filepath.Join(root, DropInPath)
	if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("[Service]\nAmbientCapabilities=CAP_NET_ADMIN\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	before := testkit.Snapshot(t, root)
	in := Installer{Root: root}
	o := Default()
	o.ManageRoutes = true
	done, err := in.Install(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, DropInPath)); !bytes.Equal(b, NetmonDropIn()) {
		t.Errorf("drop-in: %s", b)
	}
	for _, want := range []string{"wrote " + filepath.Join(root, UnitPath), "then, on the host: useradd --system",
		"then, on the host: systemctl daemon-reload"} {
		if !strings.Contains(strings.Join(done, "\n"), want) {
			t.Errorf("install did not say %q: %q", want, done)
		}
	}
	o.ManageRoutes = false
	if _, err := in.Install(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, DropInPath)); !os.IsNotExist(err) {
		t.Errorf("drop-in still there: %v", err)
	}
	if _, err := in.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testkit.Snapshot(t, root); got != before {
		t.Errorf("after uninstall:\n%s\nwant\n%s", got, before)
	}
	if _, err := in.Uninstall(ctx); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("second uninstall: %v", err)
	}
}

// TestUninstallRefusesEnabled: uninstall refuses while borda.service is
// enabled (its wants link would dangle) and changes nothing.
func TestUninstallRefusesEnabled(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	in := Installer{Root: root}
	if _, err := in.Install(ctx, Default()); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, WantsPath)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/systemd/system/borda.service", link); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Uninstall(ctx); err == nil || !strings.Contains(err.Error(), "systemctl disable --now borda") {
		t.Fatalf("uninstall while enabled: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, UnitPath)); err != nil {
		t.Errorf("unit removed anyway: %v", err)
	}
}

func TestHasUser(t *testing.T) {
	root := t.TempDir()
	if ok, err := HasUser(root, "borda"); ok || err != nil {
		t.Fatalf("no passwd: %v, %v", ok, err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/bash\nborda:x:999:999::/var/lib/borda:/usr/sbin/nologin\n"
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]bool{"borda": true, "bord": false, "root": true} {
		if ok, err := HasUser(root, user); ok != want || err != nil {
			t.Errorf("HasUser(%s) = %v, %v", user, ok, err)
		}
	}
}
