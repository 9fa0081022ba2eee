package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Segment files (format 3): one append-only log per priority, cut into
// files named <priority>-<index, 16 hex digits>.seg. A file starts with a
// 24-byte header, then frames:
//
//	header  [0:8] magic "BORDAQLG", [8] version (1), [9] priority,
//	        [10:16] zero, [16:24] base: the last sequence number used when
//	        the file was created (big-endian), so sequences stay monotonic
//	        even when every entry was acked and the checkpoint is lost
//	frame   [0:4] n, [4:8] CRC-32C of n's 4 bytes and the payload,
//	        [8:8+n] payload = 8-byte sequence number + stored value (codec.go)
//
// All integers are big-endian. A frame is one entry; its size (8 + n) is
// what the entry counts against MaxBytes.
const (
	segHeaderLen   = 24
	segVersion     = 1
	frameHeaderLen = 8
	// maxPayload bounds n: a larger length is a torn or corrupt frame.
	maxPayload = 1 << 30
	// minPayload is the sequence number and a value header.
	minPayload = 8 + headerLen
)

const segMagic = "BORDAQLG"

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)

	errShortFrame = errors.New("frame truncated")
	errBadFrame   = errors.New("bad frame")
)

// segment is one file of a priority's log. size, firstSeq, lastSeq,
// lastAt, pendN and pendBytes are guarded by Queue.mu (the writer also
// reads size under wmu, which it alone changes); f is set at creation
// for the active segment, else opened lazily under rmu.
type segment struct {
	idx       uint64
	path      string
	f         *os.File
	size      int64  // committed bytes: header and whole frames
	firstSeq  uint64 // first and last frame; 0 when empty
	lastSeq   uint64
	lastAt    int64 // append time of the last frame, Unix ns
	pendN     int   // frames not yet read by Next nor deleted
	pendBytes int64 // their bytes
}

func segName(p Priority, idx uint64) string {
	return fmt.Sprintf("%s-%016x.seg", p, idx)
}

// parseSegName is the inverse of segName.
func parseSegName(name string) (Priority, uint64, bool) {
	base, ok := strings.CutSuffix(name, ".seg")
	if !ok {
		return 0, 0, false
	}
	ps, hex, ok := strings.Cut(base, "-")
	if !ok || len(hex) != 16 {
		return 0, 0, false
	}
	idx, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return 0, 0, false
	}
	for _, p := range [...]Priority{Low, High} {
		if ps == p.String() {
			return p, idx, true
		}
	}
	return 0, 0, false
}

func appendSegHeader(dst []byte, p Priority, base uint64) []byte {
	dst = append(dst, segMagic...)
	dst = append(dst, segVersion, byte(p), 0, 0, 0, 0, 0, 0)
	return binary.BigEndian.AppendUint64(dst, base)
}

// parseSegHeader checks a segment header and returns its base sequence.
func parseSegHeader(b []byte, p Priority) (uint64, error) {
	if len(b) < segHeaderLen {
		return 0, fmt.Errorf("%w: header of %d bytes", errShortFrame, len(b))
	}
	if string(b[:8]) != segMagic {
		return 0, fmt.Errorf("not a queue segment (magic %q)", b[:8])
	}
	if b[8] != segVersion {
		return 0, fmt.Errorf("unsupported queue segment version %d (written by a newer borda?)", b[8])
	}
	if Priority(b[9]) != p {
		return 0, fmt.Errorf("segment of priority %d in a %s file", b[9], p)
	}
	return binary.BigEndian.Uint64(b[16:24]), nil
}

// appendFrame appends the frame of an entry to dst.
func appendFrame(dst []byte, seq uint64, r record) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeaderLen)...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = appendRecord(dst, r)
	return sealFrame(dst, start)
}

// appendRawFrame appends the frame of an already encoded value.
func appendRawFrame(dst []byte, seq uint64, value []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeaderLen)...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = append(dst, value...)
	return sealFrame(dst, start)
}

// sealFrame fills in the length and checksum of the frame at dst[start:].
func sealFrame(dst []byte, start int) []byte {
	h := dst[start : start+frameHeaderLen]
	binary.BigEndian.PutUint32(h, uint32(len(dst)-start-frameHeaderLen))
	crc := crc32.Update(crc32.Checksum(h[:4], castagnoli), castagnoli, dst[start+frameHeaderLen:])
	binary.BigEndian.PutUint32(h[4:], crc)
	return dst
}

// frameLen reads a frame's total size from its header (errShortFrame
// when b holds less than a header, errBadFrame for an impossible length).
func frameLen(b []byte) (int, error) {
	if len(b) < frameHeaderLen {
		return 0, errShortFrame
	}
	n := binary.BigEndian.Uint32(b)
	if n < minPayload || n > maxPayload {
		return 0, fmt.Errorf("%w: length %d", errBadFrame, n)
	}
	return frameHeaderLen + int(n), nil
}

// parseFrame checks the frame at the start of b and returns its size,
// sequence and value (aliasing b). errShortFrame: b ends inside it.
func parseFrame(b []byte) (size int, seq uint64, value []byte, err error) {
	size, err = frameLen(b)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(b) < size {
		return 0, 0, nil, errShortFrame
	}
	crc := crc32.Update(crc32.Checksum(b[:4], castagnoli), castagnoli, b[frameHeaderLen:size])
	if crc != binary.BigEndian.Uint32(b[4:]) {
		return 0, 0, nil, fmt.Errorf("%w: checksum mismatch", errBadFrame)
	}
	seq = binary.BigEndian.Uint64(b[frameHeaderLen:])
	if seq == 0 {
		return 0, 0, nil, fmt.Errorf("%w: sequence 0", errBadFrame)
	}
	return size, seq, b[frameHeaderLen+8 : size], nil
}

// createSegment creates segment idx of p with its header.
func createSegment(dir string, p Priority, idx, base uint64, fsync bool) (*segment, error) {
	path := filepath.Join(dir, segName(p, idx))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := writeHeader(f, p, base, fsync); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	if fsync {
		if err := syncDir(dir); err != nil {
			_ = f.Close()
			_ = os.Remove(path)
			return nil, err
		}
	}
	return &segment{idx: idx, path: path, f: f, size: segHeaderLen}, nil
}

func writeHeader(f *os.File, p Priority, base uint64, fsync bool) error {
	if _, err := f.WriteAt(appendSegHeader(nil, p, base), 0); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if fsync {
		if err := datasync(f); err != nil {
			return fmt.Errorf("sync header: %w", err)
		}
	}
	return nil
}

// file returns the segment's open file, opening it if needed (rmu held,
// or during Open).
func (s *segment) file() (*os.File, error) {
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("open segment: %w", err)
		}
		s.f = f
	}
	return s.f, nil
}

func (s *segment) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// syncDir makes a directory's entries (created, renamed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
