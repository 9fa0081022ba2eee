package vision

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
)

// fakeEngine stands in for ONNX Runtime: every frame scores out.
type fakeEngine struct{ out []float32 }

func (e fakeEngine) NewSession() (Session, error) {
	return &fakeSession{in: make([]float32, 224*224*3), out: e.out}, nil
}
func (fakeEngine) Close() error { return nil }

type fakeSession struct{ in, out []float32 }

func (s *fakeSession) Input() []float32        { return s.in }
func (s *fakeSession) Run() ([]float32, error) { return append([]float32(nil), s.out...), nil }
func (s *fakeSession) Close() error            { return nil }

// ageSink checks, on every call, that the frame-age histogram has
// observed exactly the frames delivered before: a frame's age is taken
// after the sink returned for it, never before.
type ageSink struct {
	t   *testing.T
	reg prometheus.Gatherer

	mu        sync.Mutex
	delivered int // detections (one per frame) handed over by earlier calls
	early     int // calls that saw the histogram ahead of or behind them
	zeroAge   int // detections without their age at hand-over
}

func (s *ageSink) Detections(_ context.Context, ds []Detection) {
	n := int(histogramCount(s.t, s.reg, "borda_vision_frame_age_seconds"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if n != s.delivered {
		s.early++
	}
	for _, d := range ds {
		if d.FrameAgeMS <= 0 {
			s.zeroAge++
		}
	}
	s.delivered += len(ds)
}

// histogramCount sums the sample counts of histogram name.
func histogramCount(t testing.TB, g prometheus.Gatherer, name string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Errorf("gather: %v", err)
		return 0
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// TestFrameAgeCoversSink: borda_vision_frame_age_seconds and the
// camera's frame_age stats are observed once the sink has returned for
// the frame's detections (MQTT and the store are inside), and for every
// processed frame, also those without a detection (no sink call).
func TestFrameAgeCoversSink(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	var pic bytes.Buffer
	if err := jpeg.Encode(&pic, image.NewGray(image.Rect(0, 0, 32, 24)), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.jpg"), pic.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		threshold float64
		wantCalls bool
	}{
		{"every frame a detection", 0, true},
		{"no detections", 0.95, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Enabled, cfg.Model.Path, cfg.Model.Threshold = true, "fake.onnx", tc.threshold
			cfg.Cameras = []CameraConfig{{ID: "c", Type: TypeDir, URL: dir, FPS: 200, Loop: true, EveryNth: 1}}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			sink := &ageSink{t: t, reg: reg}
			log := slog.New(slog.DiscardHandler)
			p := New(cfg, Deps{Logger: log, Limited: log, Registry: reg, Sink: sink,
				Open: func(ModelConfig) (Engine, error) { return fakeEngine{out: []float32{0.1, 0.9}}, nil }})
			r := testkit.RunComponent(t, p.Run, p.Ready(), 5*time.Second)
			testkit.Eventually(t, 10*time.Second, "20 frames processed", func() bool {
				return p.Stats().Cameras[0].Processed >= 20
			})
			r.Stop(t)
			s := p.Stats().Cameras[0]
			n := histogramCount(t, reg, "borda_vision_frame_age_seconds")
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if n != s.Processed || s.FrameAgeAvgMS <= 0 {
				t.Fatalf("frame age observed %d times, processed %d, avg %v ms", n, s.Processed, s.FrameAgeAvgMS)
			}
			if sink.early != 0 || sink.zeroAge != 0 {
				t.Fatalf("%d sink calls saw the histogram out of step, %d detections without age", sink.early, sink.zeroAge)
			}
			if got := sink.delivered > 0; got != tc.wantCalls || (tc.wantCalls && uint64(sink.delivered) != s.Processed) {
				t.Fatalf("delivered %d detections for %d frames", sink.delivered, s.Processed)
			}
		})
	}
}
