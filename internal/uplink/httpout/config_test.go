package httpout

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateCommon(t *testing.T) {
	ok := DefaultCommon()
	ok.Name, ok.URL = "cloud-1.a_b", "https://metrics.example.com/api/v1/write"
	if errs := ok.Validate(); len(errs) > 0 {
		t.Fatalf("valid config: %v", errors.Join(errs...))
	}
	for _, tc := range []struct {
		key    string
		change func(*Common)
	}{
		{"name", func(c *Common) { c.Name = "" }},
		{"name", func(c *Common) { c.Name = "a/b" }},
		{"url", func(c *Common) { c.URL = "ftp://x" }},
		{"url", func(c *Common) { c.URL = "http://" }},
		{"timeout", func(c *Common) { c.Timeout = 0 }},
		{"headers", func(c *Common) { c.Headers = map[string]string{"Bad Name": "x"} }},
		{"tls", func(c *Common) { c.TLS.CertFile = "c.pem" }},
		{"measurements[0]", func(c *Common) { c.Measurements = []string{"[a"} }},
		{"exclude_measurements[1]", func(c *Common) { c.ExcludeMeasurements = []string{"a", ""} }},
		{"batch_size", func(c *Common) { c.BatchSize = 0 }},
		{"flush_interval", func(c *Common) { c.FlushInterval = -time.Second }},
		{"max_bytes_per_second", func(c *Common) { c.MaxBytesPerSecond = -1 }},
		{"backoff", func(c *Common) { c.Backoff.Min = 0 }},
		{"queue.max_bytes", func(c *Common) { c.Queue.MaxBytes = 0 }},
		{"queue.max_age", func(c *Common) { c.Queue.MaxAge = 0 }},
		{"dead_letter.max_bytes", func(c *Common) { c.DeadLetter.MaxBytes = -1 }},
		{"status_topic", func(c *Common) { c.StatusTopic = "a/#" }},
	} {
		c := ok
		tc.change(&c)
		errs := c.Validate()
		if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tc.key) {
			t.Errorf("%s: got %v", tc.key, errors.Join(errs...))
		}
	}
	var all Common
	if errs := all.Validate(); len(errs) < 8 {
		t.Errorf("zero config: only %d problems reported: %v", len(errs), errors.Join(errs...))
	}
}
