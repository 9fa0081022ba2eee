package queue

import (
	"container/heap"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Next blocks until entries are pending or ctx ends, then hands out up to
// max of them: all pending High entries before any Low one, each priority
// by ascending sequence. Handed-out entries are in flight until Ack or
// Nack (in memory only: after a crash and Open they are pending again).
func (q *Queue) Next(ctx context.Context, max int) ([]Item, error) {
	if max <= 0 {
		return nil, fmt.Errorf("next: max must be > 0, got %d", max)
	}
	for {
		q.retain()
		items, bad, wait, err := q.take(max)
		if err != nil {
			return nil, fmt.Errorf("next: %w", err)
		}
		q.dropCorrupt(bad)
		if len(items) > 0 {
			return items, nil
		}
		if len(bad) > 0 {
			continue // only corrupt entries were read: more may be pending
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("next: %w", ctx.Err())
		case <-q.done:
			return nil, fmt.Errorf("next: %w", ErrClosed)
		case <-wait:
		}
	}
}

// ref names a stored entry; known is false when its priority is not known.
type ref struct {
	seq   uint64
	prio  Priority
	known bool
	err   error // why it is corrupt
}

// take hands out up to max pending entries in one read transaction:
// per priority (High first) the nacked ones, then the scan onwards from
// the highest sequence handed out so far. bad are entries that do not
// decode (not handed out). wait is closed when more become pending.
func (q *Queue) take(limit int) (items []Item, bad []ref, wait <-chan struct{}, err error) {
	q.nmu.Lock()
	defer q.nmu.Unlock()
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, nil, nil, ErrClosed
	}
	wait = q.notify
	var last [numPriorities]uint64
	pending := false
	for p := range Priority(numPriorities) {
		last[p] = q.prio[p].last
		pending = pending || q.redo[p].Len() > 0 || q.next[p] < last[p]
	}
	q.mu.Unlock()
	if !pending {
		return nil, nil, wait, nil
	}
	// The callback changes the scan state and cannot fail: an error
	// comes from beginning the transaction, before any change.
	err = q.db.View(func(tx *bolt.Tx) error {
		for p := High; ; p-- {
			b := tx.Bucket(bucketNames[p])
			items, bad = q.takeRedo(b, p, items, bad, limit)
			items, bad = q.scan(b, p, last[p], items, bad, limit)
			if p == Low {
				return nil
			}
		}
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read: %w", err)
	}
	q.mu.Lock()
	for _, it := range items {
		q.inflight[it.Seq] = it.Priority
	}
	q.mu.Unlock()
	return items, bad, wait, nil
}

// takeRedo hands out nacked entries of priority p; ones deleted meanwhile
// (acked, dropped) are forgotten. q.nmu is held.
func (q *Queue) takeRedo(b *bolt.Bucket, p Priority, items []Item, bad []ref, limit int) ([]Item, []ref) {
	for len(items) < limit && q.redo[p].Len() > 0 {
		s := heap.Pop(&q.redo[p]).(uint64)
		if v := b.Get(seqKey(s)); v != nil {
			items, bad = decodeItem(s, p, v, items, bad)
		}
	}
	return items, bad
}

// scan hands out the entries of priority p after the highest one handed
// out so far. last is the highest committed sequence of p when the
// transaction began. q.nmu is held.
func (q *Queue) scan(b *bolt.Bucket, p Priority, last uint64, items []Item, bad []ref, limit int) ([]Item, []ref) {
	if len(items) >= limit {
		return items, bad
	}
	c := b.Cursor()
	k, v := c.Seek(seqKey(q.next[p] + 1))
	for ; k != nil && len(items) < limit; k, v = c.Next() {
		s := seqFromKey(k)
		if s == 0 { // not a key this queue wrote: ignored (retention drops it at the front)
			continue
		}
		q.next[p] = s
		items, bad = decodeItem(s, p, v, items, bad)
	}
	if k == nil { // nothing more up to last: skip the scan until more is appended
		q.next[p] = max(q.next[p], last)
	}
	return items, bad
}

func decodeItem(s uint64, p Priority, v []byte, items []Item, bad []ref) ([]Item, []ref) {
	r, err := decodeRecord(v)
	if err == nil && r.Priority != p {
		err = fmt.Errorf("%w: priority %s in the %s bucket", errCorrupt, r.Priority, p)
	}
	if err != nil {
		return items, append(bad, ref{seq: s, prio: p, known: true, err: err})
	}
	return append(items, Item{Seq: s, Entry: r.Entry}), bad
}

// dropCorrupt logs and deletes entries that do not decode (written by a
// newer borda, damaged file).
func (q *Queue) dropCorrupt(bad []ref) {
	if len(bad) == 0 {
		return
	}
	for _, r := range bad {
		q.log.Error("deleting corrupt queue entry", "priority", r.prio, "seq", r.seq, "err", r.err)
	}
	if _, err := q.deleteRefs(bad); err != nil {
		q.log.Error("uplink queue: deleting corrupt entries failed", "entries", len(bad), "err", err)
	}
}
