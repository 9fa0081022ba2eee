package dashboard

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/borda-edge/borda/internal/testkit"
)

// testRegistry holds some of the metrics borda's components register.
type testRegistry struct {
	*prometheus.Registry
	received prometheus.Counter
	samples  prometheus.Counter
	clients  prometheus.Gauge
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := &testRegistry{Registry: prometheus.NewRegistry(),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_mqtt_messages_received_total"}),
		samples:  prometheus.NewCounter(prometheus.CounterOpts{Name: "borda_store_samples_appended_total"}),
		clients:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_mqtt_clients_connected"}),
	}
	r.MustRegister(r.received, r.samples, r.clients)
	return r
}

func TestOverview(t *testing.T) {
	reg := newTestRegistry(t)
	connected := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_uplink_connected"}, []string{"output"})
	entries := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_uplink_queue_entries"}, []string{"output"})
	linkUp := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "borda_netmon_link_up"}, []string{"uplink"})
	cpu := prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_netmon_cpu_usage_ratio"})
	vision := prometheus.NewGauge(prometheus.GaugeOpts{Name: "borda_vision_frames_total"})
	reg.MustRegister(connected, entries, linkUp, cpu, vision)
	connected.WithLabelValues("cloud").Set(1)
	entries.WithLabelValues("cloud").Set(42)
	entries.WithLabelValues("influx").Set(7)
	linkUp.WithLabelValues("eth0").Set(1)
	cpu.Set(0.25)
	reg.clients.Set(3)

	clock := testkit.NewClock(t0)
	started := t0.Add(-time.Hour)
	c := &collector{gatherer: reg, info: Info{Node: "n1", Site: "plant-a", Labels: map[string]string{"line": "3"}, Version: "v1", Started: started},
		dataDir: t.TempDir(), now: clock.Now, interval: 500 * time.Millisecond}
	o := c.get()
	if o.Node != "n1" || o.Site != "plant-a" || o.Labels["line"] != "3" || o.Uptime != 3600 || o.Broker.Clients != 3 || o.Vision == nil {
		t.Errorf("overview %+v", o)
	}
	wantOut := []Output{{Name: "cloud", Connected: true, Backlog: 42}, {Name: "influx", Backlog: 7}}
	if b, w := mustJSON(t, o.Uplink), mustJSON(t, wantOut); b != w {
		t.Errorf("uplink %s, want %s", b, w)
	}
	if len(o.Links) != 1 || !o.Links[0].Up || o.Links[0].Reachable {
		t.Errorf("links %+v", o.Links)
	}
	if o.Resources.CPU == nil || *o.Resources.CPU != 0.25 || o.Resources.Disk == nil || o.Resources.Memory != nil {
		t.Errorf("resources %s", mustJSON(t, o.Resources))
	}

	// Within the interval the same overview is served; after it, rates are
	// computed over the time between gatherings.
	reg.received.Add(100)
	clock.Advance(100 * time.Millisecond)
	if c.get() != o {
		t.Error("rebuilt within the interval")
	}
	clock.Advance(time.Second)
	if o2 := c.get(); o2.Broker.ReceivedRate < 90 || o2.Broker.ReceivedRate > 91 {
		t.Errorf("received rate %v, want 100 per 1.1 s", o2.Broker.ReceivedRate)
	}
}

func TestOverviewWithoutComponents(t *testing.T) {
	c := &collector{gatherer: prometheus.NewRegistry(), now: time.Now, interval: time.Second}
	o := c.get()
	if o.Uplink != nil || o.Links != nil || o.Online != nil || o.Vision != nil || o.Resources.CPU != nil {
		t.Errorf("absent components must be null: %s", mustJSON(t, o))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCameraRates: per-camera fps and inference latency from the vision
// metrics; no cameras without them.
func TestCameraRates(t *testing.T) {
	reg := prometheus.NewRegistry()
	cam := []string{"camera"}
	frames := prometheus.NewCounterVec(prometheus.CounterOpts{Name: visFrames}, cam)
	processed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: visProcessed}, cam)
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: visDropped}, []string{"camera", "reason"})
	infer := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: visInfer}, cam)
	detect := prometheus.NewCounterVec(prometheus.CounterOpts{Name: visDetect}, []string{"camera", "label"})
	reg.MustRegister(frames, processed, dropped, infer, detect)
	var r cameraRates
	if got := r.update(t0, gather(prometheus.NewRegistry())); got != nil {
		t.Fatalf("cameras without vision metrics: %+v", got)
	}
	frames.WithLabelValues("door").Add(0)
	processed.WithLabelValues("door").Add(0)
	r.update(t0, gather(reg))

	frames.WithLabelValues("door").Add(100)
	processed.WithLabelValues("door").Add(40)
	dropped.WithLabelValues("door", "busy").Add(60)
	infer.WithLabelValues("door").Observe(0.02)
	infer.WithLabelValues("door").Observe(0.04)
	detect.WithLabelValues("door", "person").Add(3)
	got := r.update(t0.Add(10*time.Second), gather(reg))
	if len(got) != 1 {
		t.Fatalf("cameras %+v", got)
	}
	c := got[0]
	if c.Name != "door" || c.FPSIn != 10 || c.FPSProcessed != 4 || c.FPSDropped != 6 ||
		c.Inference < 0.0299 || c.Inference > 0.0301 || c.Counts["person"] != 3 {
		t.Errorf("camera %s", mustJSON(t, c))
	}
}
