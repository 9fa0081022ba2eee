package dashboard

import (
	"net/http"
	"time"
)

// DetectionSource keeps the latest detections of each camera (fed by the
// vision component); the figures come from the vision metrics.
type DetectionSource interface {
	// Recent returns up to n of camera's latest detections, newest first.
	Recent(camera string, n int) []Detection
}

// Camera is one camera's recent figures and latest detections.
type Camera struct {
	Name         string      `json:"name"`
	FPSIn        float64     `json:"fps_in"`
	FPSProcessed float64     `json:"fps_processed"`
	FPSDropped   float64     `json:"fps_dropped"`
	Inference    float64     `json:"inference_seconds"` // recent average latency
	Detections   []Detection `json:"detections"`        // newest first
	// Counts are detections since start by label (from the metrics).
	Counts map[string]float64 `json:"counts,omitempty"`
}

// Detection is one object found in a frame.
type Detection struct {
	Time       time.Time `json:"timestamp"`
	Label      string    `json:"label"`
	Confidence float64   `json:"confidence"`
}

// camerasJSON is the data of GET /api/v1/dashboard/cameras.
type camerasJSON struct {
	Enabled bool     `json:"enabled"`
	Cameras []Camera `json:"cameras"`
}

func (d *Dashboard) serveCameras(w http.ResponseWriter, _ *http.Request) {
	cams := append([]Camera{}, d.overvw.get().Cameras...) // the vision metrics, when there are any
	if d.deps.Detections != nil {
		for i := range cams {
			cams[i].Detections = d.deps.Detections.Recent(cams[i].Name, 20)
		}
	}
	writeData(w, camerasJSON{Enabled: len(cams) > 0 || d.overvw.get().Cameras != nil, Cameras: cams})
}
