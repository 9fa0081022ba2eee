package httpguard

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := testConfig().Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	bad := DefaultConfig()
	bad.RateLimit = RateLimitConfig{Enabled: true, AllowList: []string{"10.0.0.0/8", "x"}}
	bad.MaxBodyBytes = 10
	bad.Auth.Tokens = []Secret{"short-secret"}
	bad.Auth.Users = []User{{Username: "a:b", Password: "long-enough"}, {Username: "", Password: "x"},
		{Username: "u", Password: "long-enough"}, {Username: "u", Password: "long-enough"}}
	bad.Auth.Protected = []string{"/ok", "write", "post /x", "GET /a b", "/a?b"}
	bad.Auth.Public = []string{"GET /healthz", ""}
	bad.Timeouts = TimeoutsConfig{ReadHeaderTimeout: time.Minute, ReadTimeout: time.Second, MaxHeaderBytes: 10}
	want := []string{
		"rate_limit.requests: 0 must be at least 1",
		"rate_limit.period: 0s must be at least 1ms",
		"rate_limit.burst: 0 must be at least 1",
		"rate_limit.max_tracked_ips: 0 is out of range 1..10000000",
		`rate_limit.allow_list[1]: "x" is not an IP address or CIDR prefix`,
		"max_body_bytes: 10 must be at least 1024",
		"auth.tokens[0]: must be at least 16 characters",
		"auth.users[0].username: must not contain ':' or control characters",
		"auth.users[1].username: is required",
		"auth.users[1].password: must be at least 8 characters",
		`auth.users[3].username: "u" is listed twice`,
		`auth.protected[1]: "write": path must start with /`,
		`auth.protected[2]: "post /x": method "post" is not an upper-case HTTP method`,
		`auth.protected[3]: "GET /a b" is not "METHOD /path" or "/path"`,
		`auth.protected[4]: "/a?b": path must be a plain prefix (no query, pattern or wildcard)`,
		`auth.public[1]: "" is not "METHOD /path" or "/path"`,
		"timeouts.write_timeout: 0s must be positive",
		"timeouts.idle_timeout: 0s must be positive",
		"timeouts.read_header_timeout: 1m0s is longer than read_timeout (1s)",
		"timeouts.max_header_bytes: 10 is out of range 4096..1048576",
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), "long-enough") {
		t.Error("a secret appears in a validation error")
	}
}

func TestTimeoutsApply(t *testing.T) {
	var srv http.Server
	DefaultConfig().Timeouts.Apply(&srv)
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != time.Minute || srv.WriteTimeout != 2*time.Minute ||
		srv.IdleTimeout != 2*time.Minute || srv.MaxHeaderBytes != 65536 {
		t.Errorf("server after Apply: %s %s %s %s %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

func TestRuleMatching(t *testing.T) {
	for _, tt := range []struct {
		rule, method, path string
		want               bool
	}{
		{"/write", "POST", "/write", true},
		{"/write", "GET", "/write/x", true},
		{"/write", "POST", "/writer", false},
		{"POST /api/v1/alerts", "POST", "/api/v1/alerts/1/ack", true},
		{"POST /api/v1/alerts", "GET", "/api/v1/alerts", false},
		{"GET /healthz", "HEAD", "/healthz", true},
		{"/", "PUT", "/anything", true},
		{"/debug/pprof/", "GET", "/debug/pprof", true},
		{"GET /{$}", "GET", "/", true},
		{"GET /{$}", "HEAD", "/", true},
		{"GET /{$}", "GET", "/index.html", false},
		{"GET /index.html{$}", "GET", "/index.html", true},
		{"GET /index.html{$}", "GET", "/index.html/x", false},
		{"/ui/{$}", "GET", "/ui", true},
		{"/ui/{$}", "GET", "/ui/app.css", false},
		{"GET /ui", "GET", "/ui/v1/js/core.js", true},
	} {
		r, err := parseRule(tt.rule)
		if err != nil {
			t.Fatalf("parseRule(%q): %v", tt.rule, err)
		}
		if got := r.matches(tt.method, tt.path); got != tt.want {
			t.Errorf("%q matches %s %s = %v, want %v", tt.rule, tt.method, tt.path, got, tt.want)
		}
	}
}

// FuzzParseRule: parsing never panics; an accepted rule has a clean
// absolute path and matches requests to that path with its method.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"/write", "POST /write", "GET /a/../b/", "post /x", "/a?b", "", "  /x  ",
		"DELETE /api/v1/bans", "/{x}", "A B C", "GET\t/x", "GET /{$}", "/a/{$}", "/a{$}", "/{$}/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRule(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(r.path, "/") || (r.path != "/" && strings.HasSuffix(r.path, "/")) || strings.Contains(r.path, "//") {
			t.Fatalf("%q gave unclean path %q", s, r.path)
		}
		method := r.method
		if method == "" {
			method = "PATCH"
		}
		if !r.matches(method, r.path) {
			t.Fatalf("%q does not match its own path %q", s, r.path)
		}
		if below := strings.TrimSuffix(r.path, "/") + "/below"; r.matches(method, below) == r.exact {
			t.Fatalf("%q (exact %v) matching %q below it: %v", s, r.exact, below, !r.exact)
		}
	})
}

func TestSecretsDecodeFromYAMLAndEncodeRedacted(t *testing.T) {
	cfg := DefaultConfig()
	src := "auth:\n  tokens: [\"" + testToken + "\"]\n  users:\n    - {username: u, password: \"" + testPassword + "\"}\n"
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if string(cfg.Auth.Tokens[0]) != testToken || string(cfg.Auth.Users[0].Password) != testPassword {
		t.Fatalf("decoded %q %q", string(cfg.Auth.Tokens[0]), string(cfg.Auth.Users[0].Password))
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), testToken) || strings.Contains(string(out), testPassword) ||
		!strings.Contains(string(out), redacted) {
		t.Errorf("encoded:\n%s", out)
	}
}
