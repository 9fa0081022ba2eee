package queue

import (
	"container/heap"
	"fmt"
	"slices"
)

// Ack deletes delivered entries. Unknown sequences (already acked or
// dropped) are ignored. The deletion is in memory at once and reaches
// the disk with the next checkpoint (at most checkpointEvery later, and
// at Close): after a crash, entries acked since are delivered again.
// Segments are deleted once nothing in them is stored any more.
func (q *Queue) Ack(seqs ...uint64) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("ack: %w", ErrClosed)
	}
	n, early := q.ackHandedOut(seqs)
	q.deleted += n
	q.mu.Unlock()
	if len(early) > 0 {
		m, err := q.ackEarly(early)
		n += m
		if err != nil {
			q.met.acked.Add(float64(n))
			return fmt.Errorf("ack %d entries: %w", len(seqs), err)
		}
	}
	q.met.acked.Add(float64(n))
	q.maybeCheckpoint()
	return nil
}

// ackHandedOut deletes the handed-out entries among seqs (mu held) and
// returns how many, and the sequences that may be stored but were not
// handed out yet (they need a look at the disk).
func (q *Queue) ackHandedOut(seqs []uint64) (int, []uint64) {
	n := 0
	var early []uint64
	for _, s := range seqs {
		found := false
		for _, l := range q.logs {
			if i := l.win.find(s); i >= 0 {
				if l.win.s[i].state != slotDead {
					l.killSlot(i)
					n++
				}
				found = true
				break
			}
		}
		if !found && q.mayBePending(s) {
			early = append(early, s)
		}
	}
	return n, early
}

// mayBePending reports whether s may be an entry the reader has not
// reached yet (mu held).
func (q *Queue) mayBePending(s uint64) bool {
	return q.logs[Low].mayHold(s) || q.logs[High].mayHold(s)
}

// mayHold reports whether s may be an entry of l the reader has not
// reached yet (mu held).
func (l *plog) mayHold(s uint64) bool {
	_, gone := l.gone[s]
	return !gone && l.head != nil && s >= l.head.seq && s <= l.last
}

// ackEarly deletes entries the reader has not reached: each is looked up
// in its segment (by sequence range) and remembered as gone, so the
// reader skips it. Rare (an Ack of what Next did not hand out), so a
// segment read per entry is fine.
func (q *Queue) ackEarly(seqs []uint64) (int, error) {
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	q.rmu.Lock()
	defer q.rmu.Unlock()
	n := 0
	for _, l := range q.logs {
		for _, s := range seqs {
			ok, err := q.ackPending(l, s)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
	return n, nil
}

// ackPending deletes entry s of l if it is stored (rmu held).
func (q *Queue) ackPending(l *plog, s uint64) (bool, error) {
	q.mu.Lock()
	if i := l.win.find(s); i >= 0 { // handed out since Ack looked
		live := l.win.s[i].state != slotDead
		if live {
			l.killSlot(i)
			q.deleted++
		}
		q.mu.Unlock()
		return live, nil
	}
	if q.closed || !l.mayHold(s) {
		q.mu.Unlock()
		return false, nil
	}
	v := l.view()
	rs := ranges(v)
	q.mu.Unlock()
	fr, found, err := findFrame(v, rs, l.rd.seg, l.rd.off, s)
	if err != nil || !found {
		return false, err
	}
	q.mu.Lock()
	l.gone[s] = goneRef{seg: fr.seg, size: fr.size}
	l.forgetPending(fr.seg, fr.size)
	q.deleted++
	headGone := l.head != nil && l.head.seq == s
	q.mu.Unlock()
	if headGone {
		next, err := q.peekLive(l, v, nil)
		q.mu.Lock()
		q.publishHead(l, next)
		q.mu.Unlock()
		if err != nil {
			return true, err
		}
	}
	return true, nil
}

// seqRange is the sequences in a segment, snapshotted under mu.
type seqRange struct{ first, last uint64 }

func ranges(v view) []seqRange {
	rs := make([]seqRange, len(v.segs))
	for i, s := range v.segs {
		rs[i] = seqRange{s.firstSeq, s.lastSeq}
	}
	return rs
}

// findFrame looks for the frame of seq at or after the reader's position
// (seg, off) in the segment of v whose sequences (rs) cover it.
func findFrame(v view, rs []seqRange, seg *segment, off int64, seq uint64) (frame, bool, error) {
	for i, s := range v.segs {
		if rs[i].first == 0 || seq < rs[i].first || seq > rs[i].last {
			continue
		}
		r := reader{seg: s, off: segHeaderLen}
		if s == seg {
			r.off = off
		}
		sv := view{segs: v.segs[i : i+1], endSize: v.limit(s)}
		for {
			fr, ok, err := r.next(sv)
			if err != nil || !ok || fr.seq > seq {
				return frame{}, false, err
			}
			if fr.seq == seq {
				return fr, true, nil
			}
		}
	}
	return frame{}, false, nil
}

// Nack makes in-flight entries pending again; they are handed out before
// later sequences of their priority. Sequences not in flight are ignored.
func (q *Queue) Nack(seqs ...uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, s := range seqs {
		for _, l := range q.logs {
			if i := l.win.find(s); i >= 0 {
				if l.win.s[i].state == slotInFlight {
					l.win.s[i].state = slotRedo
					l.win.inflight--
					heap.Push(&l.redo, s)
					n++
				}
				break
			}
		}
	}
	if n > 0 {
		q.wake()
	}
}
