package influx

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/uplink/httpout"
)

// Config is one InfluxDB output. The common HTTP output settings (name,
// url, timeout, headers, username/password, tls, measurements,
// exclude_measurements, alerts, batch_size, flush_interval,
// max_bytes_per_second, backoff, queue, dead_letter, status_topic) are
// inline from httpout.Common.
type Config struct {
	httpout.Common `yaml:",inline"`
	// Version is 1 (POST /write?db=&rp=) or 2 (POST /api/v2/write?org=&bucket=);
	// 0 picks 2 when org, bucket or token is set, else 1.
	Version         int    `yaml:"version"`
	Database        string `yaml:"database"`         // 1.x
	RetentionPolicy string `yaml:"retention_policy"` // 1.x; "" = the database's default
	Org             string `yaml:"org"`              // 2.x
	Bucket          string `yaml:"bucket"`           // 2.x
	Token           string `yaml:"token"`            // Authorization: Token <token> (2.x, or 1.8+ with auth)
	Precision       string `yaml:"precision"`        // of the timestamps sent: ns, us, ms, s
	Gzip            bool   `yaml:"gzip"`             // Content-Encoding: gzip
}

// DefaultConfig is httpout.DefaultCommon with nanosecond precision and
// gzip on; name, url and database (or org and bucket) must be set.
func DefaultConfig() Config {
	return Config{Common: httpout.DefaultCommon(), Precision: "ns", Gzip: true}
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

// APIVersion is Version, or the version inferred from org/bucket/token.
func (c Config) APIVersion() int {
	if c.Version != 0 {
		return c.Version
	}
	if c.Org != "" || c.Bucket != "" || c.Token != "" {
		return 2
	}
	return 1
}

// Validate reports every invalid field (errors joined), each message
// starting with its YAML key.
func (c Config) Validate() error {
	errs := c.Common.Validate()
	switch c.Version {
	case 0, 1, 2:
	default:
		errs = append(errs, fmt.Errorf("version %d: must be 1 or 2 (0: 2 when org, bucket or token is set)", c.Version))
	}
	switch c.APIVersion() {
	case 1:
		if c.Database == "" {
			errs = append(errs, errors.New("database: required for InfluxDB 1.x (version 1)"))
		}
	case 2:
		if c.Org == "" || c.Bucket == "" {
			errs = append(errs, fmt.Errorf("org %q, bucket %q: both required for InfluxDB 2.x (version 2)", c.Org, c.Bucket))
		}
	}
	if _, ok := precisionOf(c.Precision); !ok {
		errs = append(errs, fmt.Errorf("precision %q: must be ns, us, ms or s", c.Precision))
	}
	if c.Token != "" && (c.Username != "" || c.Password != "") {
		errs = append(errs, errors.New("token: set either token or username/password"))
	}
	return errors.Join(errs...)
}
