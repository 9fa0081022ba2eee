package queue

import "sort"

// Slot states.
const (
	slotInFlight uint8 = iota // handed out by Next
	slotRedo                  // nacked (or listed in flight at the last checkpoint): handed out again first
	slotDead                  // acked or dropped; compacted away
)

// slot is a handed-out entry that is still stored: where its frame is
// (for a redelivery after Nack and for the checkpoint), its size and
// append time (for the counters and retention).
type slot struct {
	seq   uint64
	at    int64 // append time, Unix ns
	seg   *segment
	off   int64
	size  int64
	state uint8
}

// window holds the handed-out entries of one priority that are still
// stored, by ascending sequence (Next's scan hands out in that order).
// Dead slots are compacted away, so it is O(in flight + nacked). Guarded
// by Queue.mu.
type window struct {
	s        []slot
	head     int // s[:head] is compacted away
	live     int // slots not dead
	inflight int // slots in flight
}

func (w *window) push(s slot) {
	w.s = append(w.s, s)
	w.live++
	if s.state == slotInFlight {
		w.inflight++
	}
}

// find returns the index of seq's slot, or -1.
func (w *window) find(seq uint64) int {
	live := w.s[w.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].seq >= seq })
	if i < len(live) && live[i].seq == seq {
		return w.head + i
	}
	return -1
}

// kill marks slot i dead and compacts.
func (w *window) kill(i int) {
	if w.s[i].state == slotInFlight {
		w.inflight--
	}
	w.s[i].state = slotDead
	w.s[i].seg = nil
	w.live--
	w.compact()
}

// compact drops dead slots from the front, and all of them once they
// outnumber the live ones, so memory stays proportional to the live.
func (w *window) compact() {
	for w.head < len(w.s) && w.s[w.head].state == slotDead {
		w.head++
	}
	dead := len(w.s) - w.head - w.live
	if dead <= w.live+32 {
		if w.head > len(w.s)/2 { // reuse the front of the array
			n := copy(w.s, w.s[w.head:])
			clear(w.s[n:])
			w.s, w.head = w.s[:n], 0
		}
		return
	}
	keep := make([]slot, 0, w.live*2)
	for _, s := range w.s[w.head:] {
		if s.state != slotDead {
			keep = append(keep, s)
		}
	}
	w.s, w.head = keep, 0
}

// front is the oldest live slot, or nil.
func (w *window) front() *slot {
	if w.head < len(w.s) {
		return &w.s[w.head]
	}
	return nil
}

// each calls fn for every live slot in sequence order.
func (w *window) each(fn func(*slot)) {
	for i := w.head; i < len(w.s); i++ {
		if w.s[i].state != slotDead {
			fn(&w.s[i])
		}
	}
}

// seqHeap is a min-heap of sequence numbers (container/heap).
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
