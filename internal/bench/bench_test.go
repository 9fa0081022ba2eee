package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
	"go.uber.org/goleak"
)

func TestSelectScenarios(t *testing.T) {
	tests := []struct {
		list    string
		want    string // names, in order
		wantErr string
	}{
		{"", "mosquitto-qos0, mosquitto-qos1, borda-ingest-qos0, borda-ingest-qos1, borda-uplink-qos1, borda-queue-qos1, borda-pubsub-qos0, borda-alert-idle, borda-alert-load", ""},
		{"borda-alert-load,borda-alert-idle", "borda-alert-idle, borda-alert-load", ""},
		{"borda-ingest-qos0,mosquitto-qos0", "mosquitto-qos0, borda-ingest-qos0", ""},
		{" borda-pubsub-qos0 , ,borda-pubsub-qos0", "borda-pubsub-qos0", ""},
		{"borda-alert-latency", "", `unknown scenario "borda-alert-latency"`},
		{",", "", "no scenario named"},
	}
	for _, tt := range tests {
		got, err := SelectScenarios(tt.list)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SelectScenarios(%q) error %v, want %q", tt.list, err, tt.wantErr)
			}
			continue
		}
		if err != nil || scenarioNames(got) != tt.want {
			t.Errorf("SelectScenarios(%q) = %s, %v; want %s", tt.list, scenarioNames(got), err, tt.want)
		}
	}
}

func validOptions() Options {
	return Options{Load: Load{Devices: 100, Rate: 0, Duration: time.Second, Profile: "factory", Seed: 1},
		BordaBin: "/usr/bin/borda"}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(o *Options)
		wantErr []string
	}{
		{name: "defaults filled in", change: func(o *Options) {}},
		{name: "no duration", change: func(o *Options) { o.Duration = 0 }, wantErr: []string{"duration: 0s must be > 0"}},
		{name: "every problem at once", change: func(o *Options) {
			o.Devices, o.Conns, o.Profile, o.Rate, o.Scenarios = 4, 5, "zoo", -1, "nope"
		}, wantErr: []string{"conns: 5", "profile", "rate", `unknown scenario "nope"`}},
		{name: "borda scenarios need the executable", change: func(o *Options) { o.BordaBin = "" },
			wantErr: []string{"borda executable"}},
		{name: "mosquitto alone does not", change: func(o *Options) { o.BordaBin, o.Scenarios = "", "mosquitto-qos1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.change(&o)
			_, err := o.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if o.Conns != 8 || o.MosquittoBin != DefaultMosquitto {
					t.Errorf("defaults: conns %d, mosquitto %q", o.Conns, o.MosquittoBin)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not mention %q", err, w)
				}
			}
		})
	}
}

// TestRunMosquittoAndABrokenBorda runs the Mosquitto scenario for real and
// a borda scenario whose executable fails at once: the first passes, the
// second is a failure with the reason, and neither leaves a directory.
func TestRunMosquittoAndABrokenBorda(t *testing.T) {
	bin := testkit.RequireCommand(t, "mosquitto", "mosquitto")
	defer goleak.VerifyNone(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	opts := Options{
		Load:      Load{Devices: 10, Conns: 2, Rate: 1000, Duration: 500 * time.Millisecond, Profile: "mixed", Seed: 7},
		Scenarios: "mosquitto-qos1,borda-ingest-qos0", JSON: true, BordaBin: "/bin/false", MosquittoBin: bin,
	}
	var out, log bytes.Buffer
	opts.Log = &log
	rep, err := Run(context.Background(), opts, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.OK() {
		t.Fatalf("results %+v", rep.Results)
	}
	m, b := rep.Results[0], rep.Results[1]
	if !m.OK || m.Lost != 0 || m.Sent == 0 || m.Delivered == nil || *m.Delivered != m.Sent ||
		m.AckLatency == nil || m.DeliveryLatency == nil || m.PeakRSS == 0 || m.IdleRSS == 0 {
		t.Errorf("mosquitto result %+v\nlog:\n%s", m, log.String())
	}
	if b.OK || len(b.Errors) == 0 || !strings.Contains(b.Errors[0], "exited while starting") {
		t.Errorf("broken borda result %+v", b)
	}
	var decoded struct {
		OK      bool     `json:"ok"`
		Results []Result `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil || decoded.OK || len(decoded.Results) != 2 {
		t.Errorf("JSON output: %v\n%s", err, out.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

// TestRunCancelled: a cancelled run does not start servers and reports
// every scenario as not run.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts := validOptions()
	var out bytes.Buffer
	rep, err := Run(ctx, opts, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Results) != len(Scenarios()) {
		t.Fatalf("results %+v", rep.Results)
	}
	for _, r := range rep.Results {
		if r.OK || !strings.Contains(strings.Join(r.Errors, ""), "not run: interrupted") {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}
	if !strings.Contains(out.String(), "FAILED borda-ingest-qos0: not run: interrupted") {
		t.Errorf("output:\n%s", out.String())
	}
}
