package queue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRedoOrderWithAppendsBetween(t *testing.T) {
	f := open(t, testConfig())
	q := f.q
	seqOf := map[string]uint64{}
	add := func(es ...Entry) { mustAppend(t, q, es...) }
	take := func(n int, want string) {
		t.Helper()
		items, err := q.Next(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, string(it.Data))
			seqOf[string(it.Data)] = it.Seq
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("Next(%d) = %v, want %s", n, got, want)
		}
	}
	add(entry(Low, "k", "L1"), entry(Low, "k", "L2"), entry(Low, "k", "L3"), entry(High, "a", "H1"))
	take(2, "H1 L1")
	add(entry(High, "a", "H2"), entry(Low, "k", "L4"))
	take(2, "H2 L2")
	q.Nack(seqOf["L1"], seqOf["H1"])
	add(entry(Low, "k", "L5"), entry(High, "a", "H3"))
	take(3, "H1 H3 L1") // nacked High, newer High, then nacked Low before newer Low
	take(10, "L3 L4 L5")
	if s := q.Stats(); s.InFlight != 8 {
		t.Fatalf("in flight %d, want 8", s.InFlight)
	}
	if err := q.Ack(seqOf["L2"]); err != nil {
		t.Fatal(err)
	}
	var all []uint64
	for _, d := range []string{"L5", "H3", "L1", "H2", "L4", "H1", "L3"} {
		all = append(all, seqOf[d])
	}
	q.Nack(all...)
	q.Nack(all...) // no longer in flight: ignored, not queued twice
	take(20, "H1 H2 H3 L1 L3 L4 L5")
	checkCounters(t, q)
}

func TestRetentionDropsInFlightAndRedoOnce(t *testing.T) {
	f := open(t, Config{MaxBytes: 1 << 20, MaxAge: time.Minute})
	q := f.q
	mustAppend(t, q, entry(Low, "k", "L1"), entry(Low, "k", "L2"), entry(Low, "k", "L3"),
		entry(High, "a", "H1"), entry(Low, "k", "L4"), entry(High, "a", "H2"))
	_, seqs := next(t, q, 4) // H1 H2 L1 L2 in flight
	q.Nack(seqs[1], seqs[3]) // H2 and L2 to redo
	f.clk.Add(2 * time.Minute)
	mustAppend(t, q, entry(Low, "k", "L5"), entry(High, "a", "H3")) // the commit drops all six
	if err := q.Ack(seqs...); err != nil {                          // dropped: ignored
		t.Fatal(err)
	}
	q.Nack(seqs...)
	got, _ := next(t, q, 10)
	if fmt.Sprint(got) != "[H3 L5]" {
		t.Errorf("after drop Next = %v, want [H3 L5]", got)
	}
	if age, acked := testutil.ToFloat64(q.met.dropped.WithLabelValues(ReasonMaxAge)), testutil.ToFloat64(q.met.acked); age != 6 || acked != 0 {
		t.Errorf("dropped %v (want 6), acked %v (want 0)", age, acked)
	}
	s := q.Stats()
	one := size(entry(Low, "k", "L5"))
	if s.Entries != 2 || s.Bytes != 2*one || s.InFlight != 2 || s.ByPriority[High].Entries != 1 {
		t.Errorf("stats %+v, want 2 entries of %d bytes, 2 in flight", s, one)
	}
	checkCounters(t, q)
	_ = q.Close()
	f.reopen(t, Config{MaxBytes: 1 << 20, MaxAge: time.Minute})
	if r := f.q.Stats(); r.Entries != s.Entries || r.Bytes != s.Bytes {
		t.Errorf("after reopen %+v, before %+v", r, s)
	}
}

func TestRetentionByBytesDropsInFlight(t *testing.T) {
	one := size(entry(Low, "k", "L1"))
	f := open(t, Config{MaxBytes: 3 * one, MaxAge: time.Hour})
	q := f.q
	mustAppend(t, q, entry(High, "a", "H1"), entry(Low, "k", "L1"), entry(Low, "k", "L2"))
	_, seqs := next(t, q, 3) // all in flight
	q.Nack(seqs[2])          // L2 to redo
	mustAppend(t, q, entry(High, "a", "H2"), entry(High, "a", "H3"))
	// 5 stored, bound 3: L1 and L2 (in flight, redo) go, Low first.
	if err := q.Ack(seqs[1], seqs[2]); err != nil {
		t.Fatal(err)
	}
	got, _ := next(t, q, 10)
	if fmt.Sprint(got) != "[H2 H3]" {
		t.Errorf("Next = %v, want [H2 H3]", got)
	}
	if n := testutil.ToFloat64(q.met.dropped.WithLabelValues(ReasonMaxBytes)); n != 2 {
		t.Errorf("dropped by bytes %v, want 2", n)
	}
	if s := q.Stats(); s.Entries != 3 || s.Bytes != 3*one || s.ByPriority[Low].Entries != 0 {
		t.Errorf("stats %+v", s)
	}
	checkCounters(t, q)
}

// TestRetentionChunks drops many entries at once: whole segments, then
// frame by frame within the segment that is kept in part.
func TestRetentionChunks(t *testing.T) {
	const n, keep = 3*4096 + 17, 100
	f := open(t, Config{MaxBytes: 1 << 30, MaxAge: time.Hour})
	es := make([]Entry, n)
	for i := range es {
		es[i] = entry(Priority(i%2), "k", fmt.Sprintf("%010d", i))
	}
	for i := 0; i < n; i += 1000 {
		mustAppend(t, f.q, es[i:min(i+1000, n)]...)
	}
	_ = f.q.Close()
	f.reopen(t, Config{MaxBytes: keep * size(es[0]), MaxAge: time.Hour})
	got, _ := next(t, f.q, 1)                           // retention runs first
	if got[0] != fmt.Sprintf("%010d", n-2-2*(keep-1)) { // all Low dropped, then the oldest High

		t.Errorf("first remaining %v", got)
	}
	if d := testutil.ToFloat64(f.q.met.dropped.WithLabelValues(ReasonMaxBytes)); d != n-keep {
		t.Errorf("dropped %v, want %d", d, n-keep)
	}
	if s := f.q.Stats(); s.Entries != keep {
		t.Errorf("%d entries left, want %d", s.Entries, keep)
	}
	checkCounters(t, f.q)
}

// TestReopenStatsEqual: the counters computed at Open equal those kept
// while running, after a mix of appends, acks, nacks and drops.
func TestReopenStatsEqual(t *testing.T) {
	cfg := Config{MaxBytes: 40 * size(entry(Low, "k", "0123456789")), MaxAge: 10 * time.Minute}
	f := open(t, cfg)
	for i := range 60 {
		mustAppend(t, f.q, entry(Priority(i%3/2), "k", fmt.Sprintf("%010d", i)))
		f.clk.Add(15 * time.Second)
		if i%7 == 0 {
			_, seqs := next(t, f.q, 3)
			_ = f.q.Ack(seqs[0])
			f.q.Nack(seqs[1:]...)
		}
	}
	_, _ = next(t, f.q, 5) // leave some in flight
	before := f.q.Stats()
	checkCounters(t, f.q)
	_ = f.q.Close()
	f.reopen(t, cfg)
	after := f.q.Stats()
	if after.InFlight != 0 {
		t.Errorf("in flight after reopen: %d", after.InFlight)
	}
	before.InFlight, before.Appends, before.Commits = 0, 0, 0
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("after reopen %+v\nbefore close %+v", after, before)
	}
}
