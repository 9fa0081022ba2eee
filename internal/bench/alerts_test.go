package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate"
	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
	"go.uber.org/goleak"
)

func TestAlertLoads(t *testing.T) {
	tests := []struct {
		name                    string
		load                    Load
		probeRate, probeDevices float64
		bgRate                  float64
	}{
		{"unpaced run", Load{Devices: 1000, Conns: 8, Duration: time.Second, Profile: "factory"}, 1000, 100, 100_000},
		{"paced above the probe", Load{Devices: 1000, Conns: 8, Rate: 50_000, Duration: time.Second}, 1000, 100, 50_000},
		{"paced below the probe", Load{Devices: 20, Conns: 2, Rate: 400, Duration: time.Second}, 400, 20, 400},
		{"paced above the default background", Load{Devices: 10, Conns: 2, Rate: 200_000, Duration: time.Second}, 1000, 10, 200_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.load.alertProbeConfig("127.0.0.1:1")
			if p.Rate != tt.probeRate || float64(p.Devices) != tt.probeDevices || !p.ExpectAlerts || p.AlertRate != alertProbeShare ||
				p.QoS != 0 || p.Conns != 1 || p.DevicePrefix == "bench" || p.ClientIDPrefix == "borda-bench" || p.Duration != tt.load.Duration {
				t.Errorf("probe %+v", p)
			}
			b := tt.load.backgroundConfig("127.0.0.1:1")
			if b.Rate != tt.bgRate || b.Devices != tt.load.Devices || b.AnomalyRate != 0 || b.AlertRate != 0 || b.ExpectAlerts || b.QoS != 0 {
				t.Errorf("background %+v", b)
			}
			p.Broker = "tcp://127.0.0.1:1883"
			if err := p.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAlertResults: missing alerts are lost and fail the scenario, with
// the counts by type; unexpected ones are a note; nothing expected is a
// failure (nothing was measured).
func TestAlertResults(t *testing.T) {
	lat := simulate.Percentiles{Count: 90, P50: 300 * time.Microsecond, P90: 500 * time.Microsecond, P99: 900 * time.Microsecond,
		Max: 2 * time.Millisecond}
	tests := []struct {
		name       string
		a          simulate.AlertReport
		wantOK     bool
		wantStatus string
		wantLost   int64
		wantErr    string
		wantNote   string
	}{
		{"all received", simulate.AlertReport{Filter: "alerts/#", AlertCounts: simulate.AlertCounts{Expected: 90, Received: 90, Latency: lat},
			Resolved: simulate.AlertCounts{Expected: 89, Received: 89}}, true, "ok", 0, "", ""},
		{"missing", simulate.AlertReport{Filter: "alerts/#", AlertCounts: simulate.AlertCounts{Expected: 100, Received: 90, Missing: 10, Latency: lat},
			Resolved: simulate.AlertCounts{Expected: 99, Received: 97, Missing: 2}, MissingByType: map[string]int64{"HIGH_TEMPERATURE": 8, "HIGH_PRESSURE": 4}},
			false, "LOST 12", 12, "lost 10 of 100 alerts and 2 of 99 resolved events: never received on alerts/# (by type: HIGH_PRESSURE 4, HIGH_TEMPERATURE 8)", ""},
		{"unexpected", simulate.AlertReport{AlertCounts: simulate.AlertCounts{Expected: 5, Received: 5, Unexpected: 2},
			Resolved: simulate.AlertCounts{Unexpected: 1}, WrongValue: 1}, true, "ok", 0, "", "3 alert events matched no reading"},
		{"nothing expected", simulate.AlertReport{}, false, "FAIL", 0, "no reading was expected to raise an alert", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResult(Scenario{Name: "borda-alert-idle", Server: ServerBorda, Alerts: true})
			r.Sent, r.PublishS = 1000, 1
			r.setAlerts(tt.a)
			r.finish()
			if r.OK != tt.wantOK || r.Status() != tt.wantStatus || r.Lost != tt.wantLost {
				t.Errorf("OK %v, status %q, lost %d; errors %q", r.OK, r.Status(), r.Lost, r.Errors)
			}
			if tt.wantErr != "" && !strings.Contains(strings.Join(r.Errors, "\n"), tt.wantErr) {
				t.Errorf("errors %q do not mention %q", r.Errors, tt.wantErr)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tt.wantNote) {
				t.Errorf("notes %q do not mention %q", r.Notes, tt.wantNote)
			}
		})
	}
}

// TestAlertTables: the alert latencies are in the latency table, the
// alert scenarios get no Mosquitto ratio, and the footnote explains lost.
func TestAlertTables(t *testing.T) {
	rep := sampleReport()
	lat := simulate.Percentiles{Count: 500, P50: 310 * time.Microsecond, P90: 450 * time.Microsecond, P99: 950 * time.Microsecond, Max: 3 * time.Millisecond}
	res := newResult(Scenario{Name: "borda-alert-load", Server: ServerBorda, Alerts: true})
	res.Sent, res.PublishS, res.ServerCPU = 1_000_000, 10, 3
	res.setAlerts(simulate.AlertReport{Filter: "alerts/#", QoS: 2, AlertCounts: simulate.AlertCounts{Expected: 500, Received: 500, Latency: lat},
		Resolved: simulate.AlertCounts{Expected: 499, Received: 499, Latency: simulate.Percentiles{Count: 499, P50: lat.P50,
			P90: lat.P90, P99: lat.P99, Max: lat.Max}}})
	res.finish()
	rep.Results = append(rep.Results, res)
	addRatios(rep.Results)
	if r := rep.Results[len(rep.Results)-1]; r.VsMosquitto != nil {
		t.Errorf("alert scenario compared with Mosquitto: %+v", r.VsMosquitto)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"borda-alert-load      publish->alert        500    0.31    0.45    0.95    3.00",
		"borda-alert-load   publish->resolved        499    0.31    0.45    0.95    3.00",
		"alert scenarios: lost = alert events",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, buf.String())
		}
	}
}

// TestAlertScenarioWithFakeRules runs the alert measurement for real
// against Mosquitto, with simtest.FakeRules standing in for borda's seed
// rules (Mosquitto has none): idle and with background load everything
// arrives; with alerts left out they are lost.
func TestAlertScenarioWithFakeRules(t *testing.T) {
	bin := testkit.RequireCommand(t, "mosquitto", "mosquitto")
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after FakeRules disconnected
	t.Setenv("TMPDIR", t.TempDir())
	tests := []struct {
		name       string
		background bool
		drop       int
	}{
		{"idle", false, 0},
		{"load", true, 0},
		{"dropped alerts", false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			r := &runner{opts: Options{Load: Load{Devices: 20, Conns: 2, Rate: 3000, Duration: time.Second, Profile: "mixed", Seed: 3},
				MosquittoBin: bin}, log: &log}
			sc := Scenario{Name: "mosquitto-alerts", Server: ServerMosquitto, Alerts: true, Background: tt.background}
			res := newResult(sc)
			var undo cleanups
			defer func() {
				if err := undo.run(); err != nil {
					t.Error(err)
				}
			}()
			srv, err := r.startServer(sc, &undo)
			if err != nil {
				t.Fatal(err)
			}
			simtest.StartFakeRules(t, srv.mqttAddr(), simtest.FakeRulesOptions{DropEvery: tt.drop})
			m := &measurement{r: r, sc: sc, srv: srv, p: srv.proc(), res: &res}
			m.run(context.Background())
			res.finish()
			a := res.Alerts
			if a == nil || a.Expected == 0 || a.QoS != 2 || a.Resolved.Expected == 0 || res.Sent == 0 || res.PublishS <= 0 {
				t.Fatalf("result %+v\nlog:\n%s", res, log.String())
			}
			if tt.background && res.Sent < 3000 {
				t.Errorf("sent %d: no background load", res.Sent)
			}
			if tt.drop == 0 {
				if !res.OK || res.Lost != 0 || a.Received != a.Expected || a.Latency.Count != a.Expected || a.Unexpected != 0 {
					t.Errorf("result %+v, alerts %+v\nlog:\n%s", res, a, log.String())
				}
				return
			}
			if res.OK || res.Lost != a.Missing || a.Missing == 0 || a.Resolved.Missing != 0 ||
				!strings.Contains(strings.Join(res.Errors, "\n"), "never received on alerts/#") {
				t.Errorf("result %+v, alerts %+v", res, a)
			}
		})
	}
}
