package mqttbridge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/tlsclient"
	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// Mapping selects topics in one direction and rewrites them: StripPrefix
// is removed from the front of the topic (when present), then AddPrefix
// is prepended. Out: Filter "sensors/#", AddPrefix "site1/" sends
// sensors/a/b as site1/sensors/a/b. In: Filter "site1/cmd/#", StripPrefix
// "site1/" republishes site1/cmd/x locally as cmd/x.
type Mapping struct {
	Filter      string `yaml:"filter"` // MQTT topic filter (+ and # wildcards)
	StripPrefix string `yaml:"strip_prefix"`
	AddPrefix   string `yaml:"add_prefix"`
	QoS         byte   `yaml:"qos"`      // 0 or 1 (QoS 2 is sent as 1: the queue gives at-least-once anyway)
	Priority    string `yaml:"priority"` // Out only: "high" (alerts, events) or "low"/"" (bulk telemetry)
}

// TLS configures the connection to the cloud broker.
type TLS = tlsclient.Config

// Config is one MQTT bridge output.
type Config struct {
	Name           string        `yaml:"name"`
	Address        string        `yaml:"address"`   // tcp://host:port, ssl://, tls://, mqtts://
	ClientID       string        `yaml:"client_id"` // default "borda-<name>"
	Username       string        `yaml:"username"`
	Password       string        `yaml:"password"`
	TLS            TLS           `yaml:"tls"`
	Keepalive      time.Duration `yaml:"keepalive"`
	CleanSession   bool          `yaml:"clean_session"` // false (default): persistent session on the cloud broker
	Out            []Mapping     `yaml:"out"`
	In             []Mapping     `yaml:"in"`
	Queue          queue.Config  `yaml:"queue"`
	InflightWindow int           `yaml:"inflight_window"` // entries published before waiting for their PUBACKs
	// MaxBytesPerSecond caps the payload+topic bytes sent (metered links); 0 = unlimited.
	MaxBytesPerSecond int64        `yaml:"max_bytes_per_second"`
	Backoff           link.Backoff `yaml:"backoff"`
	StatusTopic       string       `yaml:"status_topic"` // local, retained "online"/"offline"; default borda/uplink/<name>/status
	// RemoteStatusTopic is this gateway's retained "online"/"offline" on
	// the cloud broker (the will, like Mosquitto's bridge notifications),
	// so the central side sees which edges are connected; {name} is the
	// output's name ({node} is expanded by the wiring). "" = off.
	RemoteStatusTopic string `yaml:"remote_status_topic"`
}

// DefaultRemoteStatusTopic is where an edge reports its bridge on the cloud.
const DefaultRemoteStatusTopic = "borda/{node}/uplink/{name}/status"

// remoteStatusTopic is RemoteStatusTopic with {name} expanded.
func (c Config) remoteStatusTopic() string {
	return strings.ReplaceAll(c.RemoteStatusTopic, "{name}", c.Name)
}

// DefaultConfig has no name, address or mappings; everything else is set.
func DefaultConfig() Config {
	return Config{
		Keepalive:         30 * time.Second,
		Queue:             queue.DefaultConfig(),
		InflightWindow:    100,
		Backoff:           link.DefaultBackoff(),
		RemoteStatusTopic: DefaultRemoteStatusTopic,
	}
}

// UnmarshalYAML fills the fields the YAML leaves out with DefaultConfig's,
// so every list entry of the config file starts from the defaults.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	type plain Config
	p := plain(DefaultConfig())
	if err := n.Decode(&p); err != nil {
		return err //nolint:wrapcheck // yaml's own error keeps its line
	}
	*c = Config(p)
	return nil
}

// clientID returns the configured or default client id.
func (c Config) clientID() string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return "borda-" + c.Name
}

// Validate reports every invalid field (errors joined).
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" || strings.ContainsAny(c.Name, "/+#") {
		errs = append(errs, fmt.Errorf("name %q: must be non-empty without / + #", c.Name))
	}
	if err := validateAddress(c.Address); err != nil {
		errs = append(errs, err)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file must be set together"))
	}
	if c.Keepalive < 0 {
		errs = append(errs, fmt.Errorf("keepalive %v: must not be negative", c.Keepalive))
	}
	if c.InflightWindow < 1 {
		errs = append(errs, fmt.Errorf("inflight_window %d: must be at least 1", c.InflightWindow))
	}
	if err := c.Backoff.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBytesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("max_bytes_per_second %d: must not be negative (0 = unlimited)", c.MaxBytesPerSecond))
	}
	if len(c.Out) == 0 && len(c.In) == 0 {
		errs = append(errs, errors.New("out, in: at least one mapping is needed"))
	}
	errs = append(errs, validateMappings("out", c.Out)...)
	errs = append(errs, validateMappings("in", c.In)...)
	if err := c.Queue.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("queue: %w", err))
	}
	if strings.ContainsAny(c.StatusTopic, "+#") {
		errs = append(errs, fmt.Errorf("status_topic %q: must not contain wildcards", c.StatusTopic))
	}
	if strings.ContainsAny(c.RemoteStatusTopic, "+#") || strings.HasPrefix(c.RemoteStatusTopic, "$") {
		errs = append(errs, fmt.Errorf("remote_status_topic %q: must not contain wildcards or start with $", c.RemoteStatusTopic))
	}
	return errors.Join(errs...)
}

func validateAddress(addr string) error {
	u, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
	default:
		return fmt.Errorf("address %q: scheme must be tcp, mqtt, ssl, tls or mqtts", addr)
	}
	if u.Host == "" {
		return fmt.Errorf("address %q: no host:port", addr)
	}
	return nil
}

func validateMappings(dir string, ms []Mapping) []error {
	var errs []error
	for i, m := range ms {
		if err := validateFilter(m.Filter); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", dir, i, err))
		}
		if m.QoS > 2 {
			errs = append(errs, fmt.Errorf("%s[%d]: qos %d: must be 0, 1 or 2", dir, i, m.QoS))
		}
		if _, err := parsePriority(m.Priority); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", dir, i, err))
		}
		if strings.ContainsAny(m.StripPrefix+m.AddPrefix, "+#") {
			errs = append(errs, fmt.Errorf("%s[%d]: prefixes must not contain wildcards", dir, i))
		}
	}
	return errs
}

func parsePriority(s string) (queue.Priority, error) {
	switch strings.ToLower(s) {
	case "", "low":
		return queue.Low, nil
	case "high":
		return queue.High, nil
	}
	return queue.Low, fmt.Errorf("priority %q: must be high or low", s)
}

// validateFilter checks MQTT filter syntax: # only last and alone in its
// level, + alone in its level.
func validateFilter(f string) error {
	if f == "" {
		return errors.New("filter is empty")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return fmt.Errorf("filter %q: # must be the last level, alone", f)
		}
		if strings.Contains(l, "+") && l != "+" {
			return fmt.Errorf("filter %q: + must be alone in its level", f)
		}
	}
	return nil
}

// matchTopic reports whether topic matches the MQTT filter.
func matchTopic(filter, topic string) bool {
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return i > 0 || !strings.HasPrefix(topic, "$")
		}
		if i >= len(tl) {
			return false
		}
		if f == "+" {
			if i == 0 && strings.HasPrefix(topic, "$") {
				return false
			}
			continue
		}
		if f != tl[i] {
			return false
		}
	}
	return len(fl) == len(tl)
}

// apply rewrites topic by the mapping's prefixes.
func (m Mapping) apply(topic string) string {
	return m.AddPrefix + strings.TrimPrefix(topic, m.StripPrefix)
}

// findMapping returns the first mapping whose filter matches topic.
func findMapping(ms []Mapping, topic string) (Mapping, bool) {
	for _, m := range ms {
		if matchTopic(m.Filter, topic) {
			return m, true
		}
	}
	return Mapping{}, false
}
