package ban

import (
	"errors"
	"fmt"
	"time"
)

// Config is the bans section of borda.yaml: fail2ban semantics (an IP
// with max_retry authentication failures within find_time is banned for
// ban_time) and the per-IP connection rate applied at accept time.
type Config struct {
	// Enabled bans IPs. When false, failures are still logged ("auth
	// failed" lines, for an external fail2ban) and counted, but no IP is
	// banned and the bans file is not opened.
	Enabled bool `yaml:"enabled"`
	// MaxRetry failures within FindTime ban the IP (fail2ban maxretry).
	MaxRetry int `yaml:"max_retry"`
	// FindTime is the window failures are counted in (fail2ban findtime).
	FindTime time.Duration `yaml:"find_time"`
	// BanTime is how long a ban lasts (fail2ban bantime).
	BanTime time.Duration `yaml:"ban_time"`
	// AllowList holds addresses and CIDR prefixes that are never banned and
	// never connection-rate limited (fail2ban ignoreip). Their failures are
	// still logged and counted.
	AllowList []string `yaml:"allow_list"`
	// MaxTrackedIPs bounds the IPs whose recent failures are remembered;
	// past it the IP that failed least recently is forgotten (counted).
	MaxTrackedIPs int `yaml:"max_tracked_ips"`
	// MaxBans bounds active bans; past it the ban closest to expiry is
	// lifted early (counted) to make room for the new one.
	MaxBans int `yaml:"max_bans"`
	// ConnectionRate limits new connections per IP on wrapped listeners.
	ConnectionRate ConnRateConfig `yaml:"connection_rate"`
}

// ConnRateConfig is a per-IP token bucket: Connections per Period on
// average, up to Burst at once.
type ConnRateConfig struct {
	Enabled       bool          `yaml:"enabled"`
	Connections   int           `yaml:"connections"`
	Period        time.Duration `yaml:"period"`
	Burst         int           `yaml:"burst"`
	MaxTrackedIPs int           `yaml:"max_tracked_ips"`
}

// DefaultConfig mirrors the seed's fail2ban jail mqtt-brute (maxretry 5,
// findtime 600, bantime 3600) and allow-lists loopback like fail2ban's
// default ignoreip.
func DefaultConfig() Config {
	return Config{
		Enabled:       true,
		MaxRetry:      5,
		FindTime:      10 * time.Minute,
		BanTime:       time.Hour,
		AllowList:     []string{"127.0.0.0/8", "::1/128"},
		MaxTrackedIPs: 10000,
		MaxBans:       10000,
		ConnectionRate: ConnRateConfig{
			Enabled:       true,
			Connections:   20,
			Period:        10 * time.Second,
			Burst:         20,
			MaxTrackedIPs: 10000,
		},
	}
}

// Validate reports every problem, each naming its yaml key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.MaxRetry < 1 || c.MaxRetry > 1000 {
		add("max_retry: %d is out of range 1..1000", c.MaxRetry)
	}
	if c.FindTime < time.Second {
		add("find_time: %s must be at least 1s", c.FindTime)
	}
	if c.BanTime < time.Second {
		add("ban_time: %s must be at least 1s", c.BanTime)
	}
	if _, err := ParseAllowList(c.AllowList); err != nil {
		for _, e := range flatten(err) {
			add("allow_list%w", e)
		}
	}
	if c.MaxTrackedIPs < 1 || c.MaxTrackedIPs > 10_000_000 {
		add("max_tracked_ips: %d is out of range 1..10000000", c.MaxTrackedIPs)
	}
	if c.MaxBans < 1 || c.MaxBans > 10_000_000 {
		add("max_bans: %d is out of range 1..10000000", c.MaxBans)
	}
	for _, e := range flatten(c.ConnectionRate.Validate()) {
		add("connection_rate.%w", e)
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the connection rate, each naming its key.
func (c ConnRateConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Connections < 1 {
		add("connections: %d must be at least 1", c.Connections)
	}
	if c.Period < time.Millisecond {
		add("period: %s must be at least 1ms", c.Period)
	}
	if c.Burst < 1 {
		add("burst: %d must be at least 1", c.Burst)
	}
	if c.MaxTrackedIPs < 1 || c.MaxTrackedIPs > 10_000_000 {
		add("max_tracked_ips: %d is out of range 1..10000000", c.MaxTrackedIPs)
	}
	return errors.Join(errs...)
}

// flatten unpacks errors.Join trees into their leaves.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
