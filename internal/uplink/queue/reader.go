package queue

import (
	"errors"
	"fmt"
	"io"
)

// readBufSize is what the reader reads from a segment at a time.
const readBufSize = 64 << 10

// frame is a frame read from a segment; value aliases the reader's
// buffer until the next read.
type frame struct {
	seq   uint64
	value []byte
	seg   *segment
	off   int64
	size  int64
}

// view is what a reader may read: the segments from its own on, and the
// committed size of the last one, snapshotted under Queue.mu (the sizes
// of the others are final). Segments are never changed in place in
// plog.segs (appended, or cut from the front), so the slice stays valid.
type view struct {
	segs    []*segment
	endSize int64
}

func (v view) last() *segment { return v.segs[len(v.segs)-1] }

func (v view) limit(s *segment) int64 {
	if s == v.last() {
		return v.endSize
	}
	return s.size
}

func (v view) after(s *segment) *segment {
	for i, x := range v.segs[:len(v.segs)-1] {
		if x == s {
			return v.segs[i+1]
		}
	}
	return nil
}

// reader reads one priority's frames in order: Next's scan, and
// retention dropping entries nobody took yet. Guarded by Queue.rmu.
type reader struct {
	seg    *segment // where the next frame is
	off    int64
	buf    []byte
	bufSeg *segment // buf holds bufSeg's bytes from bufOff on
	bufOff int64
}

// errCorruptFrame is a committed frame that no longer reads back
// (damaged disk): the rest of its segment is skipped.
var errCorruptFrame = errors.New("corrupt frame")

// peek returns the frame at the reader's position without consuming it;
// ok is false at the end of v.
func (r *reader) peek(v view) (fr frame, ok bool, err error) {
	for {
		lim := v.limit(r.seg)
		if r.off < lim {
			break
		}
		next := v.after(r.seg)
		if next == nil {
			return frame{}, false, nil
		}
		r.seg, r.off = next, segHeaderLen
	}
	lim := v.limit(r.seg)
	b, err := r.bytesAt(r.seg, r.off, frameHeaderLen, lim)
	if err != nil {
		return frame{}, false, err
	}
	n, err := frameLen(b)
	if err != nil {
		return frame{}, false, r.corrupt(err)
	}
	if b, err = r.bytesAt(r.seg, r.off, n, lim); err != nil {
		return frame{}, false, err
	}
	size, seq, value, err := parseFrame(b)
	if err != nil {
		return frame{}, false, r.corrupt(err)
	}
	return frame{seq: seq, value: value, seg: r.seg, off: r.off, size: int64(size)}, true, nil
}

// next returns the frame at the reader's position and moves past it.
func (r *reader) next(v view) (frame, bool, error) {
	fr, ok, err := r.peek(v)
	if ok {
		r.off += fr.size
	}
	return fr, ok, err
}

func (r *reader) corrupt(err error) error {
	return fmt.Errorf("%w at %s offset %d: %w", errCorruptFrame, r.seg.path, r.off, err)
}

// bytesAt returns n bytes of s at off, which must not reach past lim.
func (r *reader) bytesAt(s *segment, off int64, n int, lim int64) ([]byte, error) {
	if off+int64(n) > lim {
		return nil, r.corrupt(fmt.Errorf("%w: %d bytes at %d, committed size %d", errShortFrame, n, off, lim))
	}
	if r.bufSeg == s && off >= r.bufOff && off+int64(n) <= r.bufOff+int64(len(r.buf)) {
		i := off - r.bufOff
		return r.buf[i : i+int64(n)], nil
	}
	want := int(min(int64(max(n, readBufSize)), lim-off))
	if cap(r.buf) < want || cap(r.buf) > readBufSize && want <= readBufSize {
		r.buf = make([]byte, max(want, readBufSize))
	}
	r.buf = r.buf[:want]
	r.bufSeg = nil
	if err := readFull(s, r.buf, off); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) { // the file is shorter than committed
			return nil, r.corrupt(err)
		}
		return nil, err
	}
	r.bufSeg, r.bufOff = s, off
	return r.buf[:n], nil
}

// readFull reads len(b) bytes of s at off.
func readFull(s *segment, b []byte, off int64) error {
	f, err := s.file()
	if err != nil {
		return err
	}
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %s at %d: %w", s.path, off, err)
}

// readFrameAt reads and checks the frame of seq at off (a redelivery, or
// an entry listed in the checkpoint).
func readFrameAt(s *segment, off, size int64, seq uint64) ([]byte, error) {
	if size < frameHeaderLen+minPayload || size > frameHeaderLen+maxPayload {
		return nil, fmt.Errorf("%w: seq %d: size %d", errBadFrame, seq, size)
	}
	b := make([]byte, size)
	if err := readFull(s, b, off); err != nil {
		return nil, err
	}
	n, got, value, err := parseFrame(b)
	switch {
	case err != nil:
		return nil, fmt.Errorf("seq %d at %s offset %d: %w", seq, s.path, off, err)
	case got != seq || int64(n) != size:
		return nil, fmt.Errorf("%w: seq %d at %s offset %d holds seq %d", errBadFrame, seq, s.path, off, got)
	}
	return value, nil
}

// after reports whether the frame at off of s is behind the reader.
func (r *reader) after(s *segment, off int64) bool {
	return s.idx < r.seg.idx || s == r.seg && off < r.off
}
