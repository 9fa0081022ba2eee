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
	SourceUp     bool        `json:"source_up"`         // the camera delivers frames
	Error        string      `json:"error,omitempty"`   // the source's last error while it is down
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
	Enabled bool          `json:"enabled"` // vision is configured
	Vision  *VisionStatus `json:"vision"`  // its health (null when off)
	Cameras []Camera      `json:"cameras"`
}

func (d *Dashboard) serveCameras(w http.ResponseWriter, _ *http.Request) {
	o := d.overvw.get()
	cams := append([]Camera{}, o.Cameras...) // the vision metrics, when there are any
	if d.deps.Detections != nil {
		for i := range cams {
			cams[i].Detections = d.deps.Detections.Recent(cams[i].Name, 20)
		}
	}
	writeData(w, camerasJSON{Enabled: o.Vision != nil, Vision: o.Vision, Cameras: cams})
}
