package vision

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		c := DefaultConfig()
		c.Enabled = true
		c.Model.Path = "m.onnx"
		c.Cameras = []CameraConfig{{ID: "cam1", URL: "/dev/video0"}}
		return c
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"default off", func(c *Config) { *c = DefaultConfig() }, ""},
		{"good", func(*Config) {}, ""},
		{"no cameras", func(c *Config) { c.Cameras = nil }, "cameras: at least one"},
		{"bad camera id", func(c *Config) { c.Cameras[0].ID = "a/b" }, "cameras[0].id"},
		{"duplicate id", func(c *Config) { c.Cameras = append(c.Cameras, c.Cameras[0]) }, "used twice"},
		{"bad type", func(c *Config) { c.Cameras[0].Type = "usb" }, "cameras[0].type"},
		{"no model", func(c *Config) { c.Model.Path = "" }, "model.path: required"},
		{"layout", func(c *Config) { c.Model.Layout = "CHW" }, "layout"},
		{"shape vs layout", func(c *Config) { c.Model.Layout = "NCHW" }, "input_shape"},
		{"threshold", func(c *Config) { c.Model.Threshold = 2 }, "model.threshold"},
		{"queue", func(c *Config) { c.QueueSize = 0 }, "queue_size"},
		{"workers", func(c *Config) { c.Workers = 0 }, "workers"},
		{"policy", func(c *Config) { c.DropPolicy = "block" }, "drop_policy"},
		{"stall", func(c *Config) { c.StallTimeout = 0 }, "stall_timeout"},
		{"backoff", func(c *Config) { c.ReconnectMax = c.ReconnectMin / 2 }, "reconnect_max"},
		{"std", func(c *Config) { c.Model.Std = []float32{1, 0, 1} }, "std[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCameraDefaults(t *testing.T) {
	c := CameraConfig{ID: "c"}.withDefaults(DefaultConfig().Model)
	if c.Type != TypeFFmpeg || c.EveryNth != 3 || c.Width != 224 || c.Height != 224 {
		t.Fatalf("%+v", c)
	}
}
