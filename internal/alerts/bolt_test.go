package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/telemetry"
)

// fixture reads testdata/alerts.json: six events of four alerts, in the
// order they happened (a1 and a2 resolve; a3 and a4 stay active).
func fixture(t *testing.T) []telemetry.Alert {
	t.Helper()
	b, err := os.ReadFile("testdata/alerts.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []alertJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := make([]telemetry.Alert, len(raw))
	for i, r := range raw {
		b, _ := json.Marshal(r)
		if out[i], err = decodeAlert(b); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// record stores events one by one, one second apart on clk.
func record(t *testing.T, h interface {
	Record(context.Context, telemetry.Alert) error
}, clk *clock, events []telemetry.Alert) {
	t.Helper()
	for _, a := range events {
		if err := h.Record(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if clk != nil {
			clk.Advance(time.Second)
		}
	}
}

func openBolt(t *testing.T, ttl time.Duration, maxEntries int, clk *clock) *BoltHistory {
	t.Helper()
	h, err := OpenBoltHistory(filepath.Join(t.TempDir(), "alerts.db"), ttl, maxEntries, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// ids renders events as "id/state", in order.
func ids(as []telemetry.Alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID + "/" + a.State
	}
	return out
}

// filterCases are shared by the embedded, Redis and HTTP API tests.
var filterCases = []struct {
	name  string
	f     Filter
	query string // the same filter as /api/v1/alerts parameters
	want  []string
}{
	{"all newest first", Filter{}, "",
		[]string{"a2/resolved", "a4/firing", "a3/firing", "a1/resolved", "a2/firing", "a1/firing"}},
	{"device", Filter{DeviceID: "s1"}, "device_id=s1", []string{"a4/firing", "a1/resolved", "a1/firing"}},
	{"type", Filter{Type: "HIGH_PRESSURE"}, "type=HIGH_PRESSURE", []string{"a2/resolved", "a2/firing"}},
	{"severity any case", Filter{Severity: "CRITICAL"}, "severity=CRITICAL",
		[]string{"a2/resolved", "a1/resolved", "a2/firing", "a1/firing"}},
	{"rule", Filter{Rule: "speeding"}, "rule=speeding", []string{"a3/firing"}},
	{"firing", Filter{State: telemetry.AlertFiring}, "state=firing",
		[]string{"a4/firing", "a3/firing", "a2/firing", "a1/firing"}},
	{"resolved", Filter{State: telemetry.AlertResolved}, "state=resolved", []string{"a2/resolved", "a1/resolved"}},
	{"active", Filter{State: StateActive}, "state=active", []string{"a4/firing", "a3/firing"}},
	{"active of a device", Filter{State: StateActive, DeviceID: "s1"}, "state=active&device_id=s1", []string{"a4/firing"}},
	{"time range", Filter{Since: t0.Add(20 * time.Second), Until: t0.Add(40 * time.Second)},
		"start=1700000020&end=2023-11-14T22:14:00Z", []string{"a4/firing", "a3/firing", "a1/resolved"}},
	{"since inclusive", Filter{Since: t0.Add(40 * time.Second)}, "start=1700000040", []string{"a2/resolved", "a4/firing"}},
	{"limit", Filter{Limit: 2}, "limit=2", []string{"a2/resolved", "a4/firing"}},
	{"no match", Filter{DeviceID: "nope"}, "device_id=nope", []string{}},
}

func TestBoltFilters(t *testing.T) {
	clk := newClock(t0)
	h := openBolt(t, time.Hour, 100, clk)
	record(t, h, clk, fixture(t))
	for _, tt := range filterCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Query(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Fatalf("got %v, want %v", ids(got), tt.want)
			}
		})
	}
	if _, err := h.Query(context.Background(), Filter{State: "open"}); err == nil {
		t.Fatal("state open: no error")
	}
}

// TestBoltTTL: events are invisible once their TTL has passed and purged
// later; the clock is injected.
func TestBoltTTL(t *testing.T) {
	clk := newClock(t0)
	h := openBolt(t, time.Hour, 100, clk)
	ctx := context.Background()
	for i := range 3 {
		record(t, h, nil, []telemetry.Alert{alertAt(i, "s1", t0, telemetry.AlertFiring)})
	}
	clk.Advance(30 * time.Minute)
	for i := range 2 {
		record(t, h, nil, []telemetry.Alert{alertAt(10+i, "s1", t0, telemetry.AlertFiring)})
	}
	steps := []struct {
		advance             time.Duration
		visible, purged     int
		lenBefore, lenAfter int
	}{
		{29 * time.Minute, 5, 0, 5, 5}, // 59 min after the first three
		{2 * time.Minute, 2, 3, 5, 2},  // 61 min: the first three expired
		{time.Hour, 0, 2, 2, 0},        // everything expired
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		got, err := h.Query(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != s.visible || h.Len() != s.lenBefore {
			t.Fatalf("step %d: %d visible, %d stored; want %d, %d", i, len(got), h.Len(), s.visible, s.lenBefore)
		}
		n, err := h.Purge(ctx)
		if err != nil || n != s.purged || h.Len() != s.lenAfter {
			t.Fatalf("step %d: purged %d (%v), %d left; want %d, %d", i, n, err, h.Len(), s.purged, s.lenAfter)
		}
	}
	if h.expired.Load() != 5 {
		t.Fatalf("expired counter %d, want 5", h.expired.Load())
	}
}

// TestBoltSameSecond: 100 alerts of one device in the same second (and at
// the same recording instant) are all kept. The seed's key
// alert:critical:<device_id>:<unix_time> would have kept one of them.
func TestBoltSameSecond(t *testing.T) {
	clk := newClock(t0)
	h := openBolt(t, time.Hour, 1000, clk)
	seedKeys := map[string]bool{}
	batch := make([]entry, 0, 50)
	for i := range 100 {
		a := alertAt(i, "sensor-001", t0.Add(time.Duration(i)*time.Millisecond), telemetry.AlertFiring)
		seedKeys[fmt.Sprintf("alert:critical:%s:%d", a.DeviceID, a.Time.Unix())] = true
		if i < 50 {
			record(t, h, nil, []telemetry.Alert{a})
			continue
		}
		batch = append(batch, entry{at: clk.Now(), alert: a})
	}
	if err := h.recordBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	got, err := h.Query(context.Background(), Filter{DeviceID: "sensor-001"})
	if err != nil {
		t.Fatal(err)
	}
	unique := map[string]bool{}
	for _, a := range got {
		unique[a.ID] = true
	}
	if len(got) != 100 || len(unique) != 100 || h.Len() != 100 {
		t.Fatalf("%d events, %d unique, %d stored; want 100", len(got), len(unique), h.Len())
	}
	if got[0].Value != 80+99 || got[99].Value != 80 {
		t.Fatalf("order: first %v last %v, want newest (179) first", got[0].Value, got[99].Value)
	}
	if len(seedKeys) != 1 {
		t.Fatalf("seed keys %d, want 1 (all in one second)", len(seedKeys))
	}
}

// TestBoltEviction: past max entries the oldest events go first, counted.
func TestBoltEviction(t *testing.T) {
	clk := newClock(t0)
	h := openBolt(t, time.Hour, 10, clk)
	n := 0
	for _, size := range []int{1, 7, 3, 14} {
		batch := make([]entry, size)
		for i := range batch {
			batch[i] = entry{at: clk.Now(), alert: alertAt(n, "s1", t0, telemetry.AlertFiring)}
			n++
			clk.Advance(time.Millisecond)
		}
		if err := h.recordBatch(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || h.Len() != 10 || h.evicted.Load() != 15 {
		t.Fatalf("%d visible, %d stored, %d evicted; want 10, 10, 15", len(got), h.Len(), h.evicted.Load())
	}
	if got[0].Value != 80+24 || got[9].Value != 80+15 {
		t.Fatalf("kept %v..%v, want the newest 104..95", got[0].Value, got[9].Value)
	}
}

// TestBoltReopen: events survive a restart and the entry count is restored.
func TestBoltReopen(t *testing.T) {
	clk := newClock(t0)
	path := filepath.Join(t.TempDir(), "alerts.db")
	h, err := OpenBoltHistory(path, time.Hour, 100, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	record(t, h, clk, fixture(t))
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h, err = OpenBoltHistory(path, time.Hour, 100, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	got, err := h.Query(context.Background(), Filter{State: StateActive})
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != 6 || !slices.Equal(ids(got), []string{"a4/firing", "a3/firing"}) {
		t.Fatalf("after reopen: %d stored, active %v", h.Len(), ids(got))
	}
}
