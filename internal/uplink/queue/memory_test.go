package queue

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// heapInUse returns the heap in use after a full GC.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestBacklogMemory proves that the queue's memory does not grow with the
// backlog, neither while appending nor after a reopen: the disk is the
// index. With the former in-memory index, 200,000 stored entries cost
// about 14 MB of heap. The bound is on memory, not time; the Open
// duration is only logged.
func TestBacklogMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 200,000 entries")
	}
	const n, bound = 200_000, 8 << 20
	cfg, path := Config{MaxBytes: 1 << 40, MaxAge: time.Hour}, filepath.Join(t.TempDir(), "q.db")
	q, err := Open(path, cfg, Deps{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	base := heapInUse()
	es := make([]Entry, 1000)
	for i := range es {
		es[i] = Entry{Priority: Priority(i % 2), Key: "k", Data: []byte("0123456789")}
	}
	for i := 0; i < n; i += len(es) {
		mustAppend(t, q, es...)
	}
	// Hand out and nack some so the scan and redo paths are exercised too.
	_, seqs := next(t, q, 100)
	q.Nack(seqs...)
	if _, seqs = next(t, q, 100); len(seqs) != 100 {
		t.Fatalf("Next handed out %d entries, want 100", len(seqs))
	}
	before := q.Stats()
	if before.Entries != n || before.InFlight != 100 {
		t.Fatalf("stats = %+v, want %d entries, 100 in flight", before, n)
	}
	checkHeap(t, "after appending", base, bound)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	q, err = Open(path, cfg, Deps{Name: "test"}) // the closed queue is garbage now
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	checkHeap(t, "after reopen", base, bound)
	after := q.Stats()
	if after.Entries != n || after.Bytes != before.Bytes || after.InFlight != 0 {
		t.Errorf("after reopen %+v, before %+v", after, before)
	}
	t.Logf("reopen of %d entries (%d bytes stored, files %d bytes) took %v", n, after.Bytes, dirSize(t, path), took)
}

// dirSize is the bytes of the files in dir.
func dirSize(t testing.TB, dir string) int64 {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

func checkHeap(t *testing.T, when string, base uint64, bound int64) {
	t.Helper()
	now := heapInUse()
	grew := int64(now) - int64(base)
	t.Logf("%s: heap in use %+.2f MiB (%.2f → %.2f MiB)", when, float64(grew)/(1<<20),
		float64(base)/(1<<20), float64(now)/(1<<20))
	if grew > bound {
		t.Errorf("%s: heap in use grew by %d bytes, want < %d", when, grew, bound)
	}
}
