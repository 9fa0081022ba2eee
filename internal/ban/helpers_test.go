package ban

import (
	"context"
	"github.com/borda-edge/borda/internal/testkit"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/logging"
)

type clock = testkit.Clock
type syncBuffer = testkit.SyncBuffer

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is a fixed start time: 2023-11-14T22:13:20Z.
var t0 = time.Unix(1700000000, 0).UTC()

func newClock() *clock { return testkit.NewClock(t0) }

// lines returns the logged lines containing substr.
// logLines returns the logged lines of s containing substr.
func logLines(s *syncBuffer, substr string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if l != "" && strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// fixture is a Banner with its clock, log and metrics.
type fixture struct {
	b       *Banner
	clock   *clock
	log     *syncBuffer // the stable lines
	limited *syncBuffer // rate-limited lines
	reg     *prometheus.Registry
	dir     string
}

// testConfig is the default configuration without an allow list, so that
// loopback addresses can be banned.
func testConfig() Config {
	c := DefaultConfig()
	c.AllowList = nil
	return c
}

// newFixture builds a Banner logging like the gateway does: logging.New
// (text) with component=ban, and a rate-limited logger for the rest.
func newFixture(t *testing.T, cfg Config, dir string) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), log: &syncBuffer{}, limited: &syncBuffer{}, reg: prometheus.NewRegistry(), dir: dir}
	base := logging.New(logging.DefaultConfig(), f.log).With("component", "ban")
	lim := slog.New(logging.NewRateLimited(logging.New(logging.DefaultConfig(), f.limited).Handler(), 10*time.Second)).
		With("component", "ban")
	b, err := New(cfg, Deps{Logger: base, Limited: lim, Registry: f.reg, DataDir: dir, Now: f.clock.Now,
		SweepInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.b = b
	return f
}

// run starts Run and stops it at cleanup (or when the returned func is called).
func (f *fixture) run(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.b.Run(ctx) }()
	select {
	case <-f.b.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("Run not ready after 5s")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (f *fixture) fail(ip string, n int) {
	for range n {
		f.b.Failure(netip.MustParseAddr(ip), SourceMQTT, "bad_password")
	}
}

func isBanned(b *Banner, ip string) bool {
	_, ok := b.Banned(netip.MustParseAddr(ip))
	return ok
}
