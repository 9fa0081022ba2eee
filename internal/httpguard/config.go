// Package httpguard protects borda's HTTP server: banned IPs get 403, a
// per-IP request rate gets 429, oversized bodies 413, and write and admin
// endpoints require a bearer token or basic auth (401), with failed
// authentication reported to the ban component.
package httpguard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/borda-edge/borda/internal/ban"
)

// Config is the HTTP protection section of borda.yaml.
type Config struct {
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// MaxBodyBytes bounds a request body as sent (before any
	// decompression); larger requests get 413 Payload Too Large.
	MaxBodyBytes int64          `yaml:"max_body_bytes"`
	Auth         AuthConfig     `yaml:"auth"`
	Timeouts     TimeoutsConfig `yaml:"timeouts"`
}

// RateLimitConfig is a per-IP token bucket: Requests per Period on
// average, Burst at once (the seed's nginx limit: 100 requests per 60 s).
type RateLimitConfig struct {
	Enabled       bool          `yaml:"enabled"`
	Requests      int           `yaml:"requests"`
	Period        time.Duration `yaml:"period"`
	Burst         int           `yaml:"burst"`
	MaxTrackedIPs int           `yaml:"max_tracked_ips"`
	// AllowList holds addresses and CIDR prefixes that are never rate
	// limited (a Grafana server, a local Prometheus).
	AllowList []string `yaml:"allow_list"`
}

// AuthConfig selects the requests that need credentials and the accepted
// credentials.
type AuthConfig struct {
	// Tokens are accepted as "Authorization: Bearer TOKEN" or "Token TOKEN"
	// (InfluxDB 2.x clients such as Telegraf's influxdb_v2 output).
	Tokens []Secret `yaml:"tokens"`
	// Users are accepted with HTTP basic auth (InfluxDB 1.x clients).
	Users []User `yaml:"users"`
	// Protected lists "METHOD /path" or "/path" (every method) prefixes that
	// always require credentials.
	Protected []string `yaml:"protected"`
	// PublicRead decides whether requests not in Protected need
	// credentials: auto (default) serves them publicly while no tokens or
	// users are configured and requires credentials once any are; true
	// always serves them publicly; false always requires credentials.
	// Public and the dashboard shell (httpguard.Deps.Static) never need
	// them.
	PublicRead PublicRead `yaml:"public_read"`
	// Public lists requests that never need credentials, whatever
	// PublicRead says (health checks).
	Public []string `yaml:"public"`
	// LoopbackWithoutCredentials lets protected requests from loopback
	// through while no tokens or users are configured (zero-config first
	// run; a warning is logged). Requests from elsewhere get 401.
	LoopbackWithoutCredentials bool `yaml:"loopback_without_credentials"`
}

// User is one basic-auth account.
type User struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

// TimeoutsConfig bounds how long a client may take (slowloris protection);
// Apply sets them on the http.Server.
type TimeoutsConfig struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
}

// Minimum lengths of configured secrets.
const (
	minTokenLen    = 16
	minPasswordLen = 8
)

// DefaultConfig limits each IP to 100 requests per 60 s (loopback exempt),
// bodies to 25 MB (the write API's own limit after decompression), and
// protects the write and admin endpoints; reads are public until tokens or
// users are configured (public_read: auto).
func DefaultConfig() Config {
	return Config{
		RateLimit: RateLimitConfig{Enabled: true, Requests: 100, Period: time.Minute, Burst: 100,
			MaxTrackedIPs: 10000, AllowList: []string{"127.0.0.0/8", "::1/128"}},
		MaxBodyBytes: 25_000_000,
		Auth: AuthConfig{
			Protected: []string{"/write", "/api/v2/write", "/-/reload", "/api/v1/bans", "/api/v1/admin",
				"POST /api/v1/alerts", "PUT /api/v1/alerts", "PATCH /api/v1/alerts", "DELETE /api/v1/alerts",
				"/debug/pprof"},
			PublicRead:                 PublicReadAuto,
			Public:                     []string{"GET /healthz", "GET /readyz"},
			LoopbackWithoutCredentials: true,
		},
		Timeouts: TimeoutsConfig{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10},
	}
}

// Apply sets the timeouts and header limit on srv.
func (t TimeoutsConfig) Apply(srv *http.Server) {
	srv.ReadHeaderTimeout = t.ReadHeaderTimeout
	srv.ReadTimeout = t.ReadTimeout
	srv.WriteTimeout = t.WriteTimeout
	srv.IdleTimeout = t.IdleTimeout
	srv.MaxHeaderBytes = t.MaxHeaderBytes
}

// Validate reports every problem, each naming its yaml key. Secrets are
// never part of a message.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	rl := c.RateLimit
	if rl.Requests < 1 {
		add("rate_limit.requests: %d must be at least 1", rl.Requests)
	}
	if rl.Period < time.Millisecond {
		add("rate_limit.period: %s must be at least 1ms", rl.Period)
	}
	if rl.Burst < 1 {
		add("rate_limit.burst: %d must be at least 1", rl.Burst)
	}
	if rl.MaxTrackedIPs < 1 || rl.MaxTrackedIPs > 10_000_000 {
		add("rate_limit.max_tracked_ips: %d is out of range 1..10000000", rl.MaxTrackedIPs)
	}
	if _, err := ban.ParseAllowList(rl.AllowList); err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add("rate_limit.allow_list%w", e)
			}
		}
	}
	if c.MaxBodyBytes < 1024 {
		add("max_body_bytes: %d must be at least 1024", c.MaxBodyBytes)
	}
	errs = append(errs, c.Auth.validate()...)
	errs = append(errs, c.Timeouts.validate()...)
	return errors.Join(errs...)
}

func (a AuthConfig) validate() []error {
	var errs []error
	add := func(format string, x ...any) { errs = append(errs, fmt.Errorf(format, x...)) }
	if err := a.PublicRead.valid(); err != nil {
		add("auth.public_read: %w", err)
	}
	for i, t := range a.Tokens {
		if len(t) < minTokenLen {
			add("auth.tokens[%d]: must be at least %d characters", i, minTokenLen)
		}
	}
	seen := map[string]bool{}
	for i, u := range a.Users {
		switch {
		case u.Username == "":
			add("auth.users[%d].username: is required", i)
		case strings.ContainsAny(u.Username, ":\x00\r\n"):
			add("auth.users[%d].username: must not contain ':' or control characters", i)
		case seen[u.Username]:
			add("auth.users[%d].username: %q is listed twice", i, u.Username)
		}
		seen[u.Username] = true
		if len(u.Password) < minPasswordLen {
			add("auth.users[%d].password: must be at least %d characters", i, minPasswordLen)
		}
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"protected", a.Protected}, {"public", a.Public}} {
		_, perrs := parseRules(l.list)
		for _, e := range perrs {
			add("auth.%s%w", l.name, e)
		}
	}
	return errs
}

func (t TimeoutsConfig) validate() []error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read_header_timeout", t.ReadHeaderTimeout}, {"read_timeout", t.ReadTimeout},
		{"write_timeout", t.WriteTimeout}, {"idle_timeout", t.IdleTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("timeouts.%s: %s must be positive", d.name, d.v))
		}
	}
	if t.ReadTimeout > 0 && t.ReadHeaderTimeout > t.ReadTimeout {
		errs = append(errs, fmt.Errorf("timeouts.read_header_timeout: %s is longer than read_timeout (%s)",
			t.ReadHeaderTimeout, t.ReadTimeout))
	}
	if t.MaxHeaderBytes < 4096 || t.MaxHeaderBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("timeouts.max_header_bytes: %d is out of range 4096..1048576", t.MaxHeaderBytes))
	}
	return errs
}
