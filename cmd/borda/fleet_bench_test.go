package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

// BenchmarkFleet measures readings/s through the fleet topology: three
// edge bordas (20 simulated devices each, QoS 1, as fast as they go)
// bridge to Mosquitto; one or two collectors share the subscription. The
// clock runs from the simulators' start until every sample the edges
// stored is stored at the collectors. Run with -benchtime=1x:
//
//	go test ./cmd/borda -run '^$' -bench Fleet -benchtime=1x
func BenchmarkFleet(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("collectors=%d", n), func(b *testing.B) {
			benchFleet(b, n, 20000)
		})
	}
}

func benchFleet(b *testing.B, collectors, perEdge int) {
	bt := b
	bin := buildBorda(bt)
	cloud := simtest.StartMosquitto(bt, simtest.Options{})
	var cs []*fleetNode
	for i := range collectors {
		c := collectorConfig(bt, fmt.Sprintf("central-%d", i), cloud.Addr)
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
		want := 0.0
		for _, e := range edges {
			testkit.Eventually(bt, time.Minute, e.name+" stored", func() bool {
				n := countSamples(bt, e.http, fmt.Sprintf(`{device_id=~"%s-.*"}`, e.name))
				if n > 0 && n >= float64(readings(reps)[idx(edges, e)]) {
					want += n
					return true
				}
				return false
			})
		}
		var got float64
		testkit.Eventually(bt, 5*time.Minute, "collectors caught up", func() bool {
			got = 0
			for _, c := range cs {
				got += countSamples(bt, c.http, `{node=~"edge-.+"}`)
			}
			return got >= want
		})
		elapsed := time.Since(start)
		sent := 0
		for _, n := range readings(reps) {
			sent += n
		}
		b.ReportMetric(float64(sent)/elapsed.Seconds(), "readings/s")
		b.ReportMetric(got/elapsed.Seconds(), "samples/s")
		b.ReportMetric(simDone.Seconds(), "publish_s")
		b.ReportMetric(elapsed.Seconds(), "end_to_end_s")
	}
}

// countSamples is sum(count_over_time(selector[1h])) through the query API.
func countSamples(tb testing.TB, baseURL, selector string) float64 {
	q := url.Values{"query": {"sum(count_over_time(" + selector + "[1h]))"}}
	body := httpGet(tb, baseURL+"/api/v1/query?"+q.Encode(), 200)
	var res struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Data.Result) == 0 {
		return 0
	}
	s, _ := res.Data.Result[0].Value[1].(string)
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

func idx(edges []*fleetNode, e *fleetNode) int {
	for i, x := range edges {
		if x == e {
			return i
		}
	}
	return -1
}
