package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

// netnsRunner runs every program inside a network namespace (`ip netns
// exec`), so that the real nft changes that namespace's firewall only.
type netnsRunner struct {
	ExecRunner
	ns string
}

func (r netnsRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	return r.ExecRunner.Run(ctx, stdin, "ip", append([]string{"netns", "exec", r.ns, name}, args...)...)
}

var netnsSeq atomic.Int64

// newNetns creates a network namespace for the test (deleted when it
// ends) and returns a runner inside it.
func newNetns(t *testing.T) netnsRunner {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace (ip netns add) for nft")
	}
	ip := testkit.RequireCommand(t, "ip", "iproute2")
	testkit.RequireCommand(t, "nft", "nftables")
	ns := fmt.Sprintf("borda-fw-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", ns, err, out)
	}
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "delete", ns).Run() })
	return netnsRunner{ns: ns}
}

func (r netnsRunner) nft(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := r.Run(context.Background(), []byte(stdin), "nft", args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// fakeRoot is a root with nftables.service installed (the host's unit,
// so that what apply links is real) and an admin's nftables.conf.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	unit, err := os.ReadFile("/lib/systemd/system/nftables.service")
	if err != nil {
		t.Fatalf("nftables.service of the nftables package: %v", err)
	}
	for rel, data := range map[string][]byte{"lib/systemd/system/nftables.service": unit,
		"etc/nftables.conf": []byte("#!/usr/sbin/nft -f\nflush ruleset\n"), "var/lib/borda/broker.db": []byte("data")} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const adminTable = "table inet admin {\n\tchain input {\n\t\ttype filter hook input priority filter + 10; policy accept;\n\t\ttcp dport 9999 accept\n\t}\n}\n"

// TestNFTApplyRevert applies the rules with the real nft in a network
// namespace of the test's own (files under a temporary root), checks the
// table and what makes it persist, applies again, and reverts: the
// namespace's ruleset and every file are exactly as before, whether or not
// an older table inet borda was there.
func TestNFTApplyRevert(t *testing.T) {
	rules := []Rule{{Name: "ssh", Port: 22, Proto: "tcp"}, {Name: "broker mqtt", Address: "10.1.2.3", Port: 1883, Proto: "tcp"}}
	for _, tt := range []struct{ name, before string }{
		{"no table before", adminTable},
		{"older borda table", adminTable + "table inet borda {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 1 accept\n\t}\n}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newNetns(t)
			r.nft(t, tt.before, "-f", "-")
			ruleset, root := r.nft(t, "", "list", "ruleset"), fakeRoot(t)
			tree := testkit.Snapshot(t, root)
			h := Host{Root: root, Runner: r}
			done, err := h.Apply(ctx, BackendNFT, rules)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("apply: %s", strings.Join(done, "; "))
			checkApplied(t, h, r, rules)
			if _, err := h.Apply(ctx, BackendNFT, rules[:1]); err != nil { // again, with other rules
				t.Fatal(err)
			}
			if _, err := h.Apply(ctx, BackendUFW, rules); err == nil || !strings.Contains(err.Error(), "revert it before") {
				t.Errorf("ufw over nftables: %v", err)
			}
			done, err = h.Revert(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("revert: %s", strings.Join(done, "; "))
			if got := r.nft(t, "", "list", "ruleset"); got != ruleset {
				t.Errorf("ruleset after revert:\n%s\nwant\n%s", got, ruleset)
			}
			if got := testkit.Snapshot(t, root); got != tree {
				t.Errorf("files after revert:\n%s\nwant\n%s", got, tree)
			}
			if _, err := h.Revert(ctx); !errors.Is(err, ErrNotApplied) {
				t.Errorf("second revert: %v", err)
			}
		})
	}
}

// checkApplied: the namespace has borda's table with the rules, the admin's
// table is untouched, the boot files are in place and the saved ruleset
// is what nft loads.
func checkApplied(t *testing.T, h Host, r netnsRunner, rules []Rule) {
	t.Helper()
	table := r.nft(t, "", "list", "table", "inet", "borda")
	for _, want := range []string{"policy drop;", `tcp dport 22 accept comment "ssh"`, `ip daddr 10.1.2.3 tcp dport 1883 accept comment "broker mqtt"`} {
		if !strings.Contains(table, want) {
			t.Errorf("table inet borda lacks %q:\n%s", want, table)
		}
	}
	if !strings.Contains(r.nft(t, "", "list", "ruleset"), "tcp dport 9999 accept") {
		t.Error("the admin's table is gone")
	}
	if b, _ := os.ReadFile(filepath.Join(h.Root, RulesPath)); !bytes.Equal(b, RenderNFT(rules)) {
		t.Errorf("%s: %s", RulesPath, b)
	}
	if b, _ := os.ReadFile(filepath.Join(h.Root, DropInPath)); !bytes.Equal(b, DropIn()) {
		t.Errorf("%s: %s", DropInPath, b)
	}
	if l, err := os.Readlink(filepath.Join(h.Root, EnablePath)); err != nil || l != "/lib/systemd/system/nftables.service" {
		t.Errorf("nftables.service not enabled: %q %v", l, err)
	}
	r.nft(t, "", "-c", "-f", filepath.Join(h.Root, RulesPath))
	if st, err := os.Stat(filepath.Join(h.Root, StatePath)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v", err)
	}
}

// TestDropInVerify: systemd-analyze verify accepts Debian's
// nftables.service with borda's drop-in (appended: sections merge).
func TestDropInVerify(t *testing.T) {
	sa := testkit.RequireCommand(t, "systemd-analyze", "systemd")
	testkit.RequireCommand(t, "nft", "nftables")
	unit, err := os.ReadFile("/lib/systemd/system/nftables.service")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nftables.service")
	if err := os.WriteFile(path, append(append(unit, '\n'), DropIn()...), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sa, "verify", path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestMissingTool: without nft or ufw, apply and revert fail before
// changing anything, naming the Debian package to install.
func TestMissingTool(t *testing.T) {
	empty := ExecRunner{Dirs: []string{t.TempDir()}}
	for _, tt := range []struct{ backend, want string }{
		{BackendNFT, "nft not found (install the Debian package nftables: apt-get install nftables)"},
		{BackendUFW, "ufw not found (install the Debian package ufw: apt-get install ufw)"},
	} {
		root := t.TempDir()
		h := Host{Root: root, Runner: empty}
		_, err := h.Apply(context.Background(), tt.backend, []Rule{{Name: "ssh", Port: 22, Proto: "tcp"}})
		if !errors.Is(err, ErrMissingTool) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.backend, err)
		}
		if entries, _ := os.ReadDir(root); len(entries) > 0 {
			t.Errorf("%s: apply wrote %v", tt.backend, entries)
		}
	}
	if _, err := (Host{Root: t.TempDir(), Runner: empty}).Revert(context.Background()); !errors.Is(err, ErrNotApplied) {
		t.Errorf("revert without state: %v", err)
	}
}
