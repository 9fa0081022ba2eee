package watchdog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// recorder collects events.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) add(e Event) { r.mu.Lock(); r.evs = append(r.evs, e); r.mu.Unlock() }

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

func (r *recorder) count(svc string, k EventKind) int {
	n := 0
	for _, e := range r.all() {
		if e.Service == svc && e.Kind == k {
			n++
		}
	}
	return n
}

// waitCount waits (bounded) until svc has at least n events of kind k.
func (r *recorder) waitCount(t *testing.T, svc string, k EventKind, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for r.count(svc, k) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d× %s not seen within %s; events: %+v", svc, n, k, within, r.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type harness struct {
	w    *Watchdog
	rec  *recorder
	reg  *prometheus.Registry
	logs *syncBuf
}

// start runs a watchdog until the test ends.
func start(t *testing.T, cfg Config, d Deps) *harness {
	t.Helper()
	h := &harness{rec: &recorder{}, reg: prometheus.NewRegistry(), logs: &syncBuf{}}
	d.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	d.Registry = h.reg
	d.OnEvent = h.rec.add
	w, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case <-w.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	return h
}

func (h *harness) status(t *testing.T, name string) ServiceStatus {
	t.Helper()
	for _, s := range h.w.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s", name)
	return ServiceStatus{}
}

func waitPidfile(t *testing.T, path string, not int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := ParsePID(b); err == nil && pid != not {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pidfile %s not written", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRealProcessKilled starts a real server process, kills it with
// SIGKILL and expects the watchdog to detect it, run the restart command
// (which starts a new, detached server) and see the service up again.
func TestRealProcessKilled(t *testing.T) {
	for _, check := range []string{CheckTCP, CheckPidfile} {
		t.Run(check, func(t *testing.T) {
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "svc.pid")
			addr := freeAddr(t)
			t.Cleanup(func() { killPidfile(pidfile) }) // the restarted server

			first := serveCmd(addr, pidfile)
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			waited := false
			t.Cleanup(func() {
				if !waited {
					first.Process.Kill()
					first.Wait()
				}
			})
			pid1 := waitPidfile(t, pidfile, 0)

			svc := ServiceConfig{Name: "svc", Check: check, Address: addr, Pidfile: pidfile,
				RestartCommand: []string{testExe(t), helperArg, "spawn", addr, pidfile},
				Interval:       50 * time.Millisecond, Timeout: 300 * time.Millisecond,
				Backoff: Backoff{Min: 500 * time.Millisecond, Max: 2 * time.Second}}
			h := start(t, Config{Services: []ServiceConfig{svc}}, Deps{})
			if st := h.status(t, "svc"); st.State != StateUp {
				t.Fatalf("before kill: %+v", st)
			}
			if got := testutil.ToFloat64(h.w.met.up.WithLabelValues("svc")); got != 1 {
				t.Fatalf("service_up metric %v before kill", got)
			}

			killed := time.Now()
			if err := first.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			first.Wait() // reap: the pid disappears from /proc
			waited = true

			h.rec.waitCount(t, "svc", ServiceDown, 1, 2*time.Second)
			if d := time.Since(killed); d > time.Second {
				t.Errorf("kill detected after %s (interval 50ms)", d)
			}
			h.rec.waitCount(t, "svc", ServiceRestarted, 1, 10*time.Second)
			h.rec.waitCount(t, "svc", ServiceUp, 1, 10*time.Second)

			pid2 := waitPidfile(t, pidfile, pid1)
			if err := syscall.Kill(pid2, 0); err != nil {
				t.Fatalf("restarted process %d: %v", pid2, err)
			}
			if st := h.status(t, "svc"); st.State != StateUp || st.RestartsTotal < 1 {
				t.Fatalf("after restart: %+v", st)
			}
			if got := testutil.ToFloat64(h.w.met.restarts.WithLabelValues("svc", "ok")); got < 1 {
				t.Fatalf("restarts_total{ok} = %v", got)
			}
			if got := testutil.ToFloat64(h.w.met.up.WithLabelValues("svc")); got != 1 {
				t.Fatalf("service_up metric %v after restart", got)
			}
			if n := h.rec.count("svc", RestartFailed) + h.rec.count("svc", GaveUp); n != 0 {
				t.Fatalf("unexpected failures: %+v", h.rec.all())
			}
		})
	}
}

// TestRestartAlwaysFails: restart_failed with growing backoff, gave_up after
// max_restarts, no more restarts, then service_up once something listens.
func TestRestartAlwaysFails(t *testing.T) {
	addr := freeAddr(t)
	svc := ServiceConfig{Name: "broken", Check: CheckTCP, Address: addr,
		RestartCommand: []string{testExe(t), helperArg, "fail"},
		Interval:       10 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Backoff:     Backoff{Min: 20 * time.Millisecond, Max: 80 * time.Millisecond},
		MaxRestarts: 4, RestartWindow: time.Minute}
	h := start(t, Config{Services: []ServiceConfig{svc}}, Deps{})

	h.rec.waitCount(t, "broken", GaveUp, 1, 20*time.Second)
	var fails []Event
	for _, e := range h.rec.all() {
		if e.Kind == RestartFailed {
			fails = append(fails, e)
		}
	}
	want := []time.Duration{20, 40, 80, 80}
	if len(fails) != len(want) {
		t.Fatalf("restart_failed %d×, want %d: %+v", len(fails), len(want), h.rec.all())
	}
	for i, e := range fails {
		if e.Backoff != want[i]*time.Millisecond {
			t.Errorf("restart %d: backoff %s, want %s", i+1, e.Backoff, want[i]*time.Millisecond)
		}
		if !strings.Contains(e.Output, "boom: cannot start") || !strings.Contains(e.Reason, "exit status 3") {
			t.Errorf("restart %d: reason %q output %q", i+1, e.Reason, e.Output)
		}
		if i > 0 && e.Time.Sub(fails[i-1].Time) < want[i-1]*time.Millisecond {
			t.Errorf("restart %d came %s after the previous, backoff was %s", i+1,
				e.Time.Sub(fails[i-1].Time), want[i-1]*time.Millisecond)
		}
	}
	if st := h.status(t, "broken"); st.State != StateGaveUp || st.Restarts != 4 {
		t.Fatalf("status %+v", st)
	}
	time.Sleep(300 * time.Millisecond) // ~30 more failing checks: no restart, one gave_up
	if n := h.rec.count("broken", RestartFailed); n != 4 {
		t.Fatalf("restarts after giving up: %d", n)
	}
	if n := h.rec.count("broken", GaveUp); n != 1 {
		t.Fatalf("gave_up %d×", n)
	}
	if got := testutil.ToFloat64(h.w.met.restarts.WithLabelValues("broken", "failed")); got != 4 {
		t.Fatalf("restarts_total{failed} = %v", got)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h.rec.waitCount(t, "broken", ServiceUp, 1, 5*time.Second)
	if st := h.status(t, "broken"); st.State != StateUp || st.Restarts != 0 {
		t.Fatalf("status after healthy %+v", st)
	}
}

// fakeSystemd is an in-memory systemd.
type fakeSystemd struct {
	mu       sync.Mutex
	state    map[string]string
	restarts int
	block    bool // UnitState blocks until ctx ends
	closed   bool
}

func (f *fakeSystemd) UnitState(ctx context.Context, unit string) (string, string, error) {
	f.mu.Lock()
	block, st := f.block, f.state[unit]
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return "", "", ctx.Err()
	}
	if st == "" {
		return "inactive", "dead", nil
	}
	return st, "running", nil
}

func (f *fakeSystemd) RestartUnit(ctx context.Context, unit string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restarts++
	f.state[unit] = "active"
	return nil
}

func (f *fakeSystemd) Close() { f.mu.Lock(); f.closed = true; f.mu.Unlock() }

func TestSystemdMissingReportedOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		dial func(context.Context) (Systemd, error)
	}{
		{"injected", func(context.Context) (Systemd, error) {
			return nil, fmt.Errorf("%w: no bus", ErrNoSystemd)
		}},
		{"other error", func(context.Context) (Systemd, error) { return nil, errors.New("dial unix: refused") }},
		{"default", nil}, // this machine has no systemd
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Services: []ServiceConfig{
				{Name: "mosquitto", Check: CheckSystemd, Unit: "mosquitto.service", Interval: 10 * time.Millisecond},
				{Name: "docker", Check: CheckSystemd, Unit: "docker.service", Interval: 10 * time.Millisecond},
				{Name: "app", Check: CheckTCP, Address: ln.Addr().String(), Interval: 10 * time.Millisecond},
			}}
			h := start(t, cfg, Deps{Systemd: tc.dial})
			for _, n := range []string{"mosquitto", "docker"} {
				if st := h.status(t, n); st.State != StateUnwatched || !strings.HasPrefix(st.LastError, "systemd D-Bus not available") {
					t.Fatalf("%s: %+v", n, st)
				}
			}
			if st := h.status(t, "app"); st.State != StateUp {
				t.Fatalf("app: %+v", st)
			}
			ln.Close()
			h.rec.waitCount(t, "app", ServiceDown, 1, 5*time.Second) // still watched
			time.Sleep(50 * time.Millisecond)
			logs := h.logs.String()
			for _, n := range []string{"mosquitto", "docker"} {
				re := "service " + n + " not watched"
				if c := strings.Count(logs, re); c != 1 {
					t.Errorf("%q logged %d×:\n%s", re, c, logs)
				}
			}
			if !strings.Contains(logs, "systemd D-Bus not available") {
				t.Errorf("logs: %s", logs)
			}
		})
	}
}

func TestSystemdFakeRestart(t *testing.T) {
	sd := &fakeSystemd{state: map[string]string{"influxdb.service": "failed"}}
	cfg := Config{Services: []ServiceConfig{{Name: "influxdb", Check: CheckSystemd, Unit: "influxdb.service",
		Interval: 10 * time.Millisecond, Backoff: Backoff{Min: 10 * time.Millisecond}}}}
	h := start(t, cfg, Deps{Systemd: func(context.Context) (Systemd, error) { return sd, nil }})
	h.rec.waitCount(t, "influxdb", ServiceDown, 1, 5*time.Second)
	h.rec.waitCount(t, "influxdb", ServiceRestarted, 1, 5*time.Second)
	h.rec.waitCount(t, "influxdb", ServiceUp, 1, 5*time.Second)
	sd.mu.Lock()
	n := sd.restarts
	sd.mu.Unlock()
	if n != 1 {
		t.Fatalf("RestartUnit %d×", n)
	}
	if !strings.Contains(h.rec.all()[0].Reason, "unit influxdb.service is failed") {
		t.Fatalf("reason: %+v", h.rec.all()[0])
	}
}

// TestChecksNeverPileUp: a check that hangs until its timeout makes the
// following rounds be skipped and counted, never run in parallel.
func TestChecksNeverPileUp(t *testing.T) {
	sd := &fakeSystemd{state: map[string]string{}, block: true}
	cfg := Config{Services: []ServiceConfig{{Name: "slow", Check: CheckSystemd, Unit: "slow.service",
		Interval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond, RestartCommand: []string{"/nonexistent/never-run"},
		MaxRestarts: 1}}}
	h := start(t, cfg, Deps{Systemd: func(context.Context) (Systemd, error) { return sd, nil }})
	st := h.status(t, "slow")
	if st.ChecksSkipped < 5 {
		t.Fatalf("skipped %d checks in a 200ms check with 10ms interval", st.ChecksSkipped)
	}
	if got := testutil.ToFloat64(h.w.met.skipped.WithLabelValues("slow")); int(got) < st.ChecksSkipped {
		t.Fatalf("checks_skipped_total %v < %d", got, st.ChecksSkipped)
	}
	if !strings.Contains(st.LastError, "deadline exceeded") {
		t.Fatalf("last error %q", st.LastError)
	}
}

func TestRestartOutputBounded(t *testing.T) {
	var b boundedBuffer
	for range 100 {
		b.Write(bytes.Repeat([]byte("x"), 100))
	}
	s := b.String()
	if !strings.HasSuffix(s, "…(truncated)") || len(s) > maxOutput+20 {
		t.Fatalf("len %d, suffix %q", len(s), s[len(s)-20:])
	}
}

func TestRestartTimeout(t *testing.T) {
	w, err := New(Config{}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	s := &service{cfg: ServiceConfig{Name: "x", RestartCommand: []string{"/bin/sleep", "10"},
		RestartTimeout: 100 * time.Millisecond}}
	if _, err := os.Stat("/bin/sleep"); err != nil {
		t.Skip("no /bin/sleep")
	}
	t0 := time.Now()
	r := w.restart(context.Background(), s, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "timed out after 100ms") {
		t.Fatalf("err %v", r.err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("took %s", d)
	}
}
