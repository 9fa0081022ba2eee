package queue

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestCorruptEntry: an entry that does not decode (a whole frame whose
// value is from a newer borda, or damaged) is counted, then logged and
// deleted by Next, never handed out; the others are.
func TestCorruptEntry(t *testing.T) {
	f := open(t, testConfig())
	mustAppend(t, f.q, entry(Low, "k", "1"))
	_ = f.q.Close()
	appendRaw(t, f.path, Low, appendRawFrame(nil, 2, []byte{formatV1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f}))
	f.reopen(t, testConfig())
	mustAppend(t, f.q, entry(Low, "k", "3"))
	if s := f.q.Stats(); s.Entries != 3 {
		t.Errorf("stats %+v, want 3 entries before Next", s)
	}
	got, seqs := next(t, f.q, 10)
	if fmt.Sprint(got) != "[1 3]" || fmt.Sprint(seqs) != "[1 3]" {
		t.Errorf("Next = %v %v, want [1 3]", got, seqs)
	}
	if s := f.q.Stats(); s.Entries != 2 {
		t.Errorf("stats %+v, want 2 entries after Next", s)
	}
	checkCounters(t, f.q)
}

// TestAckNotInFlight: acking a pending (never handed out) entry deletes
// it, also across segments and a reopen.
func TestAckNotInFlight(t *testing.T) {
	f := open(t, testConfig())
	for i := range 40 {
		mustAppend(t, f.q, entry(Priority(i%3/2), "k", fmt.Sprintf("%02d", i+1)))
	}
	if err := f.q.Ack(1, 2, 3, 17, 30, 39, 99); err != nil {
		t.Fatal(err)
	}
	if s := f.q.Stats(); s.Entries != 34 {
		t.Errorf("stats %+v, want 34 entries", s)
	}
	checkCounters(t, f.q)
	_ = f.q.Close()
	f.reopen(t, testConfig())
	got, _ := next(t, f.q, 100)
	for _, d := range got {
		if d == "01" || d == "02" || d == "03" || d == "17" || d == "30" || d == "39" {
			t.Errorf("acked entry %s handed out", d)
		}
	}
	if len(got) != 34 {
		t.Errorf("Next = %v, want 34 entries", got)
	}
	checkCounters(t, f.q)
}

// TestConcurrentNextAck: concurrent consumers and producers; every entry
// is handed out exactly once.
func TestConcurrentNextAck(t *testing.T) {
	f := open(t, testConfig())
	const producers, each, consumers = 2, 300, 3
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seen := make(chan uint64, producers*each)
	done := make(chan struct{})
	for range consumers {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				items, err := f.q.Next(ctx, 7)
				if err != nil {
					return
				}
				var seqs []uint64
				for i, it := range items {
					if i%5 == 4 { // nack some: handed out again later
						f.q.Nack(it.Seq)
						continue
					}
					seqs = append(seqs, it.Seq)
					seen <- it.Seq
				}
				if err := f.q.Ack(seqs...); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for w := range producers {
		go func() {
			for i := range each {
				if err := f.q.Append(ctx, []Entry{entry(Priority(i%2), fmt.Sprint(w), "x")}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	got := map[uint64]bool{}
	for len(got) < producers*each {
		select {
		case s := <-seen:
			if got[s] {
				t.Fatalf("seq %d handed out twice", s)
			}
			got[s] = true
		case <-ctx.Done():
			t.Fatalf("only %d of %d delivered", len(got), producers*each)
		}
	}
	cancel()
	for range consumers {
		<-done
	}
	if s := f.q.Stats(); s.Entries != 0 || s.InFlight != 0 {
		t.Errorf("stats %+v", s)
	}
	checkCounters(t, f.q)
}
