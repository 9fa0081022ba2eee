package queue

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
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
		items, again, wait, err := q.take(max)
		if err != nil {
			return nil, fmt.Errorf("next: %w", err)
		}
		if len(items) > 0 {
			return items, nil
		}
		if again {
			continue // only corrupt or deleted entries were read: more may be pending
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

// take hands out up to limit pending entries, High first. again: entries
// were read but none could be handed out (corrupt, deleted meanwhile).
// wait is closed when more become pending.
func (q *Queue) take(limit int) (items []Item, again bool, wait <-chan struct{}, err error) {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, false, nil, ErrClosed
	}
	wait = q.notify
	q.listened = true
	q.mu.Unlock()
	for _, p := range [...]Priority{High, Low} {
		var read bool
		items, read, err = q.takeRedo(q.logs[p], items, limit)
		again = again || read
		if err == nil {
			items, read, err = q.scan(q.logs[p], items, limit)
			again = again || read
		}
		if err != nil {
			break
		}
	}
	q.deleteDead()
	if err != nil && len(items) > 0 { // they are in flight now: hand them out, report later
		q.limited.Error("uplink queue: reading entries failed", "err", err)
		err = nil
	}
	return items, again && len(items) == 0, wait, err
}

// takeRedo hands out nacked entries of l (rmu held): they are read
// again from their segment; those acked or dropped meanwhile are skipped.
func (q *Queue) takeRedo(l *plog, items []Item, limit int) ([]Item, bool, error) {
	q.mu.Lock()
	var redo []slot
	for len(items)+len(redo) < limit && l.redo.Len() > 0 {
		s := heap.Pop(&l.redo).(uint64)
		if i := l.win.find(s); i >= 0 && l.win.s[i].state == slotRedo {
			redo = append(redo, l.win.s[i])
		}
	}
	q.mu.Unlock()
	if len(redo) == 0 {
		return items, false, nil
	}
	recs := make([]record, len(redo))
	errs := make([]error, len(redo))
	for i, s := range redo {
		var v []byte
		if v, errs[i] = readFrameAt(s.seg, s.off, s.size, s.seq); errs[i] == nil {
			recs[i], errs[i] = decodeValue(v, l.p)
		}
	}
	n := len(items)
	q.mu.Lock()
	defer q.mu.Unlock()
	var ioErr error
	for i, s := range redo {
		j := l.win.find(s.seq)
		if j < 0 || l.win.s[j].state != slotRedo {
			continue // acked or dropped meanwhile
		}
		if errs[i] != nil && !isCorrupt(errs[i]) { // an I/O error: try again later
			heap.Push(&l.redo, s.seq)
			ioErr = cmp.Or(ioErr, errs[i])
			continue
		}
		if errs[i] != nil {
			q.log.Error("deleting queue entry that does not read back", "priority", l.p, "seq", s.seq, "err", errs[i])
			l.killSlot(j)
			q.deleted++
			continue
		}
		l.win.s[j].state = slotInFlight
		l.win.inflight++
		items = append(items, Item{Seq: s.seq, Entry: recs[i].Entry})
	}
	return items, len(items) == n, ioErr
}

// isCorrupt tells a frame or value that does not read back (deleted) from
// an I/O error (retried).
func isCorrupt(err error) bool {
	return errors.Is(err, errBadFrame) || errors.Is(err, errShortFrame) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, errCorrupt) || errors.Is(err, errCorruptFrame)
}

// decodeValue decodes a stored value of a priority-p log.
func decodeValue(v []byte, p Priority) (record, error) {
	r, err := decodeRecord(v)
	if err == nil && r.Priority != p {
		err = fmt.Errorf("%w: priority %s in the %s log", errCorrupt, r.Priority, p)
	}
	return r, err
}

// scanned is a frame read by the scan.
type scanned struct {
	fr   frame // value not valid any more
	at   int64
	rec  record
	err  error // the value does not decode
	gone bool  // acked before it was read
}

// scan hands out the entries after the reader's position (rmu held).
func (q *Queue) scan(l *plog, items []Item, limit int) ([]Item, bool, error) {
	q.mu.Lock()
	if len(items) >= limit || l.head == nil {
		q.mu.Unlock()
		return items, false, nil
	}
	v := l.view()
	q.mu.Unlock()
	var got []scanned
	live := 0
	var rerr error
	for live < limit-len(items) {
		fr, ok, err := l.rd.next(v)
		if err != nil || !ok {
			rerr = err
			break
		}
		sc := scanned{fr: fr, at: appendedOf(fr.value)}
		if _, sc.gone = l.gone[fr.seq]; !sc.gone {
			sc.rec, sc.err = decodeValue(fr.value, l.p)
			live++
		}
		got = append(got, sc)
	}
	n := len(items)
	q.mu.Lock()
	items = q.handOut(l, got, items)
	q.mu.Unlock()
	next, nerr := q.peekLive(l, v, rerr)
	q.mu.Lock()
	q.publishHead(l, next)
	q.mu.Unlock()
	if nerr != nil {
		return items, false, nerr
	}
	return items, len(got) > 0 && len(items) == n, nil
}

// handOut applies what the scan read (mu held): gone entries are
// forgotten, corrupt ones deleted, the others handed out.
func (q *Queue) handOut(l *plog, got []scanned, items []Item) []Item {
	for _, sc := range got {
		switch {
		case sc.gone:
			delete(l.gone, sc.fr.seq)
		case sc.err != nil:
			q.log.Error("deleting corrupt queue entry", "priority", l.p, "seq", sc.fr.seq, "err", sc.err)
			l.forgetPending(sc.fr.seg, sc.fr.size)
			q.deleted++
		default:
			sc.fr.seg.pendN--
			sc.fr.seg.pendBytes -= sc.fr.size
			l.win.push(slot{seq: sc.fr.seq, at: sc.at, seg: sc.fr.seg, off: sc.fr.off, size: sc.fr.size})
			items = append(items, Item{Seq: sc.fr.seq, Entry: sc.rec.Entry})
		}
	}
	return items
}

// peekLive finds the next entry the reader has not passed, skipping
// (consuming) gone ones, after the scan stopped with err (rmu held). A
// frame that does not read back ends its segment: the rest is skipped.
func (q *Queue) peekLive(l *plog, v view, err error) (*slot, error) {
	for {
		if errors.Is(err, errCorruptFrame) {
			q.skipCorrupt(l, err)
			err = nil
		}
		if err != nil {
			return nil, err
		}
		var fr frame
		var ok bool
		fr, ok, err = l.rd.peek(v)
		if err != nil {
			continue
		}
		if !ok {
			return nil, nil
		}
		if _, gone := l.gone[fr.seq]; !gone {
			return &slot{seq: fr.seq, at: appendedOf(fr.value), seg: fr.seg, off: fr.off}, nil
		}
		l.rd.off += fr.size
		q.mu.Lock()
		delete(l.gone, fr.seq)
		q.mu.Unlock()
	}
}

// skipCorrupt deletes the rest of the reader's segment, which does not
// read back (rmu held).
func (q *Queue) skipCorrupt(l *plog, err error) {
	q.mu.Lock()
	n := l.skipRest(l.rd.seg)
	q.deleted += n
	q.mu.Unlock()
	q.log.Error("uplink queue: damaged segment, deleting the rest of it", "priority", l.p, "entries", n, "err", err)
}

// skipRest deletes every entry of s after the reader, which moves to the
// end of s (rmu and mu held), and returns their number.
func (l *plog) skipRest(s *segment) int {
	n := s.pendN
	l.count -= s.pendN
	l.bytes -= s.pendBytes
	s.pendN, s.pendBytes = 0, 0
	for seq, g := range l.gone {
		if g.seg == s {
			delete(l.gone, seq)
		}
	}
	l.rd.seg, l.rd.off = s, s.size
	return n
}

// publishHead sets the reader's next entry (mu held). If the reader
// found none but commits came in meanwhile (they left head alone: it was
// set), the first of them is read here: a small read under mu, only in
// that race.
func (q *Queue) publishHead(l *plog, next *slot) {
	l.head = next
	act := l.active()
	if next != nil || l.rd.seg == act && l.rd.off >= act.size {
		return
	}
	fr, ok, err := l.rd.peek(l.view())
	if err != nil || !ok {
		if err != nil {
			q.log.Error("uplink queue: reading the next entry failed", "priority", l.p, "err", err)
		}
		return
	}
	l.head = &slot{seq: fr.seq, at: appendedOf(fr.value), seg: fr.seg, off: fr.off}
}
