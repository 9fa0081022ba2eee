package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var dev = map[string]string{"device_id": "s1", "location": "lab"}

func TestDuplicateTimestampPolicy(t *testing.T) {
	base := time.Now().Truncate(time.Second).Add(-time.Minute)
	ms := base.UnixMilli()
	tests := []struct {
		name    string
		batches [][]float64 // values, all at base, one Append per batch
		want    []sample
		wantDup int
		wantSh  int
	}{
		{"same value twice", [][]float64{{20}, {20}}, []sample{{ms, 20}}, 1, 0},
		{"same value in one batch", [][]float64{{20, 20}}, []sample{{ms, 20}}, 1, 0},
		{"different value next batch", [][]float64{{20}, {21}}, []sample{{ms, 20}, {ms + 1, 21}}, 0, 1},
		{"three values one batch", [][]float64{{1, 2, 3}}, []sample{{ms, 1}, {ms + 1, 2}, {ms + 2, 3}}, 0, 2},
		{"resend of shifted value", [][]float64{{1, 2}, {2}}, []sample{{ms, 1}, {ms + 1, 2}}, 1, 1},
		{"int and float are one value", [][]float64{{21}, {21.0}}, []sample{{ms, 21}}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
			var dup, sh int
			for _, vals := range tt.batches {
				var pts []telemetry.Point
				for _, v := range vals {
					pts = append(pts, point("sensors_temperature", base, dev, "value", v))
				}
				res := mustAppend(t, s, pts...)
				if len(res.Rejected) != 0 {
					t.Fatalf("rejected %v", res.Rejected)
				}
				dup, sh = dup+res.Duplicates, sh+res.Shifted
			}
			got := samples(t, s, "__name__", "sensors_temperature")
			if len(got) != 1 {
				t.Fatalf("got %d series, want 1: %v", len(got), got)
			}
			for _, ss := range got {
				if fmt.Sprint(ss) != fmt.Sprint(tt.want) {
					t.Errorf("samples %v, want %v", ss, tt.want)
				}
			}
			if dup != tt.wantDup || sh != tt.wantSh {
				t.Errorf("duplicates %d shifted %d, want %d %d", dup, sh, tt.wantDup, tt.wantSh)
			}
		})
	}
}

func TestDuplicateTimestampBound(t *testing.T) {
	s, reg, _ := startStore(t, DefaultConfig(), t.TempDir())
	base := time.Now().Add(-time.Minute)
	var pts []telemetry.Point
	for i := range maxShift + 2 {
		pts = append(pts, point("m", base, dev, "value", i))
	}
	res := mustAppend(t, s, pts...)
	if res.Appended != maxShift+1 || res.Rejected[ReasonDuplicateTimestamp] != 1 {
		t.Errorf("result %+v", res)
	}
	if n := testutil.ToFloat64(s.m.rejected.WithLabelValues(ReasonDuplicateTimestamp)); n != 1 {
		t.Errorf("rejected metric %v", n)
	}
	_ = reg
}

func TestOutOfOrder(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		window time.Duration
		age    time.Duration
		want   string // "" means appended
	}{
		{"within window", time.Hour, 30 * time.Minute, ""},
		{"at the edge", time.Hour, 59 * time.Minute, ""},
		{"outside window", time.Hour, 2 * time.Hour, ReasonTooOld},
		{"no window", 0, 30 * time.Minute, ReasonOutOfOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.OutOfOrderWindow = tt.window
			s, _, _ := startStore(t, cfg, t.TempDir())
			mustAppend(t, s, point("m", now, dev, "value", 1))
			old := point("m", now.Add(-tt.age), dev, "value", 2)
			other := point("m", now.Add(time.Second), dev, "value", 3)
			res := mustAppend(t, s, old, other)
			if tt.want == "" {
				if res.Appended != 2 || len(res.Rejected) != 0 {
					t.Errorf("result %+v, want both appended", res)
				}
				return
			}
			if res.Appended != 1 || res.Rejected[tt.want] != 1 {
				t.Errorf("result %+v, want 1 appended and 1 %s", res, tt.want)
			}
		})
	}
}

func TestSeriesLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSeries = 3
	s, _, _ := startStore(t, cfg, t.TempDir())
	now := time.Now()
	var pts []telemetry.Point
	for i := range 5 {
		pts = append(pts, point("m", now, map[string]string{"device_id": fmt.Sprint(i)}, "value", i))
	}
	res := mustAppend(t, s, pts...)
	if res.Appended != 3 || res.Rejected[ReasonTooManySeries] != 2 {
		t.Fatalf("result %+v, want 3 appended, 2 too_many_series", res)
	}
	// Existing series still take samples; new ones are still refused.
	res = mustAppend(t, s, point("m", now.Add(time.Second), map[string]string{"device_id": "0"}, "value", 1),
		point("m", now.Add(time.Second), map[string]string{"device_id": "9"}, "value", 1))
	if res.Appended != 1 || res.Rejected[ReasonTooManySeries] != 1 {
		t.Errorf("result %+v", res)
	}
	if n := testutil.ToFloat64(s.m.rejected.WithLabelValues(ReasonTooManySeries)); n != 3 {
		t.Errorf("too_many_series metric = %v, want 3", n)
	}
}

func TestNaming(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	now := time.Now()
	tests := []struct {
		name     string
		p        telemetry.Point
		wantName string
		wantTags map[string]string
		reject   string
	}{
		{"value field", point("sensors_temperature", now, dev, "value", 1), "sensors_temperature", dev, ""},
		{"other field", point("sensors_temperature", now, dev, "quality", 1), "sensors_temperature_quality", dev, ""},
		{"invalid chars", point("1temp-c.x", now, map[string]string{"device id": "a", "9x": "b"}, "val:ue", 1),
			"_1temp_c_x_val:ue", map[string]string{"device_id": "a", "_9x": "b"}, ""},
		{"unicode", point("température", now, map[string]string{"pièce": "salon"}, "value", 1),
			"temp_rature", map[string]string{"pi_ce": "salon"}, ""},
		{"colon in label", point("m", now, map[string]string{"a:b": "x"}, "value", 1), "m", map[string]string{"a_b": "x"}, ""},
		{"empty tag value dropped", point("m2", now, map[string]string{"a": ""}, "value", 1), "m2", map[string]string{}, ""},
		{"reserved label", point("m", now, map[string]string{"__name__": "x"}, "value", 1), "", nil, ReasonInvalid},
		{"clashing labels", point("m", now, map[string]string{"a-b": "x", "a_b": "y"}, "value", 1), "", nil, ReasonInvalid},
		{"empty measurement", point("", now, dev, "value", 1), "", nil, ReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustAppend(t, s, tt.p)
			if tt.reject != "" {
				if res.Rejected[tt.reject] != 1 {
					t.Fatalf("result %+v, want %s", res, tt.reject)
				}
				return
			}
			if res.Appended != 1 {
				t.Fatalf("result %+v", res)
			}
			want := map[string]string{"__name__": tt.wantName}
			maps.Copy(want, tt.wantTags)
			var pairs []string
			for k, v := range want {
				pairs = append(pairs, k, v)
			}
			got := samples(t, s, pairs...)
			if len(got) != 1 {
				t.Fatalf("series %v, want one matching %v", got, want)
			}
		})
	}
}

func TestIntAndFloatOneSeries(t *testing.T) {
	s, _, _ := startStore(t, DefaultConfig(), t.TempDir())
	now := time.Now()
	p1 := point("m", now, dev, "value", 21)
	p2 := point("m", now.Add(time.Second), dev, "value", 21.0)
	p3 := point("m", now.Add(2*time.Second), dev, "value", 21.5)
	res := mustAppend(t, s, p1, p2, p3)
	if res.Appended != 3 || len(res.Rejected) != 0 {
		t.Fatalf("result %+v", res)
	}
	if got := samples(t, s, "__name__", "m"); len(got) != 1 {
		t.Errorf("got %d series, want 1", len(got))
	}
}

func TestAppendNotReady(t *testing.T) {
	s := New(DefaultConfig(), Deps{Dir: t.TempDir()})
	if _, err := s.Append(context.Background(), nil); !errors.Is(err, ErrNotReady) {
		t.Fatalf("before Run: %v", err)
	}
	s2, _, stop := startStore(t, DefaultConfig(), t.TempDir())
	stop()
	if _, err := s2.Append(context.Background(), []telemetry.Point{point("m", time.Now(), nil, "value", 1)}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("after close: %v", err)
	}
	if err := s2.Run(context.Background()); err == nil {
		t.Error("second Run did not fail")
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s, _, stop := startStore(t, DefaultConfig(), dir)
	now := time.Now().Truncate(time.Millisecond)
	var pts []telemetry.Point
	for i := range 10 {
		pts = append(pts, point("sensors_temperature", now.Add(time.Duration(i-10)*time.Second), dev, "value", i, "quality", 1))
	}
	if res := mustAppend(t, s, pts...); res.Appended != 20 {
		t.Fatalf("result %+v", res)
	}
	stop()
	s2, _, _ := startStore(t, DefaultConfig(), dir)
	got := samples(t, s2, "__name__", "sensors_temperature")
	for _, ss := range got {
		if len(ss) != 10 || ss[9].V != 9 {
			t.Errorf("after reopen: %v", ss)
		}
	}
	if len(got) != 1 {
		t.Errorf("after reopen: %d series", len(got))
	}
	if n := s2.limiter.n.Load(); n != 2 {
		t.Errorf("head series after replay = %d, want 2", n)
	}
	// The same readings again are no-ops, newer ones append.
	pts = append(pts, point("sensors_temperature", now.Add(time.Second), dev, "value", 11))
	res := mustAppend(t, s2, pts[len(pts)-1])
	if res.Appended != 1 {
		t.Errorf("result %+v", res)
	}
}

func TestConcurrentAppend(t *testing.T) {
	s, reg, _ := startStore(t, DefaultConfig(), t.TempDir())
	base := time.Now().Add(-time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				tags := map[string]string{"device_id": fmt.Sprint(g % 4)}
				_, err := s.Append(context.Background(), []telemetry.Point{
					point("m", base.Add(time.Duration(i)*time.Millisecond), tags, "value", g, "quality", i)})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// Every sample is either stored (possibly shifted) or an exact duplicate.
	appended := testutil.ToFloat64(s.m.appended)
	dups := testutil.ToFloat64(s.m.duplicates)
	if appended+dups != 8*50*2 {
		t.Errorf("appended %v + duplicates %v != 800", appended, dups)
	}
	if n, err := testutil.GatherAndCount(reg, "borda_store_head_series", "borda_store_wal_size_bytes",
		"borda_store_append_duration_seconds", "borda_prometheus_tsdb_head_series",
		"borda_prometheus_engine_queries"); err != nil || n != 5 {
		t.Errorf("metrics: %d, %v", n, err)
	}
	if testutil.ToFloat64(s.m.rejected.WithLabelValues(ReasonStorage)) != 0 {
		t.Error("storage rejections")
	}
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP borda_store_head_series Series in the in-memory head block.
# TYPE borda_store_head_series gauge
borda_store_head_series 8
`), "borda_store_head_series")
	if err != nil {
		t.Error(err)
	}
	if walSize(s.dir) == 0 {
		t.Error("wal size 0")
	}
}

func TestDuplicateOutOfOrder(t *testing.T) {
	dir := t.TempDir()
	s, _, stop := startStore(t, DefaultConfig(), dir)
	base := time.Now().Truncate(time.Second).Add(-10 * time.Minute)
	ms := base.UnixMilli()
	at := func(d time.Duration, v float64) telemetry.Point { return point("m", base.Add(d), dev, "value", v) }
	mustAppend(t, s, at(0, 1), at(time.Minute, 2))
	// An older reading colliding with a stored one moves; a resend is a no-op.
	res := mustAppend(t, s, at(0, 5))
	if res.Shifted != 1 {
		t.Fatalf("collision: %+v", res)
	}
	res = mustAppend(t, s, at(0, 1), at(0, 5))
	if res.Duplicates != 2 {
		t.Fatalf("resend: %+v", res)
	}
	stop()
	// After a restart the bookkeeping is rebuilt from the TSDB.
	s2, _, _ := startStore(t, DefaultConfig(), dir)
	res = mustAppend(t, s2, at(0, 5), at(time.Minute, 2), at(time.Minute, 3), at(0, 1))
	if res.Duplicates != 3 || res.Shifted != 1 || res.Appended != 1 {
		t.Fatalf("after restart: %+v", res)
	}
	want := []sample{{ms, 1}, {ms + 1, 5}, {ms + 60000, 2}, {ms + 60001, 3}}
	for _, ss := range samples(t, s2, "__name__", "m") {
		if fmt.Sprint(ss) != fmt.Sprint(want) {
			t.Errorf("samples %v, want %v", ss, want)
		}
	}
}
