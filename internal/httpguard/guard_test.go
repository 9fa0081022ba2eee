package httpguard

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/testkit"
)

// call sends one request through the guard from remote ("ip:port").
func (e *env) call(method, path, remote, auth string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, body)
	r.RemoteAddr = remote
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.g.Wrap(e.handler()).ServeHTTP(w, r)
	return w
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestAuthRules: the protected list with public reads (public_read: true;
// TestPublicReadModes covers auto and false).
func TestAuthRules(t *testing.T) {
	e := newEnv(t, testConfig())
	const remote = "192.0.2.10:40000"
	for _, tt := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/api/v1/query", "", 200},
		{"POST", "/api/v1/query", "", 200}, // Grafana queries with POST
		{"GET", "/metrics", "", 200},
		{"GET", "/api/v1/alerts", "", 200},
		{"POST", "/write", "", 401},
		{"POST", "/write", "Bearer " + testToken, 200},
		{"POST", "/api/v2/write", "Token " + testToken, 200},
		{"POST", "/api/v2/write", "bearer  " + testToken, 200},
		{"POST", "/write", basic(testUser, testPassword), 200},
		{"POST", "//write", "", 401},
		{"POST", "/x/../write", "", 401},
		{"POST", "/write/", "", 401},
		{"POST", "/-/reload", "", 401},
		{"GET", "/api/v1/bans", "", 401},
		{"DELETE", "/api/v1/bans/192.0.2.1", "", 401},
		{"POST", "/api/v1/alerts/42/ack", "", 401},
		{"GET", "/debug/pprof/heap", "", 401},
		{"HEAD", "/api/v1/bans", "", 401},
		{"GET", "/writer", "", 200}, // a different path, not below /write
	} {
		w := e.call(tt.method, tt.path, remote, tt.auth, nil)
		if w.Code != tt.want {
			t.Errorf("%s %s (auth %q) = %d, want %d", tt.method, tt.path, strings.SplitN(tt.auth, " ", 2)[0], w.Code, tt.want)
		}
		if w.Code == 401 && len(w.Header().Values("WWW-Authenticate")) != 2 {
			t.Errorf("%s %s: WWW-Authenticate = %q", tt.method, tt.path, w.Header().Values("WWW-Authenticate"))
		}
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_auth_failures_total", "reason", "missing"); got != 10 {
		t.Errorf("auth failures{missing} = %v, want 10", got)
	}
	if _, banned := e.b.Banned(netip.MustParseAddr("192.0.2.10")); banned {
		t.Error("requests without credentials banned the client")
	}
}

func TestWrongCredentialsCountTowardsBan(t *testing.T) {
	e := newEnv(t, testConfig())
	wrong := []string{
		"Bearer " + testToken + "x", "Bearer " + testToken[:len(testToken)-1], "Bearer ",
		basic(testUser, "wrong-password"), basic("nobody", testPassword),
	}
	for i, auth := range wrong {
		if w := e.call("POST", "/write", "192.0.2.20:1", auth, nil); w.Code != 401 {
			t.Fatalf("wrong credentials %d: %d", i, w.Code)
		}
	}
	// Banned now: refused with 403 before credentials are looked at.
	w := e.call("POST", "/write", "192.0.2.20:2", "Bearer "+testToken, nil)
	if w.Code != http.StatusForbidden || w.Header().Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d (Retry-After %q), want 403", w.Code, w.Header().Get("Retry-After"))
	}
	if w := e.call("GET", "/api/v1/query", "192.0.2.20:3", "", nil); w.Code != http.StatusForbidden {
		t.Errorf("banned IP reading: %d, want 403", w.Code)
	}
	if w := e.call("POST", "/write", "192.0.2.21:1", "Bearer "+testToken, nil); w.Code != 200 {
		t.Errorf("another client: %d", w.Code)
	}
	for reason, n := range map[string]float64{"bad_token": 3, "bad_password": 2} {
		if got := testkit.MetricValue(t, e.reg, "borda_http_auth_failures_total", "reason", reason); got != n {
			t.Errorf("auth failures{%s} = %v, want %v", reason, got, n)
		}
		if got := testkit.MetricValue(t, e.reg, "borda_auth_failures_total", "source", "http", "reason", reason); got != n {
			t.Errorf("ban failures{http,%s} = %v, want %v", reason, got, n)
		}
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_requests_banned_total"); got != 2 {
		t.Errorf("banned requests = %v", got)
	}
	logs := e.log.String()
	if n := strings.Count(logs, `msg="auth failed" component=ban ip=192.0.2.20 source=http reason=bad_`); n != 5 {
		t.Errorf("auth failed lines = %d, want 5:\n%s", n, logs)
	}
	if !strings.Contains(logs, `msg="ip banned" component=ban ip=192.0.2.20 source=http`) {
		t.Errorf("no ban line:\n%s", logs)
	}
}

func TestSecretsAreNeverLogged(t *testing.T) {
	cfg := testConfig()
	e := newEnv(t, cfg)
	e.call("POST", "/write", "192.0.2.30:1", "Bearer "+testToken, nil)
	e.call("POST", "/write", "192.0.2.30:1", "Bearer wrong-"+testToken, nil)
	e.call("POST", "/write", "192.0.2.30:1", basic(testUser, testPassword+"x"), nil)
	e.g.log.Info("config", "guard", cfg)
	printed := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, e.log.String())
	for _, secret := range []string{testToken, testPassword} {
		if strings.Contains(printed, secret) {
			t.Errorf("secret %q appears in:\n%s", secret, printed)
		}
	}
	if !strings.Contains(printed, redacted) {
		t.Errorf("no %s in the printed config", redacted)
	}
	if Secret("").String() != "" {
		t.Error("an empty secret prints as redacted")
	}
}

func TestPrivateReads(t *testing.T) {
	cfg := testConfig()
	cfg.Auth.PublicRead = PublicReadOff
	e := newEnv(t, cfg)
	for path, want := range map[string]int{"/api/v1/query": 401, "/metrics": 401, "/healthz": 200, "/readyz": 200} {
		if w := e.call("GET", path, "192.0.2.40:1", "", nil); w.Code != want {
			t.Errorf("GET %s = %d, want %d", path, w.Code, want)
		}
	}
	if w := e.call("GET", "/api/v1/query", "192.0.2.40:1", "Bearer "+testToken, nil); w.Code != 200 {
		t.Errorf("GET with token = %d", w.Code)
	}
}

func TestNoCredentialsConfigured(t *testing.T) {
	cfg := testConfig()
	cfg.Auth.Tokens, cfg.Auth.Users = nil, nil
	e := newEnv(t, cfg)
	if !strings.Contains(e.log.String(), "no HTTP tokens or users configured") {
		t.Errorf("no warning:\n%s", e.log)
	}
	for remote, want := range map[string]int{"127.0.0.1:1": 200, "[::1]:1": 200, "192.0.2.50:1": 401} {
		if w := e.call("POST", "/write", remote, "", nil); w.Code != want {
			t.Errorf("POST /write from %s = %d, want %d", remote, w.Code, want)
		}
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_auth_failures_total", "reason", "not_configured"); got != 1 {
		t.Errorf("failures{not_configured} = %v", got)
	}
	cfg.Auth.LoopbackWithoutCredentials = false
	e = newEnv(t, cfg)
	if w := e.call("POST", "/write", "127.0.0.1:1", "", nil); w.Code != 401 {
		t.Errorf("loopback without credentials, disabled: %d", w.Code)
	}
}

func TestBodyTooLarge(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	e := newEnv(t, cfg)
	addr := e.serve(t, cfg, e.handler())
	c := clientFrom(t, "127.0.0.1")
	post := func(body io.Reader, length int64) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/query", body)
		req.ContentLength = length
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	small, big := strings.Repeat("a", 1024), strings.Repeat("b", 5000)
	if code, body := post(strings.NewReader(small), 1024); code != 200 || body != small {
		t.Errorf("1024 bytes declared: %d %.40q", code, body)
	}
	if code, body := post(strings.NewReader(big), 5000); code != 413 || !strings.Contains(body, "max_body_bytes") {
		t.Errorf("5000 bytes declared: %d %s", code, body)
	}
	calls := e.calls.Load()
	// Chunked (length unknown): the handler reads an error and answers
	// 400, the client still gets 413.
	if code, body := post(io.MultiReader(strings.NewReader(big)), -1); code != 413 {
		t.Errorf("5000 bytes chunked: %d %s", code, body)
	}
	if code, body := post(io.MultiReader(strings.NewReader(small)), -1); code != 200 || body != small {
		t.Errorf("1024 bytes chunked: %d %.40q", code, body)
	}
	if got := e.calls.Load() - calls; got != 2 {
		t.Errorf("handler calls for chunked bodies = %d, want 2", got)
	}
	if got := testkit.MetricValue(t, e.reg, "borda_http_bodies_too_large_total"); got != 2 {
		t.Errorf("bodies too large = %v, want 2", got)
	}
}
