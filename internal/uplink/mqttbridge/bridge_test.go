package mqttbridge

import (
	"fmt"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/borda-edge/borda/internal/simulate/simtest"
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
	rcv := simtest.NewReceiver(t, c.addr, "site1/#")
	r := startBridge(t, testConfig(c.addr), t.TempDir(), nil)
	topics := topicsN("sensors", 10)
	offer(t, r.b, topics, 0, 100)
	testkit.Eventually(t, waitLong, "1000 messages at the cloud", func() bool { return rcv.Distinct() >= 1000 })
	rcv.Check(t, wantAll(topics, 100))
	testkit.Eventually(t, waitLong, "sent_total 1000", func() bool { return testutil.ToFloat64(r.b.met.Sent) >= 1000 })
}

// TestOutage: the cloud is down at start, then killed and restarted mid-stream.
func TestOutage(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := simtest.NewReceiver(t, c.addr, "site1/#") // its persistent session survives the restarts
	c.stop()
	r := startBridge(t, testConfig(c.addr), t.TempDir(), nil)
	topics := topicsN("sensors", 5)
	offer(t, r.b, topics, 0, 100) // 500, queued while the cloud is down
	c.start()
	testkit.Eventually(t, waitLong, "first 500 at the cloud", func() bool { return rcv.Distinct() >= 500 })
	rcv.Check(t, wantAll(topics, 100))

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 100; i < 200; i++ { // paced so the kill lands mid-stream
			offer(t, r.b, topics, i, i+1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	testkit.Eventually(t, waitLong, "part of the second 500", func() bool { return rcv.Distinct() >= 600 })
	c.stop()
	t.Logf("cloud stopped after %d distinct messages", rcv.Distinct())
	c.start()
	<-done
	testkit.Eventually(t, waitLong, "all 1000 at the cloud", func() bool { return rcv.Distinct() >= 1000 })
	rcv.Check(t, wantAll(topics, 200))
	t.Logf("retries_total = %v", testutil.ToFloat64(r.b.met.Retries))
}

// TestReopen: a backlog left by a closed bridge is delivered by the next one.
func TestReopen(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := simtest.NewReceiver(t, c.addr, "site1/#")
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
	testkit.Eventually(t, waitLong, "backlog of 300 at the cloud", func() bool { return rcv.Distinct() >= 300 })
	rcv.Check(t, wantAll(topics, 100))
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
	if p := local.find("cmd/line1")[0]; p.payload != "start" || p.origin != cfg.Name {
		t.Errorf("command payload %q origin %q, want start from %q", p.payload, p.origin, cfg.Name)
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

// TestPriorityDrain: alerts queued after a telemetry backlog reach the
// cloud before any of it when the link comes back.
func TestPriorityDrain(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := simtest.NewReceiver(t, c.addr, "site1/#")
	c.stop()
	r := startBridge(t, testConfig(c.addr), t.TempDir(), nil)
	offer(t, r.b, []string{"sensors/dev0/temp"}, 0, 300) // low
	offer(t, r.b, []string{"alerts/dev0/HIGH_TEMPERATURE"}, 0, 10)
	c.start()
	testkit.Eventually(t, waitLong, "310 at the cloud", func() bool { return rcv.Distinct() >= 310 })
	for i, m := range rcv.Arrivals()[:10] {
		if m.Topic != "site1/alerts/dev0/HIGH_TEMPERATURE" || m.Payload != fmt.Sprint(i) {
			t.Fatalf("arrival %d is %s %q, want alert %d first", i, m.Topic, m.Payload, i)
		}
	}
	rcv.Check(t, map[string]int{"site1/sensors/dev0/temp": 300, "site1/alerts/dev0/HIGH_TEMPERATURE": 10})
}

// TestRetentionDropsOldest: with the cloud down and a byte bound on the
// queue, the oldest entries are dropped and counted; exactly the newest
// ones arrive, and arrived + dropped = offered.
func TestRetentionDropsOldest(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := simtest.NewReceiver(t, c.addr, "site1/#")
	c.stop()
	cfg := testConfig(c.addr)
	cfg.Queue.MaxBytes = 4000 // about 100 of the 200 entries below
	r := startBridge(t, cfg, t.TempDir(), nil)
	const offered = 200
	for i := range offered {
		if err := r.b.Offer(t.Context(), "sensors/dev0/temp", fmt.Appendf(nil, "%04d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	n := testkit.MetricValue(t, r.reg, "borda_uplink_queue_dropped_total", "reason", "max_bytes")
	if n < 50 || n >= offered {
		t.Fatalf("dropped %v of %d with max_bytes %d", n, offered, cfg.Queue.MaxBytes)
	}
	c.start()
	kept := offered - int(n)
	testkit.Eventually(t, waitLong, fmt.Sprintf("the %d kept at the cloud", kept), func() bool { return rcv.Distinct() >= kept })
	time.Sleep(200 * time.Millisecond) // nothing more may come
	got := rcv.Arrivals()
	if len(got) < kept {
		t.Fatalf("%d arrived, want %d", len(got), kept)
	}
	for i, m := range got[:kept] {
		if want := fmt.Sprintf("%04d", int(n)+i); m.Payload != want {
			t.Fatalf("arrival %d = %q, want %q (the newest %d, in order)", i, m.Payload, want, kept)
		}
	}
	if rcv.Distinct() != kept {
		t.Fatalf("%d distinct arrived, want exactly the %d kept", rcv.Distinct(), kept)
	}
}

// TestTLS: the bridge reaches a cloud broker over TLS (mqtts://),
// verifying the server against the configured CA; a wrong CA is refused.
func TestTLS(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{TLS: true})
	rcv := simtest.NewReceiver(t, m.Addr, "site1/#")
	cfg := testConfig(m.TLSAddr)
	cfg.Address = "mqtts://" + m.TLSAddr
	cfg.TLS.CAFile = m.CAFile
	r := startBridge(t, cfg, t.TempDir(), nil)
	offer(t, r.b, []string{"sensors/tls/temp"}, 0, 50)
	testkit.Eventually(t, waitLong, "50 messages over TLS", func() bool { return rcv.Distinct() >= 50 })
	rcv.Check(t, map[string]int{"site1/sensors/tls/temp": 50})
	r.close(t)

	other := simtest.StartMosquitto(t, simtest.Options{TLS: true}) // a different self-signed CA
	cfg.Name = "wrong-ca"
	cfg.TLS.CAFile = other.CAFile
	r = startBridge(t, cfg, t.TempDir(), nil)
	testkit.Eventually(t, waitLong, "connection attempts refused", func() bool {
		return testutil.ToFloat64(r.b.met.ConnectFailures) >= 2
	})
	if testutil.ToFloat64(r.b.met.Connected) != 0 {
		t.Fatal("connected with a CA that did not sign the server's certificate")
	}
}

// TestPauseResume: a paused bridge disconnects and sends nothing while
// offers keep queueing; after Resume the backlog arrives.
func TestPauseResume(t *testing.T) {
	c := newCloud(t)
	c.start()
	rcv := simtest.NewReceiver(t, c.addr, "site1/#")
	r := startBridge(t, testConfig(c.addr), t.TempDir(), nil)
	testkit.Eventually(t, waitLong, "connected", func() bool { return testutil.ToFloat64(r.b.met.Connected) == 1 })
	r.b.Pause()
	testkit.Eventually(t, waitLong, "disconnected by Pause", func() bool { return testutil.ToFloat64(r.b.met.Connected) == 0 })
	offer(t, r.b, []string{"sensors/p/temp"}, 0, 50)
	time.Sleep(300 * time.Millisecond) // several backoff periods: it must not reconnect
	if n := rcv.Distinct(); n != 0 || testutil.ToFloat64(r.b.met.Connected) != 0 {
		t.Fatalf("paused bridge delivered %d messages (connected %v)", n, testutil.ToFloat64(r.b.met.Connected))
	}
	r.b.Resume()
	testkit.Eventually(t, waitLong, "backlog after Resume", func() bool { return rcv.Distinct() >= 50 })
	rcv.Check(t, map[string]int{"site1/sensors/p/temp": 50})
}

// TestRemoteStatus: the gateway's retained status on the cloud broker is
// "online" while the bridge is connected, "offline" from its will when the
// connection breaks without a goodbye, and "offline" again when the bridge
// stops.
func TestRemoteStatus(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	proxy := testkit.StartProxy(t, m.Addr)
	recv := simtest.NewReceiver(t, m.Addr, "edges/#")
	cfg := testConfig(proxy.Addr)
	cfg.RemoteStatusTopic = "edges/n1/{name}/status"
	last := func() string {
		a := recv.Arrivals()
		for i := len(a) - 1; i >= 0; i-- {
			if a[i].Topic == "edges/n1/cloud/status" {
				return a[i].Payload
			}
		}
		return ""
	}
	r := startBridge(t, cfg, t.TempDir(), &fakeLocal{})
	testkit.Eventually(t, waitLong, "online on the cloud", func() bool { return last() == "online" })
	proxy.Cut()
	testkit.Eventually(t, waitLong, "offline from the will", func() bool { return last() == "offline" })
	proxy.Restore()
	testkit.Eventually(t, waitLong, "online again", func() bool { return last() == "online" })
	r.close(t)
	testkit.Eventually(t, waitLong, "offline after close", func() bool { return last() == "offline" })
}
