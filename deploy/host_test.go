package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

// packagedBinary is the binary scripts/deb.sh built for the package.
func packagedBinary(t *testing.T) string {
	t.Helper()
	debPackage(t)
	return filepath.Join(filepath.Dir(debFile), "borda-deb-"+debArch)
}

// TestHostFirewallInOverlay runs `borda host firewall --apply` and
// `--revert` for real, as an operator would on /, inside an overlay of
// this machine with a network namespace of its own: the rules are loaded
// with nft into that namespace, the boot files land in the overlay
// (systemd-analyze verify accepts nftables.service with borda's drop-in),
// and revert leaves the ruleset and the file system exactly as they were.
func TestHostFirewallInOverlay(t *testing.T) {
	requireRoot(t)
	testkit.RequireCommand(t, "nft", "nftables")
	t.Parallel()
	o := newOverlay(t)
	o.inNetns(t)
	o.put(t, packagedBinary(t), "/usr/bin/borda", 0o755)
	ruleset := o.must(t, "nft", "list", "ruleset")
	out := o.must(t, "borda", "host", "firewall", "--apply")
	for _, want := range []string{"wrote /etc/nftables.d/borda.nft", "enabled nftables.service", "loaded table inet borda (4 ports)",
		"systemd is not running here"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply did not say %q:\n%s", want, out)
		}
	}
	table := o.must(t, "nft", "list", "table", "inet", "borda")
	for _, port := range []string{"22", "1883", "9001", "8888"} {
		if !strings.Contains(table, "tcp dport "+port+" accept") {
			t.Errorf("port %s not open:\n%s", port, table)
		}
	}
	if out := o.must(t, "systemd-analyze", "verify", "nftables.service"); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify nftables.service with borda's drop-in:\n%s", out)
	}
	if got := o.must(t, "systemd-delta", "--no-pager", "--type=extended"); !regexp.MustCompile(
		`\[EXTENDED\]\s+\S*/nftables.service (->|→) /etc/systemd/system/nftables.service.d/borda.conf`).MatchString(got) {
		t.Errorf("systemd does not see borda's drop-in for nftables.service:\n%s", got)
	}
	if got := o.must(t, "systemctl", "--root=/", "is-enabled", "nftables.service"); strings.TrimSpace(got) != "enabled" {
		t.Errorf("nftables.service is %q", got)
	}
	out = o.must(t, "borda", "host", "firewall", "--revert")
	if got := o.must(t, "nft", "list", "ruleset"); got != ruleset {
		t.Errorf("ruleset after revert:\n%s\nwant\n%s\n(revert said %s)", got, ruleset, out)
	}
	if left := withoutTestFiles(o.changes(t)); len(left) > 0 {
		t.Errorf("revert left behind: %v", left)
	}
}

// TestHostServiceInOverlay runs `borda host install-service` and
// `uninstall-service` for real on the overlay's /: the user is created
// with useradd, the unit installed (systemd-analyze verify accepts it);
// uninstall deletes the user and the files, and the account files are
// exactly as before (only the shadow tools' backups and lock differ).
func TestHostServiceInOverlay(t *testing.T) {
	requireRoot(t)
	testkit.RequireCommand(t, "systemd-analyze", "systemd")
	t.Parallel()
	o := newOverlay(t)
	o.put(t, packagedBinary(t), "/usr/bin/borda", 0o755)
	out := o.must(t, "borda", "host", "install-service")
	if !strings.Contains(out, "ran useradd --system --user-group") || !strings.Contains(out, "wrote /etc/systemd/system/borda.service") {
		t.Errorf("install-service:\n%s", out)
	}
	o.must(t, "getent", "passwd", "borda")
	if out := o.must(t, "systemd-analyze", "verify", "/etc/systemd/system/borda.service"); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify:\n%s", out)
	}
	out = o.must(t, "borda", "host", "uninstall-service")
	if !strings.Contains(out, "ran userdel borda") {
		t.Errorf("uninstall-service:\n%s", out)
	}
	if _, err := o.run("getent", "passwd", "borda"); err == nil {
		t.Error("user borda is still there")
	}
	accounts := []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid"}
	for _, f := range accounts {
		host, _ := os.ReadFile(f)
		if got := o.must(t, "cat", f); got != string(host) {
			t.Errorf("%s differs from the host's after uninstall-service", f)
		}
	}
	var left []string
	for _, p := range withoutTestFiles(o.changes(t)) {
		if !slices.Contains(accounts, p) && !slices.Contains(accounts, strings.TrimSuffix(p, "-")) && p != "/etc/.pwd.lock" {
			left = append(left, p)
		}
	}
	if len(left) > 0 {
		t.Errorf("uninstall-service left behind: %v", left)
	}
}

// withoutTestFiles drops the binary the test put into the overlay.
func withoutTestFiles(changes []string) []string {
	return slices.DeleteFunc(changes, func(p string) bool { return p == "/usr/bin/borda" })
}

// ufwState is what the ufw test compares before apply and after revert:
// the rules, status and defaults ufw reports, its files (content and
// mode) and the namespace's iptables rules.
func ufwState(t *testing.T, o *overlay) string {
	t.Helper()
	return o.must(t, "sh", "-c", "ufw show added; ufw status verbose; "+
		"cd /etc && sha256sum default/ufw ufw/*.rules ufw/ufw.conf && stat -c '%n %a %U' default/ufw ufw/*.rules ufw/ufw.conf")
}

// TestHostUFWInOverlay runs `borda host firewall --backend ufw --apply`
// and `--revert` with the real ufw (and iptables) in an overlay of this
// machine with its own network namespace. An admin's rules are there
// before: one for ssh with another comment (apply gives it borda's
// comment, revert gives it back) and one borda does not know. Revert
// restores ufw's rules, defaults, status and files exactly.
func TestHostUFWInOverlay(t *testing.T) {
	requireRoot(t)
	testkit.RequireCommand(t, "ufw", "ufw")
	t.Parallel()
	o := newOverlay(t)
	o.inNetns(t)
	o.put(t, packagedBinary(t), "/usr/bin/borda", 0o755)
	o.must(t, "ufw", "allow", "22/tcp", "comment", "admin")
	o.must(t, "ufw", "allow", "5353/udp")
	before := ufwState(t, o)
	out := o.must(t, "borda", "host", "firewall", "--backend", "ufw", "--apply")
	if !strings.Contains(out, "ufw allow 22/tcp comment ssh (was: ufw allow 22/tcp comment 'admin')") {
		t.Errorf("apply did not record the admin's ssh rule:\n%s", out)
	}
	status := o.must(t, "ufw", "status", "verbose")
	for _, want := range []string{"Status: active", "Default: deny (incoming), allow (outgoing)", "1883/tcp", "9001/tcp", "8888/tcp", "5353/udp"} {
		if !strings.Contains(status, want) {
			t.Errorf("ufw status lacks %q:\n%s", want, status)
		}
	}
	if rules := o.must(t, "iptables", "-S", "ufw-user-input"); !strings.Contains(rules, "--dport 1883 -j ACCEPT") {
		t.Errorf("iptables in the namespace:\n%s", rules)
	}
	t.Logf("apply:\n%s", out)
	out = o.must(t, "borda", "host", "firewall", "--revert")
	t.Logf("revert:\n%s", out)
	if got := ufwState(t, o); got != before {
		t.Errorf("ufw after revert:\n%s\nwant\n%s\n(revert said %s)", got, before, out)
	}
}
