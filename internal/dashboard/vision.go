package dashboard

import (
	"time"
)

// Vision metrics (internal/vision), by camera label.
const (
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
