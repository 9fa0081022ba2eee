package bench

import (
	"errors"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/simulate"
)

// TestLossIsFailure: a result that lost anything is a failure that names
// the count, whatever else went well.
func TestLossIsFailure(t *testing.T) {
	tests := []struct {
		name       string
		sc         Scenario
		apply      func(r *Result)
		wantOK     bool
		wantStatus string
		wantLost   int64
		wantErr    string // in Errors
	}{
		{name: "all delivered", sc: Scenarios()[0], apply: func(r *Result) { r.setDelivered(1000) },
			wantOK: true, wantStatus: "ok"},
		{name: "one not delivered", sc: Scenarios()[0], apply: func(r *Result) { r.setDelivered(999) },
			wantStatus: "LOST 1", wantLost: 1, wantErr: "lost 1 of 1000 messages"},
		{name: "duplicates are a note, not a loss", sc: Scenarios()[0], apply: func(r *Result) { r.setDelivered(1001) },
			wantOK: true, wantStatus: "ok"},
		{name: "all stored", sc: Scenarios()[2], apply: func(r *Result) {
			r.setStored(simulate.VerifyReport{Expected: 1000, Stored: 1000})
		}, wantOK: true, wantStatus: "ok"},
		{name: "readings missing from the store", sc: Scenarios()[2], apply: func(r *Result) {
			r.setStored(simulate.VerifyReport{Expected: 1000, Stored: 990, Missing: 10,
				MissingByDevice: map[string]int64{"bench-00001": 4, "bench-00002": 6}})
		}, wantStatus: "LOST 10", wantLost: 10, wantErr: "lost 10 of 1000 readings: missing from borda's store (devices affected: 2)"},
		{name: "pub-sub loses both ways: counts add up", sc: Scenarios()[4], apply: func(r *Result) {
			r.setDelivered(990)
			r.setStored(simulate.VerifyReport{Expected: 1000, Stored: 995, Missing: 5})
		}, wantStatus: "LOST 15", wantLost: 15, wantErr: "lost 10 of 1000 messages"},
		{name: "simulator errors", sc: Scenarios()[1], apply: func(r *Result) {
			r.setDelivered(1000)
			r.SimErrors = 3
		}, wantStatus: "FAIL", wantErr: "simulator counted 3 errors"},
		{name: "an error", sc: Scenarios()[1], apply: func(r *Result) { r.fail(errors.New("boom")) },
			wantStatus: "FAIL", wantErr: "boom"},
		{name: "nothing sent", sc: Scenarios()[1], apply: func(r *Result) { r.Sent = 0 },
			wantStatus: "FAIL", wantErr: "no message was sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResult(tt.sc)
			r.Sent, r.PublishS, r.ServerCPU = 1000, 1, 0.5
			tt.apply(&r)
			r.finish()
			if r.OK != tt.wantOK || r.Status() != tt.wantStatus || r.Lost != tt.wantLost {
				t.Errorf("OK %v, status %q, lost %d; want %v, %q, %d", r.OK, r.Status(), r.Lost, tt.wantOK, tt.wantStatus, tt.wantLost)
			}
			if tt.wantErr != "" && !strings.Contains(strings.Join(r.Errors, "\n"), tt.wantErr) {
				t.Errorf("errors %q do not mention %q", r.Errors, tt.wantErr)
			}
			if tt.wantOK && len(r.Errors) > 0 {
				t.Errorf("errors in an OK result: %q", r.Errors)
			}
			rep := Report{Results: []Result{r}}
			if rep.OK() != tt.wantOK {
				t.Errorf("Report.OK() = %v", rep.OK())
			}
		})
	}
}

func TestFinishDerivesFigures(t *testing.T) {
	r := newResult(Scenarios()[2])
	r.Sent, r.PublishS, r.DrainS, r.ServerCPU = 200_000, 1.5, 0.5, 3
	disk := int64(4_000_000)
	r.DiskBytes = &disk
	r.setStored(simulate.VerifyReport{Expected: 200_000, Stored: 200_000})
	r.finish()
	if r.Rate != 100_000 || r.SendRate != 200_000/1.5 || r.CPUPer100k != 1.5 {
		t.Errorf("rate %v, send rate %v, cpu/100k %v", r.Rate, r.SendRate, r.CPUPer100k)
	}
	if r.DiskPerSample == nil || *r.DiskPerSample != 20 {
		t.Errorf("disk per sample %v, want 20", r.DiskPerSample)
	}
}

func TestReportOKNeedsResults(t *testing.T) {
	if (Report{}).OK() {
		t.Error("an empty report is OK")
	}
}

func TestAddRatios(t *testing.T) {
	rs := []Result{
		{Scenario: "mosquitto-qos0", Server: ServerMosquitto, QoS: 0, Rate: 200_000, CPUPer100k: 0.5},
		{Scenario: "borda-ingest-qos0", Server: ServerBorda, QoS: 0, Rate: 100_000, CPUPer100k: 1},
		{Scenario: "borda-pubsub-qos0", Server: ServerBorda, QoS: 0, Rate: 50_000, CPUPer100k: 0.25},
		{Scenario: "borda-ingest-qos1", Server: ServerBorda, QoS: 1, Rate: 50_000, CPUPer100k: 2}, // no mosquitto-qos1
	}
	addRatios(rs)
	want := []*Ratio{nil,
		{Baseline: "mosquitto-qos0", Throughput: 0.5, CPUPerMsg: 2},
		{Baseline: "mosquitto-qos0", Throughput: 0.25, CPUPerMsg: 0.5},
		nil}
	for i, r := range rs {
		switch {
		case (r.VsMosquitto == nil) != (want[i] == nil):
			t.Errorf("%s: ratio %+v, want %+v", r.Scenario, r.VsMosquitto, want[i])
		case r.VsMosquitto != nil && *r.VsMosquitto != *want[i]:
			t.Errorf("%s: ratio %+v, want %+v", r.Scenario, *r.VsMosquitto, *want[i])
		}
	}
}
