package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

const sysctlHosts = "../../internal/hostsetup/sysctl/testdata/hosts"

// fakeRoot copies a fake host tree (proc/sys, lib/modules) into a temp dir.
func fakeRoot(t *testing.T, name string) string {
	return testkit.CopyTree(t, filepath.Join(sysctlHosts, name))
}

func runHostCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runHost(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "borda.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostCheckApplyRevert: check fails on a stock kernel, a dry run
// changes nothing, apply makes check pass, revert makes it fail again.
func TestHostCheckApplyRevert(t *testing.T) {
	t.Setenv("BORDA_CONFIG", "")
	root := fakeRoot(t, "bbr")
	steps := []struct {
		args []string
		code int
		want string // in stdout
	}{
		{[]string{"check", "--root", root}, 1, "vm.swappiness                    60                   1                    differs"},
		{[]string{"apply", "--root", root, "--dry-run"}, 0, "would set vm.swappiness = 1 (was 60)"},
		{[]string{"check", "--root", root}, 1, "host does not match the profile"},
		{[]string{"apply", "--root", root}, 0, "set vm.swappiness = 1 (was 60)"},
		{[]string{"check", "--root", root}, 0, "host matches the profile"},
		{[]string{"apply", "--root", root}, 0, "every value already matches the profile"},
		{[]string{"revert", "--root", root, "--dry-run"}, 0, "would restore vm.swappiness = 60 (now 1)"},
		{[]string{"revert", "--root", root}, 0, "remove " + filepath.Join(root, "etc/sysctl.d/99-borda.conf")},
		{[]string{"check", "--root", root}, 1, "host does not match the profile"},
		{[]string{"revert", "--root", root}, 0, "nothing to revert"},
	}
	for _, s := range steps {
		code, out, errOut := runHostCmd(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("borda host %s: exit %d (want %d)\nstdout %s\nstderr %s\nwant %q", strings.Join(s.args, " "), code, s.code, out, errOut, s.want)
		}
	}
}

// TestHostCheckConfig: host.sysctl in borda.yaml changes the profile.
func TestHostCheckConfig(t *testing.T) {
	root := fakeRoot(t, "tuned")
	cfg := writeConfig(t, "host:\n  sysctl:\n    set: {vm.swappiness: 10}\n")
	code, out, errOut := runHostCmd("check", "-c", cfg, "--root", root, "--json")
	var rep struct {
		Matches bool `json:"matches"`
		Results []struct{ Key, Wanted, Status string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Matches {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	for _, r := range rep.Results {
		if r.Key == "vm.swappiness" && (r.Wanted != "10" || r.Status != "differs") {
			t.Errorf("vm.swappiness: %+v", r)
		}
	}
	bad := writeConfig(t, "host:\n  sysctl:\n    set: {\"../../x\": 1}\n")
	if code, _, errOut := runHostCmd("check", "-c", bad, "--root", root); code != 1 || !strings.Contains(errOut, `host.sysctl.set: "../../x" is not a sysctl key`) {
		t.Errorf("bad key: exit %d, %s", code, errOut)
	}
}

func TestHostFirewall(t *testing.T) {
	t.Setenv("BORDA_CONFIG", "")
	code, out, errOut := runHostCmd("firewall")
	want, err := os.ReadFile("../../internal/hostsetup/firewall/testdata/default.nft.golden")
	if err != nil || code != 0 || out != string(want) {
		t.Fatalf("exit %d, %v\nstdout %s\nstderr %s", code, err, out, errOut)
	}
	cfg := writeConfig(t, `broker:
  listeners:
    - {name: mqtt, protocol: mqtt, port: 1883}
    - {name: lan, protocol: websocket, address: 192.168.1.10, port: 8080}
http: {address: 127.0.0.1, port: 8888}
host:
  firewall: {ssh_port: 2222, allow: ["3000/tcp"]}
`)
	code, out, errOut = runHostCmd("firewall", "-c", cfg, "--backend", "ufw")
	for _, w := range []string{"ufw allow 2222/tcp comment ssh\n", "ufw allow 1883/tcp comment 'broker mqtt'\n",
		"ufw allow proto tcp to 192.168.1.10 port 8080 comment 'broker lan'\n", "ufw allow 3000/tcp"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("exit %d, stdout lacks %q:\n%s", code, w, out)
		}
	}
	if strings.Contains(out, "8888") || !strings.Contains(errOut, "http listens on loopback 127.0.0.1:8888") {
		t.Errorf("loopback HTTP: stdout %s stderr %s", out, errOut)
	}
	root := t.TempDir()
	if code, _, errOut := runHostCmd("firewall", "-c", cfg, "--root", root, "-o", "/etc/borda/firewall.nft"); code != 0 {
		t.Fatalf("-o: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/borda/firewall.nft")); !bytes.Contains(b, []byte("tcp dport 2222 accept")) {
		t.Errorf("written ruleset: %s", b)
	}
	for _, args := range [][]string{{"firewall", "--backend", "iptables"}, {"firewall", "--apply", "--revert"}} {
		if code, _, _ := runHostCmd(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestHostInstallService(t *testing.T) {
	t.Setenv("BORDA_CONFIG", "")
	root := t.TempDir()
	code, out, errOut := runHostCmd("install-service", "--root", root, "--dry-run")
	if code != 0 || !strings.Contains(out, "would write "+filepath.Join(root, "etc/systemd/system/borda.service")) {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("dry run wrote %v", ents)
	}
	code, out, errOut = runHostCmd("install-service", "--root", root)
	if code != 0 || !strings.Contains(out, "then, on the host: useradd --system") || !strings.Contains(out, "systemctl daemon-reload") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	got, _ := os.ReadFile(filepath.Join(root, "etc/systemd/system/borda.service"))
	want, _ := os.ReadFile("../../deploy/systemd/borda.service")
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("installed unit differs from deploy/systemd/borda.service:\n%s", got)
	}
	cfg := writeConfig(t, "netmon: {enabled: true, manage_routes: true}\n")
	if code, out, errOut := runHostCmd("install-service", "-c", cfg, "--root", root); code != 0 || !strings.Contains(out, "netmon.conf") {
		t.Fatalf("netmon: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/systemd/system/borda.service.d/netmon.conf")); !bytes.Contains(b, []byte("CAP_NET_ADMIN")) {
		t.Errorf("drop-in: %s", b)
	}
	code, out, errOut = runHostCmd("uninstall-service", "--root", root)
	if code != 0 || !strings.Contains(out, "removed "+filepath.Join(root, "etc/systemd/system/borda.service")) {
		t.Fatalf("uninstall-service: exit %d\n%s\n%s", code, out, errOut)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("uninstall-service left %v", ents)
	}
	if code, out, _ := runHostCmd("uninstall-service", "--root", root); code != 0 || !strings.Contains(out, "nothing to revert") {
		t.Errorf("second uninstall-service: exit %d %s", code, out)
	}
}

func TestHostSubcommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check", "extra"}, {"apply", "-x"}, {"revert", "--root"}, {"firewall", "--backend", "pf"},
		{"install-service", "--user"}, {"install-service", "extra"}, {"uninstall-service", "extra"},
	} {
		code, _, errOut := runHostCmd(args...)
		if code != 2 || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%q: exit %d, want 2 with usage; stderr %q", args, code, errOut)
		}
	}
	for _, sub := range []string{"check", "apply", "revert", "firewall", "install-service", "uninstall-service"} {
		if code, out, _ := runHostCmd(sub, "-h"); code != 0 || !strings.Contains(out, "borda host "+sub) {
			t.Errorf("%s -h: exit %d, stdout %q", sub, code, out)
		}
	}
	// A bad configuration is reported, not half-used.
	bad := writeConfig(t, "host: {firewall: {ssh_port: -1}}\n")
	if code, _, errOut := runHostCmd("firewall", "-c", bad); code != 1 || !strings.Contains(errOut, "host.firewall.ssh_port: -1") {
		t.Errorf("bad config: exit %d, %s", code, errOut)
	}
}
