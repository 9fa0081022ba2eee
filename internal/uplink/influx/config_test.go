package influx

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestYAML: list entries start from the defaults; snake_case keys
// everywhere, nested sections included.
func TestYAML(t *testing.T) {
	src := `
- name: cloud
  url: https://influx.example.com:8086
  database: telemetry
  retention_policy: one_year
  username: edge
  password: pw
  measurements: ["sensors_*"]
  exclude_measurements: ["*_debug"]
  batch_size: 500
  flush_interval: 5s
  max_bytes_per_second: 10000
  gzip: false
  precision: s
  headers: {X-Site: site1}
  tls: {ca_file: /etc/ca.pem, insecure_skip_verify: true}
  backoff: {min: 1s, max: 2m}
  queue: {max_bytes: 1000000, max_age: 24h, fsync: false}
  dead_letter: {max_bytes: 5000}
  status_topic: site1/uplink/cloud
- name: v2
  url: http://localhost:8086
  org: acme
  bucket: edge
  token: t
`
	var cfgs []Config
	if err := yaml.Unmarshal([]byte(src), &cfgs); err != nil {
		t.Fatal(err)
	}
	a, b := cfgs[0], cfgs[1]
	if a.Database != "telemetry" || a.RetentionPolicy != "one_year" || a.Username != "edge" || a.BatchSize != 500 ||
		a.FlushInterval != 5*time.Second || a.MaxBytesPerSecond != 10000 || a.Gzip || a.Precision != "s" ||
		a.Headers["X-Site"] != "site1" || a.TLS.CAFile != "/etc/ca.pem" || !a.TLS.InsecureSkipVerify ||
		a.Backoff.Max != 2*time.Minute || a.Queue.MaxBytes != 1000000 || a.Queue.MaxAge != 24*time.Hour || a.Queue.Fsync ||
		a.DeadLetter.MaxBytes != 5000 || a.DeadLetter.MaxAge != 30*24*time.Hour ||
		a.Measurements[0] != "sensors_*" || a.ExcludeMeasurements[0] != "*_debug" || a.StatusTopic != "site1/uplink/cloud" ||
		!a.Alerts || a.Timeout != 10*time.Second {
		t.Errorf("first entry: %+v", a)
	}
	if err := a.Validate(); err != nil || a.APIVersion() != 1 {
		t.Errorf("first entry: version %d, %v", a.APIVersion(), err)
	}
	d := DefaultConfig()
	if b.APIVersion() != 2 || !b.Gzip || b.Precision != "ns" || b.BatchSize != 1000 || b.FlushInterval != 2*time.Second ||
		b.Queue != d.Queue || b.Backoff != d.Backoff || !b.Alerts {
		t.Errorf("second entry did not get the defaults: %+v", b)
	}
	if err := b.Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Name, ok.URL, ok.Database = "i", "http://localhost:8086", "db"
	for _, tc := range []struct {
		key    string
		change func(*Config)
	}{
		{"version", func(c *Config) { c.Version = 3 }},
		{"database", func(c *Config) { c.Database = "" }},
		{"org", func(c *Config) { c.Version, c.Org = 2, "o" }},
		{"precision", func(c *Config) { c.Precision = "n" }},
		{"token", func(c *Config) { c.Token, c.Org, c.Bucket, c.Username = "t", "o", "b", "u" }},
		{"url", func(c *Config) { c.URL = "localhost:8086" }},
	} {
		c := ok
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.key) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", tc.key, err)
		}
	}
	var zero Config
	if errs := zero.Validate().(interface{ Unwrap() []error }).Unwrap(); len(errs) < 6 {
		t.Errorf("zero config: %v", errors.Join(errs...))
	}
}
