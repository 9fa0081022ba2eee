package auth

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	mqtt3packets "github.com/eclipse/paho.mqtt.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
)

// loginClient tries one login and reports whether it was accepted and,
// when not, what the client saw.
type loginClient struct {
	name    string
	connect func(t *testing.T, addr, user, pass string) (bool, string)
	refused string // what a refused login shows
}

func loginClients() []loginClient {
	mosq := func(version string) func(t *testing.T, addr, user, pass string) (bool, string) {
		return func(t *testing.T, addr, user, pass string) (bool, string) {
			host, port := hostPort(t, addr)
			args := []string{"-h", host, "-p", port, "-V", version, "-t", "t", "-m", "m"}
			if user != "" {
				args = append(args, "-u", user)
			}
			if pass != "" {
				args = append(args, "-P", pass)
			}
			code, out := mosquitto(t, "mosquitto_pub", args...)
			return code == 0, out
		}
	}
	return []loginClient{
		{"paho-v5", func(t *testing.T, addr, user, pass string) (bool, string) {
			_, ca, err := connectV5(t, addr, v5{id: "login-v5", user: user, pass: pass})
			if err == nil {
				return true, ""
			}
			if ca == nil {
				t.Fatalf("no CONNACK: %v", err)
			}
			return false, fmt.Sprintf("CONNACK 0x%02x", ca.ReasonCode)
		}, "CONNACK 0x86"},
		{"paho-v3", func(t *testing.T, addr, user, pass string) (bool, string) {
			_, _, err := connectV3(t, addr, "login-v3", user, pass, nil)
			if err == nil {
				return true, ""
			}
			if errors.Is(err, mqtt3packets.ErrorRefusedNotAuthorised) {
				return false, "CONNACK 0x05"
			}
			return false, err.Error()
		}, "CONNACK 0x05"},
		{"mosquitto_pub-v311", mosq("mqttv311"), "Connection Refused: not authorised"},
		{"mosquitto_pub-v5", mosq("mqttv5"), "Connection error: Bad User Name or Password"},
	}
}

// TestPasswordLogin: each client kind logs in with the right password and
// is refused (and counted, and reported to Failures) otherwise.
func TestPasswordLogin(t *testing.T) {
	file := tempPath(t, "passwd")
	writePasswd(t, file, "alice", "alice-pw")
	f := newFixture(t, Config{PasswordFile: file})
	s := startServer(t, f.hook, "127.0.0.1:0", nil)
	attempts := []struct {
		name, user, pass string
		reason           string // "" : accepted
	}{
		{"right password", "alice", "alice-pw", ""},
		{"wrong password", "alice", "wrong-pw", ReasonBadPassword},
		{"no password", "alice", "", ReasonBadPassword},
		{"unknown user", "mallory", "alice-pw", ReasonUnknownUser},
		{"anonymous", "", "", ReasonAnonymous},
	}
	for _, c := range loginClients() {
		for _, a := range attempts {
			t.Run(c.name+"/"+a.name, func(t *testing.T) {
				before := f.counter(t, "failures", a.reason)
				calls := len(f.fail.all())
				ok, detail := c.connect(t, s.addr, a.user, a.pass)
				if a.reason == "" {
					if !ok {
						t.Fatalf("refused: %s", detail)
					}
					return
				}
				if ok || !strings.Contains(detail, c.refused) {
					t.Fatalf("accepted=%v, saw %q; want refusal with %q", ok, detail, c.refused)
				}
				if got := f.counter(t, "failures", a.reason); got != before+1 {
					t.Errorf("failures{reason=%s} = %v, want %v", a.reason, got, before+1)
				}
				all := f.fail.all()
				if len(all) != calls+1 || all[len(all)-1] != (failure{"127.0.0.1", a.user, a.reason}) {
					t.Errorf("Failures calls = %+v, want one more {127.0.0.1 %s %s}", all, a.user, a.reason)
				}
			})
		}
	}
	logs := f.log.String()
	if !strings.Contains(logs, `msg="mqtt authentication failed" component=auth remote=127.0.0.1 listener=test`) {
		t.Errorf("no failure line:\n%s", logs)
	}
	for _, secret := range []string{"alice-pw", "wrong-pw", "$2a$"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	if got := f.counter(t, "successes", MethodPassword); got != 4 {
		t.Errorf("successes{method=password} = %v, want 4", got)
	}
}

// externalIP is a non-loopback address of this machine, or "".
func externalIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestAnonymousPolicyRealClients: anonymous MQTT 5 clients from loopback
// and from another address under each policy.
func TestAnonymousPolicyRealClients(t *testing.T) {
	ext := externalIP()
	if ext == "" {
		t.Skip("no non-loopback IPv4 address on this machine; TestAnonymousRemote covers the logic")
	}
	file := tempPath(t, "passwd")
	writePasswd(t, file, "alice", "pw")
	tests := []struct {
		cfg            Config
		loopback, wide bool
	}{
		{DefaultConfig(), true, false},
		{Config{Anonymous: "auto", PasswordFile: file}, false, false},
		{Config{Anonymous: "off"}, false, false},
		{Config{Anonymous: "loopback", PasswordFile: file}, true, false},
		{Config{Anonymous: "on", PasswordFile: file}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Anonymous+"/users="+fmt.Sprint(tt.cfg.PasswordFile != ""), func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			s := startServer(t, f.hook, ":0", nil)
			_, port, _ := net.SplitHostPort(s.addr)
			for _, src := range []struct {
				host string
				want bool
			}{{"127.0.0.1", tt.loopback}, {ext, tt.wide}} {
				_, ca, err := connectV5(t, net.JoinHostPort(src.host, port), v5{id: "anon"})
				if got := err == nil; got != src.want {
					t.Fatalf("anonymous from %s accepted=%v (%v, %+v), want %v", src.host, got, err, ca, src.want)
				}
				if err != nil && ca.ReasonCode != packets.ErrBadUsernameOrPassword.Code {
					t.Fatalf("CONNACK 0x%02x", ca.ReasonCode)
				}
				if !src.want {
					all := f.fail.all()
					if last := all[len(all)-1]; last != (failure{src.host, "", ReasonAnonymous}) {
						t.Fatalf("Failures got %+v", last)
					}
				}
			}
		})
	}
}

// TestAnonymousRemote: the loopback policy on remote address forms.
func TestAnonymousRemote(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	for remote, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.8.9.10:1": true, "[::1]:1883": true, "[::ffff:127.0.0.1]:1": true,
		"192.0.2.1:1883": false, "[fd00::2]:1": false, "[fe80::1%eth0]:1": false, "": false, "garbage": false,
	} {
		cl := &mqtt.Client{Net: mqtt.ClientConnection{Remote: remote}}
		if got := f.hook.OnConnectAuthenticate(cl, packets.Packet{}); got != want {
			t.Errorf("anonymous from %q = %v, want %v", remote, got, want)
		}
	}
	if !strings.Contains(f.log.String(), "anonymous clients are allowed from loopback only") {
		t.Errorf("no start-up warning:\n%s", f.log.String())
	}
}

// TestInlineUsersAndArgon2id: inline users and argon2id hashes log in.
func TestInlineUsersAndArgon2id(t *testing.T) {
	entries, err := LoadPasswordFile("testdata/passwd/good")
	if err != nil {
		t.Fatal(err)
	}
	var users []User
	for _, e := range entries {
		users = append(users, User{Username: e.Username, PasswordHash: e.Hash})
	}
	f := newFixture(t, Config{Users: users})
	for user, pw := range map[string]string{"alice": "alice-secret", "carol": "carol-secret", "dave": "dave-secret"} {
		for _, try := range []struct {
			pw   string
			want bool
		}{{pw, true}, {pw + "!", false}} {
			pk := packets.Packet{Connect: packets.ConnectParams{UsernameFlag: true, Username: []byte(user),
				PasswordFlag: true, Password: []byte(try.pw)}}
			if got := f.hook.OnConnectAuthenticate(&mqtt.Client{}, pk); got != try.want {
				t.Errorf("%s with %q = %v", user, try.pw, got)
			}
		}
	}
}

// TestDuplicateUserInFileAndInline: a user defined twice is an error.
func TestDuplicateUserInFileAndInline(t *testing.T) {
	_, err := New(Config{PasswordFile: "testdata/passwd/good", Users: []User{{"bob", hashOf(t, "x")}}},
		Deps{Registry: prometheus.NewRegistry()})
	if err == nil || !strings.Contains(err.Error(), `line 5: user "bob" is also defined in users`) {
		t.Fatalf("err = %v", err)
	}
}

// TestOverloaded: when no password check slot frees up in time the login
// is refused as overloaded, and Failures is not told (not the client's fault).
func TestOverloaded(t *testing.T) {
	f := newFixture(t, Config{Users: []User{{"alice", hashOf(t, "pw")}}})
	f.hook.slots = make(chan struct{}, 1)
	f.hook.slotWait = 50 * time.Millisecond
	f.hook.slots <- struct{}{} // a check in progress
	pk := packets.Packet{Connect: packets.ConnectParams{UsernameFlag: true, Username: []byte("alice"),
		PasswordFlag: true, Password: []byte("pw")}}
	if f.hook.OnConnectAuthenticate(&mqtt.Client{}, pk) {
		t.Fatal("accepted without a slot")
	}
	if f.counter(t, "failures", ReasonOverloaded) != 1 || len(f.fail.all()) != 0 {
		t.Fatalf("overloaded=%v, Failures calls %v", f.counter(t, "failures", ReasonOverloaded), f.fail.all())
	}
	<-f.hook.slots
	if !f.hook.OnConnectAuthenticate(&mqtt.Client{}, pk) {
		t.Fatal("refused with a free slot")
	}
}

// TestDummyCost: unknown users are checked at the cost most users have.
func TestDummyCost(t *testing.T) {
	h11, err := HashPassword([]byte("x"), 11)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		users []User
		want  int
	}{
		{nil, DefaultBcryptCost},
		{[]User{{"a", hashOf(t, "a")}, {"b", hashOf(t, "b")}, {"c", h11}}, testCost},
		{[]User{{"c", h11}}, 11},
	} {
		st, err := load(Config{Users: tt.users})
		if err != nil || st.dummyCost != tt.want {
			t.Errorf("%d users: dummy cost %d (%v), want %d", len(tt.users), st.dummyCost, err, tt.want)
		}
	}
}
