//go:build cgo

package vision

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/vision/preprocess"
	"github.com/borda-edge/borda/internal/vision/source"
)

// BenchmarkFrameLatency is borda's per-frame work on one worker
// (preprocess into the session's input, inference, top-k, detection)
// for frames as ffmpeg delivers them (224×224) and as the seed's camera
// (640×480), and raw: the same session's Run alone, in the same process,
// for the overhead (goal ≤ 10 %).
func BenchmarkFrameLatency(b *testing.B) {
	for _, size := range [][2]int{{0, 0}, {224, 224}, {640, 480}} {
		name := fmt.Sprintf("%dx%d", size[0], size[1])
		if size[0] == 0 {
			name = "raw"
		}
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(b, CameraConfig{ID: "bench", Type: TypeDir, URL: b.TempDir()})
			log := slog.New(slog.DiscardHandler)
			p := New(cfg, Deps{Logger: log, Limited: log, Registry: prometheus.NewRegistry()})
			eng, sessions, err := p.open()
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			defer sessions[1].Close()
			defer sessions[0].Close()
			cls, _ := loadClasses(cfg.Model)
			results := make(chan result, 1)
			w := &worker{p: p, s: sessions[0], pre: preprocess.New(cfg.Model.spec()), cls: cls, results: results}
			rgb := make([]byte, max(size[0]*size[1]*3, 1))
			for i := range rgb {
				rgb[i] = byte(i * 7)
			}
			j := &job{cam: p.cameras[0], frame: source.Frame{RGB: rgb, Width: size[0], Height: size[1], Time: time.Now()}}
			if size[0] == 0 {
				_ = w.pre.Into(w.s.Input(), make([]byte, 224*224*3), 224, 224)
				for b.Loop() {
					if _, err := w.s.Run(); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			for b.Loop() {
				w.process(j)
				<-results
			}
		})
	}
}

// BenchmarkFourCameras runs four ffmpeg testsrc cameras (640×480 at 30
// fps) through 2 workers for 10 s per iteration, every 3rd frame as the
// seed (40 fps to process) and every frame (120 fps: overload), and
// reports processed frames per second, drops and latencies.
func BenchmarkFourCameras(b *testing.B) {
	for _, nth := range []int{3, 1} {
		b.Run(fmt.Sprintf("every_nth=%d", nth), func(b *testing.B) {
			var cams []CameraConfig
			for i := range 4 {
				c := testsrc(b, fmt.Sprintf("cam%d", i), 30)
				c.EveryNth = nth
				cams = append(cams, c)
			}
			cfg := testConfig(b, cams...)
			cfg.Model.Threshold = 0.7
			for b.Loop() {
				fourCameras(b, cfg)
			}
		})
	}
}

func fourCameras(b *testing.B, cfg Config) {
	r := start(b, cfg)
	time.Sleep(2 * time.Second) // ffmpeg start-up
	before := r.p.Stats()
	time.Sleep(10 * time.Second)
	after := r.p.Stats()
	r.r.Stop(b)
	var processed, sampled, dropped uint64
	var avg, p99, age float64
	for i, c := range after.Cameras {
		processed += c.Processed - before.Cameras[i].Processed
		sampled += c.Sampled - before.Cameras[i].Sampled
		dropped += c.DroppedTotal() - before.Cameras[i].DroppedTotal()
		avg += c.InferenceAvgMS / float64(len(after.Cameras))
		p99 = max(p99, c.InferenceP99MS)
		age = max(age, c.FrameAgeP99MS)
	}
	b.ReportMetric(float64(processed)/10, "processed_fps")
	b.ReportMetric(float64(sampled)/10, "sampled_fps")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(avg, "inference_avg_ms")
	b.ReportMetric(p99, "inference_p99_ms")
	b.ReportMetric(age, "frame_age_p99_ms")
}
