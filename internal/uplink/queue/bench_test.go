package queue

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func benchQueue(b *testing.B, fsync bool) *Queue {
	b.Helper()
	q, err := Open(filepath.Join(b.TempDir(), "q.db"), Config{MaxBytes: 1 << 40, MaxAge: time.Hour, Fsync: fsync}, Deps{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = q.Close() })
	return q
}

func benchBatch(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{Priority: Priority(i % 2), Key: fmt.Sprint("site1/sensors/", i%16), Data: make([]byte, 200)}
	}
	return es
}

// BenchmarkAppend: one caller, batches of 1 and 100 entries of 200 bytes.
func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("fsync=%v/batch=%d", fsync, batch), func(b *testing.B) {
				q, es := benchQueue(b, fsync), benchBatch(batch)
				b.SetBytes(int64(200 * batch))
				for b.Loop() {
					if err := q.Append(context.Background(), es); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
			})
		}
	}
}

// BenchmarkAppendParallel: concurrent single-entry callers, group-committed.
func BenchmarkAppendParallel(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			q, es := benchQueue(b, fsync), benchBatch(1)
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := q.Append(context.Background(), es); err != nil {
						b.Error(err)
						return
					}
				}
			})
			s := q.Stats()
			b.ReportMetric(float64(s.Appends)/float64(max(s.Commits, 1)), "appends/commit")
			b.ReportMetric(float64(s.Appends)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkDrain: Next(100)+Ack of a backlog of 200-byte entries.
func BenchmarkDrain(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			q, es := benchQueue(b, fsync), benchBatch(100)
			b.StopTimer()
			for i := 0; i < b.N; i += 100 {
				if err := q.Append(context.Background(), es); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			ctx := context.Background()
			for done := 0; done < b.N; {
				items, err := q.Next(ctx, 100)
				if err != nil {
					b.Fatal(err)
				}
				seqs := make([]uint64, len(items))
				for i, it := range items {
					seqs[i] = it.Seq
				}
				if err := q.Ack(seqs...); err != nil {
					b.Fatal(err)
				}
				done += len(items)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// backlogEntries is the pre-existing backlog of the *Backlog benchmarks.
const backlogEntries = 200_000

// fillBacklog appends n 200-byte entries (both priorities) in batches of 1000.
func fillBacklog(tb testing.TB, q *Queue, n int) {
	tb.Helper()
	es := benchBatch(1000)
	for i := 0; i < n; i += len(es) {
		if err := q.Append(context.Background(), es[:min(len(es), n-i)]); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkAppendBacklog: BenchmarkAppend (fsync off) on a queue already
// holding 200,000 entries.
func BenchmarkAppendBacklog(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("fsync=false/batch=%d", batch), func(b *testing.B) {
			q, es := benchQueue(b, false), benchBatch(batch)
			fillBacklog(b, q, backlogEntries)
			b.SetBytes(int64(200 * batch))
			for b.Loop() {
				if err := q.Append(context.Background(), es); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkDrainBacklog: Next(100)+Ack (fsync off) at the front of a
// 200,000-entry backlog (plus the entries drained).
func BenchmarkDrainBacklog(b *testing.B) {
	q := benchQueue(b, false)
	fillBacklog(b, q, backlogEntries+b.N)
	ctx := context.Background()
	b.ResetTimer()
	for done := 0; done < b.N; {
		items, err := q.Next(ctx, min(100, b.N-done))
		if err != nil {
			b.Fatal(err)
		}
		seqs := make([]uint64, len(items))
		for i, it := range items {
			seqs[i] = it.Seq
		}
		if err := q.Ack(seqs...); err != nil {
			b.Fatal(err)
		}
		done += len(items)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
