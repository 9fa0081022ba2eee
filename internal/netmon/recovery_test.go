package netmon

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/testkit"
)

// Every configured interface is missing, so every link is down from the
// start: the recovery command (a real process) runs after `after`, again
// after the backoff, and stops at max_attempts with one gave-up event.
func TestRecoveryRunsWhenAllLinksDown(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		wantResult string
		wantFailed int
	}{
		{"command succeeds", `echo run >> "$0"`, "ok", 0},
		{"command fails", `echo run >> "$0"; echo broken >&2; exit 3`, "failed", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "runs")
			cfg := DefaultConfig()
			cfg.Enabled, cfg.ManageRoutes = true, false
			cfg.Interval, cfg.Timeout = 50*time.Millisecond, 20*time.Millisecond
			cfg.Resources.Interval = 0
			cfg.Uplinks = []UplinkConfig{
				{Name: "a", Interface: "bordanone0", Targets: []string{"127.0.0.1:1"}},
				{Name: "b", Interface: "bordanone1", Targets: []string{"127.0.0.1:1"}, Priority: 1},
			}
			cfg.Recovery = RecoveryConfig{Command: []string{"sh", "-c", tt.script, marker}, When: RecoverLinksDown,
				After: 100 * time.Millisecond, Timeout: 5 * time.Second, Backoff: 150 * time.Millisecond, MaxAttempts: 2}
			var mu sync.Mutex
			var events []Event
			reg := prometheus.NewRegistry()
			m, err := New(cfg, Deps{Registry: reg, OnEvent: func(e Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}})
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			testkit.RunComponent(t, m.Run, m.Ready(), 5*time.Second)
			count := func(k EventKind) int {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, e := range events {
					if e.Kind == k {
						n++
					}
				}
				return n
			}
			testkit.Eventually(t, 10*time.Second, "recovery_gave_up event", func() bool { return count(RecoveryGaveUp) == 1 })
			if d := time.Since(began); d < 100*time.Millisecond+150*time.Millisecond {
				t.Errorf("two runs and a give-up within %s: after and backoff not honoured", d)
			}
			b, err := os.ReadFile(marker)
			if err != nil {
				t.Fatal(err)
			}
			if runs := strings.Count(string(b), "run"); runs != 2 || count(RecoveryRun) != 2 {
				t.Fatalf("command ran %d times, %d recovery events; want 2", runs, count(RecoveryRun))
			}
			testkit.Eventually(t, 5*time.Second, "recovery runs metric", func() bool {
				return testkit.MetricValue(t, reg, "borda_netmon_recovery_runs_total", "result", tt.wantResult) == 2
			})
			if got := count(RecoveryFailed); got != tt.wantFailed {
				t.Fatalf("%d recovery_failed events, want %d", got, tt.wantFailed)
			}
			time.Sleep(300 * time.Millisecond) // gave up: no further run
			if b, _ := os.ReadFile(marker); strings.Count(string(b), "run") != 2 {
				t.Fatalf("ran again after giving up: %q", b)
			}
		})
	}
}

func TestRecoveryValidate(t *testing.T) {
	c := DefaultConfig()
	c.Recovery = RecoveryConfig{Command: []string{""}, When: "sometimes", After: -1, MaxAttempts: -1}
	err := c.Validate()
	for _, want := range []string{"recovery.command", "recovery.when", "recovery.after", "recovery.timeout",
		"recovery.backoff", "recovery.max_attempts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}
