//go:build !cgo

package vision

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestUnavailableWithoutCgo: a CGO_ENABLED=0 build (make release) runs
// with vision enabled, says once that vision is unavailable and why, and
// reports it in Stats and borda_vision_up (CGO_ENABLED=0 go test ./internal/vision).
func TestUnavailableWithoutCgo(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Enabled, cfg.Model.Path = true, "model.onnx"
	cfg.Cameras = []CameraConfig{{ID: "c", Type: TypeDir, URL: t.TempDir()}}
	var logs testkit.SyncBuffer
	reg := prometheus.NewRegistry()
	p := New(cfg, Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Limited: slog.New(slog.DiscardHandler), Registry: reg})
	r := testkit.RunComponent(t, p.Run, p.Ready(), 5*time.Second)
	r.Stop(t)
	const want = "vision unavailable: built without cgo (ONNX Runtime needs CGO_ENABLED=1)"
	if s := p.Stats(); s.Up || s.Error != want {
		t.Fatalf("stats %+v", s)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "CGO_ENABLED=1") {
		t.Fatalf("%d error lines: %s", n, logs.String())
	}
	if v := testkit.MetricValue(t, reg, "borda_vision_up"); v != 0 {
		t.Fatalf("borda_vision_up %v", v)
	}
}
