package httpguard

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestPublicReadModes: which reads need credentials under each
// public_read, with and without tokens or users configured. The health
// checks and the dashboard's page and assets never do; protected paths
// always do.
const remote, loopback = "192.0.2.70:1", "127.0.0.1:1"

type req struct {
	method, path, from, auth string
	want                     int
}

// readCases are requests and their answers when reads are open, closed,
// and in every mode.
func readCases() (open, closed, always []req) {
	open = []req{
		{"GET", "/api/v1/query", remote, "", 200},
		{"POST", "/api/v1/query", remote, "", 200},
		{"GET", "/metrics", remote, "", 200},
		{"GET", "/api/v1/dashboard/overview", remote, "", 200},
	}
	closed = []req{
		{"GET", "/api/v1/query", remote, "", 401},
		{"POST", "/api/v1/query", remote, "", 401},
		{"GET", "/metrics", remote, "", 401},
		{"GET", "/api/v1/dashboard/overview", loopback, "", 401},
		{"GET", "/api/v1/query", remote, "Bearer " + testToken, 200},
		{"GET", "/metrics", remote, basic(testUser, testPassword), 200},
	}
	always = []req{
		{"GET", "/healthz", remote, "", 200},
		{"GET", "/readyz", remote, "", 200},
		{"GET", "/", remote, "", 200},
		{"GET", "/ui/app.css", remote, "", 200},
		{"POST", "/write", remote, "", 401},
	}
	return open, closed, always
}

func TestPublicReadModes(t *testing.T) {
	open, closed, always := readCases()
	for _, tt := range []struct {
		name  string
		mode  PublicRead
		creds bool
		reqs  []req
	}{
		{"auto without credentials", PublicReadAuto, false, open},
		{"auto with credentials", PublicReadAuto, true, closed},
		{"true with credentials", PublicReadOn, true, open},
		{"false with credentials", PublicReadOff, true, closed},
		{"false without credentials", PublicReadOff, false, []req{
			{"GET", "/api/v1/query", remote, "", 401},   // not_configured
			{"GET", "/api/v1/query", loopback, "", 200}, // loopback_without_credentials
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Auth.PublicRead = tt.mode
			if !tt.creds {
				cfg.Auth.Tokens, cfg.Auth.Users = nil, nil
			}
			e := newEnv(t, cfg, "GET /{$}", "GET /ui")
			for _, r := range append(tt.reqs, always...) {
				if !tt.creds && r.path == "/write" {
					continue // from loopback only: TestNoCredentialsConfigured
				}
				if w := e.call(r.method, r.path, r.from, r.auth, nil); w.Code != r.want {
					t.Errorf("%s %s from %s (auth %q) = %d, want %d", r.method, r.path, r.from,
						strings.SplitN(r.auth, " ", 2)[0], w.Code, r.want)
				}
			}
		})
	}
}

func TestPublicReadYAML(t *testing.T) {
	for _, tt := range []struct {
		src     string
		want    PublicRead
		wantErr bool
	}{
		{"auto", PublicReadAuto, false},
		{"true", PublicReadOn, false},
		{"false", PublicReadOff, false},
		{`"true"`, PublicReadOn, false},
		{"yes", "", true},
		{"[true]", "", true},
		{"", "", false}, // empty: the default stays
	} {
		var cfg AuthConfig
		err := yaml.Unmarshal([]byte("public_read: "+tt.src+"\n"), &cfg)
		if tt.wantErr != (err != nil) || cfg.PublicRead != tt.want {
			t.Errorf("public_read: %s → %q, %v", tt.src, cfg.PublicRead, err)
		}
	}
	bad := DefaultConfig()
	bad.Auth.PublicRead = "maybe"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `auth.public_read: "maybe" is not auto, true or false`) {
		t.Errorf("Validate: %v", err)
	}
	if DefaultConfig().Auth.PublicRead != PublicReadAuto {
		t.Error("default is not auto")
	}
}
