package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

// fleetNode is one borda process of the topology.
type fleetNode struct {
	name, conf, mqtt, http string
	proc                   *testkit.Process
}

func (n *fleetNode) start(t testing.TB, bin string) {
	t.Helper()
	p := testkit.Start(t, bin, "run", "-c", n.conf)
	n.proc = p
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", n.name, tail(p.Output(), 3000))
		}
	})
	testkit.Eventually(t, 20*time.Second, n.name+" ready", func() bool {
		code, _ := httpGetCode(n.http + "/readyz")
		return code == 200
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// edgeConfig: a site gateway whose readings (convention topics) are bridged
// to the cloud broker under edge/<node>/ and remote-written with its labels.
func edgeConfig(t testing.TB, name, cloud, victoria string) *fleetNode {
	n := &fleetNode{name: name, mqtt: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
		http: fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t))}
	n.conf = writeFile(t, name+".yaml", fmt.Sprintf(`data_dir: %s
log: {format: json}
node: {name: %s, site: plant-a}
store: {self_scrape_interval: 0s}   # the benchmark compares appended samples
broker:
  listeners: [{name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %s}]
http: {address: 127.0.0.1, port: %s}
rules: {rules: []}
uplink:
  mqtt:
    - name: cloud
      address: tcp://%s
      client_id: "{node}-bridge"
      out: [{filter: "+/+/+", add_prefix: "edge/{node}/", qos: 1}]
      backoff: {min: 50ms, max: 1s}
%s`, t.TempDir(), name, port(n.mqtt), port(n.http), cloud, remoteWrite(victoria)))
	return n
}

// collectorConfig: a central borda that ingests every edge's bridged
// topics from the cloud broker through one shared subscription, keeping the
// node as a label.
// group lists the collectors sharing the subscription (peers; fewer than
// two: none).
func collectorConfig(t testing.TB, name, cloud string, group []string) *fleetNode {
	n := &fleetNode{name: name, mqtt: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
		http: fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t))}
	n.conf = writeFile(t, name+".yaml", fmt.Sprintf(`data_dir: %s
log: {format: json}
node: {name: %s}
store: {self_scrape_interval: 0s}
broker:
  listeners: [{name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %s}]
http: {address: 127.0.0.1, port: %s}
rules: {rules: []}
ingest:
  subscriptions: []
  mappings:
    - topic: edge/+/+/+/+
      levels: ["", node, device_type, device_id, metric]
      measurement: "{device_type}_{metric}"
      topic_tags: [node, device_type, device_id]
      tags: [location]                 # the edge's convention, under edge/<node>/
      tag_defaults: {location: unknown}
      field_defaults: {quality: 1}
attach:
  - name: cloud
    address: mqtt://%s
    client_id: %s
    subscriptions: ["$share/collectors/edge/+/+/+/+"]
    session_expiry: 1h
    backoff: {min: 50ms, max: 500ms}
%s`, t.TempDir(), name, port(n.mqtt), port(n.http), cloud, name, peers(group)))
	return n
}

// peers is the attachment's peers line for a collector group.
func peers(group []string) string {
	if len(group) < 2 {
		return ""
	}
	return fmt.Sprintf("    peers: {client_ids: [%s], adopt_after: 500ms}\n", strings.Join(group, ", "))
}

// remoteWrite is the edge's remote_write section ("" without a server).
func remoteWrite(victoria string) string {
	if victoria == "" {
		return ""
	}
	return fmt.Sprintf(`  remote_write:
    - name: victoria
      url: %s/api/v1/write
      alerts: false
      flush_interval: 200ms
      backoff: {min: 50ms, max: 1s}
`, victoria)
}

func port(hostport string) string { return hostport[strings.LastIndexByte(hostport, ':')+1:] }

// samplesByNode returns the raw stored samples of every series with a node
// label: node -> set of "series@ms".
func samplesByNode(t testing.TB, baseURL string) map[string]map[string]bool {
	t.Helper()
	return rawSamples(t, baseURL, `{node=~"edge-.+", __name__!~"borda_.*"}`, "node")
}

// localSamples counts the samples an edge stored itself for its devices.
func localSamples(t testing.TB, e *fleetNode) int {
	t.Helper()
	return len(rawSamples(t, e.http, fmt.Sprintf(`{device_id=~"%s-.*"}`, e.name), "")[""])
}

// rawSamples returns the raw samples of the last hour of selector, grouped
// by the value of label by: group -> set of "series@ms".
func rawSamples(t testing.TB, baseURL, selector, by string) map[string]map[string]bool {
	t.Helper()
	q := url.Values{"query": {selector + "[1h]"}}
	body := httpGet(t, baseURL+"/api/v1/query?"+q.Encode(), 200)
	var res struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("query answer: %v\n%s", err, tail(body, 500))
	}
	out := map[string]map[string]bool{}
	for _, s := range res.Data.Result {
		node := s.Metric[by]
		if out[node] == nil {
			out[node] = map[string]bool{}
		}
		key := seriesKey(s.Metric)
		for _, v := range s.Values {
			out[node][fmt.Sprintf("%s@%v", key, v[0])] = true
		}
	}
	return out
}

func seriesKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// edgeSamples is what every edge stored locally (the collectors decode
// the same payloads into the same samples): by edge name.
func edgeSamples(t *testing.T, edges []*fleetNode, sent []int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for i, e := range edges {
		testkit.Eventually(t, 30*time.Second, e.name+" stored its readings", func() bool {
			out[e.name] = localSamples(t, e)
			return out[e.name] >= sent[i]
		})
	}
	return out
}

// readings is the number of readings the simulator reports say were sent.
func readings(reps []simulate.Report) []int {
	out := make([]int, len(reps))
	for i, r := range reps {
		for _, d := range r.Devices {
			for _, c := range d.Series {
				out[i] += int(c)
			}
		}
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// simulateEdges runs one simulator per edge at once (QoS 1, own device
// prefix) and returns their reports.
func simulateEdges(t testing.TB, edges []*fleetNode, count int, rate, seed int) []simulate.Report {
	t.Helper()
	reps := make([]simulate.Report, len(edges))
	var wg sync.WaitGroup
	for i, e := range edges {
		wg.Go(func() {
			reps[i] = runSimulateJSON(t, "--broker", "tcp://"+e.mqtt, "--devices", "20", "--qos", "1",
				"--count", fmt.Sprint(count), "--rate", fmt.Sprint(rate), "--quiet", "--profile", "factory",
				"--device-prefix", e.name, "--client-id", fmt.Sprintf("sim-%s-%d", e.name, seed), "--seed", fmt.Sprint(seed))
		})
	}
	wg.Wait()
	return reps
}

// union merges the collectors' samples and counts those stored twice.
func union(t *testing.T, collectors []*fleetNode) (all map[string]map[string]bool, perCollector []int, twice int) {
	all = map[string]map[string]bool{}
	for _, c := range collectors {
		n := 0
		for node, set := range samplesByNode(t, c.http) {
			if all[node] == nil {
				all[node] = map[string]bool{}
			}
			for k := range set {
				if all[node][k] {
					twice++
				}
				all[node][k] = true
				n++
			}
		}
		perCollector = append(perCollector, n)
	}
	return all, perCollector, twice
}

func total(m map[string]map[string]bool) int {
	n := 0
	for _, s := range m {
		n += len(s)
	}
	return n
}

// TestFleetTopology: three edge bordas with simulated devices bridge to a
// Mosquitto playing the cloud broker; two central borda collectors share
// one subscription. Every reading is stored exactly once across the
// collectors with the right node label; when a collector is killed
// mid-run the other adopts its session and stores its share while it is
// down, and nothing is missing once it is back; the edges' remote_write
// reaches VictoriaMetrics with node and site labels.
func TestFleetTopology(t *testing.T) {
	bin := buildBorda(t)
	cloud := simtest.StartMosquitto(t, simtest.Options{})
	vm := testkit.StartVictoria(t)
	group := []string{"central-a", "central-b"}
	collectors := []*fleetNode{collectorConfig(t, "central-a", cloud.Addr, group), collectorConfig(t, "central-b", cloud.Addr, group)}
	for _, c := range collectors {
		c.start(t, bin)
	}
	var edges []*fleetNode
	for i := 1; i <= 3; i++ {
		e := edgeConfig(t, fmt.Sprintf("edge-%d", i), cloud.Addr, vm.URL)
		e.start(t, bin)
		edges = append(edges, e)
	}
	time.Sleep(500 * time.Millisecond) // subscriptions and bridges up
	// Each edge reports its bridge on the cloud broker (retained, with a will).
	status := simtest.NewReceiver(t, cloud.Addr, "borda/+/uplink/cloud/status")
	testkit.Eventually(t, 10*time.Second, "every edge online on the cloud", func() bool {
		online := map[string]bool{}
		for _, m := range status.Arrivals() {
			online[m.Topic] = m.Payload == "online"
		}
		for _, e := range edges {
			if !online["borda/"+e.name+"/uplink/cloud/status"] {
				return false
			}
		}
		return true
	})

	// Phase 1: everything up. Exactly once across the two collectors.
	reps := simulateEdges(t, edges, 600, 600, 1)
	local := edgeSamples(t, edges, readings(reps))
	want := sum(local)
	var all map[string]map[string]bool
	var per []int
	var twice int
	testkit.Eventually(t, 60*time.Second, fmt.Sprintf("%d samples at the collectors", want), func() bool {
		all, per, twice = union(t, collectors)
		return total(all) >= want
	})
	if total(all) != want || twice != 0 || per[0]+per[1] != want {
		t.Fatalf("stored %d distinct (%v per collector, %d twice), want %d exactly once", total(all), per, twice, want)
	}
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("the shared subscription did not split the stream: %v", per)
	}
	for _, e := range edges {
		if got := len(all[e.name]); got != local[e.name] {
			t.Fatalf("node %s: %d samples at the collectors, %d on the edge", e.name, got, local[e.name])
		}
	}
	t.Logf("phase 1: readings sent %v, %d samples, split %v", readings(reps), want, per)

	// Phase 2: collector b is killed mid-run and stays down: a adopts b's
	// session (Mosquitto keeps giving b's session its turns of the shared
	// subscription) and stores b's share too.
	done := make(chan []simulate.Report, 1)
	go func() { done <- simulateEdges(t, edges, 1500, 500, 2) }()
	time.Sleep(time.Second)
	a, b := collectors[0], collectors[1]
	if err := syscall.Kill(b.proc.Cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.proc.WaitExit(t, 10*time.Second)
	reps2 := <-done
	sent2 := readings(reps2)
	for i := range sent2 {
		sent2[i] += readings(reps)[i]
	}
	local = edgeSamples(t, edges, sent2)
	want = sum(local)
	testkit.Eventually(t, 30*time.Second, "a adopted b's session", func() bool {
		return scrapeMetric(t, a.http, `borda_attach_adopted_sessions{broker="cloud"}`) == 1
	})
	received := `borda_attach_messages_received_total{broker="cloud"}`
	last := -1.0
	testkit.Eventually(t, 60*time.Second, "a took every message (its count settles)", func() bool {
		n := scrapeMetric(t, a.http, received)
		settled := n == last
		last = n
		time.Sleep(500 * time.Millisecond)
		return settled
	})
	// b comes back: it takes its session over; a had drained it.
	b.start(t, bin)
	testkit.Eventually(t, 90*time.Second, fmt.Sprintf("%d samples after the kill", want), func() bool {
		all, per, twice = union(t, collectors)
		return total(all) >= want
	})
	if total(all) != want {
		t.Fatalf("stored %d distinct samples, want %d", total(all), want)
	}
	// b may get again what a had not yet acknowledged when b took the
	// session back: a few at most, not b's share of the run.
	if got := scrapeMetric(t, b.http, received); got > 100 {
		t.Fatalf("b received %v messages after it came back: a did not take its share", got)
	}
	for _, e := range edges {
		if got := len(all[e.name]); got != local[e.name] {
			t.Fatalf("node %s: %d samples at the collectors, %d on the edge", e.name, got, local[e.name])
		}
	}
	t.Logf("phase 2: %d samples, per collector %v, %d stored by both (redelivered after the kill)", want, per, twice)

	// remote_write: every edge's readings in VictoriaMetrics with its labels.
	for _, e := range edges {
		var got int
		testkit.Eventually(t, 60*time.Second, e.name+" in VictoriaMetrics", func() bool {
			series, err := vm.Export(fmt.Sprintf(`{node=%q, site="plant-a", device_id=~"%s-.*"}`, e.name, e.name))
			if err != nil {
				return false
			}
			got = 0
			for _, s := range series {
				got += len(s.Values)
			}
			return got >= local[e.name]
		})
		if got != local[e.name] {
			t.Fatalf("%s: %d samples in VictoriaMetrics, %d on the edge", e.name, got, local[e.name])
		}
	}
}

// httpGetCode is GET returning only the status (0 when unreachable).
func httpGetCode(u string) (int, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
