//go:build cgo

package vision

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/vision/ort/orttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig is vision on the nsfwjs MobileNetV2 that `make ml-deps`
// converts; the test fails when the library or model is missing.
func testConfig(t testing.TB, cams ...CameraConfig) Config {
	t.Helper()
	model, labels := orttest.Require(t)
	c := DefaultConfig()
	c.Enabled = true
	c.Model.Path, c.Model.Labels = model, labels
	c.Model.Threshold = 0 // every processed frame yields its top class
	c.Cameras = cams
	c.ReconnectMin, c.ReconnectMax = 50*time.Millisecond, 200*time.Millisecond
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// testsrc is ffmpeg's lavfi test pattern as a live 640×480 camera.
func testsrc(t testing.TB, id string, fps int) CameraConfig {
	testkit.RequireCommand(t, "ffmpeg", "ffmpeg")
	return CameraConfig{ID: id, Type: TypeFFmpeg, URL: fmt.Sprintf("testsrc=size=640x480:rate=%d", fps),
		InputArgs: []string{"-re", "-f", "lavfi"}, EveryNth: 3}
}

type collector struct {
	mu sync.Mutex
	ds []Detection
}

func (c *collector) Detections(_ context.Context, ds []Detection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ds = append(c.ds, ds...)
}

func (c *collector) count(cam string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, d := range c.ds {
		if d.Camera == cam {
			n++
		}
	}
	return n
}

type running struct {
	p    *Pipeline
	reg  *prometheus.Registry
	sink *collector
	r    *testkit.Running
}

func start(t testing.TB, cfg Config) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	sink := &collector{}
	p := New(cfg, Deps{Logger: log, Limited: log, Registry: reg, Sink: sink})
	r := testkit.RunComponent(t, p.Run, p.Ready(), 20*time.Second)
	return &running{p: p, reg: reg, sink: sink, r: r}
}

func (r *running) camera(t testing.TB, id string) CameraStats {
	t.Helper()
	for _, c := range r.p.Stats().Cameras {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no camera %s", id)
	return CameraStats{}
}

// TestLiveCameraDetections: ffmpeg's testsrc at 30 fps, every 3rd frame,
// gives detections with sane latencies; stopping leaves no ffmpeg behind.
func TestLiveCameraDetections(t *testing.T) {
	cfg := testConfig(t, testsrc(t, "cam1", 30))
	cfg.Model.AlertClasses = []string{"Drawing", "Neutral"}
	r := start(t, cfg)
	testkit.Eventually(t, 15*time.Second, "10 detections", func() bool { return r.sink.count("cam1") >= 10 })
	s := r.camera(t, "cam1")
	r.r.Stop(t)
	if !s.Up || s.FramesIn < 30 || s.Processed < 10 {
		t.Fatalf("stats %+v", s)
	}
	if s.InferenceAvgMS <= 0 || s.InferenceAvgMS > 500 || s.InferenceP99MS < s.InferenceAvgMS*0.5 || s.FrameAgeAvgMS < s.InferenceAvgMS {
		t.Fatalf("latencies %+v", s)
	}
	d := r.sink.ds[0]
	if d.Camera != "cam1" || d.Frame%3 != 0 || d.Label == "" || d.Confidence <= 0 || d.Confidence > 1 || d.Time.IsZero() {
		t.Fatalf("detection %+v", d)
	}
	if d.Alert != (d.Label == "Drawing" || d.Label == "Neutral") {
		t.Fatalf("alert flag %+v", d)
	}
	if got := testkit.MetricValue(t, r.reg, "borda_vision_frames_processed_total", "camera", "cam1"); got < 10 {
		t.Fatalf("processed metric %v", got)
	}
	assertAccounted(t, r)
	assertNoChildren(t)
}

// assertAccounted: after stop every sampled frame was processed or
// counted as dropped, for every camera, in the stats and the metrics.
func assertAccounted(t *testing.T, r *running) {
	t.Helper()
	for _, s := range r.p.Stats().Cameras {
		if s.Sampled != s.Processed+s.DroppedTotal() {
			t.Errorf("camera %s: sampled %d != processed %d + dropped %v", s.ID, s.Sampled, s.Processed, s.Dropped)
		}
		var dropped float64
		for _, reason := range dropReasons {
			dropped += testkit.MetricValue(t, r.reg, "borda_vision_frames_dropped_total", "camera", s.ID, "reason", reason)
		}
		if dropped != float64(s.DroppedTotal()) {
			t.Errorf("camera %s: dropped metric %v, stats %d", s.ID, dropped, s.DroppedTotal())
		}
	}
}

// jpegDir writes n small JPEG pictures.
func jpegDir(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 64, 48))
		for p := range img.Pix {
			img.Pix[p] = uint8(p*(i+1)) | 3
		}
		img.Set(1, 1, color.White)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d.jpg", i)), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestQueueOverflowDropsAndCounts: four fast cameras, one worker and a
// queue of 2 overflow; every sampled frame is processed or counted as
// dropped, in the stats and the metrics, exactly.
func TestQueueOverflowDropsAndCounts(t *testing.T) {
	dir := jpegDir(t, 5)
	var cams []CameraConfig
	for i := range 4 {
		cams = append(cams, CameraConfig{ID: fmt.Sprintf("fast%d", i), Type: TypeDir, URL: dir, FPS: 500, Loop: true, EveryNth: 1})
	}
	cfg := testConfig(t, cams...)
	cfg.QueueSize, cfg.Workers = 2, 1
	r := start(t, cfg)
	testkit.Eventually(t, 15*time.Second, "queue_full drops", func() bool {
		return r.camera(t, "fast0").Dropped[dropQueueFull] > 20 && r.camera(t, "fast0").Processed > 5
	})
	r.r.Stop(t)
	assertAccounted(t, r)
	if n := testkit.MetricValue(t, r.reg, "borda_vision_frames_dropped_total", "camera", "fast1", "reason", dropQueueFull); n == 0 {
		t.Fatal("no queue_full drops counted for fast1")
	}
}

// TestFailingCameraIsolated: a camera whose input does not exist keeps
// reconnecting with backoff while the other one is processed.
func TestFailingCameraIsolated(t *testing.T) {
	bad := testsrc(t, "broken", 30)
	bad.URL, bad.InputArgs = filepath.Join(t.TempDir(), "missing.mp4"), nil
	cfg := testConfig(t, testsrc(t, "good", 30), bad)
	r := start(t, cfg)
	testkit.Eventually(t, 15*time.Second, "good camera processed, broken retried", func() bool {
		return r.camera(t, "good").Processed >= 5 && r.camera(t, "broken").Restarts >= 3
	})
	b := r.camera(t, "broken")
	r.r.Stop(t)
	if b.Up || b.FramesIn != 0 || !strings.Contains(b.LastError, "No such file") {
		t.Fatalf("broken camera %+v", b)
	}
	assertNoChildren(t)
}

// TestMJPEGReconnects: a camera whose HTTP stream ends after a few
// pictures is reconnected and processed again.
func TestMJPEGReconnects(t *testing.T) {
	var pic bytes.Buffer
	_ = jpeg.Encode(&pic, image.NewGray(image.Rect(0, 0, 320, 240)), nil)
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns++
		mu.Unlock()
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		for range 6 {
			pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
			_, _ = pw.Write(pic.Bytes())
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(t, CameraConfig{ID: "ipcam", Type: TypeMJPEG, URL: srv.URL, EveryNth: 2})
	r := start(t, cfg)
	testkit.Eventually(t, 15*time.Second, "three connections", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return conns >= 3 && r.camera(t, "ipcam").Processed >= 6
	})
	r.r.Stop(t)
	if s := r.camera(t, "ipcam"); s.Restarts < 2 || s.Dropped[dropDecode] != 0 {
		t.Fatalf("stats %+v", s)
	}
	assertAccounted(t, r)
}

// TestStalledCameraRestarted: an MJPEG camera that keeps the connection
// open but stops sending is restarted after stall_timeout.
func TestStalledCameraRestarted(t *testing.T) {
	var pic bytes.Buffer
	_ = jpeg.Encode(&pic, image.NewGray(image.Rect(0, 0, 32, 32)), nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
		pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
		_, _ = pw.Write(pic.Bytes())
		_, _ = mw.CreatePart(nil) // a boundary, so the picture is complete
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then silence, connection open
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(t, CameraConfig{ID: "hung", Type: TypeMJPEG, URL: srv.URL, EveryNth: 1})
	cfg.StallTimeout = 200 * time.Millisecond
	r := start(t, cfg)
	testkit.Eventually(t, 10*time.Second, "restarts after stalls", func() bool {
		s := r.camera(t, "hung")
		return s.Restarts >= 2 && s.Processed >= 2
	})
	r.r.Stop(t)
	if s := r.camera(t, "hung"); !strings.Contains(s.LastError, "no frame for 200ms") {
		t.Fatalf("last error %q", s.LastError)
	}
}

// TestShapeMismatchFailsStart: Run refuses a model whose input is not
// the configured shape, naming both.
func TestShapeMismatchFailsStart(t *testing.T) {
	cfg := testConfig(t, CameraConfig{ID: "c", Type: TypeDir, URL: t.TempDir()})
	cfg.Model.Shape = []int64{1, 160, 160, 3}
	p := New(cfg, Deps{Logger: slog.New(slog.DiscardHandler), Limited: slog.New(slog.DiscardHandler),
		Registry: prometheus.NewRegistry()})
	err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "[1 224 224 3]") || !strings.Contains(err.Error(), "[1 160 160 3]") {
		t.Fatalf("err = %v", err)
	}
}

// TestMissingLibraryLeavesVisionOff: without the runtime, Run logs one
// error, reports it in Stats and the metric, and waits for stop.
func TestMissingLibraryLeavesVisionOff(t *testing.T) {
	cfg := testConfig(t, CameraConfig{ID: "c", Type: TypeDir, URL: t.TempDir()})
	cfg.Model.Library = "/nonexistent/libonnxruntime.so.1"
	var logs testkit.SyncBuffer
	reg := prometheus.NewRegistry()
	p := New(cfg, Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Limited: slog.New(slog.DiscardHandler), Registry: reg})
	r := testkit.RunComponent(t, p.Run, p.Ready(), 5*time.Second)
	r.Stop(t)
	if s := p.Stats(); s.Up || !strings.Contains(s.Error, "make ml-deps") {
		t.Fatalf("stats %+v", s)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d error lines: %s", n, logs.String())
	}
	if v := testkit.MetricValue(t, reg, "borda_vision_up"); v != 0 {
		t.Fatalf("borda_vision_up %v", v)
	}
}
