package queue

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The former bbolt queue file (format 2: buckets "low" and "high" keyed
// by 8-byte sequence, bucket "meta" with key "format" = 2 and the last
// sequence as its bucket sequence; format 1: one bucket "entries") is
// migrated by Open: set aside as <path>.migrating, its entries are
// copied in sequence order into the new logs keeping their sequence
// numbers (values are the same encoding), the copy is flushed, and the
// file is renamed <path>.migrated (kept for the operator to delete). A
// crash in between starts the copy over at the next Open.
var (
	boltMeta    = []byte("meta")
	boltFormat  = []byte("format")
	boltBuckets = [...]struct {
		name []byte
		p    Priority
		v1   bool // format 1: the priority is read from the value
	}{{[]byte("entries"), 0, true}, {[]byte("low"), Low, false}, {[]byte("high"), High, false}}
)

const migrateFlush = 1 << 20 // bytes of frames written at a time

func (q *Queue) migrate(file string) error {
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if err := wipeLogs(q.dir); err != nil {
		return err
	}
	db, err := bolt.Open(file, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	m := migration{q: q}
	err = db.View(m.copy)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = m.finish()
	}
	if err != nil {
		return err
	}
	done := strings.TrimSuffix(file, migratingExt) + migratedExt
	if err := os.Rename(file, done); err != nil {
		return fmt.Errorf("rename %s: %w", file, err)
	}
	q.log.Info("migrated the uplink queue from bbolt to the segmented log; delete the old file when satisfied",
		"entries", m.n, "dropped_corrupt", m.corrupt, "old_file", done)
	return nil
}

// wipeLogs deletes what a crashed migration wrote.
func wipeLogs(dir string) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, de := range des {
		if _, _, ok := parseSegName(de.Name()); ok || de.Name() == checkpointName {
			if err := os.Remove(filepath.Join(dir, de.Name())); err != nil {
				return fmt.Errorf("delete %s: %w", de.Name(), err)
			}
		}
	}
	return nil
}

type migration struct {
	q          *Queue
	segs       [numPriorities]*segment
	bufs       [numPriorities][]byte
	lastSeq    uint64
	n, corrupt int
}

// bcursor is one bucket's cursor in the merge by sequence.
type bcursor struct {
	c    *bolt.Cursor
	k, v []byte
	p    Priority
	v1   bool
}

func (m *migration) copy(tx *bolt.Tx) error {
	if meta := tx.Bucket(boltMeta); meta != nil {
		if f := meta.Get(boltFormat); !bytes.Equal(f, []byte{2}) {
			return fmt.Errorf("unsupported queue file format %x (written by a newer borda?)", f)
		}
		m.lastSeq = meta.Sequence()
	}
	var cs []*bcursor
	for _, b := range boltBuckets {
		if bk := tx.Bucket(b.name); bk != nil {
			m.lastSeq = max(m.lastSeq, bk.Sequence())
			c := &bcursor{c: bk.Cursor(), p: b.p, v1: b.v1}
			c.k, c.v = c.c.First()
			cs = append(cs, c)
		}
	}
	for {
		var low *bcursor // the cursor at the lowest key
		for _, c := range cs {
			if c.k != nil && (low == nil || bytes.Compare(c.k, low.k) < 0) {
				low = c
			}
		}
		if low == nil {
			return nil
		}
		if err := m.add(low); err != nil {
			return err
		}
		low.k, low.v = low.c.Next()
	}
}

// add appends the entry at c to its priority's log.
func (m *migration) add(c *bcursor) error {
	p, ok := priorityOf(c.v)
	if !c.v1 {
		p = c.p // a value of another priority is handed to Next, which deletes it
	}
	if !ok || len(c.k) != 8 || seqFromKey(c.k) == 0 {
		m.corrupt++
		m.q.log.Error("dropping corrupt queue entry while migrating", "key", fmt.Sprintf("%x", c.k))
		return nil
	}
	seq := seqFromKey(c.k)
	m.lastSeq = max(m.lastSeq, seq)
	m.bufs[p] = appendRawFrame(m.bufs[p], seq, c.v)
	m.n++
	if len(m.bufs[p]) >= migrateFlush {
		return m.flush(p)
	}
	return nil
}

// flush writes p's buffered frames, starting a new segment when full.
func (m *migration) flush(p Priority) error {
	s := m.segs[p]
	if s == nil || s.size >= m.q.segSize {
		idx := uint64(1)
		if s != nil {
			idx = s.idx + 1
			if err := m.sync(s); err != nil {
				return err
			}
		}
		var err error
		if s, err = createSegment(m.q.dir, p, idx, 0, false); err != nil {
			return err
		}
		m.segs[p] = s
	}
	if _, err := s.f.WriteAt(m.bufs[p], s.size); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	s.size += int64(len(m.bufs[p]))
	m.bufs[p] = m.bufs[p][:0]
	return nil
}

func (m *migration) sync(s *segment) error {
	err := datasync(s.f)
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("flush %s: %w", s.path, err)
	}
	return nil
}

// finish writes what is buffered, flushes everything (whatever
// Config.Fsync says: the old file is renamed away next) and records the
// last sequence in a checkpoint.
func (m *migration) finish() error {
	for p := range Priority(numPriorities) {
		if len(m.bufs[p]) > 0 {
			if err := m.flush(p); err != nil {
				return err
			}
		}
		if s := m.segs[p]; s != nil {
			if err := m.sync(s); err != nil {
				return err
			}
		}
	}
	c := &checkpoint{lastSeq: m.lastSeq}
	return writeCheckpoint(m.q.dir, c, true)
}
