package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// sampleReport has a passing Mosquitto result, a passing borda result
// with ratios and a borda result that lost readings.
func sampleReport() Report {
	lat := simulate.Percentiles{Count: 1_000_000, P50: 1500 * time.Microsecond, P90: 3 * time.Millisecond,
		P99: 12250 * time.Microsecond, Max: 40 * time.Millisecond}
	ack := simulate.Percentiles{Count: 500_000, P50: 250 * time.Microsecond, P90: 500 * time.Microsecond,
		P99: 2 * time.Millisecond, Max: 9 * time.Millisecond}
	delivered, stored, lossy := int64(1_000_000), int64(500_000), int64(499_990)
	disk, per := int64(12_000_000), 24.0
	rs := []Result{
		{Scenario: "mosquitto-qos0", Server: ServerMosquitto, Sent: 1_000_000, Delivered: &delivered,
			PublishS: 5, DrainS: 0.25, ServerCPU: 4, IdleRSS: 8 << 20, PeakRSS: 9 << 20, SimCPU: 1.25,
			DeliveryLatency: &lat},
		{Scenario: "borda-ingest-qos1", Server: ServerBorda, QoS: 1, Sent: 500_000, Stored: &stored,
			PublishS: 10, ServerCPU: 8, IdleRSS: 30 << 20, PeakRSS: 90 << 20, DiskBytes: &disk, SimCPU: 2,
			AckLatency: &ack},
		{Scenario: "borda-ingest-qos0", Server: ServerBorda, Sent: 500_000, Stored: &lossy,
			PublishS: 2, DrainS: 0.5, ServerCPU: 2, IdleRSS: 30 << 20, PeakRSS: 100 << 20, SimCPU: 0.5},
	}
	rs[2].setStored(simulate.VerifyReport{Expected: 500_000, Stored: 499_990, Missing: 10,
		MissingByDevice: map[string]int64{"bench-00007": 10}})
	for i := range rs {
		rs[i].finish()
	}
	rs[1].DiskPerSample = &per
	addRatios(rs)
	return Report{
		Load:    Load{Devices: 1000, Conns: 8, Duration: 10 * time.Second, Profile: "factory", Seed: 1},
		Machine: Machine{CPUs: 2, CPUModel: "Test CPU", Kernel: "6.1.0", Go: "go1.26.8", Borda: "borda dev", Mosquitto: "2.0.11"},
		Results: rs,
	}
}

func TestWriteTables(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().Write(&buf, false); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("tables differ from %s (go test -update rewrites it):\n%s", golden, buf.Bytes())
	}
}

func TestWriteJSON(t *testing.T) {
	rep := sampleReport()
	var buf bytes.Buffer
	if err := rep.Write(&buf, true); err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK      bool           `json:"ok"`
		Load    map[string]any `json:"load"`
		Machine Machine        `json:"machine"`
		Results []Result       `json:"results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if got.OK {
		t.Error(`"ok": true for a report with a lossy result`)
	}
	if got.Load["duration_s"] != 10.0 || got.Load["devices"] != 1000.0 {
		t.Errorf("load = %v", got.Load)
	}
	if !reflect.DeepEqual(got.Machine, rep.Machine) {
		t.Errorf("machine = %+v, want %+v", got.Machine, rep.Machine)
	}
	if !reflect.DeepEqual(got.Results, rep.Results) {
		t.Errorf("results do not survive JSON:\n got %+v\nwant %+v", got.Results, rep.Results)
	}
	var raw struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"scenario", "ok", "sent", "lost", "rate", "server_cpu_s",
		"server_cpu_s_per_100k", "idle_rss_bytes", "peak_rss_bytes", "sim_cpu_s"} {
		if _, ok := raw.Results[0][key]; !ok {
			t.Errorf("results[0] has no %q: %v", key, raw.Results[0])
		}
	}
	if _, ok := raw.Results[0]["stored"]; ok {
		t.Error("mosquitto's result has a stored count")
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}
