package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

// outage is how long the cloud broker is down in TestUplinkOutageWithKill
// (the scenario: 60 s).
const outage = 60 * time.Second

// TestUplinkOutageWithKill is the seed's failure case: readings stream to
// the cloud through an uplink MQTT bridge; the cloud broker goes down for
// a minute; borda is killed with SIGKILL during the outage while four
// clients publish at QoS 1 and restarted; then the cloud comes back. Every
// reading borda acknowledged must reach the cloud, in order per topic
// (first occurrences); duplicates are counted. Afterwards a cloud command
// reaches a local subscriber through the in mapping and is not echoed back.
func TestUplinkOutageWithKill(t *testing.T) {
	t.Parallel()
	cloud := simtest.StartMosquitto(t, simtest.Options{Persistent: true})
	rcv := simtest.NewReceiver(t, cloud.Addr, "site1/#")
	bin := buildBorda(t)
	mqttPort, httpPort := testkit.FreePort(t), testkit.FreePort(t)
	cfgFile := writeFile(t, "borda.yaml", fmt.Sprintf(`data_dir: %s
broker:
  listeners: [{name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %d}]
http: {address: 127.0.0.1, port: %d}
uplink:
  mqtt:
    - name: cloud
      address: tcp://%s
      keepalive: 2s
      backoff: {min: 100ms, max: 1s}
      out:
        - {filter: "sensors/#", add_prefix: "site1/", qos: 1}
        - {filter: "cmd/#", add_prefix: "site1/echo/", qos: 1}
      in:
        - {filter: "site1/cmd/#", strip_prefix: "site1/", qos: 1}
`, t.TempDir(), mqttPort, httpPort, cloud.Addr))
	mqttAddr := fmt.Sprintf("127.0.0.1:%d", mqttPort)
	p := testkit.Start(t, bin, "run", "-c", cfgFile)
	testkit.WaitTCP(t, mqttAddr, 20*time.Second)

	// Cloud up: 4 × 100 readings, all delivered.
	up := publishAll(t, mqttAddr, "up", 4, 100)
	waitDelivered(t, rcv, up, 30*time.Second)

	// Cloud down; borda killed while 4 publishers stream at QoS 1.
	cloud.Stop(t)
	downAt := time.Now()
	var total atomic.Int64
	acked := map[string][]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for n := range 4 {
		c := v3Client(t, "tcp://"+mqttAddr, fmt.Sprintf("outage-pub-%d", n), true, nil)
		topic := fmt.Sprintf("sensors/outage-%d/temperature", n)
		wg.Go(func() {
			vs := publishUntilBroken(c, topic, &total)
			mu.Lock()
			acked["site1/"+topic] = vs
			mu.Unlock()
		})
	}
	testkit.Eventually(t, 30*time.Second, "2000 readings acknowledged during the outage", func() bool { return total.Load() >= 2000 })
	_ = p.Cmd.Process.Kill()
	wg.Wait()
	p.WaitExit(t, 10*time.Second)
	t.Logf("killed borda with %d readings acknowledged during the outage", total.Load())

	testkit.Start(t, bin, "run", "-c", cfgFile)
	testkit.WaitTCP(t, mqttAddr, 20*time.Second)
	time.Sleep(time.Until(downAt.Add(outage)))
	cloud.Start(t)
	for topic, vs := range acked {
		up[topic] = vs
	}
	dups := waitDelivered(t, rcv, up, 60*time.Second)
	t.Logf("all %d acknowledged readings delivered after a %v outage and a SIGKILL; %d duplicates", countAll(up), outage, dups)

	status := newReceived()
	sc := v3Client(t, "tcp://"+mqttAddr, "status-sub", true, status)
	waitToken(t, "subscribe status", sc.Subscribe("borda/uplink/cloud/status", 1, nil))
	if m := status.wait(t, 1)[0]; m.payload != "online" || !m.retain {
		t.Errorf("status %+v, want retained online", m)
	}
	checkCommandRoundTrip(t, mqttAddr, cloud.Addr, rcv)
}

// publishAll publishes values 0..n-1 as {"value":i} at QoS 1 on
// sensors/<prefix>-<k>/temperature for k < topics and returns the cloud
// topics with their values.
func publishAll(t *testing.T, addr, prefix string, topics, n int) map[string][]int {
	t.Helper()
	c := v3Client(t, "tcp://"+addr, "pub-"+prefix, true, nil)
	want := map[string][]int{}
	for k := range topics {
		topic := fmt.Sprintf("sensors/%s-%d/temperature", prefix, k)
		for i := range n {
			waitToken(t, "publish", c.Publish(topic, 1, false, fmt.Sprintf(`{"value":%d}`, i)))
			want["site1/"+topic] = append(want["site1/"+topic], i)
		}
	}
	return want
}

func countAll(m map[string][]int) int {
	n := 0
	for _, vs := range m {
		n += len(vs)
	}
	return n
}

// waitDelivered waits until every value of want arrived on its topic and
// checks that first occurrences came in increasing order; it returns the
// number of duplicates.
func waitDelivered(t *testing.T, rcv *simtest.Receiver, want map[string][]int, timeout time.Duration) int {
	t.Helper()
	var missing, dups int
	var order []string
	deadline := time.Now().Add(timeout)
	for {
		missing, dups, order = deliveryReport(t, rcv.Arrivals(), want)
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if missing > 0 {
		t.Fatalf("%d of %d readings never reached the cloud", missing, countAll(want))
	}
	if len(order) > 0 {
		t.Fatalf("order broken: %s", strings.Join(order[:min(5, len(order))], "; "))
	}
	return dups
}

func deliveryReport(t *testing.T, got []simtest.Message, want map[string][]int) (missing, dups int, order []string) {
	seen := map[string]map[int]bool{}
	last := map[string]int{}
	for _, m := range got {
		if _, ok := want[m.Topic]; !ok {
			continue
		}
		var v struct{ Value int }
		if err := json.Unmarshal([]byte(m.Payload), &v); err != nil {
			t.Fatalf("%s: payload %q: %v", m.Topic, m.Payload, err)
		}
		if seen[m.Topic] == nil {
			seen[m.Topic], last[m.Topic] = map[int]bool{}, -1
		}
		if seen[m.Topic][v.Value] {
			dups++
			continue
		}
		if v.Value < last[m.Topic] {
			order = append(order, fmt.Sprintf("%s: %d after %d", m.Topic, v.Value, last[m.Topic]))
		}
		seen[m.Topic][v.Value], last[m.Topic] = true, v.Value
	}
	for topic, vs := range want {
		for _, v := range vs {
			if !seen[topic][v] {
				missing++
			}
		}
	}
	return missing, dups, order
}

// checkCommandRoundTrip: a cloud command on site1/cmd/valve reaches a local
// subscriber as cmd/valve and is not sent back out by the cmd/# out
// mapping (it came from that cloud), while a local cmd/local is.
func checkCommandRoundTrip(t *testing.T, mqttAddr, cloudAddr string, rcv *simtest.Receiver) {
	t.Helper()
	local := newReceived()
	sub := v3Client(t, "tcp://"+mqttAddr, "local-cmd-sub", true, local)
	waitToken(t, "subscribe", sub.Subscribe("cmd/#", 1, nil))
	cloudPub := v3Client(t, "tcp://"+cloudAddr, "cloud-cmd-pub", true, nil)
	waitToken(t, "cloud publish", cloudPub.Publish("site1/cmd/valve", 1, false, "open"))
	got := local.wait(t, 1)
	if got[0].topic != "cmd/valve" || got[0].payload != "open" {
		t.Fatalf("local subscriber got %+v, want cmd/valve open", got[0])
	}
	waitToken(t, "local publish", sub.Publish("cmd/local", 1, false, "ping"))
	testkit.Eventually(t, 30*time.Second, "site1/echo/cmd/local at the cloud", func() bool {
		for _, m := range rcv.Arrivals() {
			if m.Topic == "site1/echo/cmd/local" {
				return true
			}
		}
		return false
	})
	for _, m := range rcv.Arrivals() { // the valve command would have been queued before cmd/local
		if m.Topic == "site1/echo/cmd/valve" {
			t.Fatal("the cloud's command was forwarded back to the cloud")
		}
	}
}
