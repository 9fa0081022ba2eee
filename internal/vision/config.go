// Package vision runs ML inference on camera frames inside the gateway:
// per camera a source (ffmpeg, MJPEG, image directory) with reconnect and
// backoff, every Nth frame kept, a latest-frame buffer of one; a bounded
// queue shared by all cameras (drop oldest by default, every drop
// counted); N workers, each with its own ONNX Runtime session, that
// preprocess, infer and turn the output into detection events for a Sink.
package vision

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/vision/ort"
	"github.com/borda-edge/borda/internal/vision/preprocess"
)

// Config is the `vision:` section of borda.yaml.
type Config struct {
	// Enabled turns vision on; off by default.
	Enabled bool `yaml:"enabled"`
	// ORTLibrary is libonnxruntime.so.1; empty: $BORDA_ORT_LIB, else the
	// cache scripts/ml-deps.sh fills (~/.cache/borda/ort/<version>/).
	ORTLibrary string `yaml:"ort_library"`
	// FFmpeg is the ffmpeg executable for ffmpeg cameras.
	FFmpeg  string         `yaml:"ffmpeg"`
	Model   ModelConfig    `yaml:"model"`
	Cameras []CameraConfig `yaml:"cameras"`
	// QueueSize bounds frames waiting for a worker (all cameras).
	QueueSize int `yaml:"queue_size"`
	// Workers is the number of inference workers (one session each).
	Workers int `yaml:"workers"`
	// DropPolicy is what a full queue does: drop_oldest (default) evicts
	// the oldest frame, drop_newest refuses the new one.
	DropPolicy string `yaml:"drop_policy"`
	// ReconnectMin and ReconnectMax bound the backoff after a source fails.
	ReconnectMin time.Duration `yaml:"reconnect_min"`
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// StallTimeout restarts a source that delivered no frame for this
	// long (a camera whose connection hangs open).
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// Drop policies.
const (
	DropOldest = "drop_oldest"
	DropNewest = "drop_newest"
)

// ModelConfig is the model and how its input and output are read.
type ModelConfig struct {
	ort.Config `yaml:",inline"`
	// Layout of the input tensor: NHWC or NCHW (3 channels, RGB).
	Layout string `yaml:"layout"`
	// Scale, Mean and Std normalize a channel value v: (v·scale − mean) / std.
	Scale float32   `yaml:"scale"`
	Mean  []float32 `yaml:"mean"`
	Std   []float32 `yaml:"std"`
	// Labels is a file with one class label per line (class id = line number from 0).
	Labels string `yaml:"labels"`
	// Softmax applies softmax to the output (for models that output logits).
	Softmax bool `yaml:"softmax"`
	// TopK classes per frame are considered; those at or above Threshold
	// become detections.
	TopK      int     `yaml:"top_k"`
	Threshold float64 `yaml:"threshold"`
	// AlertClasses are labels or class ids whose detections are alerts too.
	AlertClasses []string `yaml:"alert_classes"`
}

// CameraConfig is one camera.
type CameraConfig struct {
	// ID names the camera in topics (cameras/<id>/detection) and metrics.
	ID string `yaml:"id"`
	// Type is ffmpeg (the default; RTSP, HTTP, /dev/video0, a file: anything ffmpeg
	// opens), mjpeg (multipart JPEG over HTTP) or dir (a directory of images).
	Type string `yaml:"type"`
	// URL is ffmpeg's input, the MJPEG URL or the directory.
	URL string `yaml:"url"`
	// InputArgs are ffmpeg options before -i, e.g. [-f, v4l2] or [-rtsp_transport, tcp].
	InputArgs []string `yaml:"input_args"`
	// Width and Height are the frame size ffmpeg scales to; 0: the model's input size.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// FPS caps ffmpeg's frame rate (0: the input's) and paces a dir camera (0: 1).
	FPS float64 `yaml:"fps"`
	// EveryNth frame is processed (0: 3, the seed's).
	EveryNth int `yaml:"every_nth"`
	// Loop replays a dir camera's images.
	Loop bool `yaml:"loop"`
	// Location is copied into detections and the stored series.
	Location string `yaml:"location"`
}

// Camera types.
const (
	TypeFFmpeg = "ffmpeg"
	TypeMJPEG  = "mjpeg"
	TypeDir    = "dir"
)

// DefaultConfig is vision off, with the seed's numbers ready: 224×224
// NHWC input scaled by 1/255, threshold 0.7, queue 50, 2 workers.
func DefaultConfig() Config {
	return Config{
		FFmpeg: "ffmpeg",
		Model: ModelConfig{
			Config:    ort.Config{Shape: []int64{1, 224, 224, 3}, Threads: 1},
			Layout:    preprocess.NHWC,
			Scale:     1.0 / 255,
			Mean:      []float32{0, 0, 0},
			Std:       []float32{1, 1, 1},
			TopK:      1,
			Threshold: 0.7,
		},
		QueueSize:    50,
		Workers:      2,
		DropPolicy:   DropOldest,
		ReconnectMin: 500 * time.Millisecond,
		ReconnectMax: 30 * time.Second,
		StallTimeout: 10 * time.Second,
	}
}

// withDefaults fills in what a camera entry left out: type ffmpeg, every
// 3rd frame (the seed's), the model's input size.
func (c CameraConfig) withDefaults(m ModelConfig) CameraConfig {
	if c.Type == "" {
		c.Type = TypeFFmpeg
	}
	if c.EveryNth == 0 {
		c.EveryNth = 3
	}
	if c.Width == 0 || c.Height == 0 {
		c.Width, c.Height = m.size()
	}
	return c
}

// Validate reports problems with field paths; a disabled section is not checked.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if err := c.Model.validate(); err != nil {
		errs = append(errs, prefix("model", err))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("queue_size: %d must be at least 1", c.QueueSize))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("workers: %d must be at least 1", c.Workers))
	}
	if c.DropPolicy != DropOldest && c.DropPolicy != DropNewest {
		errs = append(errs, fmt.Errorf("drop_policy: %q is not one of %s, %s", c.DropPolicy, DropOldest, DropNewest))
	}
	if c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, fmt.Errorf("reconnect_min, reconnect_max: need 0 < %v <= %v", c.ReconnectMin, c.ReconnectMax))
	}
	if c.StallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("stall_timeout: %v must be positive", c.StallTimeout))
	}
	if len(c.Cameras) == 0 {
		errs = append(errs, errors.New("cameras: at least one camera is needed when vision is enabled"))
	}
	seen := map[string]bool{}
	for i, cam := range c.Cameras {
		if seen[cam.ID] {
			errs = append(errs, fmt.Errorf("cameras[%d].id: %q used twice", i, cam.ID))
		}
		seen[cam.ID] = true
		if err := cam.validate(); err != nil {
			errs = append(errs, prefix(fmt.Sprintf("cameras[%d]", i), err))
		}
	}
	return errors.Join(errs...)
}

func (m ModelConfig) validate() error {
	errs := []error{m.Config.Validate(), m.spec().Validate()}
	if len(m.Mean) != 3 || len(m.Std) != 3 {
		errs = append(errs, fmt.Errorf("mean, std: need 3 values each (RGB), have %d and %d", len(m.Mean), len(m.Std)))
	}
	if len(m.Shape) != 4 || m.Shape[0] != 1 || m.Shape[m.channelAxis()] != 3 {
		errs = append(errs, fmt.Errorf("input_shape: %v is not a batch of 1 with 3 channels in layout %s", m.Shape, m.Layout))
	}
	if m.TopK < 1 {
		errs = append(errs, fmt.Errorf("top_k: %d must be at least 1", m.TopK))
	}
	if m.Threshold < 0 || m.Threshold > 1 {
		errs = append(errs, fmt.Errorf("threshold: %v must be within 0..1", m.Threshold))
	}
	return errors.Join(errs...)
}

func (m ModelConfig) channelAxis() int {
	if m.Layout == preprocess.NCHW {
		return 1
	}
	return 3
}

// size is the input's width and height (0, 0 for a shape that is not 4-D).
func (m ModelConfig) size() (w, h int) {
	if len(m.Shape) != 4 {
		return 0, 0
	}
	if m.Layout == preprocess.NCHW {
		return int(m.Shape[3]), int(m.Shape[2])
	}
	return int(m.Shape[2]), int(m.Shape[1])
}

func (m ModelConfig) spec() preprocess.Spec {
	w, h := m.size()
	s := preprocess.Spec{Width: w, Height: h, Layout: m.Layout, Scale: m.Scale}
	copy(s.Mean[:], m.Mean)
	copy(s.Std[:], m.Std)
	return s
}

func (c CameraConfig) validate() error {
	var errs []error
	if c.ID == "" || strings.ContainsAny(c.ID, "/+#") {
		errs = append(errs, fmt.Errorf("id: %q must be a non-empty MQTT topic level (no / + #)", c.ID))
	}
	switch c.Type {
	case "", TypeFFmpeg, TypeMJPEG, TypeDir:
	default:
		errs = append(errs, fmt.Errorf("type: %q is not one of ffmpeg, mjpeg, dir", c.Type))
	}
	if c.URL == "" {
		errs = append(errs, errors.New("url: required"))
	}
	if c.EveryNth < 0 {
		errs = append(errs, fmt.Errorf("every_nth: %d must not be negative", c.EveryNth))
	}
	if c.Width < 0 || c.Height < 0 || c.FPS < 0 {
		errs = append(errs, errors.New("width, height, fps: must not be negative"))
	}
	return errors.Join(errs...)
}

func prefix(p string, err error) error {
	var out []error
	for _, e := range unjoin(err) {
		out = append(out, fmt.Errorf("%s.%w", p, e))
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}
