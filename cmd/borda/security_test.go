package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/auth"
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
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

// TestMQTTAuthACLAndBan: users from a password file made by `borda
// passwd`; a user may publish under its own name only (ACL with %u); five
// wrong passwords from 127.0.0.1 ban it, after which even the right
// password is refused at accept, while 127.0.0.2 is unaffected.
func TestMQTTAuthACLAndBan(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "passwd")
	var out, errb strings.Builder
	if code := runPasswd([]string{"-c", "-b", "-cost", "10", pwFile, "dev1", "s3cret-pass"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("borda passwd: %d %s", code, errb.String())
	}
	cfg := testConfig(t)
	cfg.Bans.AllowList = nil
	cfg.Auth.PasswordFile = pwFile
	cfg.Auth.ACL = []auth.Rule{{User: "%any", Topic: "sensors/%u/#", Access: "readwrite"}}
	g := startGateway(t, cfg)

	connect := func(from, user, pass string) (mqtt3.Client, error) {
		o := mqtt3.NewClientOptions().AddBroker("tcp://" + g.mqttAddr()).SetClientID(fmt.Sprintf("c-%s-%d", from, time.Now().UnixNano())).
			SetUsername(user).SetPassword(pass).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).
			SetDialer(&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second})
		c := mqtt3.NewClient(o)
		tok := c.Connect()
		if !tok.WaitTimeout(10 * time.Second) {
			return nil, fmt.Errorf("connect timed out")
		}
		return c, tok.Error()
	}
	good, err := connect("127.0.0.2", "dev1", "s3cret-pass")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	waitToken(t, "publish own topic", good.Publish("sensors/dev1/temperature", 1, false, `{"value":21}`))
	good.Disconnect(100)

	for i := range 5 {
		if _, err := connect("127.0.0.1", "dev1", "wrong"); err == nil {
			t.Fatalf("wrong password %d accepted", i+1)
		}
	}
	if _, err := connect("127.0.0.1", "dev1", "s3cret-pass"); err == nil {
		t.Fatal("banned IP connected with the right password")
	}
	if c, err := connect("127.0.0.2", "dev1", "s3cret-pass"); err != nil {
		t.Fatalf("another IP after the ban: %v", err)
	} else {
		c.Disconnect(100)
	}
	metrics := doBody(t, clientFrom("127.0.0.2"), "GET", g.httpURL()+"/metrics", "")
	for _, want := range []string{"borda_bans_active 1", `borda_mqtt_auth_failures_total{reason="bad_password"} 5`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
