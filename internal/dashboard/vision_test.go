package dashboard

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type fakeVision VisionState

func (f fakeVision) VisionState() VisionState { return VisionState(f) }

// TestVisionStatus: vision's health on the Overview and Cameras APIs — off
// without vision metrics, up, or down with the reason (the component's
// error when it gives one) and each camera's source error.
func TestVisionStatus(t *testing.T) {
	const noLib = "ONNX Runtime library not found: libonnxruntime.so.1 (run make ml-deps)"
	for _, tt := range []struct {
		name     string
		metrics  bool    // vision registered its metrics
		up, door float64 // borda_vision_up, borda_vision_source_up{camera="door"}
		src      VisionSource
		want     *VisionStatus
		doorErr  string
	}{
		{name: "off", want: nil},
		{name: "up", metrics: true, up: 1, door: 1, want: &VisionStatus{Up: true}},
		{name: "down, no reason known", metrics: true,
			want: &VisionStatus{Error: "vision is not running (borda_vision_up is 0): see borda's log"}},
		{name: "down with the component's reason", metrics: true, src: fakeVision{Error: noLib},
			want: &VisionStatus{Error: noLib}},
		{name: "up, camera down", metrics: true, up: 1, src: fakeVision{Up: true, CameraErrors: map[string]string{"door": "ffmpeg exited: connection refused"}},
			want: &VisionStatus{Up: true}, doorErr: "ffmpeg exited: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if tt.metrics {
				up := prometheus.NewGauge(prometheus.GaugeOpts{Name: visUp})
				src := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: visSourceUp}, []string{"camera"})
				frames := prometheus.NewCounterVec(prometheus.CounterOpts{Name: visFrames}, []string{"camera"})
				reg.MustRegister(up, src, frames)
				up.Set(tt.up)
				src.WithLabelValues("door").Set(tt.door)
				frames.WithLabelValues("door")
			}
			d := newTestDashboard(t, Deps{Gatherer: reg, Vision: tt.src, Interval: time.Nanosecond})
			var body struct {
				Data camerasJSON `json:"data"`
			}
			if err := json.Unmarshal(serve(t, d, "/api/v1/dashboard/cameras").Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			got := body.Data
			if mustJSON(t, got.Vision) != mustJSON(t, tt.want) || got.Enabled != (tt.want != nil) {
				t.Errorf("vision %s (enabled %v), want %s", mustJSON(t, got.Vision), got.Enabled, mustJSON(t, tt.want))
			}
			if o := d.overvw.get(); mustJSON(t, o.Vision) != mustJSON(t, tt.want) {
				t.Errorf("overview vision %s", mustJSON(t, o.Vision))
			}
			if !tt.metrics {
				return
			}
			if len(got.Cameras) != 1 || got.Cameras[0].SourceUp != (tt.door > 0) || got.Cameras[0].Error != tt.doorErr {
				t.Errorf("cameras %s", mustJSON(t, got.Cameras))
			}
		})
	}
}
