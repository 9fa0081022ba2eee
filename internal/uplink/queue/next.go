package queue

import (
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
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, fmt.Errorf("next: %w", ErrClosed)
		}
		seqs := q.idx.take(max)
		wait := q.notify
		q.mu.Unlock()
		if len(seqs) > 0 {
			items, err := q.read(seqs)
			if err != nil || len(items) > 0 {
				return items, err
			}
			continue // all dropped by retention meanwhile
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

// read loads handed-out entries; ones deleted meanwhile are skipped. On
// error the entries are made pending again.
func (q *Queue) read(seqs []uint64) ([]Item, error) {
	items := make([]Item, 0, len(seqs))
	err := q.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(entriesBucket)
		for _, s := range seqs {
			v := b.Get(seqKey(s))
			if v == nil {
				continue
			}
			r, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("seq %d: %w", s, err)
			}
			items = append(items, Item{Seq: s, Entry: r.Entry})
		}
		return nil
	})
	if err != nil {
		q.Nack(seqs...)
		return nil, fmt.Errorf("next: read: %w", err)
	}
	return items, nil
}

// Ack deletes delivered entries. Unknown sequences (already acked or
// dropped) are ignored.
func (q *Queue) Ack(seqs ...uint64) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("ack: %w", ErrClosed)
	}
	var del []uint64
	for _, s := range seqs {
		if q.idx.remove(s) {
			del = append(del, s)
		}
	}
	q.mu.Unlock()
	if err := q.deleteSeqs(del); err != nil {
		return fmt.Errorf("ack %d entries: %w", len(del), err)
	}
	q.met.acked.Add(float64(len(del)))
	return nil
}

// Nack makes in-flight entries pending again; they are handed out before
// later sequences of their priority. Sequences not in flight are ignored.
func (q *Queue) Nack(seqs ...uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, s := range seqs {
		if q.idx.requeue(s) {
			n++
		}
	}
	if n > 0 {
		q.wake()
	}
}

func (q *Queue) deleteSeqs(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(entriesBucket)
		for _, s := range seqs {
			if err := b.Delete(seqKey(s)); err != nil {
				return fmt.Errorf("delete seq %d: %w", s, err)
			}
		}
		return nil
	})
}
