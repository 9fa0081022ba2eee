package mqttbridge

import (
	"fmt"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/link"
)

func topicsN(prefix string, n int) []string {
	ts := make([]string, n)
	for i := range ts {
		ts[i] = fmt.Sprintf("%s/dev%d/temp", prefix, i)
	}
	return ts
}

func wantAll(topics []string, n int) map[string]int {
	w := map[string]int{}
	for _, tp := range topics {
		w["site1/"+tp] = n
	}
	return w
}

// TestOutMapping: 1000 offers reach the cloud with remapped topics, in order per topic.
func TestOutMapping(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := newReceiver(t, c.addr, "site1/#")
	r := startBridge(t, testConfig(c.addr), t.TempDir(), nil)
	topics := topicsN("sensors", 10)
	offer(t, r.b, topics, 0, 100)
	testkit.Eventually(t, waitLong, "1000 messages at the cloud", func() bool { return rcv.distinct() >= 1000 })
	rcv.check(t, wantAll(topics, 100))
	testkit.Eventually(t, waitLong, "sent_total 1000", func() bool { return testutil.ToFloat64(r.b.met.Sent) >= 1000 })
}

// TestOutage: the cloud is down at start, then killed and restarted mid-stream.
func TestOutage(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := newReceiver(t, c.addr, "site1/#") // its persistent session survives the restarts
	c.stop()
	r := startBridge(t, testConfig(c.addr), t.TempDir(), nil)
	topics := topicsN("sensors", 5)
	offer(t, r.b, topics, 0, 100) // 500, queued while the cloud is down
	c.start()
	testkit.Eventually(t, waitLong, "first 500 at the cloud", func() bool { return rcv.distinct() >= 500 })
	rcv.check(t, wantAll(topics, 100))

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 100; i < 200; i++ { // paced so the kill lands mid-stream
			offer(t, r.b, topics, i, i+1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	testkit.Eventually(t, waitLong, "part of the second 500", func() bool { return rcv.distinct() >= 600 })
	c.stop()
	t.Logf("cloud stopped after %d distinct messages", rcv.distinct())
	c.start()
	<-done
	testkit.Eventually(t, waitLong, "all 1000 at the cloud", func() bool { return rcv.distinct() >= 1000 })
	rcv.check(t, wantAll(topics, 200))
	t.Logf("retries_total = %v", testutil.ToFloat64(r.b.met.Retries))
}

// TestReopen: a backlog left by a closed bridge is delivered by the next one.
func TestReopen(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := newReceiver(t, c.addr, "site1/#")
	c.stop()
	dir := t.TempDir()
	r := startBridge(t, testConfig(c.addr), dir, nil)
	topics := topicsN("sensors", 3)
	offer(t, r.b, topics, 0, 100)
	r.close(t)
	if err := r.b.Offer(t.Context(), topics[0], []byte("x"), false); err != ErrClosed {
		t.Errorf("offer after close: %v, want ErrClosed", err)
	}
	startBridge(t, testConfig(c.addr), dir, nil)
	c.start()
	testkit.Eventually(t, waitLong, "backlog of 300 at the cloud", func() bool { return rcv.distinct() >= 300 })
	rcv.check(t, wantAll(topics, 100))
}

// TestInMappingAndStatus: cloud commands reach the local publisher with the
// prefix stripped; the retained status follows the connection.
func TestInMappingAndStatus(t *testing.T) {
	c := newCloud(t)
	c.start()
	local := &fakeLocal{}
	cfg := testConfig(c.addr)
	status := link.StatusTopic(cfg.Name, cfg.StatusTopic)
	r := startBridge(t, cfg, t.TempDir(), local)
	testkit.Eventually(t, waitLong, "status online", func() bool { return local.lastStatus(status) == "online" })
	if got := testutil.ToFloat64(r.b.met.Connected); got != 1 {
		t.Errorf("connected = %v", got)
	}

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + c.addr).SetClientID("cloud-cmd").SetProtocolVersion(4).SetAutoReconnect(false))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	if tok := pub.Publish("site1/cmd/line1", 1, false, "start"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	testkit.Eventually(t, waitLong, "command republished locally", func() bool { return len(local.find("cmd/line1")) > 0 })
	if p := local.find("cmd/line1")[0]; p.payload != "start" {
		t.Errorf("command payload %q", p.payload)
	}
	if got := testutil.ToFloat64(r.b.met.inMessages); got != 1 {
		t.Errorf("in_messages_total = %v", got)
	}
	pub.Disconnect(100)

	c.stop()
	testkit.Eventually(t, waitLong, "status offline", func() bool { return local.lastStatus(status) == "offline" })
	c.start()
	testkit.Eventually(t, waitLong, "status online again", func() bool { return local.lastStatus(status) == "online" })
	r.close(t)
	if got := local.lastStatus(status); got != "offline" {
		t.Errorf("status after close = %q", got)
	}
	for i, p := range local.find(status) {
		if !p.retain {
			t.Errorf("status %d (%s) not retained", i, p.payload)
		}
	}
	t.Logf("status sequence: %d publishes", len(local.find(status)))
}
