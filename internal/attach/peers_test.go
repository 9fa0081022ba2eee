package attach

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

func peerConfig(addr, id string) Config {
	c := testConfig(addr, id, "$share/collectors/edge/#")
	c.Peers.ClientIDs = []string{"collector-a", "collector-b"}
	c.Peers.AdoptAfter = 200 * time.Millisecond
	return c
}

// since returns what r stored after the first n entries it had.
func since(r *recorder, n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.topics[n:]...)
	sort.Strings(out)
	return out
}

func count(r *recorder) int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.topics) }

func union(rs ...*recorder) []string {
	var all []string
	for _, r := range rs {
		all = append(all, r.got()...)
	}
	sort.Strings(all)
	return slices.Compact(all)
}

// A collector dies (its connection breaks without a DISCONNECT): the other
// adopts its session and from then on stores every message, including the
// dead one's turns that Mosquitto keeps assigning to its session. When the
// dead one comes back it takes its session back and the stream is split
// again. Nothing is missing at any point.
func TestPeerAdoptsDeadCollector(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	proxy := testkit.StartProxy(t, m.Addr)
	a, b := &recorder{}, &recorder{}
	ca, _ := startClient(t, peerConfig(m.Addr, "collector-a"), a)
	cb, _ := startClient(t, peerConfig(proxy.Addr, "collector-b"), b)
	testkit.Eventually(t, 10*time.Second, "both connected", func() bool { return ca.Connected() && cb.Connected() })
	testkit.Eventually(t, 10*time.Second, "a sees b online", func() bool { return ca.roster.isOnline("collector-b") })
	pub := publisher(t, m.Addr)
	publish(t, pub, 0, 100)
	testkit.Eventually(t, 10*time.Second, "first 100", func() bool { return len(union(a, b)) == 100 })
	if count(b) == 0 {
		t.Fatal("b got none of the first 100: not split")
	}

	proxy.Cut() // b dies
	testkit.Eventually(t, 10*time.Second, "a adopts b's session", func() bool {
		return testutil.ToFloat64(ca.met.adopted) == 1
	})
	nb := count(b)
	publish(t, pub, 100, 300)
	testkit.Eventually(t, 10*time.Second, "all 300", func() bool { return len(union(a, b)) == 300 })
	if got := since(b, nb); len(got) != 0 {
		t.Fatalf("b is dead but stored %d more", len(got))
	}

	proxy.Restore() // b comes back and takes its session over
	testkit.Eventually(t, 15*time.Second, "b back, adoption over", func() bool {
		return cb.Connected() && testutil.ToFloat64(ca.met.adopted) == 0 && ca.roster.isOnline("collector-b")
	})
	nb = count(b)
	publish(t, pub, 300, 400)
	testkit.Eventually(t, 10*time.Second, "all 400", func() bool { return len(union(a, b)) == 400 })
	if strings.Join(union(a, b), ",") != strings.Join(want(0, 400), ",") {
		t.Fatal("union differs from what was published")
	}
	if len(since(b, nb)) == 0 {
		t.Fatal("b stored nothing after it came back: the stream is not split again")
	}
	if v := testutil.ToFloat64(ca.met.adoptions.WithLabelValues("adopted")); v != 1 {
		t.Fatalf("adoptions = %v, want 1", v)
	}
}

// A collector that stops gracefully marks itself offline: the other adopts
// its session, so messages published while it is away are stored at once
// instead of waiting in its session.
func TestPeerAdoptsStoppedCollector(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	a, b := &recorder{}, &recorder{}
	ca, _ := startClient(t, peerConfig(m.Addr, "collector-a"), a)
	cb, stopB := startClient(t, peerConfig(m.Addr, "collector-b"), b)
	testkit.Eventually(t, 10*time.Second, "both connected", func() bool { return ca.Connected() && cb.Connected() })
	testkit.Eventually(t, 10*time.Second, "a sees b online", func() bool { return ca.roster.isOnline("collector-b") })
	stopB()
	testkit.Eventually(t, 10*time.Second, "a adopts b's session", func() bool {
		return testutil.ToFloat64(ca.met.adopted) == 1
	})
	publish(t, publisher(t, m.Addr), 0, 100)
	testkit.Eventually(t, 10*time.Second, "all 100 at a", func() bool { return len(a.got()) == 100 })
	if len(b.got()) != 0 {
		t.Fatalf("b stopped but stored %d", len(b.got()))
	}
}

func TestPeersConfig(t *testing.T) {
	base := func() Config { return peerConfig("127.0.0.1:1883", "collector-a") }
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"ok", func(*Config) {}, ""},
		{"self missing", func(c *Config) { c.Peers.ClientIDs = []string{"x", "y"} }, "must include this collector's client_id"},
		{"alone", func(c *Config) { c.Peers.ClientIDs = []string{"collector-a"} }, "at least two"},
		{"twice", func(c *Config) { c.Peers.ClientIDs = []string{"collector-a", "b", "b"} }, "listed twice"},
		{"wildcard id", func(c *Config) { c.Peers.ClientIDs = []string{"collector-a", "b/+"} }, "without / + #"},
		{"topic without id", func(c *Config) { c.Peers.PresenceTopic = "borda/presence" }, "needs {client_id}"},
		{"topic wildcard", func(c *Config) { c.Peers.PresenceTopic = "borda/+/{client_id}" }, "needs {client_id}"},
		{"clean session", func(c *Config) { c.SessionExpiry = 0 }, "session_expiry > 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRosterChoosesNextOnlineMember(t *testing.T) {
	order := []string{"a", "b", "c"}
	cases := []struct {
		self, dead string
		online     map[string]bool
		selfUp     bool
		want       bool
	}{
		{"b", "a", map[string]bool{"a": false, "c": true}, true, true},  // next after a is b
		{"c", "a", map[string]bool{"a": false, "b": true}, true, false}, // b comes first
		{"c", "a", map[string]bool{"a": false, "b": false}, true, true}, // b is dead too
		{"b", "a", map[string]bool{"a": false}, false, false},           // b's own link is down
		{"b", "a", map[string]bool{"a": true}, true, false},             // a is online
		{"b", "a", map[string]bool{}, true, false},                      // never heard of a
		{"a", "c", map[string]bool{"c": false, "b": true}, true, true},  // wraps around
		{"b", "c", map[string]bool{"c": false, "a": true}, true, false}, // a comes first after c
	}
	for i, tc := range cases {
		r := newRoster(order, tc.self)
		for id, on := range tc.online {
			r.set(id, on)
		}
		r.setSelf(tc.selfUp)
		if got := r.shouldAdopt(tc.dead); got != tc.want {
			t.Errorf("case %d: %s adopts %s = %v, want %v", i, tc.self, tc.dead, got, tc.want)
		}
	}
}

func TestPresenceMember(t *testing.T) {
	p := PeersConfig{ClientIDs: []string{"a", "b"}, PresenceTopic: "x/{client_id}/presence"}
	for topic, want := range map[string]string{"x/a/presence": "a", "x/b/presence": "b", "x/c/presence": "",
		"x//presence": "", "x/a/other": "", "edge/a": ""} {
		got, ok := p.presenceMember(topic)
		if (want != "") != ok || (ok && got != want) {
			t.Errorf("%s: got %q %v, want %q", topic, got, ok, want)
		}
	}
}
