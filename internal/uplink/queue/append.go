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
	q.wmu.Lock()
	a, err := q.commit(batch)
	q.mu.Lock()
	if err == nil {
		q.applyAdded(&a)
		q.appends += uint64(len(batch))
		q.commits++
		q.met.appended.Add(float64(a.total()))
		q.wake()
	}
	q.wmu.Unlock()
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

// commit writes every entry of batch in one transaction. Keys and values
// are encoded into one buffer (bbolt needs them until the commit), which
// is garbage afterwards: nothing per entry outlives the commit.
func (q *Queue) commit(batch []*appendReq) (added, error) {
	now := q.now().UnixNano()
	size := 0
	for _, r := range batch {
		for _, e := range r.es {
			size += 8 + recordCap(e)
		}
	}
	buf := make([]byte, 0, size) // never grows: slices into it stay valid
	var a added
	err := q.db.Update(func(tx *bolt.Tx) error {
		a, buf = added{at: now}, buf[:0]
		m := tx.Bucket(metaBucket)
		var bs [numPriorities]*bolt.Bucket
		for p := range bs {
			bs[p] = tx.Bucket(bucketNames[p])
			bs[p].FillPercent = fillPercent
		}
		seq := m.Sequence()
		for _, r := range batch {
			for _, e := range r.es {
				seq++
				start := len(buf)
				buf = binary.BigEndian.AppendUint64(buf, seq)
				buf = appendRecord(buf, record{Entry: e, appended: now})
				if err := bs[e.Priority].Put(buf[start:start+8:start+8], buf[start+8:len(buf):len(buf)]); err != nil {
					return fmt.Errorf("put seq %d: %w", seq, err)
				}
				a.note(e.Priority, seq, len(buf)-start)
			}
		}
		return m.SetSequence(seq)
	})
	if err != nil {
		return added{}, fmt.Errorf("commit: %w", err)
	}
	return a, nil
}

// wake tells blocked Next calls that entries are pending. q.mu is held.
func (q *Queue) wake() {
	close(q.notify)
	q.notify = make(chan struct{})
}
