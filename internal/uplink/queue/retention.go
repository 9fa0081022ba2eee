package queue

import (
	"fmt"
	"time"
)

// drops counts entries dropped by retention, by reason.
type drops struct{ byAge, byBytes int }

// retain drops the entries older than MaxAge, then while the stored bytes
// exceed MaxBytes the oldest entries, Low priority first. It is called
// after each group commit and by Next. Handed-out entries are dropped in
// memory; the others by moving the reader past them: a whole segment's
// rest at once when all of it goes, else frame by frame. A failed read is
// logged and retried at the next call. Without Append or Next calls
// nothing grows, so no timer goroutine is needed.
func (q *Queue) retain() {
	cutoff := q.now().UnixNano() - int64(q.cfg.MaxAge) // no overflow for times after 1970
	q.mu.Lock()
	over := q.overBound(cutoff)
	q.mu.Unlock()
	if !over { // the common case, without waiting for a running Next
		return
	}
	q.rmu.Lock()
	d, err := q.dropOver(cutoff)
	q.deleteDead()
	q.rmu.Unlock()
	if err != nil {
		q.limited.Error("uplink queue: dropping entries failed", "err", err)
	}
	if d.byAge+d.byBytes == 0 {
		return
	}
	q.met.dropped.WithLabelValues(ReasonMaxAge).Add(float64(d.byAge))
	q.met.dropped.WithLabelValues(ReasonMaxBytes).Add(float64(d.byBytes))
	q.limited.Warn("uplink queue over its retention bound: dropped oldest entries",
		ReasonMaxAge, d.byAge, ReasonMaxBytes, d.byBytes,
		"max_age", q.cfg.MaxAge, "max_bytes_limit", q.cfg.MaxBytes)
	q.maybeCheckpoint()
}

// overBound reports whether anything is to drop. q.mu is held.
func (q *Queue) overBound(cutoff int64) bool {
	if q.closed {
		return false
	}
	for _, l := range q.logs {
		if o := l.oldest(); o != nil && o.at < cutoff {
			return true
		}
	}
	return q.totalBytes() > q.cfg.MaxBytes
}

func (q *Queue) totalBytes() int64 { return q.logs[Low].bytes + q.logs[High].bytes }

// dropOver drops, oldest first, the entries appended before cutoff, then
// (Low first) entries until the bytes are within MaxBytes (rmu held).
func (q *Queue) dropOver(cutoff int64) (drops, error) {
	var d drops
	for _, l := range [...]*plog{q.logs[Low], q.logs[High]} {
		n, err := q.dropWhile(l, func(o *slot, _ *segment) (bool, bool) {
			return o.at < cutoff, o.seg.lastAt < cutoff
		})
		d.byAge += n
		if err != nil {
			return d, err
		}
	}
	for _, l := range [...]*plog{q.logs[Low], q.logs[High]} {
		n, err := q.dropWhile(l, func(_ *slot, s *segment) (bool, bool) {
			excess := q.totalBytes() - q.cfg.MaxBytes
			return excess > 0, s.pendBytes <= excess
		})
		d.byBytes += n
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// dropWhile drops l's oldest entry while drop says so (rmu held). drop
// gets the oldest entry and, if it is the reader's next, its segment;
// whole says whether all of that segment's rest may go at once.
func (q *Queue) dropWhile(l *plog, drop func(o *slot, s *segment) (one, whole bool)) (int, error) {
	n := 0
	for {
		q.mu.Lock()
		o := l.oldest()
		if q.closed || o == nil {
			q.mu.Unlock()
			return n, nil
		}
		one, whole := drop(o, o.seg)
		if !one {
			q.mu.Unlock()
			return n, nil
		}
		if i := l.win.head; l.win.front() == o {
			l.killSlot(i) // handed out: a later Ack is ignored, a nacked one is not handed out
			q.deleted++
			q.mu.Unlock()
			n++
			continue
		}
		if whole && o.seg == l.rd.seg {
			m := l.skipRest(o.seg)
			q.deleted += m
			n += m
			v := l.view()
			q.mu.Unlock()
			if err := q.refreshHead(l, v); err != nil {
				return n, err
			}
			continue
		}
		v := l.view()
		q.mu.Unlock()
		if err := q.dropHead(l, v); err != nil {
			return n, err
		}
		n++
	}
}

// dropHead drops the reader's next entry (rmu held).
func (q *Queue) dropHead(l *plog, v view) error {
	h, err := q.peekLive(l, v, nil)
	if err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("%s log: no entry to drop at %s offset %d", l.p, l.rd.seg.path, l.rd.off)
	}
	fr, _, err := l.rd.next(v)
	if err != nil {
		return err
	}
	q.mu.Lock()
	l.forgetPending(fr.seg, fr.size)
	q.deleted++
	q.mu.Unlock()
	return q.refreshHead(l, v)
}

// refreshHead finds and publishes the reader's next entry (rmu held).
func (q *Queue) refreshHead(l *plog, v view) error {
	next, err := q.peekLive(l, v, nil)
	q.mu.Lock()
	q.publishHead(l, next)
	q.mu.Unlock()
	return err
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
	Commits    uint64 // group commits that wrote them (Appends/Commits calls per commit)
}

// Stats returns the current backlog, from memory (no disk access).
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now().UnixNano()
	s := Stats{ByPriority: make(map[Priority]PriorityStats, numPriorities), Appends: q.appends, Commits: q.commits}
	for _, p := range []Priority{Low, High} {
		l := q.logs[p]
		ps := PriorityStats{Entries: l.count, Bytes: l.bytes}
		if o := l.oldest(); o != nil {
			ps.OldestAge = time.Duration(max(now-o.at, 0))
		}
		s.Entries += ps.Entries
		s.Bytes += ps.Bytes
		s.OldestAge = max(s.OldestAge, ps.OldestAge)
		s.InFlight += l.win.inflight
		s.ByPriority[p] = ps
	}
	return s
}
