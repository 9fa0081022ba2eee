package queue

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeRaw prepares a file with bbolt directly.
func writeRaw(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFormat1(t *testing.T) {
	const n = chunk + 10 // two migration transactions
	path := filepath.Join(t.TempDir(), "q.db")
	writeRaw(t, path, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(v1Bucket)
		if err != nil {
			return err
		}
		for i := uint64(1); i <= n; i++ {
			v := encodeRecord(record{Entry: entry(Priority(i%2), "k", fmt.Sprint(i)), appended: 1})
			if i == 5 {
				v = []byte("garbage")
			}
			if err := b.Put(seqKey(i), v); err != nil {
				return err
			}
		}
		return b.SetSequence(n + 3) // sequences of acked entries are not reused
	})
	var logs bytes.Buffer
	q, err := Open(path, Config{MaxBytes: 1 << 30, MaxAge: 1 << 62}, Deps{Name: "m", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if !strings.Contains(logs.String(), "corrupt format-1") || !strings.Contains(logs.String(), "entries="+fmt.Sprint(n)) {
		t.Errorf("logs:\n%s", logs.String())
	}
	if s := q.Stats(); s.Entries != n-1 || s.ByPriority[High].Entries != n/2-1 { // odd seqs are High; 5 is corrupt
		t.Errorf("stats %+v", s)
	}
	checkCounters(t, q)
	items, err := q.Next(context.Background(), 3)
	if err != nil || len(items) != 3 || items[0].Seq != 1 || items[1].Seq != 3 || items[2].Seq != 7 {
		t.Fatalf("Next = %v, %v; want High seqs 1 3 7", items, err)
	}
	mustAppend(t, q, entry(High, "k", "new"))
	if s := q.Stats().ByPriority[High]; s.Entries != n/2 {
		t.Errorf("high stats %+v", s)
	}
	_ = q.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(v1Bucket) != nil || tx.Bucket(metaBucket).Sequence() != n+4 {
			t.Errorf("after migration: old bucket %v, sequence %d", tx.Bucket(v1Bucket) != nil, tx.Bucket(metaBucket).Sequence())
		}
		return nil
	})
}

func TestOpenRefusesNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	writeRaw(t, path, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		return b.Put(formatKey, []byte{3})
	})
	_, err := Open(path, testConfig(), Deps{Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "unsupported queue file format 03") {
		t.Fatalf("Open = %v, want unsupported format", err)
	}
}

// TestCorruptEntry: an entry that does not decode is logged and deleted
// by Next, never handed out; the others are.
func TestCorruptEntry(t *testing.T) {
	f := open(t, testConfig())
	mustAppend(t, f.q, entry(Low, "k", "1"), entry(Low, "k", "2"), entry(Low, "k", "3"))
	_ = f.q.Close()
	writeRaw(t, f.path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNames[Low]).Put(seqKey(2), []byte{formatV1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f})
	})
	f.reopen(t, testConfig())
	if s := f.q.Stats(); s.Entries != 3 {
		t.Errorf("stats %+v, want 3 entries before Next", s)
	}
	got, _ := next(t, f.q, 10)
	if fmt.Sprint(got) != "[1 3]" {
		t.Errorf("Next = %v, want [1 3]", got)
	}
	if s := f.q.Stats(); s.Entries != 2 {
		t.Errorf("stats %+v, want 2 entries after Next", s)
	}
	checkCounters(t, f.q)
}

// TestAckNotInFlight: acking a pending (never handed out) entry deletes it.
func TestAckNotInFlight(t *testing.T) {
	f := open(t, testConfig())
	mustAppend(t, f.q, entry(Low, "k", "1"), entry(High, "k", "2"), entry(Low, "k", "3"))
	if err := f.q.Ack(2, 3, 99); err != nil {
		t.Fatal(err)
	}
	got, _ := next(t, f.q, 10)
	if fmt.Sprint(got) != "[1]" {
		t.Errorf("Next = %v, want [1]", got)
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
