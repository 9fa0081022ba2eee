//go:build cgo

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/alerts"
	"github.com/borda-edge/borda/internal/config"
	"github.com/borda-edge/borda/internal/rules"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/vision"
	"github.com/borda-edge/borda/internal/vision/ort/orttest"
)

// visionConfig enables vision on the test model that `make ml-deps`
// converts, with one ffmpeg testsrc camera; fails without the library.
func visionConfig(t *testing.T) config.File {
	t.Helper()
	model, labels := orttest.Require(t)
	testkit.RequireCommand(t, "ffmpeg", "ffmpeg")
	cfg := testConfig(t)
	v := &cfg.Vision
	v.Enabled = true
	v.Model.Path, v.Model.Labels = model, labels
	v.Model.Threshold = 0                                    // every processed frame is a detection
	v.Model.AlertClasses = []string{"0", "1", "2", "3", "4"} // and an alert
	v.Cameras = []vision.CameraConfig{{ID: "cam1", URL: "testsrc=size=640x480:rate=30",
		InputArgs: []string{"-re", "-f", "lavfi"}, Location: "gate"}}
	cfg.Rules.Rules = append(cfg.Rules.Rules, rules.Rule{Name: "camera_seen", Type: "CAMERA_SEEN",
		Match: rules.Match{Measurement: "cameras_detection", Tags: map[string]string{"device_id": "cam1"}},
		Field: "confidence", Condition: "confidence >= 0",
		Actions: []alerts.ActionSpec{{Type: alerts.ActionMQTT, Topic: "factory/camera/rule", QoS: 1}}})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestVisionDetectionsOverMQTT: a live ffmpeg camera in a running
// gateway: detections on cameras/cam1/detection, alerts on
// alerts/detection, a rule fired by a detection, the series in the store,
// stats at /api/v1/vision; after stop no ffmpeg is left.
func TestVisionDetectionsOverMQTT(t *testing.T) {
	g := startGateway(t, visionConfig(t))
	recs := map[string]*received{}
	for _, topic := range []string{"cameras/+/detection", "alerts/detection", "factory/camera/rule"} {
		recs[topic] = newReceived()
		sub := v3Client(t, "tcp://"+g.mqttAddr(), "sub-"+strings.ReplaceAll(topic, "/", "-"), true, recs[topic])
		waitToken(t, "subscribe", sub.Subscribe(topic, 1, nil))
	}
	dets := recs["cameras/+/detection"].wait(t, 5)
	var d vision.Detection
	if err := json.Unmarshal([]byte(dets[0].payload), &d); err != nil {
		t.Fatal(err)
	}
	if dets[0].topic != "cameras/cam1/detection" || d.Camera != "cam1" || d.Location != "gate" ||
		d.Label == "" || d.Confidence <= 0 || d.InferenceMS <= 0 || d.Frame%3 != 0 {
		t.Fatalf("detection %s: %+v", dets[0].topic, d)
	}
	alert := recs["alerts/detection"].wait(t, 1)[0]
	for _, field := range []string{`"type":"object_detection"`, `"camera_id":"cam1"`, `"class_id":`, `"confidence":`, `"timestamp":`} {
		if !strings.Contains(alert.payload, field) {
			t.Fatalf("alert lacks %s: %s", field, alert.payload)
		}
	}
	if rule := recs["factory/camera/rule"].wait(t, 1)[0]; !strings.Contains(rule.payload, "CAMERA_SEEN") {
		t.Fatalf("rule alert %s", rule.payload)
	}
	testkit.Eventually(t, 10*time.Second, "detections stored", func() bool {
		body := httpGet(t, g.httpURL()+"/api/v1/query?query=cameras_detection_confidence", 200)
		return strings.Contains(body, `"device_id":"cam1"`) && strings.Contains(body, `"label":"`)
	})
	var st vision.Stats
	if err := json.Unmarshal([]byte(httpGet(t, g.httpURL()+"/api/v1/vision", 200)), &st); err != nil {
		t.Fatal(err)
	}
	if c := st.Cameras[0]; !st.Up || c.Processed == 0 || c.InferenceAvgMS <= 0 || c.FrameAgeAvgMS < c.InferenceAvgMS {
		t.Fatalf("stats %+v", st)
	}
	if v := g.metric(t, `borda_vision_frames_processed_total{camera="cam1"}`); v <= 0 {
		t.Fatalf("processed metric %v", v)
	}
	// The dashboard's Cameras page lists cam1's latest detections.
	testkit.Eventually(t, 10*time.Second, "latest detections on the dashboard", func() bool {
		var cams struct {
			Data struct {
				Enabled bool `json:"enabled"`
				Cameras []struct {
					Name       string `json:"name"`
					Detections []struct {
						Label string `json:"label"`
					} `json:"detections"`
				} `json:"cameras"`
			} `json:"data"`
		}
		body := httpGet(t, g.httpURL()+"/api/v1/dashboard/cameras", 200)
		if err := json.Unmarshal([]byte(body), &cams); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return cams.Data.Enabled && len(cams.Data.Cameras) == 1 && cams.Data.Cameras[0].Name == "cam1" &&
			len(cams.Data.Cameras[0].Detections) > 0 && cams.Data.Cameras[0].Detections[0].Label != ""
	})
	g.stop(t)
	if left := ffmpegChildren(); len(left) > 0 {
		t.Fatalf("ffmpeg processes left after stop: %v", left)
	}
}

// ffmpegChildren lists this process's ffmpeg children (from /proc).
func ffmpegChildren() []string {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	var left []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(b)) {
			if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) == "ffmpeg" {
				left = append(left, pid)
			}
		}
	}
	return left
}

// TestVisionWithoutLibrary: vision enabled but no ONNX Runtime: the
// gateway runs, says so once, and /api/v1/vision carries the error.
func TestVisionWithoutLibrary(t *testing.T) {
	cfg := testConfig(t)
	cfg.Vision.Enabled = true
	cfg.Vision.ORTLibrary = filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	cfg.Vision.Model.Path = filepath.Join(t.TempDir(), "model.onnx")
	cfg.Vision.Cameras = []vision.CameraConfig{{ID: "cam1", Type: vision.TypeDir, URL: t.TempDir()}}
	g := startGateway(t, cfg)
	body := httpGet(t, g.httpURL()+"/api/v1/vision", 200)
	if !strings.Contains(body, `"up":false`) || !strings.Contains(body, "make ml-deps") {
		t.Fatalf("/api/v1/vision: %s", body)
	}
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "still-works", true, nil)
	waitToken(t, "publish", pub.Publish("sensors/s1/temperature", 1, false, "21"))
	if n := strings.Count(g.logs.String(), "vision unavailable"); n != 1 {
		t.Fatalf("%d 'vision unavailable' lines:\n%s", n, g.logs)
	}
}
