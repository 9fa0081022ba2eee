package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// appendReq is one Append call waiting for a group commit.
type appendReq struct {
	es   []Entry
	done chan error
}

// Append stores es durably: when it returns nil the entries are written
// to the log (and flushed to the disk when Config.Fsync). Concurrent
// callers are group-committed: whoever finds no commit running becomes
// the leader and writes every waiting call with one write per priority. ctx is checked before the entries
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
		if recordCap(e) > maxPayload-8 {
			return fmt.Errorf("append: entry %d: %d bytes, at most %d fit a frame", i, len(e.Key)+len(e.Data), maxPayload-8-recordCap(Entry{}))
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
	closed := q.closed
	q.mu.Unlock()
	q.wmu.Lock()
	var a added
	err := ErrClosed
	if !closed {
		a, err = q.commit(batch)
	}
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

// added is what one group commit stored, per priority.
type added struct {
	count       [numPriorities]int
	bytes       [numPriorities]int64
	first, last [numPriorities]uint64
	seq         uint64 // the last sequence used
	at          int64  // append time of the whole commit
}

func (a *added) note(p Priority, seq uint64, size int) {
	if a.count[p] == 0 {
		a.first[p] = seq
	}
	a.count[p]++
	a.bytes[p] += int64(size)
	a.last[p] = seq
}

func (a *added) total() int { return a.count[Low] + a.count[High] }

// commit writes the frames of every entry of batch (wmu held): one write
// per priority, then one flush per priority with Config.Fsync. If any
// fails, what this commit wrote is cut off again.
func (q *Queue) commit(batch []*appendReq) (added, error) {
	a := added{at: q.now().UnixNano(), seq: q.seq}
	for _, l := range q.logs {
		l.wbuf = l.wbuf[:0]
	}
	for _, r := range batch {
		for _, e := range r.es {
			a.seq++
			l := q.logs[e.Priority]
			start := len(l.wbuf)
			l.wbuf = appendFrame(l.wbuf, a.seq, record{Entry: e, appended: a.at})
			a.note(e.Priority, a.seq, len(l.wbuf)-start)
		}
	}
	var written []*plog
	err := func() error {
		for p, l := range q.logs {
			if a.count[p] == 0 {
				continue
			}
			if err := q.writeFrames(l); err != nil {
				return err
			}
			written = append(written, l)
		}
		for _, l := range written {
			if q.cfg.Fsync {
				if err := l.syncFrames(); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	for _, l := range q.logs {
		if cap(l.wbuf) > maxKeptBuf {
			l.wbuf = nil
		}
	}
	if err != nil {
		for _, l := range written {
			l.rollback()
		}
		return added{}, fmt.Errorf("commit: %w", err)
	}
	q.seq = a.seq
	return a, nil
}

// maxKeptBuf bounds the write buffer kept between commits.
const maxKeptBuf = 1 << 20

// applyAdded updates the counters after a commit (wmu and mu held).
func (q *Queue) applyAdded(a *added) {
	for p, l := range q.logs {
		if a.count[p] > 0 {
			l.applyAdded(a.count[p], a.bytes[p], a.first[p], a.last[p], a.at)
		}
	}
	q.lastSeq = a.seq
}

// wake tells blocked Next calls that entries are pending (q.mu held);
// nothing to do when no Next took the channel since the last wake.
func (q *Queue) wake() {
	if q.listened {
		close(q.notify)
		q.notify = make(chan struct{})
		q.listened = false
	}
}
