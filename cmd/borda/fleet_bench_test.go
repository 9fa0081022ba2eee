package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

// BenchmarkFleet measures readings/s through the fleet topology: three
// edge bordas (20 simulated devices each, QoS 1, as fast as they go)
// bridge to Mosquitto; one or two collectors share the subscription. The
// clock runs from the simulators' start until the collectors have stored
// as many samples of the edges' devices as the edges stored themselves
// (counted through the query API, so redeliveries are not counted twice).
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
		want := 0.0
		for _, e := range edges {
			want += countSamples(bt, e.http, fmt.Sprintf(`{device_id=~"%s-.*"}`, e.name))
		}
		testkit.Eventually(bt, 5*time.Minute, "collectors caught up", func() bool {
			got := 0.0
			for _, c := range cs {
				got += countSamples(bt, c.http, `{node=~"edge-.+", __name__!~"borda_.*"}`)
			}
			return got >= want
		})
		elapsed := time.Since(start)
		b.ReportMetric(float64(msgs)/elapsed.Seconds(), "readings/s")
		b.ReportMetric(simDone.Seconds(), "publish_s")
		b.ReportMetric(elapsed.Seconds(), "end_to_end_s")
	}
}

// countSamples is the number of samples of selector stored in the last
// hour (0 when there are none).
func countSamples(t testing.TB, baseURL, selector string) float64 {
	t.Helper()
	res := promQueryAt(t, baseURL, "sum(count_over_time("+selector+"[1h]))")
	if len(res) == 0 || len(res[0].Value) != 2 {
		return 0
	}
	v, _ := strconv.ParseFloat(fmt.Sprint(res[0].Value[1]), 64)
	return v
}
