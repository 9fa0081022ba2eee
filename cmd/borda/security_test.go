package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/httpguard"
	"github.com/borda-edge/borda/internal/testkit"
)

// TestHTTPAuthFailuresBanTheIP: five wrong tokens on a protected endpoint
// from 127.0.0.1 ban it; from then on it gets 403 over HTTP and its MQTT
// connections are closed at accept, while 127.0.0.2 is unaffected and can
// lift the ban through the API with the right token.
func TestHTTPAuthFailuresBanTheIP(t *testing.T) {
	const token = "0123456789abcdef-test"
	cfg := testConfig(t)
	cfg.Bans.AllowList = nil // loopback is allow-listed by default
	cfg.HTTP.Guard.Auth.Tokens = []httpguard.Secret{token}
	g := startGateway(t, cfg)
	attacker, other := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	url := func(path string) string { return g.httpURL() + path }

	for i := range 5 {
		if code := do(t, attacker, "POST", url("/write"), "wrong-token-000000", "m v=1"); code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d, want 401", i+1, code)
		}
	}
	// Banned: the connection is closed at accept (or, on a keep-alive
	// connection opened before the ban, the guard answers 403).
	if code := do(t, attacker, "POST", url("/write"), token, "m v=1"); code != -1 && code != http.StatusForbidden {
		t.Fatalf("after 5 failures, even the right token: %d, want the connection refused or 403", code)
	}
	mqttAddr := g.mqttAddr()
	c, err := net.Dial("tcp", mqttAddr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil || n > 0 {
		t.Fatalf("banned IP's MQTT connection was served (read %d, %v)", n, err)
	}
	c.Close()

	if code := do(t, other, "POST", url("/write"), token, "m v=1"); code != http.StatusNoContent {
		t.Fatalf("other client writing with the token: %d, want 204", code)
	}
	list := doBody(t, other, "GET", url("/api/v1/bans"), token)
	if !strings.Contains(list, `"127.0.0.1"`) {
		t.Fatalf("ban list %s does not show 127.0.0.1", list)
	}
	if code := do(t, other, "DELETE", url("/api/v1/bans/127.0.0.1"), token, ""); code != http.StatusOK {
		t.Fatalf("unban: %d", code)
	}
	testkit.Eventually(t, 5*time.Second, "127.0.0.1 served again", func() bool {
		return do(t, attacker, "POST", url("/write"), token, "m v=1") == http.StatusNoContent
	})
}

// clientFrom is an HTTP client whose connections come from local address ip
// (every 127/8 address is on lo).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// do sends a request and returns its status code, -1 when the connection
// was refused or closed.
func do(t *testing.T, c *http.Client, method, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return -1 // refused: closed at accept
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func doBody(t *testing.T, c *http.Client, method, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return fmt.Sprint(string(b))
}
