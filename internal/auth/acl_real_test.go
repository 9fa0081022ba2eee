package auth

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

// aclServer serves the matrix rules with users alice, bob, carol,
// "mallory/x" and "+" (password = name + "-pw") and anonymous loopback.
func aclServer(t *testing.T, extra ...Rule) (*fixture, *server) {
	t.Helper()
	file := tempPath(t, "passwd")
	var pairs []string
	for _, u := range []string{"alice", "bob", "carol", "mallory/x", "+", "watch"} {
		pairs = append(pairs, u, u+"-pw")
	}
	writePasswd(t, file, pairs...)
	rules := append(matrixRules(), Rule{"watch", "#", AccessReadWrite})
	f := newFixture(t, Config{PasswordFile: file, Anonymous: AnonymousLoopback, ACL: append(rules, extra...)})
	return f, startServer(t, f.hook, "127.0.0.1:0", nil)
}

func unsubscribeV5(t *testing.T, c *paho.Client, filter string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Unsubscribe(ctx, &paho.Unsubscribe{Topics: []string{filter}}); err != nil {
		t.Fatalf("unsubscribe %s: %v", filter, err)
	}
}

// TestACLMatrixRealClients runs every matrix cell with MQTT 5 clients:
// PUBACK and SUBACK reason codes, deliveries, and the denial counters.
func TestACLMatrixRealClients(t *testing.T) {
	f, s := aclServer(t)
	type conn struct {
		c        *paho.Client
		in       *inbox
		sentinel string
	}
	conns := map[string]*conn{}
	get := func(user, client string) *conn {
		key := user + "|" + client
		if c := conns[key]; c != nil {
			return c
		}
		o := v5{id: client, inbox: newInbox()}
		sentinel := "public/sentinel-" + client
		if user != "" {
			o.user, o.pass, sentinel = user, user+"-pw", "sensors/"+user+"/sentinel"
		}
		c := &conn{c: mustV5(t, s.addr, o), in: o.inbox, sentinel: sentinel}
		if user == "alice" || user == "bob" || user == "" {
			if code := subscribeV5(t, c.c, sentinel); code != 1 {
				t.Fatalf("%s cannot subscribe to its sentinel %s: 0x%02x", user, sentinel, code)
			}
		}
		conns[key] = c
		return c
	}
	for i, mc := range matrixCases() {
		name := fmt.Sprintf("%02d/%s(%s)/%s/%s", i, mc.user, mc.client, mc.action, mc.topic)
		c := get(mc.user, mc.client)
		before := f.counter(t, "denied", mc.action)
		switch mc.action {
		case ActionPublish:
			code := publishV5(t, c.c, mc.topic, 1)
			if (code == 0) != mc.want || (!mc.want && code != packets.ErrNotAuthorized.Code) {
				t.Errorf("%s: PUBACK 0x%02x, want allowed=%v", name, code, mc.want)
			}
		case ActionSubscribe:
			code := subscribeV5(t, c.c, mc.topic)
			if (code == 1) != mc.want || (!mc.want && code != packets.ErrNotAuthorized.Code) {
				t.Errorf("%s: SUBACK 0x%02x, want allowed=%v", name, code, mc.want)
			}
			if code == 1 {
				unsubscribeV5(t, c.c, mc.topic)
			}
		case ActionRead:
			if got := readThrough(t, s, c.c, c.in, mc.via, mc.topic, c.sentinel); got != mc.want {
				t.Errorf("%s: delivered=%v, want %v", name, got, mc.want)
			}
		}
		want := before
		if !mc.want {
			want++
		}
		if got := f.counter(t, "denied", mc.action); got != want {
			t.Errorf("%s: acl_denied{action=%s} = %v, want %v", name, mc.action, got, want)
		}
	}
}

// readThrough subscribes c to via, publishes topic then the sentinel
// in-process, and reports whether topic arrived before the sentinel.
func readThrough(t *testing.T, s *server, c *paho.Client, in *inbox, via, topic, sentinel string) bool {
	t.Helper()
	if code := subscribeV5(t, c, via); code != 1 {
		t.Fatalf("subscribe %s for a read check: 0x%02x", via, code)
	}
	defer unsubscribeV5(t, c, via)
	if err := s.Publish(topic, []byte("m"), false, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(sentinel, []byte("end"), false, 0); err != nil {
		t.Fatal(err)
	}
	got := in.waitFor(t, sentinel)
	in.reset()
	return slices.Contains(got, topic)
}

func (b *inbox) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics = nil
}

// TestSubscribeDeniedV3: MQTT 3.1.1 clients get SUBACK 0x80 for a denied filter.
func TestSubscribeDeniedV3(t *testing.T) {
	f, s := aclServer(t)
	c, _, err := connectV3(t, s.addr, "a1", "alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := c.SubscribeMultiple(map[string]byte{"sensors/alice/#": 1, "sensors/#": 1}, nil)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	res := tok.(interface{ Result() map[string]byte }).Result()
	if res["sensors/alice/#"] != 1 || res["sensors/#"] != 0x80 {
		t.Fatalf("SUBACK codes %v, want sensors/alice/#=1 sensors/#=0x80", res)
	}
	if got := f.counter(t, "denied", ActionSubscribe); got != 1 {
		t.Fatalf("acl_denied{subscribe} = %v", got)
	}
}
