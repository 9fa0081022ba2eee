package queue

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// drops counts entries dropped by retention, by reason.
type drops struct{ byAge, byBytes int }

// retain drops the entries older than MaxAge, then while the stored bytes
// exceed MaxBytes the oldest entries, Low priority first. It is called
// after each group commit and by Next, deletes at most chunk entries per
// transaction (so a large drop neither holds up appends nor needs much
// memory) and walks each priority from its oldest key: nothing is kept in
// memory per entry. A failed delete is logged and retried at the next call.
func (q *Queue) retain() {
	var total drops
	for {
		d, err := q.retainChunk()
		total.byAge += d.byAge
		total.byBytes += d.byBytes
		if err != nil {
			q.limited.Error("uplink queue: dropping entries failed", "err", err)
			break
		}
		if d.byAge+d.byBytes < chunk {
			break
		}
	}
	if total.byAge+total.byBytes == 0 {
		return
	}
	q.met.dropped.WithLabelValues(ReasonMaxAge).Add(float64(total.byAge))
	q.met.dropped.WithLabelValues(ReasonMaxBytes).Add(float64(total.byBytes))
	q.limited.Warn("uplink queue over its retention bound: dropped oldest entries",
		ReasonMaxAge, total.byAge, ReasonMaxBytes, total.byBytes,
		"max_age", q.cfg.MaxAge, "max_bytes_limit", q.cfg.MaxBytes)
}

// overBound reports whether anything is to drop. q.mu is held.
func (q *Queue) overBound(cutoff int64) bool {
	if q.closed {
		return false
	}
	for _, st := range q.prio {
		if st.count > 0 && st.oldestAt < cutoff {
			return true
		}
	}
	return q.totalBytes() > q.cfg.MaxBytes
}

// retainChunk drops up to chunk entries in one write transaction.
func (q *Queue) retainChunk() (drops, error) {
	cutoff := q.now().UnixNano() - int64(q.cfg.MaxAge) // no overflow for times after 1970
	q.mu.Lock()
	over := q.overBound(cutoff)
	q.mu.Unlock()
	if !over { // the common case, without waiting for a running commit
		return drops{}, nil
	}
	q.wmu.Lock()
	defer q.wmu.Unlock()
	var r removed
	q.mu.Lock()
	if !q.overBound(cutoff) {
		q.mu.Unlock()
		return drops{}, nil
	}
	q.snapshotOldest(&r)
	excess := q.totalBytes() - q.cfg.MaxBytes
	q.mu.Unlock()
	oldest := r.oldest
	var d drops
	err := q.db.Update(func(tx *bolt.Tx) (err error) {
		r = removed{oldest: oldest}
		d, err = r.dropOver(tx, cutoff, excess)
		return err
	})
	if err != nil {
		return drops{}, err
	}
	q.mu.Lock()
	q.applyRemoved(&r)
	for s, p := range q.inflight { // dropped in flight: a later Ack is ignored
		if s <= r.maxSeq[p] {
			delete(q.inflight, s)
		}
	}
	q.mu.Unlock()
	return d, nil
}

// dropOver deletes, oldest first and at most chunk, the entries appended
// before cutoff, then (Low first) entries until excess bytes are freed.
func (r *removed) dropOver(tx *bolt.Tx, cutoff, excess int64) (d drops, err error) {
	for _, p := range [...]Priority{Low, High} {
		if d.byAge, err = r.dropFront(tx, p, chunk-r.total(), d.byAge, func(_, v []byte) bool {
			return appendedOf(v) < cutoff
		}); err != nil {
			return d, err
		}
	}
	for _, p := range [...]Priority{Low, High} {
		if d.byBytes, err = r.dropFront(tx, p, chunk-r.total(), d.byBytes, func(_, _ []byte) bool {
			return r.freed() < excess
		}); err != nil {
			return d, err
		}
	}
	r.finish(tx)
	return d, nil
}

// dropFront deletes entries of priority p from the oldest on while drop
// says so, at most budget of them, and adds their number to n.
func (r *removed) dropFront(tx *bolt.Tx, p Priority, budget, n int, drop func(k, v []byte) bool) (int, error) {
	c := tx.Bucket(bucketNames[p]).Cursor()
	for ; budget > 0; budget-- {
		k, v := c.First()
		if k == nil || !drop(k, v) {
			break
		}
		r.note(p, k, v)
		if err := c.Delete(); err != nil {
			return n, fmt.Errorf("drop %s key %x: %w", p, k, err)
		}
		r.stale[p] = true
		n++
	}
	return n, nil
}

// PriorityStats is the backlog of one priority.
type PriorityStats struct {
	Entries   int
	Bytes     int64
	OldestAge time.Duration // since the oldest entry was appended; 0 when empty
}

// Stats is a snapshot of the queue.
type Stats struct {
	Entries    int // stored, including in flight
	Bytes      int64
	OldestAge  time.Duration
	InFlight   int
	ByPriority map[Priority]PriorityStats
	Appends    uint64 // Append calls committed since Open
	Commits    uint64 // bbolt transactions that committed them (group commit: Appends/Commits per transaction)
}

// Stats returns the current backlog, from memory (no disk access).
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now().UnixNano()
	s := Stats{InFlight: len(q.inflight), ByPriority: make(map[Priority]PriorityStats, numPriorities),
		Appends: q.appends, Commits: q.commits}
	for _, p := range []Priority{Low, High} {
		st := q.prio[p]
		ps := PriorityStats{Entries: st.count, Bytes: st.bytes}
		if st.count > 0 {
			ps.OldestAge = time.Duration(max(now-st.oldestAt, 0))
		}
		s.Entries += ps.Entries
		s.Bytes += ps.Bytes
		s.OldestAge = max(s.OldestAge, ps.OldestAge)
		s.ByPriority[p] = ps
	}
	return s
}
