package queue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// model is what TestRandomOps knows without re-implementing retention.
type model struct {
	seq       uint64            // last sequence appended
	data      map[uint64]string // what each sequence holds
	inflight  map[uint64]bool
	redo      map[uint64]bool
	scanned   [numPriorities]uint64 // highest sequence handed out by the scan since Open
	appended  int
	acked     int // entries acked by earlier queues (before a reopen)
	dropped   int // same for drops
	handedOut int
}

// TestRandomOps runs random appends, Next, Ack, Nack, clock steps and
// reopens with small retention bounds, checking after every step that the
// counters equal the file's content, that appended = acked + dropped +
// stored (nothing counted twice), that nothing is handed out twice while
// in flight, and that each Next is ordered (High first, ascending, nacked
// entries before newer ones).
func TestRandomOps(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { randomOps(t, seed, 1500) })
	}
}

func randomOps(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	cfg := Config{MaxBytes: 30 * size(entry(Low, "k", "0000000000")), MaxAge: 5 * time.Minute}
	f := open(t, cfg)
	m := &model{data: map[uint64]string{}, inflight: map[uint64]bool{}, redo: map[uint64]bool{}}
	for step := range steps {
		switch op := rng.IntN(20); {
		case op < 7:
			es := make([]Entry, 1+rng.IntN(4))
			for i := range es {
				m.seq++
				m.data[m.seq] = fmt.Sprintf("%010d", m.seq)
				es[i] = entry(Priority(rng.IntN(2)), "k", m.data[m.seq])
			}
			mustAppend(t, f.q, es...)
			m.appended += len(es)
		case op < 12:
			if f.q.Stats().Entries > f.q.Stats().InFlight+len(m.redo) || len(m.redo) > 0 {
				m.checkNext(t, f.q, 1+rng.IntN(10))
			}
		case op < 15:
			m.ack(t, f.q, rng)
		case op < 17:
			m.nack(f.q, rng)
		case op < 19:
			f.clk.Add(time.Duration(rng.IntN(60)) * time.Second)
		default:
			m.acked += int(testutil.ToFloat64(f.q.met.acked))
			m.dropped += droppedTotal(f.q)
			_ = f.q.Close()
			f.reopen(t, cfg)
			m.inflight, m.redo, m.scanned = map[uint64]bool{}, map[uint64]bool{}, [numPriorities]uint64{}
		}
		checkCounters(t, f.q)
		acked, dropped := m.acked+int(testutil.ToFloat64(f.q.met.acked)), m.dropped+droppedTotal(f.q)
		if s := f.q.Stats(); acked+dropped+s.Entries != m.appended {
			t.Fatalf("step %d: acked %d + dropped %d + stored %d != appended %d", step, acked, dropped, s.Entries, m.appended)
		}
	}
	t.Logf("%d appended, %d handed out, %d stored at the end", m.appended, m.handedOut, f.q.Stats().Entries)
}

func droppedTotal(q *Queue) int {
	return int(testutil.ToFloat64(q.met.dropped.WithLabelValues(ReasonMaxAge)) +
		testutil.ToFloat64(q.met.dropped.WithLabelValues(ReasonMaxBytes)))
}

func (m *model) checkNext(t *testing.T, q *Queue, max int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	items, err := q.Next(ctx, max)
	if err != nil { // everything pending was dropped meanwhile
		return
	}
	var prev Item
	for i, it := range items {
		switch {
		case m.data[it.Seq] != string(it.Data):
			t.Fatalf("seq %d holds %q, appended %q", it.Seq, it.Data, m.data[it.Seq])
		case m.inflight[it.Seq]:
			t.Fatalf("seq %d handed out while in flight", it.Seq)
		case i > 0 && (it.Priority > prev.Priority || it.Priority == prev.Priority && it.Seq <= prev.Seq):
			t.Fatalf("Next order: %d (%s) after %d (%s)", it.Seq, it.Priority, prev.Seq, prev.Priority)
		case !m.redo[it.Seq] && it.Seq <= m.scanned[it.Priority]:
			t.Fatalf("seq %d handed out again without a nack (scan at %d)", it.Seq, m.scanned[it.Priority])
		}
		if !m.redo[it.Seq] {
			m.scanned[it.Priority] = it.Seq
		}
		delete(m.redo, it.Seq)
		m.inflight[it.Seq] = true
		prev = it
	}
	m.handedOut += len(items)
}

// pick returns a random subset of set.
func pick(rng *rand.Rand, set map[uint64]bool) []uint64 {
	var out []uint64
	for s := range set {
		if rng.IntN(2) == 0 {
			out = append(out, s)
		}
	}
	return out
}

func (m *model) ack(t *testing.T, q *Queue, rng *rand.Rand) {
	seqs := pick(rng, m.inflight)
	if rng.IntN(4) == 0 { // also acked: unknown, nacked, pending ones
		seqs = append(seqs, rng.Uint64N(m.seq+5))
		seqs = append(seqs, pick(rng, m.redo)...)
	}
	if err := q.Ack(seqs...); err != nil {
		t.Fatal(err)
	}
	for _, s := range seqs {
		delete(m.inflight, s)
		delete(m.redo, s)
	}
}

func (m *model) nack(q *Queue, rng *rand.Rand) {
	seqs := pick(rng, m.inflight)
	q.Nack(seqs...)
	for _, s := range seqs {
		delete(m.inflight, s)
		m.redo[s] = true
	}
}
