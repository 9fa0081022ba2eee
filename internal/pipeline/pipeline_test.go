package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/borda-edge/borda/internal/ingest"
	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/testkit"
)

// gateSink records batches; while gate is set, Append waits for it.
type gateSink struct {
	entered atomic.Int64 // Append calls so far
	mu      sync.Mutex
	pts     []telemetry.Point
	gate    chan struct{}
	err     error
}

func (s *gateSink) Append(_ context.Context, pts []telemetry.Point) error {
	s.entered.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.pts = append(s.pts, pts...)
	return nil
}

func (s *gateSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pts)
}

func newTestPipeline(t *testing.T, cfg Config, sink Sink) (*Pipeline, *Metrics, func()) {
	t.Helper()
	router, err := ingest.NewRouter(ingest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := NewMetrics(prometheus.NewRegistry())
	p := New(cfg, Deps{Logger: log, Limited: log, Metrics: m, Router: router, Sink: sink})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-p.Ready()
	var once sync.Once
	return p, m, func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
}

// TestQoS1WaitsForStorage: a QoS 1 reading returns only after its batch is
// stored, and gets the storage error if storing failed.
func TestQoS1WaitsForStorage(t *testing.T) {
	sink := &gateSink{gate: make(chan struct{})}
	p, _, stop := newTestPipeline(t, DefaultConfig(), sink)
	defer stop()
	returned := make(chan error, 1)
	go func() { returned <- p.Ingest("sensors/s1/temperature", []byte(`{"value":1}`), 1, time.Now()) }()
	select {
	case <-returned:
		t.Fatal("QoS 1 Ingest returned before storage accepted the reading")
	case <-time.After(100 * time.Millisecond):
	}
	close(sink.gate)
	if err := <-returned; err != nil || sink.count() != 1 {
		t.Fatalf("Ingest = %v, stored %d", err, sink.count())
	}
	sink.err = errors.New("disk full")
	if err := p.Ingest("sensors/s1/temperature", []byte(`{"value":2}`), 1, time.Now()); err == nil {
		t.Fatal("QoS 1 Ingest did not report the storage failure")
	}
}

// TestQoS0DropPolicyCounts: with qos0_overflow: drop and a stalled sink,
// readings beyond the queue are dropped and counted, never blocking.
func TestQoS0DropPolicyCounts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueSize, cfg.QoS0Overflow = 2, OverflowDrop
	sink := &gateSink{gate: make(chan struct{})}
	p, m, stop := newTestPipeline(t, cfg, sink)
	const sent = 10
	for range sent {
		if err := p.Ingest("sensors/s1/temperature", []byte(`{"value":1}`), 0, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	close(sink.gate)
	stop() // drains the queue
	dropped := testutil.ToFloat64(m.dropped)
	if dropped == 0 || float64(sink.count())+dropped != sent {
		t.Fatalf("stored %d + dropped %v, want %d in total with some dropped", sink.count(), dropped, sent)
	}
}

// TestRejectionsAreCountedAndDoNotBlock: bad payloads are counted by reason
// and never reach storage; good neighbours do.
func TestRejectionsAreCountedAndDoNotBlock(t *testing.T) {
	sink := &gateSink{}
	p, m, stop := newTestPipeline(t, DefaultConfig(), sink)
	for _, payload := range []string{`{"value":`, `"text"`, `{"value":3}`} {
		if err := p.Ingest("sensors/s1/temperature", []byte(payload), 1, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if sink.count() != 1 {
		t.Fatalf("stored %d points, want 1", sink.count())
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues(ingest.ReasonBadJSON)); got != 1 {
		t.Errorf("bad_json = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues(ingest.ReasonNotNumeric)); got != 1 {
		t.Errorf("not_numeric = %v, want 1", got)
	}
}

// TestStoppedPipelineRefuses: after Run returns, Ingest fails fast.
func TestStoppedPipelineRefuses(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueSize = 1
	sink := &gateSink{}
	p, _, stop := newTestPipeline(t, cfg, sink)
	stop()
	_ = p.Ingest("sensors/s1/temperature", []byte(`1`), 0, time.Now()) // may fill the queue
	if err := p.Ingest("sensors/s1/temperature", []byte(`1`), 1, time.Now()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Ingest after stop = %v, want ErrStopped", err)
	}
}

// TestWriteWaitsForStorageAndHonoursContext: Write returns once its points
// are stored; while the queue is full it gives up when ctx ends, and
// nothing of that call is queued.
func TestWriteWaitsForStorageAndHonoursContext(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueSize = 1
	sink := &gateSink{gate: make(chan struct{})}
	p, _, stop := newTestPipeline(t, cfg, sink)
	defer stop()
	pt := func(v float64) []telemetry.Point {
		return []telemetry.Point{{Measurement: "m", Fields: []telemetry.Field{{Key: "value", Value: v}}, Time: time.Now()}}
	}
	first := make(chan error, 1)
	go func() { first <- p.Write(context.Background(), pt(1)) }() // taken by Run, stuck at the gate
	// Fill the single queue slot once Run holds the first batch.
	testkit.Eventually(t, time.Second, "the first batch at the sink", func() bool { return sink.entered.Load() == 1 })
	_ = p.Ingest("sensors/s1/temperature", []byte(`2`), 0, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Write(ctx, pt(3)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write with a full queue = %v, want deadline exceeded", err)
	}
	close(sink.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	stop()
	if sink.count() != 2 {
		t.Fatalf("stored %d points, want 2 (the timed-out write must not be stored)", sink.count())
	}
}
