package alerts

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error; none: valid
	}{
		{"defaults", func(*Config) {}, nil},
		{"redis", func(c *Config) { c.History.Redis.Address = "127.0.0.1:6379" }, nil},
		{"zero sizes", func(c *Config) { c.WebhookQueue, c.HistoryQueue, c.History.MaxEntries = 0, 0, 0 },
			[]string{"webhook_queue: 0 is out of range", "history_queue: 0 is out of range", "history.max_entries: 0"}},
		{"attempts and workers", func(c *Config) { c.WebhookAttempts, c.WebhookWorkers = 0, 5000 },
			[]string{"webhook_attempts: 0", "webhook_workers: 5000"}},
		{"durations", func(c *Config) { c.History.TTL, c.WebhookBackoff, c.DrainTimeout = time.Millisecond, 0, -1 },
			[]string{"history.ttl: 1ms is less than 1s", "webhook_backoff: 0s", "drain_timeout: -1ns"}},
		{"bad redis", func(c *Config) {
			c.History.Redis = RedisConfig{Address: "localhost", DB: -1, StreamMaxLen: 0, Timeout: 0}
		}, []string{`history.redis.address: "localhost" is not host:port`, "history.redis.db: -1", "history.redis.stream: is required",
			"history.redis.stream_max_len: 0", "history.redis.timeout: 0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestConfigYAML: durations decode from strings like "2h", over the defaults.
func TestConfigYAML(t *testing.T) {
	src := `
history:
  ttl: 2h
  max_entries: 500
  redis:
    address: 127.0.0.1:6379
    timeout: 250ms
webhook_attempts: 3
webhook_backoff: 1s
`
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.History.TTL != 2*time.Hour || c.History.MaxEntries != 500 || c.History.Redis.Timeout != 250*time.Millisecond ||
		c.History.Redis.Stream != DefaultStream || c.WebhookAttempts != 3 || c.WebhookBackoff != time.Second ||
		c.WebhookQueue != 1000 {
		t.Fatalf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
