package queue

import "container/heap"

// meta is what the queue keeps in memory per stored entry; data stays on disk.
type meta struct {
	prio     Priority
	size     int64
	appended int64 // Unix ns
}

// seqHeap is a min-heap of sequence numbers.
type seqHeap []uint64

func (h seqHeap) Len() int           { return len(h) }
func (h seqHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h seqHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seqHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *seqHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// index is the in-memory view of the stored entries. Deletion is lazy in
// pending and order: a sequence there counts only while it is in m.
type index struct {
	m        map[uint64]meta
	inflight map[uint64]struct{}
	pending  [numPriorities]seqHeap  // not handed out, smallest seq first
	order    [numPriorities][]uint64 // ascending seq, for retention
	count    [numPriorities]int
	bytes    [numPriorities]int64
}

func newIndex() *index {
	return &index{m: make(map[uint64]meta), inflight: make(map[uint64]struct{})}
}

// add records a stored entry; seqs must be added in ascending order.
func (x *index) add(seq uint64, m meta) {
	x.m[seq] = m
	heap.Push(&x.pending[m.prio], seq)
	x.order[m.prio] = append(x.order[m.prio], seq)
	x.count[m.prio]++
	x.bytes[m.prio] += m.size
}

// remove forgets seq (acked or dropped) and reports whether it was stored.
func (x *index) remove(seq uint64) bool {
	m, ok := x.m[seq]
	if !ok {
		return false
	}
	delete(x.m, seq)
	delete(x.inflight, seq)
	x.count[m.prio]--
	x.bytes[m.prio] -= m.size
	return true
}

// take hands out up to max pending entries, High priority first.
func (x *index) take(max int) []uint64 {
	var out []uint64
	for p := int(High); p >= int(Low) && len(out) < max; p-- {
		h := &x.pending[p]
		for h.Len() > 0 && len(out) < max {
			seq := heap.Pop(h).(uint64)
			if _, ok := x.m[seq]; !ok {
				continue
			}
			x.inflight[seq] = struct{}{}
			out = append(out, seq)
		}
	}
	return out
}

// requeue makes an in-flight entry pending again; false if it is not in flight.
func (x *index) requeue(seq uint64) bool {
	if _, ok := x.inflight[seq]; !ok {
		return false
	}
	delete(x.inflight, seq)
	heap.Push(&x.pending[x.m[seq].prio], seq)
	return true
}

// oldest returns the oldest stored sequence of priority p, trimming
// deleted ones off the front of the order list.
func (x *index) oldest(p Priority) (uint64, meta, bool) {
	o := x.order[p]
	for len(o) > 0 {
		if m, ok := x.m[o[0]]; ok {
			x.order[p] = o
			return o[0], m, true
		}
		o = o[1:]
	}
	x.order[p] = nil
	return 0, meta{}, false
}

func (x *index) totalBytes() int64 { return x.bytes[Low] + x.bytes[High] }
func (x *index) total() int        { return x.count[Low] + x.count[High] }
