package queue

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"
)

// load reads the checkpoint and scans each priority's log from the
// reader's position on to compute the counters: nothing per stored entry
// is kept. A torn tail (a write cut short by a crash) is cut off.
func (q *Queue) load() error {
	segs, err := listSegments(q.dir)
	if err != nil {
		return err
	}
	ck, err := q.readCheckpoint()
	if err != nil {
		return err
	}
	var cp [numPriorities]ckPrio
	if ck != nil {
		cp, q.seq = ck.prio, ck.lastSeq
	}
	for p := range Priority(numPriorities) {
		l := newPlog(p, q.dir)
		q.logs[p] = l
		if err := q.loadLog(l, segs[p], &cp[p]); err != nil {
			return fmt.Errorf("load %s log: %w", p, err)
		}
	}
	for _, l := range q.logs {
		if err := q.openActive(l); err != nil {
			return err
		}
	}
	q.lastSeq = q.seq
	q.deleteDead()
	return nil
}

// loadLog loads one priority: the entries listed as handed out in the
// checkpoint become pending again first (redo), then everything after
// the reader's position that was not acked.
func (q *Queue) loadLog(l *plog, segs []*segment, cp *ckPrio) error {
	l.segs = segs
	if len(segs) == 0 {
		return nil
	}
	start, off := readerStart(segs, cp)
	for i, s := range segs[start:] {
		if err := q.scanSegment(l, s, i == len(segs)-start-1, off, cp); err != nil {
			return err
		}
		off = 0
	}
	if l.rd.seg == nil { // every frame was before the checkpoint's position
		l.rd.seg, l.rd.off = segs[len(segs)-1], segs[len(segs)-1].size
	}
	q.loadListed(l, cp)
	return nil
}

// readerStart finds where the checkpoint's reader was: its segment (or
// the next one, if it was deleted since) and offset.
func readerStart(segs []*segment, cp *ckPrio) (int, int64) {
	for i, s := range segs {
		switch {
		case s.idx == cp.readSeg:
			return i, int64(min(cp.readOff, 1<<62))
		case s.idx > cp.readSeg:
			return i, 0
		}
	}
	return len(segs) - 1, 1 << 62 // only older segments: all read
}

// scanSegment checks a segment's header and frames. Frames that end
// before readOff were read before the checkpoint (dead unless listed);
// the others are pending unless listed as gone. The reader starts at the
// first pending one. A bad frame ends the segment: cut off (logged) if it
// is the last segment, ignored up to the end otherwise.
func (q *Queue) scanSegment(l *plog, s *segment, last bool, readOff int64, cp *ckPrio) error {
	if err := q.openSegment(l, s, last); err != nil {
		return err
	}
	base := s.size
	fi, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", s.path, err)
	}
	v := view{segs: []*segment{s}, endSize: fi.Size()}
	r := reader{seg: s, off: base}
	for {
		fr, ok, err := r.next(v)
		if err != nil {
			return q.badTail(l, s, last, r.off, fi.Size(), err)
		}
		if !ok {
			s.size = r.off
			return nil
		}
		q.seq = max(q.seq, fr.seq)
		if s.firstSeq == 0 {
			s.firstSeq = fr.seq
		}
		s.lastSeq, s.lastAt = fr.seq, appendedOf(fr.value)
		if fr.off+fr.size <= readOff {
			continue
		}
		l.loadPending(fr, cp)
		if l.rd.seg == nil {
			l.rd.seg, l.rd.off = s, fr.off
		}
	}
}

// loadPending counts a frame after the reader's position.
func (l *plog) loadPending(fr frame, cp *ckPrio) {
	s := fr.seg
	l.last = max(l.last, fr.seq)
	if _, ok := slices.BinarySearch(cp.gone, fr.seq); ok {
		l.gone[fr.seq] = goneRef{seg: s, size: fr.size}
		return
	}
	l.count++
	l.bytes += fr.size
	s.pendN++
	s.pendBytes += fr.size
	if l.head == nil {
		l.head = &slot{seq: fr.seq, at: appendedOf(fr.value), seg: s, off: fr.off}
	}
}

// badTail handles a frame that does not read back at off.
func (q *Queue) badTail(l *plog, s *segment, last bool, off, fileSize int64, err error) error {
	if !errors.Is(err, errCorruptFrame) {
		return err
	}
	s.size = off
	if !last {
		q.log.Error("uplink queue: damaged segment, ignoring the rest of it", "priority", l.p,
			"segment", s.path, "offset", off, "bytes", fileSize-off, "err", err)
		return nil
	}
	q.log.Warn("uplink queue: cutting off a torn tail (a write interrupted by a crash)", "priority", l.p,
		"segment", s.path, "offset", off, "bytes", fileSize-off, "err", err)
	if terr := s.f.Truncate(off); terr != nil {
		return fmt.Errorf("cut torn tail off %s: %w", s.path, terr)
	}
	return nil
}

// openSegment opens a segment and checks its header. A header cut short
// (a crash while the segment was created) is written again if it is the
// last segment, else the segment is treated as empty.
func (q *Queue) openSegment(l *plog, s *segment, last bool) error {
	f, err := s.file()
	if err != nil {
		return err
	}
	b := make([]byte, segHeaderLen)
	n, _ := f.ReadAt(b, 0)
	base, err := parseSegHeader(b[:n], l.p)
	switch {
	case err == nil:
		q.seq = max(q.seq, base)
	case errors.Is(err, errShortFrame) || n == segHeaderLen && string(b[:8]) == "\x00\x00\x00\x00\x00\x00\x00\x00":
		q.log.Warn("uplink queue: segment header incomplete (a crash while it was created)", "segment", s.path)
		if last {
			if err := f.Truncate(0); err != nil {
				return fmt.Errorf("reset %s: %w", s.path, err)
			}
			if err := writeHeader(f, l.p, q.seq, q.cfg.Fsync); err != nil {
				return fmt.Errorf("reset %s: %w", s.path, err)
			}
		}
	default:
		return fmt.Errorf("segment %s: %w", s.path, err)
	}
	s.size = segHeaderLen
	return nil
}

// loadListed reads the entries the checkpoint lists as handed out: they
// are pending again, before the others. One that does not read back (a
// crash before its write reached the disk) is skipped, logged.
func (q *Queue) loadListed(l *plog, cp *ckPrio) {
	for _, e := range cp.live {
		s := l.segByIdx(e.seg)
		if s == nil || !l.rd.after(s, int64(e.off)) { // deleted (so were all its entries), or not read yet
			continue
		}
		if s.f == nil {
			if err := q.openSegment(l, s, false); err != nil {
				q.log.Warn("uplink queue: cannot read a handed-out entry; skipped", "priority", l.p, "err", err)
				continue
			}
		}
		value, err := readFrameAt(s, int64(e.off), int64(e.size), e.seq)
		if err != nil {
			q.log.Warn("uplink queue: a handed-out entry does not read back; skipped", "priority", l.p, "err", err)
			continue
		}
		q.seq = max(q.seq, e.seq)
		l.last = max(l.last, e.seq)
		l.win.push(slot{seq: e.seq, at: appendedOf(value), seg: s, off: int64(e.off), size: int64(e.size), state: slotRedo})
		heap.Push(&l.redo, e.seq)
		l.count++
		l.bytes += int64(e.size)
	}
}

func (l *plog) segByIdx(idx uint64) *segment {
	i, ok := slices.BinarySearchFunc(l.segs, idx, func(s *segment, idx uint64) int { return cmp.Compare(s.idx, idx) })
	if !ok {
		return nil
	}
	return l.segs[i]
}

// openActive makes sure the last segment is open for appending, creating
// the first one of a new log.
func (q *Queue) openActive(l *plog) error {
	if len(l.segs) == 0 {
		s, err := createSegment(q.dir, l.p, 1, q.seq, q.cfg.Fsync)
		if err != nil {
			return err
		}
		l.segs, l.act = []*segment{s}, s
		l.rd.seg, l.rd.off = s, s.size
		return nil
	}
	l.act = l.segs[len(l.segs)-1]
	if _, err := l.act.file(); err != nil {
		return fmt.Errorf("open %s: %w", l.act.path, err)
	}
	return nil
}
