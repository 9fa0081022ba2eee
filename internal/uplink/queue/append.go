package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// appendReq is one Append call waiting for a group commit.
type appendReq struct {
	es   []Entry
	done chan error
}

// Append stores es durably: when it returns nil the entries are committed
// (and fsynced when Config.Fsync). Concurrent callers are group-committed:
// whoever finds no commit running becomes the leader and writes every
// waiting call in one bbolt transaction. ctx is checked before the entries
// are queued for commit; once queued, Append waits for the commit so that
// its result is never ambiguous.
func (q *Queue) Append(ctx context.Context, es []Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append: %w", err)
	}
	for i, e := range es {
		if e.Priority > High {
			return fmt.Errorf("append: entry %d: priority %d is not Low or High", i, e.Priority)
		}
	}
	if len(es) == 0 {
		return nil
	}
	start := time.Now()
	req := &appendReq{es: es, done: make(chan error, 1)}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.met.appendErrors.Inc()
		return fmt.Errorf("append: %w", ErrClosed)
	}
	q.waiting = append(q.waiting, req)
	lead := !q.committing
	q.committing = true
	q.mu.Unlock()
	if lead {
		q.lead()
	}
	err := <-req.done
	for err == errPromoted {
		q.lead()
		err = <-req.done
	}
	q.met.appendSecs.Observe(time.Since(start).Seconds())
	if err != nil {
		q.met.appendErrors.Inc()
		return fmt.Errorf("append %d entries: %w", len(es), err)
	}
	return nil
}

// errPromoted tells a waiting Append to lead the next group commit.
var errPromoted = errors.New("promoted to commit leader")

// lead runs one group commit of every waiting call, then hands the lead to
// the first call that arrived meanwhile, so no caller leads forever.
func (q *Queue) lead() {
	q.mu.Lock()
	batch := q.waiting
	q.waiting = nil
	q.mu.Unlock()
	seqs, metas, err := q.commit(batch)
	q.mu.Lock()
	if err == nil {
		for i, s := range seqs {
			q.idx.add(s, metas[i])
		}
		q.appends += uint64(len(batch))
		q.commits++
		q.met.appended.Add(float64(len(seqs)))
		q.wake()
	}
	for _, r := range batch {
		r.done <- err
	}
	if len(q.waiting) > 0 {
		q.waiting[0].done <- errPromoted
	} else {
		q.committing = false
	}
	q.mu.Unlock()
	q.retain()
}

// commit writes every entry of batch in one transaction.
func (q *Queue) commit(batch []*appendReq) ([]uint64, []meta, error) {
	now := q.now().UnixNano()
	var seqs []uint64
	var metas []meta
	err := q.db.Update(func(tx *bolt.Tx) error {
		seqs, metas = seqs[:0], metas[:0]
		b := tx.Bucket(entriesBucket)
		seq := b.Sequence()
		for _, r := range batch {
			for _, e := range r.es {
				seq++
				k, v := seqKey(seq), encodeRecord(record{Entry: e, appended: now})
				if err := b.Put(k, v); err != nil {
					return fmt.Errorf("put seq %d: %w", seq, err)
				}
				seqs = append(seqs, seq)
				metas = append(metas, meta{prio: e.Priority, size: int64(len(k) + len(v)), appended: now})
			}
		}
		return b.SetSequence(seq)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	return seqs, metas, nil
}

// wake tells blocked Next calls that entries are pending. q.mu is held.
func (q *Queue) wake() {
	close(q.notify)
	q.notify = make(chan struct{})
}

func seqFromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
