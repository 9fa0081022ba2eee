package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

// BenchmarkFleet measures readings/s through the fleet topology: three
// edge bordas (20 simulated devices each, QoS 1, as fast as they go)
// bridge to Mosquitto; one or two collectors share the subscription. The
// clock runs from the simulators' start until the collectors have stored
// as many samples as the edges stored themselves (their stores' appended
// counters: a redelivered duplicate is not appended twice).
// Run with
// -benchtime=1x:
//
//	go test ./cmd/borda -run '^$' -bench Fleet -benchtime=1x
func BenchmarkFleet(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("collectors=%d", n), func(b *testing.B) {
			benchFleet(b, n, 100000)
		})
	}
}

func benchFleet(b *testing.B, collectors, perEdge int) {
	bt := b
	bin := buildBorda(bt)
	cloud := simtest.StartMosquitto(bt, simtest.Options{})
	var cs []*fleetNode
	var group []string
	for i := range collectors {
		group = append(group, fmt.Sprintf("central-%d", i))
	}
	for _, name := range group {
		c := collectorConfig(bt, name, cloud.Addr, group)
		c.start(bt, bin)
		cs = append(cs, c)
	}
	var edges []*fleetNode
	for i := 1; i <= 3; i++ {
		e := edgeConfig(bt, fmt.Sprintf("edge-%d", i), cloud.Addr, "")
		e.start(bt, bin)
		edges = append(edges, e)
	}
	time.Sleep(500 * time.Millisecond)
	for b.Loop() {
		start := time.Now()
		reps := simulateEdges(bt, edges, perEdge, 0, 1)
		simDone := time.Since(start)
		msgs := 0 // one reading per message
		for _, r := range reps {
			msgs += int(r.Sent)
		}
		want := storedSamples(bt, edges)
		testkit.Eventually(bt, 5*time.Minute, "collectors caught up", func() bool {
			time.Sleep(50 * time.Millisecond)
			return storedSamples(bt, cs) >= want
		})
		elapsed := time.Since(start)
		b.ReportMetric(float64(msgs)/elapsed.Seconds(), "readings/s")
		b.ReportMetric(simDone.Seconds(), "publish_s")
		b.ReportMetric(elapsed.Seconds(), "end_to_end_s")
	}
}

// storedSamples is the number of samples the nodes appended to their
// stores (self-scrape is off in these configs; a redelivered duplicate is
// not appended again).
func storedSamples(t testing.TB, nodes []*fleetNode) float64 {
	t.Helper()
	n := 0.0
	for _, node := range nodes {
		n += scrapeMetric(t, node.http, "borda_store_samples_appended_total")
	}
	return n
}
