package writeapi

import "fmt"

// Config is the `ingest.http_write` section of borda.yaml.
type Config struct {
	// Enabled serves POST /write and POST /api/v2/write on the HTTP port.
	Enabled bool `yaml:"enabled"`
	// MaxBodyBytes bounds a request body after decompression (InfluxDB's
	// max-body-size); larger requests get 413 and nothing is written.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// DefaultConfig accepts writes of up to 25 MB, like InfluxDB 1.x.
func DefaultConfig() Config { return Config{Enabled: true, MaxBodyBytes: 25_000_000} }

// Validate reports a body limit that cannot hold a line.
func (c Config) Validate() error {
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("max_body_bytes: %d must be at least 1024", c.MaxBodyBytes)
	}
	return nil
}
