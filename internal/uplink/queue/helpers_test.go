package queue

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// prioState is what checkCounters compares per priority.
type prioState struct {
	count     int
	bytes     int64
	oldestSeq uint64
	oldestAt  int64
}

func (s *prioState) add(seq uint64, size int64, at int64) {
	if s.count == 0 || seq < s.oldestSeq {
		s.oldestSeq, s.oldestAt = seq, at
	}
	s.count++
	s.bytes += size
}

// counters is the queue's in-memory view.
func (q *Queue) counters() [numPriorities]prioState {
	q.mu.Lock()
	defer q.mu.Unlock()
	var st [numPriorities]prioState
	for p, l := range q.logs {
		st[p] = prioState{count: l.count, bytes: l.bytes}
		if o := l.oldest(); o != nil {
			st[p].oldestSeq, st[p].oldestAt = o.seq, o.at
		}
	}
	return st
}

// forceCheckpoint writes a checkpoint now.
func forceCheckpoint(t testing.TB, q *Queue) {
	t.Helper()
	q.ckmu.Lock()
	defer q.ckmu.Unlock()
	if err := q.checkpoint(); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
}

// scanDisk writes a checkpoint, then computes the per-priority counters
// from the files alone (its own walk over the checkpoint and segments).
func scanDisk(t testing.TB, q *Queue) [numPriorities]prioState {
	t.Helper()
	forceCheckpoint(t, q)
	b, err := os.ReadFile(filepath.Join(q.dir, checkpointName))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := decodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	files := segFiles(t, q.dir)
	var st [numPriorities]prioState
	for p, cp := range ck.prio {
		for _, e := range cp.live {
			data := files[p][e.seg]
			size, seq, v, err := parseFrame(data[e.off:])
			if err != nil || seq != e.seq || uint64(size) != e.size {
				t.Fatalf("%s: listed entry %+v: seq %d size %d err %v", Priority(p), e, seq, size, err)
			}
			st[p].add(seq, int64(size), appendedOf(v))
		}
		for idx, data := range files[p] {
			off := segHeaderLen
			for off < len(data) {
				size, seq, v, err := parseFrame(data[off:])
				if err != nil { // as Open does: the rest of a damaged segment is ignored
					t.Logf("%s segment %d offset %d: %v", Priority(p), idx, off, err)
					break
				}
				_, gone := slices.BinarySearch(cp.gone, seq)
				if !gone && (idx > cp.readSeg || idx == cp.readSeg && uint64(off) >= cp.readOff) {
					st[p].add(seq, int64(size), appendedOf(v))
				}
				off += size
			}
		}
	}
	return st
}

// segFiles reads every segment file: priority → index → content.
func segFiles(t testing.TB, dir string) [numPriorities]map[uint64][]byte {
	t.Helper()
	files := [numPriorities]map[uint64][]byte{{}, {}}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if p, idx, ok := parseSegName(de.Name()); ok {
			b, err := os.ReadFile(filepath.Join(dir, de.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[p][idx] = b
		}
	}
	return files
}

// checkCounters fails unless the in-memory counters equal a fresh scan.
func checkCounters(t testing.TB, q *Queue) {
	t.Helper()
	want := scanDisk(t, q)
	got := q.counters()
	for p := range Priority(numPriorities) {
		if got[p] != want[p] {
			t.Fatalf("%s counters %+v, the files hold %+v", p, got[p], want[p])
		}
	}
}

// appendRaw appends frames to the last segment of p in a closed queue.
func appendRaw(t *testing.T, dir string, p Priority, frames []byte) {
	t.Helper()
	files := segFiles(t, dir)
	idx := slices.Max(slices.Collect(func(yield func(uint64) bool) {
		for i := range files[p] {
			if !yield(i) {
				return
			}
		}
	}))
	f, err := os.OpenFile(filepath.Join(dir, segName(p, idx)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(frames); err != nil {
		t.Fatal(err)
	}
}
