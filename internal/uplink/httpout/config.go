package httpout

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/borda-edge/borda/internal/tlsclient"
	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// TLS configures the HTTPS connection to the server.
type TLS = tlsclient.Config

// validateQueue checks a queue section, each message naming key.
func validateQueue(key string, q queue.Config) []error {
	var errs []error
	if q.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("%s.max_bytes %d: must be > 0", key, q.MaxBytes))
	}
	if q.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("%s.max_age %v: must be > 0", key, q.MaxAge))
	}
	return errs
}

// Common are the settings every HTTP batch output has. The influx and
// remotewrite packages embed it inline in their Config.
type Common struct {
	Name     string            `yaml:"name"`    // metric label, queue file uplink-<name>.db, status topic
	URL      string            `yaml:"url"`     // server base URL (influx) or endpoint URL (remote_write)
	Timeout  time.Duration     `yaml:"timeout"` // per request, including reading the answer
	Headers  map[string]string `yaml:"headers"` // extra request headers (X-Scope-OrgID, ...)
	Username string            `yaml:"username"`
	Password string            `yaml:"password"`
	TLS      TLS               `yaml:"tls"`
	// Measurements selects the points this output takes by measurement
	// (path.Match globs, e.g. "sensors_*"); empty selects all.
	Measurements []string `yaml:"measurements"`
	// ExcludeMeasurements removes measurements the include list selected.
	ExcludeMeasurements []string `yaml:"exclude_measurements"`
	Alerts              bool     `yaml:"alerts"`     // send alert events (high priority)
	BatchSize           int      `yaml:"batch_size"` // points per request (soft: whole queue entries)
	// FlushInterval is how long a partial batch waits for more points.
	FlushInterval     time.Duration `yaml:"flush_interval"`
	MaxBytesPerSecond int64         `yaml:"max_bytes_per_second"` // request body bytes; 0 = unlimited
	Backoff           link.Backoff  `yaml:"backoff"`
	Queue             queue.Config  `yaml:"queue"`
	// DeadLetter bounds <DataDir>/uplink-<name>.dead.db, where points the
	// server rejects for good (HTTP 400, 413, 422) are kept for inspection.
	DeadLetter  queue.Config `yaml:"dead_letter"`
	StatusTopic string       `yaml:"status_topic"` // default borda/uplink/<name>/status
	// ExternalLabels are added to every point and alert this output sends
	// (a tag in line protocol, a label in remote_write) unless it has that
	// tag already, like Prometheus' external_labels. borda fills in the
	// node identity (node, site, node.labels) when the key is absent.
	ExternalLabels map[string]string `yaml:"external_labels"`
}

// DefaultCommon has no name or URL; everything else is set: timeout 10 s,
// alerts on, batches of 1000 points every 2 s at most, no bandwidth cap,
// backoff 500 ms..60 s, queue 1 GiB / 7 days / no fsync, dead letters
// 64 MiB / 30 days.
func DefaultCommon() Common {
	return Common{
		Timeout:       10 * time.Second,
		Alerts:        true,
		BatchSize:     1000,
		FlushInterval: 2 * time.Second,
		Backoff:       link.DefaultBackoff(),
		Queue:         queue.DefaultConfig(),
		DeadLetter:    queue.Config{MaxBytes: 64 << 20, MaxAge: 30 * 24 * time.Hour, Fsync: true},
	}
}

// Validate reports every invalid field, each message starting with its
// YAML key. The output packages join these with their own.
func (c Common) Validate() []error {
	var errs []error
	if !validName(c.Name) {
		errs = append(errs, fmt.Errorf("name %q: must be letters, digits, _ . - (it names the queue file and the status topic)", c.Name))
	}
	if err := validateURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must be > 0", c.Timeout))
	}
	for k, v := range c.ExternalLabels {
		if telemetry.LabelName(k) != k || strings.HasPrefix(k, "__") || v == "" {
			errs = append(errs, fmt.Errorf("external_labels %q=%q: need a label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*) and a value", k, v))
		}
	}
	for k, v := range c.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n\t") || strings.ContainsAny(v, "\r\n") {
			errs = append(errs, fmt.Errorf("headers %q: not a valid header name or value", k))
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file must be set together"))
	}
	errs = append(errs, validateGlobs("measurements", c.Measurements)...)
	errs = append(errs, validateGlobs("exclude_measurements", c.ExcludeMeasurements)...)
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("batch_size %d: must be at least 1", c.BatchSize))
	}
	if c.FlushInterval < 0 {
		errs = append(errs, fmt.Errorf("flush_interval %v: must not be negative", c.FlushInterval))
	}
	if c.MaxBytesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("max_bytes_per_second %d: must not be negative (0 = unlimited)", c.MaxBytesPerSecond))
	}
	if err := c.Backoff.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateQueue("queue", c.Queue)...)
	errs = append(errs, validateQueue("dead_letter", c.DeadLetter)...)
	if strings.ContainsAny(c.StatusTopic, "+#") {
		errs = append(errs, fmt.Errorf("status_topic %q: must not contain wildcards", c.StatusTopic))
	}
	return errs
}

func validateURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("url %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q: no host", s)
	}
	return nil
}

func validateGlobs(key string, globs []string) []error {
	var errs []error
	for i, g := range globs {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			errs = append(errs, fmt.Errorf("%s[%d] %q: not a valid glob pattern", key, i, g))
		}
	}
	return errs
}

// validName: [A-Za-z0-9][A-Za-z0-9_.-]* (a file name and a topic level).
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return s != ""
}

// SortedExternalLabels returns ExternalLabels as tags sorted by key.
func (c Common) SortedExternalLabels() []telemetry.Tag {
	out := make([]telemetry.Tag, 0, len(c.ExternalLabels))
	for k, v := range c.ExternalLabels {
		out = append(out, telemetry.Tag{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b telemetry.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}
