package uplink

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeOutput records what it was given; it refuses work outside Run.
type fakeOutput struct {
	name    string
	failRun error
	mu      sync.Mutex
	running bool
	points  int
	alerts  []string
	ready   chan struct{}
}

func newFake(name string) *fakeOutput { return &fakeOutput{name: name, ready: make(chan struct{})} }

func (f *fakeOutput) Name() string           { return f.name }
func (f *fakeOutput) Pause()                 {}
func (f *fakeOutput) Resume()                {}
func (f *fakeOutput) Ready() <-chan struct{} { return f.ready }
func (f *fakeOutput) Run(ctx context.Context) error {
	if f.failRun != nil {
		return f.failRun
	}
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	close(f.ready)
	<-ctx.Done()
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return nil
}

func (f *fakeOutput) Append(_ context.Context, pts []telemetry.Point) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		return errors.New("closed")
	}
	f.points += len(pts)
	return nil
}

func (f *fakeOutput) AppendAlert(_ context.Context, a telemetry.Alert) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		return errors.New("closed")
	}
	f.alerts = append(f.alerts, a.ID)
	return nil
}

func (f *fakeOutput) snapshot() (int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.points, append([]string(nil), f.alerts...)
}

func withFakes(t *testing.T, outs ...*fakeOutput) (*Uplink, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	u, err := New(Config{}, Deps{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		u.points = append(u.points, o)
		u.all = append(u.all, o)
	}
	u.alerts = newAlertFeed(u.points, Deps{Registry: reg})
	return u, reg
}

// TestPointsAndAlertsReachEveryOutput: batches go to every point output;
// alerts buffered before shutdown are queued before the outputs stop.
func TestPointsAndAlertsReachEveryOutput(t *testing.T) {
	a, b := newFake("a"), newFake("b")
	u, _ := withFakes(t, a, b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	select {
	case <-u.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	if err := u.Append(ctx, make([]telemetry.Point, 3)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2", "3"} {
		u.Notify(telemetry.Alert{ID: id})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, o := range []*fakeOutput{a, b} {
		pts, alerts := o.snapshot()
		if pts != 3 || len(alerts) != 3 || alerts[0] != "1" || alerts[2] != "3" {
			t.Errorf("%s: %d points, alerts %v; want 3 and [1 2 3]", o.name, pts, alerts)
		}
	}
}

// TestAlertBufferFullIsCounted: with nobody draining, events beyond the
// buffer are dropped and counted, Notify never blocks.
func TestAlertBufferFullIsCounted(t *testing.T) {
	u, _ := withFakes(t, newFake("a"))
	for range alertBuffer + 10 {
		u.Notify(telemetry.Alert{ID: "x"})
	}
	if got := testutil.ToFloat64(u.alerts.dropped); got != 10 {
		t.Fatalf("dropped %v, want 10", got)
	}
}

// TestFailingOutputStopsRun: an output that cannot start ends Run with
// its error and stops the others.
func TestFailingOutputStopsRun(t *testing.T) {
	bad := newFake("bad")
	bad.failRun = errors.New("cannot open queue")
	u, _ := withFakes(t, newFake("good"), bad)
	errc := make(chan error, 1)
	go func() { errc <- u.Run(context.Background()) }()
	select {
	case err := <-errc:
		if err == nil || err.Error() != "cannot open queue" {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end")
	}
}
