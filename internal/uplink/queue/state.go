package queue

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// prioState is what the queue keeps in memory per priority: a few
// counters, independent of the backlog (the disk is the index).
type prioState struct {
	count     int    // stored entries, including in flight
	bytes     int64  // their keys and values
	oldestSeq uint64 // first stored entry; 0 when empty
	oldestAt  int64  // its append time, Unix ns (0 when unreadable: expires at once)
	last      uint64 // highest sequence committed (Next: nothing pending beyond)
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

// added is what one group commit stored, per priority.
type added struct {
	count       [numPriorities]int
	bytes       [numPriorities]int64
	first, last [numPriorities]uint64
	at          int64 // append time of the whole commit
}

func (a *added) note(p Priority, seq uint64, size int) {
	if a.count[p] == 0 {
		a.first[p] = seq
	}
	a.count[p]++
	a.bytes[p] += int64(size)
	a.last[p] = seq
}

// removed is what one write transaction deleted, measured on disk so that
// the counters stay exact whoever deleted an entry first (Ack, retention).
type removed struct {
	oldest [numPriorities]uint64 // oldest sequences before the transaction
	count  [numPriorities]int
	bytes  [numPriorities]int64
	maxSeq [numPriorities]uint64 // highest deleted sequence
	stale  [numPriorities]bool   // the oldest entry was deleted: front is the new one
	front  [numPriorities]struct {
		seq uint64
		at  int64
	}
}

func (r *removed) note(p Priority, k, v []byte) {
	seq := seqFromKey(k)
	r.count[p]++
	r.bytes[p] += int64(len(k) + len(v))
	r.maxSeq[p] = max(r.maxSeq[p], seq)
	if seq == r.oldest[p] {
		r.stale[p] = true
	}
}

func (r *removed) total() int      { return r.count[Low] + r.count[High] }
func (r *removed) freed() int64    { return r.bytes[Low] + r.bytes[High] }
func (a *added) total() int        { return a.count[Low] + a.count[High] }
func (q *Queue) totalBytes() int64 { return q.prio[Low].bytes + q.prio[High].bytes }

// del deletes the entry seq of priority p if it is stored.
func (r *removed) del(b *bolt.Bucket, p Priority, seq uint64) (bool, error) {
	key := seqKey(seq)
	c := b.Cursor()
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return false, nil
	}
	r.note(p, k, v)
	if err := c.Delete(); err != nil {
		return false, fmt.Errorf("delete %s seq %d: %w", p, seq, err)
	}
	return true, nil
}

// finish reads the new oldest entry of every priority whose oldest was deleted.
func (r *removed) finish(tx *bolt.Tx) {
	for p := range Priority(numPriorities) {
		if !r.stale[p] {
			continue
		}
		k, v := tx.Bucket(bucketNames[p]).Cursor().First()
		r.front[p].seq, r.front[p].at = 0, 0
		if k != nil {
			r.front[p].seq, r.front[p].at = seqFromKey(k), appendedOf(v)
		}
	}
}

// applyAdded and applyRemoved update the counters after a committed write
// transaction. q.mu and q.wmu are held.
func (q *Queue) applyAdded(a *added) {
	for p := range Priority(numPriorities) {
		st := &q.prio[p]
		if a.count[p] == 0 {
			continue
		}
		if st.count == 0 {
			st.oldestSeq, st.oldestAt = a.first[p], a.at
		}
		st.count += a.count[p]
		st.bytes += a.bytes[p]
		st.last = max(st.last, a.last[p])
	}
}

func (q *Queue) applyRemoved(r *removed) {
	for p := range Priority(numPriorities) {
		st := &q.prio[p]
		st.count -= r.count[p]
		st.bytes -= r.bytes[p]
		if r.stale[p] {
			st.oldestSeq, st.oldestAt = r.front[p].seq, r.front[p].at
		}
	}
}

// snapshotOldest prepares r for a transaction. q.mu is held.
func (q *Queue) snapshotOldest(r *removed) {
	for p := range Priority(numPriorities) {
		r.oldest[p] = q.prio[p].oldestSeq
	}
}
