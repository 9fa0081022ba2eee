package queue

import (
	"container/heap"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Ack deletes delivered entries. Unknown sequences (already acked or
// dropped) are ignored.
func (q *Queue) Ack(seqs ...uint64) error {
	refs := make([]ref, len(seqs))
	q.mu.Lock()
	for i, s := range seqs {
		p, ok := q.inflight[s]
		refs[i] = ref{seq: s, prio: p, known: ok}
	}
	q.mu.Unlock()
	n, err := q.deleteRefs(refs)
	if err != nil {
		return fmt.Errorf("ack %d entries: %w", len(seqs), err)
	}
	q.met.acked.Add(float64(n))
	return nil
}

// Nack makes in-flight entries pending again; they are handed out before
// later sequences of their priority. Sequences not in flight are ignored.
func (q *Queue) Nack(seqs ...uint64) {
	q.nmu.Lock()
	defer q.nmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, s := range seqs {
		if p, ok := q.inflight[s]; ok {
			delete(q.inflight, s)
			heap.Push(&q.redo[p], s)
			n++
		}
	}
	if n > 0 {
		q.wake()
	}
}

// deleteRefs deletes the named entries in one write transaction (an
// entry of unknown priority is looked up in both buckets), forgets them
// as in flight and returns how many were stored.
func (q *Queue) deleteRefs(refs []ref) (int, error) {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	var r removed
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, ErrClosed
	}
	q.snapshotOldest(&r)
	q.mu.Unlock()
	if len(refs) == 0 {
		return 0, nil
	}
	oldest := r.oldest
	err := q.db.Update(func(tx *bolt.Tx) error {
		r = removed{oldest: oldest}
		for _, f := range refs {
			for _, p := range [...]Priority{High, Low} {
				if f.known && p != f.prio {
					continue
				}
				ok, err := r.del(tx.Bucket(bucketNames[p]), p, f.seq)
				if err != nil {
					return err
				}
				if ok {
					break
				}
			}
		}
		r.finish(tx)
		return nil
	})
	if err != nil {
		return 0, err
	}
	q.mu.Lock()
	q.applyRemoved(&r)
	for _, f := range refs {
		delete(q.inflight, f.seq)
	}
	q.mu.Unlock()
	return r.total(), nil
}
