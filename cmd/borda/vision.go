package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/vision"
	"github.com/borda-edge/borda/internal/web"
)

// Topics of vision's results. Detections go to cameras/<id>/detection;
// those of alert classes also to alerts/detection, as the seed did.
const (
	visionAlertTopic   = "alerts/detection"
	visionMeasurement  = "cameras_detection"
	visionStoreTimeout = 5 * time.Second
)

// newVision builds the camera pipeline when vision is enabled. It runs
// after the broker and ingest (its sinks) and stops first.
func (g *gateway) newVision(base, limited *slog.Logger, reg *prometheus.Registry) {
	if !g.cfg.Vision.Enabled {
		return
	}
	lim := limited.With("component", "vision")
	g.recent = newRecentDetections(50)
	g.vision = vision.New(g.cfg.Vision, vision.Deps{
		Logger:   base.With("component", "vision"),
		Limited:  lim,
		Registry: reg,
		Sink:     visionSink{g: g, log: lim},
	})
	g.parts = append(g.parts, component{name: "vision", run: g.vision.Run, ready: g.vision.Ready()})
}

// registerVision serves GET /api/v1/vision: the pipeline's stats (404
// when vision is off).
func (g *gateway) registerVision(w *web.Server) {
	if g.vision == nil {
		return
	}
	w.Handle("GET /api/v1/vision", http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(g.vision.Stats())
	}))
}

// visionSink publishes detections through the embedded broker and feeds
// them, as readings, through the ingest pipeline: rules see them and the
// store keeps them (cameras_detection_confidence, _inference_ms,
// _frame_age_ms with labels device_id, label, location). It runs on
// vision's own delivery goroutine, never a worker's or the broker's; the
// time it takes counts in borda_vision_frame_age_seconds, while a
// detection's frame_age_ms is the frame's age when handed to it.
type visionSink struct {
	g   *gateway
	log *slog.Logger // rate-limited
}

// visionAlert is the seed's alerts/detection payload, with the label.
type visionAlert struct {
	Type       string    `json:"type"`
	ClassID    int       `json:"class_id"`
	Label      string    `json:"label"`
	Confidence float64   `json:"confidence"`
	Timestamp  time.Time `json:"timestamp"`
	CameraID   string    `json:"camera_id"`
	Location   string    `json:"location,omitempty"`
}

func (s visionSink) Detections(ctx context.Context, ds []vision.Detection) {
	if s.g.recent != nil {
		s.g.recent.add(ds)
	}
	pts := make([]telemetry.Point, 0, len(ds))
	for _, d := range ds {
		s.publish("cameras/"+d.Camera+"/detection", d, 0)
		if d.Alert {
			s.publish(visionAlertTopic, visionAlert{Type: "object_detection", ClassID: d.ClassID, Label: d.Label,
				Confidence: d.Confidence, Timestamp: d.Time, CameraID: d.Camera, Location: d.Location}, 1)
		}
		pts = append(pts, detectionPoint(d))
	}
	ctx, cancel := context.WithTimeout(ctx, visionStoreTimeout)
	defer cancel()
	if err := s.g.pipeline.Write(ctx, pts); err != nil {
		s.log.Warn("detections not stored", "points", len(pts), "error", err)
	}
}

func (s visionSink) publish(topic string, v any, qos byte) {
	b, err := json.Marshal(v)
	if err == nil {
		err = s.g.broker.Server().Publish(topic, b, false, qos)
	}
	if err != nil {
		s.log.Warn("detection not published", "topic", topic, "error", err)
	}
}

// detectionPoint is a detection as a reading of the topic convention
// (cameras/<id>/detection → measurement cameras_detection).
func detectionPoint(d vision.Detection) telemetry.Point {
	p := telemetry.Point{Measurement: visionMeasurement, Time: d.Time, Fields: []telemetry.Field{
		{Key: "confidence", Value: d.Confidence},
		{Key: "inference_ms", Value: d.InferenceMS},
		{Key: "frame_age_ms", Value: d.FrameAgeMS},
	}}
	p.SetTag("device_type", "cameras")
	p.SetTag("device_id", d.Camera)
	p.SetTag("label", d.Label)
	if d.Location != "" {
		p.SetTag("location", d.Location)
	}
	return p
}
