package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
)

// TestLineProtocolWritesEndToEnd: InfluxDB's own Go client (API v2, gzip)
// and a Telegraf-style 1.x POST write into borda; the points are then read
// back through the Prometheus API: fields become <measurement>_<field>,
// tags become labels, integers and floats are one series.
func TestLineProtocolWritesEndToEnd(t *testing.T) {
	g := startGateway(t, testConfig(t))
	base := g.httpURL()

	client := influxdb2.NewClientWithOptions(base, "no-token",
		influxdb2.DefaultOptions().SetUseGZip(true).SetPrecision(time.Millisecond))
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ok, err := client.Ping(ctx); err != nil || !ok {
		t.Fatalf("InfluxDB client ping: %v %v", ok, err)
	}
	w := client.WriteAPIBlocking("edge", "telemetry")
	now := time.Now().Truncate(time.Millisecond)
	for i, v := range []any{21, 21.5, int64(22)} { // int and float: one series
		p := influxdb2.NewPoint("boiler", map[string]string{"site": "plant-1"},
			map[string]any{"temperature": v, "on": true}, now.Add(time.Duration(i-3)*time.Second))
		if err := w.WritePoint(ctx, p); err != nil {
			t.Fatalf("InfluxDB client write %d: %v", i, err)
		}
	}
	// A bad line in a v2 batch: the client reports the partial write.
	if err := w.WriteRecord(ctx, "boiler,site=plant-1 temperature=\"hot\""); err == nil {
		t.Fatal("a line with only a string field was accepted")
	}

	body := "cpu,host=edge-01,cpu=cpu0 usage_idle=97.5,usage_user=1.5 " + strconv.FormatInt(now.Unix(), 10) + "\n"
	resp, err := http.Post(base+"/write?db=telegraf&precision=s", "text/plain; charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /write: %d, want 204", resp.StatusCode)
	}

	api := promClient(t, base)
	checks := []struct {
		q    string
		want float64
	}{
		{`count_over_time(boiler_temperature{site="plant-1"}[1m])`, 3},
		{`boiler_temperature{site="plant-1"}`, 22},
		{`boiler_on{site="plant-1"}`, 1},
		{`cpu_usage_idle{host="edge-01",cpu="cpu0"}`, 97.5},
	}
	for _, c := range checks {
		if got := queryScalar(t, api, c.q); got != c.want {
			t.Errorf("%s = %v, want %v", c.q, got, c.want)
		}
	}
	if got := g.metric(t, "borda_write_points_total"); got != 4 {
		t.Errorf("borda_write_points_total = %v, want 4", got)
	}
	if got := g.metric(t, `borda_write_rejected_lines_total{reason="no_numeric_field"}`); got != 1 {
		t.Errorf("rejected no_numeric_field = %v, want 1", got)
	}
}
