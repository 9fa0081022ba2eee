//go:build cgo

package vision

import (
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/vision/preprocess"
	"github.com/borda-edge/borda/internal/vision/source"
)

// timedSession adds up the time spent in Run.
type timedSession struct {
	Session
	run time.Duration
}

func (s *timedSession) Run() ([]float32, error) {
	start := time.Now()
	out, err := s.Session.Run()
	s.run += time.Since(start)
	return out, err
}

// BenchmarkFrameLatency is borda's per-frame work on one worker
// (preprocess into the session's input, inference, top-k, detection)
// for frames as ffmpeg delivers them (224×224) and as the seed's camera
// (640×480), and raw: the same session's Run alone, in the same process,
// for the overhead (goal ≤ 10 %). As the machine is shared, the borda
// cases also time ORT's Run inside the same iterations (ort_ms) and
// report overhead_% = (ns/op − ort) / ort, which drift cannot skew.
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
			ts := &timedSession{Session: sessions[0]}
			w.s = ts
			for b.Loop() {
				w.process(j)
				<-results
			}
			ort := float64(ts.run) / float64(b.N)
			b.ReportMetric(ort/1e6, "ort_ms")
			b.ReportMetric(100*(float64(b.Elapsed())/float64(b.N)-ort)/ort, "overhead_%")
		})
	}
}

// BenchmarkFourCameras runs four ffmpeg testsrc cameras through 2
// workers for 10 s per iteration, every 3rd frame as the seed (40 fps to
// process) and every frame (120 fps: overload), and reports processed
// frames per second, drops and latencies. As the seed's cameras, ffmpeg
// delivers 640×480 RGB frames at 30 fps (width/height set, so ffmpeg
// does not scale them to the model's 224×224): borda's preprocessing
// resizes every processed frame.
func BenchmarkFourCameras(b *testing.B) {
	for _, nth := range []int{3, 1} {
		b.Run(fmt.Sprintf("every_nth=%d", nth), func(b *testing.B) {
			var cams []CameraConfig
			for i := range 4 {
				c := testsrc(b, fmt.Sprintf("cam%d", i), 30)
				c.EveryNth, c.Width, c.Height = nth, 640, 480
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
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	before := r.p.Stats()
	time.Sleep(10 * time.Second)
	after := r.p.Stats()
	runtime.ReadMemStats(&m1)
	r.r.Stop(b)
	var processed, sampled, dropped uint64
	var avg, p99, ageAvg, age float64
	n := float64(len(after.Cameras))
	for i, c := range after.Cameras {
		processed += c.Processed - before.Cameras[i].Processed
		sampled += c.Sampled - before.Cameras[i].Sampled
		dropped += c.DroppedTotal() - before.Cameras[i].DroppedTotal()
		avg += c.InferenceAvgMS / n
		p99 = max(p99, c.InferenceP99MS)
		ageAvg += c.FrameAgeAvgMS / n
		age = max(age, c.FrameAgeP99MS)
	}
	b.ReportMetric(float64(processed)/10, "processed_fps")
	b.ReportMetric(float64(sampled)/10, "sampled_fps")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(avg, "inference_avg_ms")
	b.ReportMetric(p99, "inference_p99_ms")
	b.ReportMetric(ageAvg, "frame_age_avg_ms")
	b.ReportMetric(age, "frame_age_p99_ms")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/10/(1<<20), "alloc_MiB/s")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC)/10, "gc/s")
}
