package vision

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
)

// assertNoChildren: no child process (ffmpeg) is left.
func assertNoChildren(t *testing.T) {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	for _, f := range tasks {
		if b, _ := os.ReadFile(f); len(bytes.TrimSpace(b)) > 0 {
			t.Fatalf("child processes left: %s", b)
		}
	}
}

// TestFrameBuffersReusedRaceFree: ffmpeg cameras as fast as they go,
// every frame sampled, one worker and a queue of 2, so frame buffers go
// back to their source on every path (processed, stale, queue_full,
// stopped) while the readers refill them; -race finds a buffer reused
// while still read, and every sampled frame is accounted for.
func TestFrameBuffersReusedRaceFree(t *testing.T) {
	defer goleak.VerifyNone(t)
	testkit.RequireCommand(t, "ffmpeg", "ffmpeg")
	cfg := DefaultConfig()
	cfg.Enabled, cfg.Model.Path, cfg.Model.Threshold = true, "fake.onnx", 0
	cfg.QueueSize, cfg.Workers = 2, 1
	for i := range 2 {
		cfg.Cameras = append(cfg.Cameras, CameraConfig{ID: fmt.Sprintf("cam%d", i), URL: "testsrc=size=640x480:rate=60",
			InputArgs: []string{"-f", "lavfi"}, Width: 640, Height: 480, EveryNth: 1})
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	p := New(cfg, Deps{Logger: log, Limited: log, Registry: reg, Sink: &ageSink{t: t, reg: reg},
		Open: func(ModelConfig) (Engine, error) { return fakeEngine{out: []float32{0.2, 0.8}}, nil }})
	r := testkit.RunComponent(t, p.Run, p.Ready(), 10*time.Second)
	testkit.Eventually(t, 20*time.Second, "frames processed and dropped on both cameras", func() bool {
		for _, c := range p.Stats().Cameras {
			if c.Processed < 30 || c.DroppedTotal() < 30 {
				return false
			}
		}
		return true
	})
	r.Stop(t)
	for _, c := range p.Stats().Cameras {
		if c.Sampled != c.Processed+c.DroppedTotal() {
			t.Errorf("camera %s: sampled %d != processed %d + dropped %v", c.ID, c.Sampled, c.Processed, c.Dropped)
		}
	}
	assertNoChildren(t)
}
