package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The checkpoint file records which stored entries are deleted (acked,
// dropped): per priority, the reader's position (every entry before it
// was handed out or deleted), the handed-out entries before it that are
// still stored (in flight or nacked: pending again after Open), and the
// entries after it acked before Next reached them. Everything else before
// the position is deleted. It is written atomically (temporary file,
// rename) at most every checkpointEvery while entries are deleted, and by
// Close; a crash loses at most the deletions since the last one (they are
// delivered again: duplicates, never gaps).
//
//	[0:8] magic "BORDAQCK", [8] version (1), then uvarints:
//	last sequence used; per priority (Low, High): reader segment and
//	offset, number of live entries and for each its sequence (delta to
//	the previous), segment, offset and size, number of gone entries and
//	their sequences (deltas); then the CRC-32C of all before it (4 bytes).
const (
	checkpointName    = "checkpoint"
	checkpointVersion = 1
	checkpointEvery   = 100 * time.Millisecond
)

const ckMagic = "BORDAQCK"

type checkpoint struct {
	lastSeq uint64
	prio    [numPriorities]ckPrio
}

type ckPrio struct {
	readSeg, readOff uint64
	live             []ckEntry
	gone             []uint64
}

type ckEntry struct{ seq, seg, off, size uint64 }

func encodeCheckpoint(c *checkpoint) []byte {
	b := append([]byte(ckMagic), checkpointVersion)
	b = binary.AppendUvarint(b, c.lastSeq)
	for _, p := range c.prio {
		b = binary.AppendUvarint(b, p.readSeg)
		b = binary.AppendUvarint(b, p.readOff)
		b = binary.AppendUvarint(b, uint64(len(p.live)))
		prev := uint64(0)
		for _, e := range p.live {
			b = binary.AppendUvarint(b, e.seq-prev)
			b = binary.AppendUvarint(b, e.seg)
			b = binary.AppendUvarint(b, e.off)
			b = binary.AppendUvarint(b, e.size)
			prev = e.seq
		}
		b = binary.AppendUvarint(b, uint64(len(p.gone)))
		prev = 0
		for _, s := range p.gone {
			b = binary.AppendUvarint(b, s-prev)
			prev = s
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errBadCheckpoint = errors.New("bad checkpoint")

// ckDecoder reads uvarints, remembering the first error.
type ckDecoder struct {
	b   []byte
	err error
}

func (d *ckDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated", errBadCheckpoint)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of items, each at least min bytes long.
func (d *ckDecoder) count(min int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.err = fmt.Errorf("%w: %d items in %d bytes", errBadCheckpoint, n, len(d.b))
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// ascending adds a delta to prev; sequences must strictly grow.
func (d *ckDecoder) ascending(prev uint64) uint64 {
	delta := d.uvarint()
	if d.err == nil && (delta == 0 || prev+delta < prev) {
		d.err = fmt.Errorf("%w: sequences not ascending", errBadCheckpoint)
	}
	return prev + delta
}

func decodeCheckpoint(b []byte) (*checkpoint, error) {
	if len(b) < len(ckMagic)+1+4 || string(b[:8]) != ckMagic {
		return nil, fmt.Errorf("%w: not a queue checkpoint", errBadCheckpoint)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadCheckpoint)
	}
	if b[8] != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d", errBadCheckpoint, b[8])
	}
	return decodeCheckpointBody(body[9:])
}

// decodeCheckpointBody decodes what follows the version byte.
func decodeCheckpointBody(b []byte) (*checkpoint, error) {
	d := &ckDecoder{b: b}
	c := &checkpoint{lastSeq: d.uvarint()}
	for p := range c.prio {
		c.prio[p] = d.prio()
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%w: %d bytes after the end", errBadCheckpoint, len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

func (d *ckDecoder) prio() ckPrio {
	p := ckPrio{readSeg: d.uvarint(), readOff: d.uvarint()}
	p.live = make([]ckEntry, d.count(4))
	prev := uint64(0)
	for i := range p.live {
		prev = d.ascending(prev)
		p.live[i] = ckEntry{seq: prev, seg: d.uvarint(), off: d.uvarint(), size: d.uvarint()}
	}
	p.gone = make([]uint64, d.count(1))
	prev = 0
	for i := range p.gone {
		prev = d.ascending(prev)
		p.gone[i] = prev
	}
	return p
}

// snapshot is the checkpoint of the current state (rmu and mu held).
func (q *Queue) snapshot() *checkpoint {
	c := &checkpoint{lastSeq: q.lastSeq}
	for p, l := range q.logs {
		cp := &c.prio[p]
		cp.readSeg, cp.readOff = l.rd.seg.idx, uint64(l.rd.off)
		cp.live = make([]ckEntry, 0, l.win.live)
		l.win.each(func(s *slot) {
			cp.live = append(cp.live, ckEntry{seq: s.seq, seg: s.seg.idx, off: uint64(s.off), size: uint64(s.size)})
		})
		for s := range l.gone {
			cp.gone = append(cp.gone, s)
		}
		slices.Sort(cp.gone)
	}
	return c
}

// writeCheckpoint replaces the checkpoint file atomically.
func writeCheckpoint(dir string, c *checkpoint, fsync bool) error {
	tmp := filepath.Join(dir, checkpointName+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	_, err = f.Write(encodeCheckpoint(c))
	if err == nil && fsync {
		err = datasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, checkpointName))
	}
	if err == nil && fsync {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// readCheckpoint returns the checkpoint, or nil when there is none or it
// is damaged (logged: every stored entry is then delivered again).
func (q *Queue) readCheckpoint() (*checkpoint, error) {
	b, err := os.ReadFile(filepath.Join(q.dir, checkpointName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		q.log.Warn("uplink queue: ignoring damaged checkpoint; acked entries may be delivered again", "err", err)
		return nil, nil
	}
	return c, nil
}

// maybeCheckpoint writes a checkpoint if entries were deleted since the
// last one and that was at least checkpointEvery ago; a failure is
// logged (the acks are in memory; only a crash would redeliver them).
func (q *Queue) maybeCheckpoint() {
	if !q.ckmu.TryLock() {
		return // one is being written
	}
	defer q.ckmu.Unlock()
	if time.Since(q.ckAt) < checkpointEvery {
		return
	}
	q.mu.Lock()
	due := q.deleted > 0 && !q.closed
	q.mu.Unlock()
	if !due {
		return
	}
	if err := q.checkpoint(); err != nil {
		q.limited.Error("uplink queue: checkpoint failed; acked entries would be delivered again after a crash", "err", err)
	}
}

// checkpoint deletes the segments nothing is stored in any more and
// writes a checkpoint (ckmu held).
func (q *Queue) checkpoint() error {
	q.rmu.Lock()
	q.deleteDead()
	q.mu.Lock()
	c, n := q.snapshot(), q.deleted
	q.deleted = 0
	q.mu.Unlock()
	q.rmu.Unlock()
	q.ckAt = time.Now()
	if err := writeCheckpoint(q.dir, c, q.cfg.Fsync); err != nil {
		q.mu.Lock()
		q.deleted += max(n, 1) // try again
		q.mu.Unlock()
		return err
	}
	return nil
}

// deleteDead deletes the segments before both the reader's and the
// oldest handed-out entry's (rmu held): every entry in them is deleted.
// The segment appended to is kept, so its header keeps the sequence.
func (q *Queue) deleteDead() {
	var dead []*segment
	q.mu.Lock()
	for _, l := range q.logs {
		keep := l.rd.seg.idx
		if s := l.win.front(); s != nil {
			keep = min(keep, s.seg.idx)
		}
		i := 0
		for i < len(l.segs)-1 && l.segs[i].idx < keep {
			i++
		}
		dead = append(dead, l.segs[:i]...)
		l.segs = l.segs[i:]
	}
	q.mu.Unlock()
	if err := removeSegs(dead); err != nil {
		q.limited.Error("uplink queue: deleting segments failed", "err", err)
	}
}
