package dashboard

import (
	"strings"
	"time"
)

// VisionSource reports why vision is not running (nil: its metrics only
// tell up or down).
type VisionSource interface {
	VisionState() VisionState
}

// VisionState is the vision pipeline's health as its component knows it.
type VisionState struct {
	Up           bool
	Error        string            // why it is not running (the ONNX Runtime library or model missing, ...)
	CameraErrors map[string]string // a camera's last source error, by camera
}

// VisionStatus is vision's health on the Overview and Cameras pages; nil
// (JSON null) when vision is not configured.
type VisionStatus struct {
	Up    bool   `json:"up"`              // the model is loaded and the workers run
	Error string `json:"error,omitempty"` // why not
}

// Vision metrics (internal/vision), by camera label.
const (
	visUp        = "borda_vision_up"
	visSourceUp  = "borda_vision_source_up"
	visFrames    = "borda_vision_frames_total"
	visProcessed = "borda_vision_frames_processed_total"
	visDropped   = "borda_vision_frames_dropped_total"
	visInfer     = "borda_vision_inference_seconds" // histogram: count; _sum beside it
	visDetect    = "borda_vision_detections_total"
)

var visionCounters = []string{visFrames, visProcessed, visDropped, visInfer, visInfer + "_sum"}

// cameraRates turns the vision counters into per-camera rates over
// rateWindow.
type cameraRates struct {
	hist []cameraPoint // oldest first
}

type cameraPoint struct {
	at   time.Time
	vals map[string]map[string]float64 // metric → camera → value
}

// update records the counters and returns the cameras' figures, nil when
// there are no vision metrics.
func (r *cameraRates) update(now time.Time, s snapshot) []Camera {
	names := s.labelValues("camera", visFrames, visProcessed)
	if len(names) == 0 {
		r.hist = nil
		return nil
	}
	p := cameraPoint{at: now, vals: map[string]map[string]float64{}}
	for _, m := range visionCounters {
		p.vals[m] = s.by(m, "camera")
	}
	for len(r.hist) > 1 && now.Sub(r.hist[1].at) >= rateWindow {
		r.hist = r.hist[1:]
	}
	r.hist = append(r.hist, p)
	first := r.hist[0]
	dt := now.Sub(first.at).Seconds()
	delta := func(m, cam string) float64 { return max(p.vals[m][cam]-first.vals[m][cam], 0) }
	rate := func(m, cam string) float64 {
		if dt <= 0 {
			return 0
		}
		return delta(m, cam) / dt
	}
	detections := s.byTwo(visDetect, "camera", "label")
	out := make([]Camera, len(names))
	for i, cam := range names {
		c := Camera{Name: cam, FPSIn: rate(visFrames, cam), FPSProcessed: rate(visProcessed, cam),
			FPSDropped: rate(visDropped, cam), Counts: detections[cam]}
		if n := delta(visInfer, cam); n > 0 {
			c.Inference = delta(visInfer+"_sum", cam) / n
		} else if n := p.vals[visInfer][cam]; n > 0 { // nothing new: the average so far
			c.Inference = p.vals[visInfer+"_sum"][cam] / n
		}
		out[i] = c
	}
	return out
}

// visionStatus is vision's health: nil without vision metrics, else up
// from borda_vision_up and the reason from vs (nil: no VisionSource).
func visionStatus(s snapshot, vs *VisionState) *VisionStatus {
	if !hasPrefix(s, "borda_vision_") {
		return nil
	}
	st := &VisionStatus{Up: s.sum(visUp) > 0}
	if vs != nil {
		st.Up = st.Up && vs.Up
		if !st.Up {
			st.Error = vs.Error
		}
	}
	if !st.Up && st.Error == "" {
		st.Error = "vision is not running (borda_vision_up is 0): see borda's log"
	}
	return st
}

// cameraHealth fills each camera's source state: up from its metric, the
// last error from vs.
func cameraHealth(cams []Camera, s snapshot, vs *VisionState) {
	up := s.by(visSourceUp, "camera")
	var errs map[string]string
	if vs != nil {
		errs = vs.CameraErrors
	}
	for i := range cams {
		cams[i].SourceUp = up[cams[i].Name] > 0
		if !cams[i].SourceUp {
			cams[i].Error = errs[cams[i].Name]
		}
	}
}

func hasPrefix(s snapshot, prefix string) bool {
	for name := range s {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
