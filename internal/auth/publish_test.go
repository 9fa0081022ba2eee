package auth

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"

	"github.com/borda-edge/borda/internal/testkit"
)

// watcher is a client that may read everything; sawOnly checks that of
// the given topics only the allowed ones reached it.
type watcher struct {
	c  *paho.Client
	in *inbox
	s  *server
	n  int
}

func newWatcher(t *testing.T, s *server) *watcher {
	t.Helper()
	in := newInbox()
	c := mustV5(t, s.addr, v5{id: "watcher", user: "watch", pass: "watch-pw", inbox: in})
	if code := subscribeV5(t, c, "#"); code != 1 {
		t.Fatalf("watcher SUBACK 0x%02x", code)
	}
	return &watcher{c: c, in: in, s: s}
}

// received publishes a sentinel and returns what arrived before it.
func (w *watcher) received(t *testing.T) []string {
	t.Helper()
	w.n++
	sentinel := fmt.Sprintf("sentinel/%d", w.n)
	if err := w.s.Publish(sentinel, []byte("end"), false, 0); err != nil {
		t.Fatal(err)
	}
	got := w.in.waitFor(t, sentinel)
	w.in.reset()
	return got
}

// TestDeniedPublish: what each protocol and QoS gets when publishing
// where the ACL denies it; the message never reaches a subscriber and
// every denial is counted and logged.
func TestDeniedPublish(t *testing.T) {
	f, s := aclServer(t)
	w := newWatcher(t, s)
	host, port := hostPort(t, s.addr)
	tests := []struct {
		name    string
		publish func(t *testing.T, topic string) string // what the publisher saw
		want    string
	}{
		{"v5-qos0", v5Publisher(t, s, 0), "ok, still connected"},
		{"v5-qos1", v5Publisher(t, s, 1), "reason 0x87, still connected"},
		{"v5-qos2", v5Publisher(t, s, 2), "reason 0x87, still connected"},
		{"v311-qos0", v3Publisher(t, s, 0), "still connected"},
		{"v311-qos1", v3Publisher(t, s, 1), "disconnected"},
		{"v311-qos2", v3Publisher(t, s, 2), "disconnected"},
		// mochi-mqtt sends DISCONNECT, which MQTT 3.1.1 servers never send.
		{"mosquitto_pub-v311-qos1", mosqPublisher(host, port, "mqttv311"), "exit 2: Error: A network protocol error occurred"},
		{"mosquitto_pub-v5-qos1", mosqPublisher(host, port, "mqttv5"), "exit 0: Warning: Publish 1 failed: Not authorized."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.counter(t, "denied", ActionPublish)
			topic := "forbidden/" + tt.name
			if got := tt.publish(t, topic); !strings.HasPrefix(got, tt.want) {
				t.Errorf("publisher saw %q, want %q", got, tt.want)
			}
			if got := w.received(t); slices.Contains(got, topic) {
				t.Errorf("denied message delivered: %v", got)
			}
			if got := f.counter(t, "denied", ActionPublish); got != before+1 {
				t.Errorf("acl_denied{publish} = %v, want %v", got, before+1)
			}
		})
	}
	if logs := f.log.String(); !strings.Contains(logs, `msg="mqtt publish denied by acl" component=auth client=`) {
		t.Errorf("no denial log line:\n%s", logs)
	}
}

// v5Publisher publishes at qos as alice, then checks the connection
// still works with an allowed publish.
func v5Publisher(t *testing.T, s *server, qos byte) func(*testing.T, string) string {
	return func(t *testing.T, topic string) string {
		c := mustV5(t, s.addr, v5{id: "pub5", user: "alice", pass: "alice-pw"})
		code := publishV5(t, c, topic, qos)
		if after := publishV5(t, c, "sensors/alice/after", 1); after != 0 {
			return fmt.Sprintf("reason 0x%02x, then 0x%02x", code, after)
		}
		if qos == 0 {
			return "ok, still connected"
		}
		return fmt.Sprintf("reason 0x%02x, still connected", code)
	}
}

func v3Publisher(t *testing.T, s *server, qos byte) func(*testing.T, string) string {
	return func(t *testing.T, topic string) string {
		c, lost, err := connectV3(t, s.addr, "pub3", "alice", "alice-pw", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Publish(topic, qos, false, "x")
		ok := c.Publish("sensors/alice/after", 1, false, "x")
		select {
		case <-lost:
			return "disconnected"
		case <-waitToken(ok):
			if err := ok.Error(); err != nil && strings.Contains(err.Error(), "connection lost") {
				return "disconnected"
			} else if err != nil {
				return "error: " + err.Error()
			}
			return "still connected"
		case <-time.After(10 * time.Second):
			return "no answer"
		}
	}
}

func waitToken(tok interface{ Done() <-chan struct{} }) <-chan struct{} { return tok.Done() }

func mosqPublisher(host, port, version string) func(*testing.T, string) string {
	return func(t *testing.T, topic string) string {
		code, out := mosquitto(t, "mosquitto_pub", "-h", host, "-p", port, "-V", version, "-q", "1",
			"-u", "alice", "-P", "alice-pw", "-t", topic, "-m", "x")
		return fmt.Sprintf("exit %d: %s", code, strings.TrimSpace(out))
	}
}

// TestWillDenied: a will on a topic the client may not publish to is
// discarded at CONNECT (counted, logged); an allowed will is sent.
func TestWillDenied(t *testing.T) {
	f, s := aclServer(t)
	w := newWatcher(t, s)
	for _, tt := range []struct {
		topic     string
		delivered bool
	}{{"forbidden/will", false}, {"sensors/alice/will", true}} {
		before := f.counter(t, "denied", ActionPublish)
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		c := paho.NewClient(paho.ClientConfig{ClientID: "will", Conn: conn})
		ctx, cancel := testContext()
		_, err = c.Connect(ctx, &paho.Connect{ClientID: "will", CleanStart: true, KeepAlive: 30,
			UsernameFlag: true, Username: "alice", PasswordFlag: true, Password: []byte("alice-pw"),
			WillMessage: &paho.WillMessage{Topic: tt.topic, Payload: []byte("gone")}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		conn.Close() // no DISCONNECT: the will is due
		<-c.Done()
		testkit.Eventually(t, 10*time.Second, "will client gone", func() bool {
			_, ok := s.Clients.Get("will")
			return !ok
		})
		if got := slices.Contains(w.received(t), tt.topic); got != tt.delivered {
			t.Errorf("will on %s delivered=%v, want %v", tt.topic, got, tt.delivered)
		}
		want := before
		if !tt.delivered {
			want++
		}
		if got := f.counter(t, "denied", ActionPublish); got != want {
			t.Errorf("acl_denied{publish} = %v, want %v", got, want)
		}
	}
	if !strings.Contains(f.log.String(), "mqtt will message discarded: will topic denied by acl") {
		t.Errorf("no will log line:\n%s", f.log.String())
	}
}

func testContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// TestTopicAlias: an MQTT 5 publish by topic alias is checked against the
// topic the alias stands for (mochi-mqtt alone would check "").
func TestTopicAlias(t *testing.T) {
	f, s := aclServer(t)
	w := newWatcher(t, s)
	c := mustV5(t, s.addr, v5{id: "alias", user: "alice", pass: "alice-pw"})
	pub := func(topic string, alias uint16) byte {
		ctx, cancel := testContext()
		defer cancel()
		pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte("x"),
			Properties: &paho.PublishProperties{TopicAlias: &alias}})
		if pr == nil {
			t.Fatalf("publish %q alias %d: %v", topic, alias, err)
		}
		return pr.ReasonCode
	}
	steps := []struct {
		topic string
		alias uint16
		want  byte
	}{
		{"sensors/alice/by-alias", 1, 0},
		{"", 1, 0},
		{"forbidden/by-alias", 2, 0x87},
		{"", 2, 0x87},
	}
	for _, st := range steps {
		if got := pub(st.topic, st.alias); got != st.want {
			t.Fatalf("publish %q with alias %d: 0x%02x, want 0x%02x", st.topic, st.alias, got, st.want)
		}
	}
	got := w.received(t)
	if n := strings.Count(strings.Join(got, " "), "sensors/alice/by-alias"); n != 2 || slices.Contains(got, "forbidden/by-alias") {
		t.Fatalf("watcher got %v", got)
	}
	if d := f.counter(t, "denied", ActionPublish); d != 2 {
		t.Fatalf("acl_denied{publish} = %v", d)
	}
}
