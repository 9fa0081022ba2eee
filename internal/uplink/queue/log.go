package queue

import (
	"fmt"
	"os"
)

// plog is one priority's log and what the queue knows about it in
// memory: a few counters, the reader's position, the handed-out entries
// still stored (window), the nacked ones (redo) and the entries acked
// before Next reached them (gone). Nothing per stored entry.
type plog struct {
	p    Priority
	dir  string
	segs []*segment // by index (mu; appended under wmu too, cut under rmu too)
	act  *segment   // the last one, appended to (changed under wmu and mu)
	rd   reader     // rmu

	win   window             // mu
	redo  seqHeap            // mu: nacked sequences, some maybe dead since (skipped)
	gone  map[uint64]goneRef // acked, not yet read by the reader (changed under rmu and mu)
	count int                // mu: stored entries, including handed out
	bytes int64              // mu: their frames' bytes
	last  uint64             // mu: highest sequence committed
	head  *slot              // mu: the first stored entry the reader has not passed; nil when none

	dirty bool   // wmu: a failed write may have left bytes past the active segment's committed size
	wbuf  []byte // wmu: the frames of the commit being written
}

// goneRef is an entry acked before the reader reached it.
type goneRef struct {
	seg  *segment
	size int64
}

func newPlog(p Priority, dir string) *plog {
	return &plog{p: p, dir: dir, gone: make(map[uint64]goneRef)}
}

// active is the segment appended to (wmu or mu held).
func (l *plog) active() *segment { return l.act }

// view snapshots what the reader may read (mu held).
func (l *plog) view() view {
	for i, s := range l.segs {
		if s == l.rd.seg {
			return view{segs: l.segs[i:], endSize: l.active().size}
		}
	}
	panic("queue: reader's segment is not in the log")
}

// oldest is the oldest stored entry (mu held): the first live handed-out
// one, else the reader's next.
func (l *plog) oldest() *slot {
	if s := l.win.front(); s != nil {
		return s
	}
	return l.head
}

// prepareWrite makes the active segment ready for a commit (wmu held):
// cuts off what a failed write may have left, and starts a new segment
// once the active one holds segSize bytes.
func (q *Queue) prepareWrite(l *plog) error {
	act := l.active()
	if l.dirty {
		if err := act.f.Truncate(act.size); err != nil {
			return fmt.Errorf("cut failed write off %s: %w", act.path, err)
		}
		l.dirty = false
	}
	if act.size < q.segSize || act.lastSeq == 0 {
		return nil
	}
	s, err := createSegment(l.dir, l.p, act.idx+1, q.seq, q.cfg.Fsync)
	if err != nil {
		return err
	}
	q.mu.Lock()
	l.segs = append(l.segs, s)
	l.act = s
	q.mu.Unlock()
	return nil
}

// writeFrames writes l.wbuf at the end of the active segment with one
// write (wmu held). On error the segment is cut back to its committed
// size, so a failed Append leaves nothing behind.
func (q *Queue) writeFrames(l *plog) error {
	if err := q.prepareWrite(l); err != nil {
		return err
	}
	act := l.active()
	if _, err := act.f.WriteAt(l.wbuf, act.size); err != nil {
		l.rollback()
		return err // an *os.PathError: "write <segment>: <cause>"
	}
	return nil
}

// syncFrames flushes the active segment (wmu held); on error it is cut back.
func (l *plog) syncFrames() error {
	act := l.active()
	if err := datasync(act.f); err != nil {
		l.rollback()
		return fmt.Errorf("sync %s: %w", act.path, err)
	}
	return nil
}

// rollback cuts the active segment back to its committed size; if that
// fails too, the next commit tries again before writing.
func (l *plog) rollback() {
	act := l.active()
	if err := act.f.Truncate(act.size); err != nil {
		l.dirty = true
	}
}

// applyAdded updates the counters after a commit wrote n frames of
// bytes, sequences first..last, at offset off of the active segment
// (wmu and mu held).
func (l *plog) applyAdded(n int, bytes int64, first, last uint64, at int64) {
	s := l.active()
	off := s.size
	if s.firstSeq == 0 {
		s.firstSeq = first
	}
	s.lastSeq, s.lastAt = last, at
	s.size += bytes
	s.pendN += n
	s.pendBytes += bytes
	l.count += n
	l.bytes += bytes
	l.last = last
	if l.head == nil {
		l.head = &slot{seq: first, at: at, seg: s, off: off}
	}
}

// forgetPending deletes an entry the reader has not handed out (acked
// early, dropped, corrupt) from the counters (mu held).
func (l *plog) forgetPending(s *segment, size int64) {
	l.count--
	l.bytes -= size
	s.pendN--
	s.pendBytes -= size
}

// killSlot deletes the handed-out entry in slot i (mu held).
func (l *plog) killSlot(i int) {
	l.count--
	l.bytes -= l.win.s[i].size
	l.win.kill(i)
}

// closeSegs closes every segment file.
func (l *plog) closeSegs() error {
	var first error
	for _, s := range l.segs {
		if err := s.close(); err != nil && first == nil {
			first = fmt.Errorf("close %s: %w", s.path, err)
		}
	}
	return first
}

// removeSegs closes and deletes segment files.
func removeSegs(segs []*segment) error {
	var first error
	for _, s := range segs {
		_ = s.close()
		if err := os.Remove(s.path); err != nil && first == nil {
			first = fmt.Errorf("delete segment: %w", err)
		}
	}
	return first
}
