package auth

import (
	"os"
	"strings"
	"sync"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestReload: a good file replaces the users; a bad or missing file keeps
// the old ones, returns the error and is counted.
func TestReload(t *testing.T) {
	file := tempPath(t, "passwd")
	writePasswd(t, file, "alice", "alice-pw")
	f := newFixture(t, Config{PasswordFile: file})
	s := startServer(t, f.hook, "127.0.0.1:0", nil)
	login := func(user string) bool {
		_, _, err := connectV5(t, s.addr, v5{id: "reload-" + user, user: user, pass: user + "-pw"})
		return err == nil
	}
	steps := []struct {
		name     string
		write    func()
		err      string // "" : reload succeeds
		accepted map[string]bool
	}{
		{"initial", func() {}, "", map[string]bool{"alice": true, "bob": false}},
		{"bad line", func() {
			good, _ := os.ReadFile(file)
			os.WriteFile(file, append(good, "bob:plaintext-secret\n"...), 0o600)
		}, `line 3: user "bob": not a password hash`, map[string]bool{"alice": true, "bob": false}},
		{"missing file", func() { os.Remove(file) }, "no such file", map[string]bool{"alice": true, "bob": false}},
		{"bob replaces alice", func() { writePasswd(t, file, "bob", "bob-pw") }, "", map[string]bool{"alice": false, "bob": true}},
	}
	for _, st := range steps {
		st.write()
		err := f.hook.Reload()
		if st.err == "" && err != nil || st.err != "" && (err == nil || !strings.Contains(err.Error(), st.err)) {
			t.Fatalf("%s: Reload() = %v, want %q", st.name, err, st.err)
		}
		if st.err != "" && strings.Contains(err.Error(), "plaintext-secret") {
			t.Fatalf("%s: error shows the password: %v", st.name, err)
		}
		for user, want := range st.accepted {
			if got := login(user); got != want {
				t.Fatalf("%s: %s accepted=%v, want %v", st.name, user, got, want)
			}
		}
	}
	if got := f.counter(t, "reloads", "failure"); got != 2 {
		t.Errorf("reloads{failure} = %v, want 2", got)
	}
	if got := f.counter(t, "reloads", "success"); got != 2 {
		t.Errorf("reloads{success} = %v, want 2", got)
	}
	if logs := f.log.String(); !strings.Contains(logs, "the previous users and ACL stay in force") || strings.Contains(logs, "plaintext-secret") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestApplyChangesRulesForConnectedClients: Apply swaps the ACL; a client
// that stays connected is checked against the new rules.
func TestApplyChangesRulesForConnectedClients(t *testing.T) {
	users := []User{{"alice", hashOf(t, "alice-pw")}}
	allow := Config{Users: users, ACL: []Rule{{"alice", "a/#", AccessWrite}}}
	f := newFixture(t, allow)
	s := startServer(t, f.hook, "127.0.0.1:0", nil)
	c := mustV5(t, s.addr, v5{id: "apply", user: "alice", pass: "alice-pw"})
	if code := publishV5(t, c, "a/x", 1); code != 0 {
		t.Fatalf("before: PUBACK 0x%02x", code)
	}
	if err := f.hook.Apply(Config{Users: users, ACL: []Rule{{"alice", "b/#", AccessWrite}}}); err != nil {
		t.Fatal(err)
	}
	if code := publishV5(t, c, "a/x", 1); code != packets.ErrNotAuthorized.Code {
		t.Fatalf("after: PUBACK 0x%02x, want 0x87", code)
	}
	if err := f.hook.Apply(Config{Users: users, ACL: []Rule{{"alice", "b/#", AccessWrite}, {"alcie", "c/#", AccessWrite}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.log.String(), `msg="an ACL rule names a user that is not defined; the rule applies to nobody" component=auth user=alcie`) {
		t.Errorf("no warning about the unknown rule user:\n%s", f.log.String())
	}
	bad := Config{Users: users, ACL: []Rule{{"alice", "a/#/x", AccessWrite}}}
	if err := f.hook.Apply(bad); err == nil || !strings.Contains(err.Error(), `acl[0].topic "a/#/x": # must be the last level`) {
		t.Fatalf("Apply(bad) = %v", err)
	}
	if code := publishV5(t, c, "b/x", 1); code != 0 {
		t.Fatalf("after a failed Apply: PUBACK 0x%02x", code)
	}
}

// TestReloadConcurrentWithLogins runs logins and ACL checks while the
// configuration is swapped (for the race detector).
func TestReloadConcurrentWithLogins(t *testing.T) {
	file := tempPath(t, "passwd")
	writePasswd(t, file, "alice", "alice-pw")
	f := newFixture(t, Config{PasswordFile: file, ACL: []Rule{{UserAny, "sensors/%u/#", AccessReadWrite}}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 2 {
		wg.Go(func() {
			pk := packets.Packet{Connect: packets.ConnectParams{UsernameFlag: true, Username: []byte("alice"),
				PasswordFlag: true, Password: []byte("alice-pw")}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				cl := &mqtt.Client{ID: "c" + string(rune('0'+i)), Net: mqtt.ClientConnection{Remote: "127.0.0.1:1"}}
				if !f.hook.OnConnectAuthenticate(cl, pk) {
					t.Error("alice refused during reload")
					return
				}
				f.hook.OnACLCheck(cl, "sensors/alice/x", true)
				f.hook.OnACLCheck(cl, "sensors/+/x", false)
			}
		})
	}
	for range 10 {
		if err := f.hook.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
