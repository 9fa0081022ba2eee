package remotewrite

import (
	"errors"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// Config is one remote_write output. The common HTTP output settings
// (name, url, timeout, headers, username/password, tls, measurements,
// exclude_measurements, alerts, batch_size, flush_interval,
// max_bytes_per_second, backoff, queue, dead_letter, status_topic) are
// inline from httpout.Common; url is the full endpoint, e.g.
// http://victoria:8428/api/v1/write or http://prometheus:9090/api/v1/write.
// batch_size counts samples (one per field of a point).
type Config struct {
	httpout.Common `yaml:",inline"`
	BearerToken    string `yaml:"bearer_token"` // Authorization: Bearer <token>
}

// DefaultConfig is httpout.DefaultCommon; name and url must be set.
func DefaultConfig() Config {
	return Config{Common: httpout.DefaultCommon()}
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

// Validate reports every invalid field (errors joined), each message
// starting with its YAML key.
func (c Config) Validate() error {
	errs := c.Common.Validate()
	if c.BearerToken != "" && (c.Username != "" || c.Password != "") {
		errs = append(errs, errors.New("bearer_token: set either bearer_token or username/password"))
	}
	return errors.Join(errs...)
}
