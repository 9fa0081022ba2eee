package sysctl

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeHost copies testdata/hosts/<name> (a fake /proc/sys and /lib/modules)
// into a temporary directory and returns it as a Host.
func fakeHost(t *testing.T, name string) Host {
	return Host{Root: testkit.CopyTree(t, filepath.Join("testdata", "hosts", name))}
}

// snapshot is every regular file under root with its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), got, *update)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		host    string
		matches bool
		status  map[string]Status
		module  string
	}{
		{"stock", false, map[string]Status{"vm.swappiness": StatusDiffers, "net.ipv4.tcp_rmem": StatusDiffers,
			"net.ipv4.tcp_low_latency": StatusObsolete, "kernel.sched_migration_cost_ns": StatusObsolete}, "loadable"},
		{"tuned", true, map[string]Status{"vm.swappiness": StatusOK, "net.ipv4.tcp_rmem": StatusOK,
			"net.ipv4.tcp_low_latency": StatusObsolete}, "unknown"},
		// 4.19: the sched_* keys are still in /proc/sys (moved in 5.13).
		{"old", false, map[string]Status{"net.ipv4.tcp_congestion_control": StatusDiffers,
			"kernel.sched_migration_cost_ns": StatusOK, "kernel.sched_min_granularity_ns": StatusDiffers,
			"net.ipv4.tcp_low_latency": StatusObsolete}, "absent"},
		{"container", false, map[string]Status{"net.ipv4.tcp_congestion_control": StatusDiffers}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h := fakeHost(t, tt.host)
			rep, err := h.Check(context.Background(), DefaultProfile())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Matches() != tt.matches {
				t.Errorf("Matches() = %v, want %v", rep.Matches(), tt.matches)
			}
			for _, r := range rep.Results {
				if want, ok := tt.status[r.Key]; ok && r.Status != want {
					t.Errorf("%s: status %s, want %s", r.Key, r.Status, want)
				}
			}
			if rep.BBR.Module != tt.module {
				t.Errorf("bbr module %q, want %q", rep.BBR.Module, tt.module)
			}
			var b bytes.Buffer
			if err := rep.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.host+".check.golden", b.Bytes())
		})
	}
}

// TestApplyRevert: apply makes the host match, a second apply changes
// nothing, revert gives back every file exactly as it was.
func TestApplyRevert(t *testing.T) {
	ctx := context.Background()
	h := fakeHost(t, "bbr")
	before := snapshot(t, h.Root)
	plan, err := h.Apply(ctx, DefaultProfile(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 12 || plan.Skipped["net.ipv4.tcp_low_latency"] == "" {
		t.Errorf("plan: %d changes %+v, skipped %v", len(plan.Changes), plan.Changes, plan.Skipped)
	}
	conf, err := os.ReadFile(h.ConfPath())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "99-borda.conf.golden", conf)
	if mod, _ := os.ReadFile(h.ModulesPath()); string(mod) != "tcp_bbr\n" {
		t.Errorf("modules-load.d: %q", mod)
	}
	rep, err := h.Check(ctx, DefaultProfile())
	if err != nil || !rep.Matches() {
		t.Fatalf("after apply: matches %v, %v", rep.Matches(), err)
	}
	state := snapshot(t, h.Root)["var/lib/borda-host/sysctl.json"]
	again, err := h.Apply(ctx, DefaultProfile(), false)
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second apply: %+v, %v", again.Changes, err)
	}
	if got := snapshot(t, h.Root)["var/lib/borda-host/sysctl.json"]; got != state {
		t.Errorf("second apply changed the state:\n%s\nwas\n%s", got, state)
	}
	rp, err := h.Revert(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Restores) != 12 {
		t.Errorf("restores: %+v", rp.Restores)
	}
	sameFiles(t, before, snapshot(t, h.Root))
	if _, err := h.Revert(ctx, false); !errors.Is(err, ErrNotApplied) {
		t.Errorf("second revert: %v, want ErrNotApplied", err)
	}
}

// sameFiles compares two snapshots; values under proc/sys are compared as
// the kernel reads them (it prints tcp_rmem with tabs however it was set).
func sameFiles(t *testing.T, want, got map[string]string) {
	t.Helper()
	for p, w := range want {
		if strings.HasPrefix(p, "proc/sys/") && normalize(got[p]) == normalize(w) && got[p] != "" {
			continue
		}
		if got[p] != w {
			t.Errorf("%s = %q, want %q", p, got[p], w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s left behind", p)
		}
	}
}

// TestRevertKeepsFirstValues: a value changed by hand between two applies
// is not recorded as "previous"; a 99-borda.conf that was there before
// borda gets its content back.
func TestRevertKeepsFirstValues(t *testing.T) {
	ctx := context.Background()
	h := fakeHost(t, "bbr")
	if err := os.MkdirAll(filepath.Dir(h.ConfPath()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.ConfPath(), []byte("vm.swappiness = 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, h.Root)
	p := DefaultProfile()
	if _, err := h.Apply(ctx, p, false); err != nil {
		t.Fatal(err)
	}
	if err := h.write("vm.swappiness", "30"); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Set: map[string]string{"vm.vfs_cache_pressure": "50"}}
	if err := os.WriteFile(h.keyPath("vm.vfs_cache_pressure"), []byte("100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before["proc/sys/vm/vfs_cache_pressure"] = "100\n"
	plan, err := h.Apply(ctx, cfg.Profile(), false)
	if err != nil || len(plan.Changes) != 2 {
		t.Fatalf("second apply: %+v, %v", plan.Changes, err)
	}
	if _, err := h.Revert(ctx, false); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, before, snapshot(t, h.Root))
}

func TestDryRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	h := fakeHost(t, "stock")
	before := snapshot(t, h.Root)
	plan, err := h.Apply(ctx, DefaultProfile(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) == 0 || plan.Modules == "" || !strings.Contains(string(plan.ConfContent), "vm.swappiness = 1\n") {
		t.Errorf("dry-run plan: %+v\n%s", plan, plan.ConfContent)
	}
	sameFiles(t, before, snapshot(t, h.Root))
	if _, err := h.Apply(ctx, DefaultProfile(), false); err != nil {
		t.Fatal(err)
	}
	applied := snapshot(t, h.Root)
	rp, err := h.Revert(ctx, true)
	if err != nil || len(rp.Restores) == 0 || len(rp.Files) != 2 {
		t.Fatalf("dry-run revert: %+v, %v", rp, err)
	}
	sameFiles(t, applied, snapshot(t, h.Root))
}

// TestApplySkipsAbsentModule: without a bbr module the congestion control
// is left alone (it would fail), and said so in the file; on this 4.19
// kernel the sched_* keys are ordinary keys, written and in the file.
func TestApplySkipsAbsentModule(t *testing.T) {
	h := fakeHost(t, "old")
	plan, err := h.Apply(context.Background(), DefaultProfile(), false)
	if err != nil {
		t.Fatal(err)
	}
	why := plan.Skipped["net.ipv4.tcp_congestion_control"]
	if !strings.Contains(why, "cannot be loaded") || plan.Modules != "" {
		t.Errorf("skipped %q, modules %q", why, plan.Modules)
	}
	if v, _, _ := h.read("net.ipv4.tcp_congestion_control"); v != "cubic" {
		t.Errorf("congestion control set to %q", v)
	}
	if v, _, _ := h.read("kernel.sched_min_granularity_ns"); v != "10000000" {
		t.Errorf("kernel.sched_min_granularity_ns on 4.19: %q, want 10000000", v)
	}
	if !strings.Contains(string(plan.ConfContent), "\nkernel.sched_min_granularity_ns = 10000000\n") {
		t.Errorf("99-borda.conf lacks the sched key:\n%s", plan.ConfContent)
	}
}

// TestObsoleteByKernelVersion: a key is obsolete from the kernel version
// that dropped it on; an unreadable release counts as a modern kernel.
func TestObsoleteByKernelVersion(t *testing.T) {
	tests := []struct {
		key, release string
		obsolete     bool
	}{
		{"kernel.sched_migration_cost_ns", "4.19.0-rpi", false},
		{"kernel.sched_migration_cost_ns", "5.12.19", false},
		{"kernel.sched_migration_cost_ns", "5.13.0", true},
		{"kernel.sched_min_granularity_ns", "6.1.0-28-amd64", true},
		{"kernel.sched_min_granularity_ns", "5.4.0-150-generic", false},
		{"net.ipv4.tcp_low_latency", "4.9.337", false},
		{"net.ipv4.tcp_low_latency", "4.14", true},
		{"net.ipv4.tcp_low_latency", "4.19.0-rpi", true},
		{"kernel.sched_migration_cost_ns", "unknown", true},
		{"kernel.sched_migration_cost_ns", "", true},
		{"vm.swappiness", "4.19.0", false},
	}
	for _, tt := range tests {
		if _, got := obsoleteOn(tt.key, tt.release); got != tt.obsolete {
			t.Errorf("%s on %q: obsolete %v, want %v", tt.key, tt.release, got, tt.obsolete)
		}
	}
}
