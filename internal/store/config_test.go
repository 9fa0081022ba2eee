package store

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{"default", func(*Config) {}, nil},
		{"no retention", func(c *Config) { c.Retention = 0; c.OutOfOrderWindow = 0 }, nil},
		{"negative retention", func(c *Config) { c.Retention = Duration(-time.Hour) }, []string{"retention: -1h0m0s is negative"}},
		{"negative size", func(c *Config) { c.RetentionSize = -1 }, []string{"retention_size: -1 is negative"}},
		{"negative ooo", func(c *Config) { c.OutOfOrderWindow = -time.Minute }, []string{"out_of_order_window: -1m0s is negative"}},
		{"sub-ms ooo", func(c *Config) { c.OutOfOrderWindow = time.Microsecond }, []string{"out_of_order_window: 1µs is not a whole"}},
		{"several", func(c *Config) { c.MaxSeries = 0; c.QueryTimeout = 0; c.MaxSamples = -1; c.LookbackDelta = 0 },
			[]string{"max_series: 0", "query_timeout: 0s", "max_samples: -1", "lookback_delta: 0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"retention: 15d", 15 * 24 * time.Hour, false},
		{"retention: 2w", 14 * 24 * time.Hour, false},
		{"retention: 36h", 36 * time.Hour, false},
		{"retention: 1h30m", 90 * time.Minute, false},
		{"retention: 1.5h", 90 * time.Minute, false},
		{"retention: soon", 0, true},
		{"retention: [1]", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := DefaultConfig()
			err := yaml.Unmarshal([]byte(tt.in+"\nretention_size: 1073741824\n"), &c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal: %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if time.Duration(c.Retention) != tt.want || c.RetentionSize != 1<<30 {
				t.Errorf("got %v / %d, want %v", c.Retention, c.RetentionSize, tt.want)
			}
		})
	}
	out, err := yaml.Marshal(DefaultConfig())
	if err != nil || !strings.Contains(string(out), "retention: 15d") {
		t.Errorf("Marshal: %v\n%s", err, out)
	}
}
