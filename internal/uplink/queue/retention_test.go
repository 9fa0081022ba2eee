package queue

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// size is what one stored entry of this shape counts against MaxBytes:
// its frame.
func size(e Entry) int64 { return int64(len(appendFrame(nil, 1, record{Entry: e}))) }

func TestRetention(t *testing.T) {
	one := entry(Low, "k", "0123456789") // every test entry has this size
	tests := []struct {
		name              string
		cfg               Config
		run               func(t *testing.T, f *fixture)
		want              []string
		byAge, byBytes    float64
		entries, lowBytes int64
	}{
		{"max bytes drops oldest low first", Config{MaxBytes: 5 * size(one), MaxAge: time.Hour},
			func(t *testing.T, f *fixture) {
				for i := range 3 {
					mustAppend(t, f.q, entry(High, "k", fmt.Sprintf("high%06d", i)))
				}
				for i := range 5 {
					mustAppend(t, f.q, entry(Low, "k", fmt.Sprintf("low%07d", i)))
				}
			}, []string{"high000000", "high000001", "high000002", "low0000003", "low0000004"}, 0, 3, 5, 2 * size(one)},
		{"max bytes drops high when no low is left", Config{MaxBytes: 2 * size(one), MaxAge: time.Hour},
			func(t *testing.T, f *fixture) {
				mustAppend(t, f.q, entry(Low, "k", "low0000000"))
				for i := range 4 {
					mustAppend(t, f.q, entry(High, "k", fmt.Sprintf("high%06d", i)))
				}
			}, []string{"high000002", "high000003"}, 0, 3, 2, 0},
		{"max age drops old entries of both priorities", Config{MaxBytes: 1 << 20, MaxAge: 30 * time.Minute},
			func(t *testing.T, f *fixture) {
				mustAppend(t, f.q, entry(Low, "k", "low0000000"), entry(High, "k", "high000000"))
				f.clk.Add(20 * time.Minute)
				mustAppend(t, f.q, entry(Low, "k", "low0000001"), entry(High, "k", "high000001"))
				f.clk.Add(20 * time.Minute) // first pair is 40 min old, second 20
			}, []string{"high000001", "low0000001"}, 2, 0, 2, size(one)},
		{"in-flight entries are dropped too, their ack is ignored", Config{MaxBytes: 1 << 20, MaxAge: time.Minute},
			func(t *testing.T, f *fixture) {
				mustAppend(t, f.q, entry(Low, "k", "low0000000"))
				_, seqs := next(t, f.q, 1)
				f.clk.Add(2 * time.Minute)
				mustAppend(t, f.q, entry(Low, "k", "low0000001"))
				if err := f.q.Ack(seqs...); err != nil {
					t.Fatal(err)
				}
			}, []string{"low0000001"}, 1, 0, 1, size(one)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := open(t, tt.cfg)
			tt.run(t, f)
			got, _ := next(t, f.q, 100)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("remaining = %v, want %v", got, tt.want)
			}
			age := testutil.ToFloat64(f.q.met.dropped.WithLabelValues(ReasonMaxAge))
			bytes := testutil.ToFloat64(f.q.met.dropped.WithLabelValues(ReasonMaxBytes))
			if age != tt.byAge || bytes != tt.byBytes {
				t.Errorf("dropped max_age=%v max_bytes=%v, want %v and %v", age, bytes, tt.byAge, tt.byBytes)
			}
			s := f.q.Stats()
			if int64(s.Entries) != tt.entries || s.ByPriority[Low].Bytes != tt.lowBytes {
				t.Errorf("stats = %+v, want %d entries, %d low bytes", s, tt.entries, tt.lowBytes)
			}
		})
	}
}

func TestRetentionSurvivesReopen(t *testing.T) {
	f := open(t, Config{MaxBytes: 1 << 20, MaxAge: time.Minute})
	mustAppend(t, f.q, entry(Low, "k", "old"))
	f.clk.Add(2 * time.Minute)
	mustAppend(t, f.q, entry(Low, "k", "new"))
	_ = f.q.Close()
	f.reopen(t, Config{MaxBytes: 1 << 20, MaxAge: time.Minute})
	if s := f.q.Stats(); s.Entries != 1 {
		t.Errorf("after reopen %d entries, want 1 (the dropped one was deleted on disk)", s.Entries)
	}
}

func TestMetrics(t *testing.T) {
	f := open(t, testConfig())
	mustAppend(t, f.q, entry(High, "a", "x"), entry(Low, "k", "y"), entry(Low, "k", "z"))
	f.clk.Add(90 * time.Second)
	_, seqs := next(t, f.q, 1)
	if err := f.q.Ack(seqs...); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		want float64
	}{
		{`borda_uplink_queue_entries{output="test",priority="high"}`, 0},
		{`borda_uplink_queue_entries{output="test",priority="low"}`, 2},
		{`borda_uplink_queue_oldest_age_seconds{output="test"}`, 90},
		{`borda_uplink_queue_appended_total{output="test"}`, 3},
		{`borda_uplink_queue_acked_total{output="test"}`, 1},
		{`borda_uplink_queue_append_seconds_count{output="test"}`, 1},
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			lbl := ""
			for _, l := range m.GetLabel() {
				lbl += fmt.Sprintf(",%s=%q", l.GetName(), l.GetValue())
			}
			key := name + "{" + lbl[1:] + "}"
			switch {
			case m.Gauge != nil:
				got[key] = m.GetGauge().GetValue()
			case m.Counter != nil:
				got[key] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				got[name+"_count{"+lbl[1:]+"}"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for _, c := range checks {
		if got[c.name] != c.want {
			t.Errorf("%s = %v, want %v", c.name, got[c.name], c.want)
		}
	}
	if got[`borda_uplink_queue_bytes{output="test"}`] <= 0 {
		t.Error("bytes gauge not set")
	}
}
