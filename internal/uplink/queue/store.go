package queue

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// On-disk layout (format 2): bucket "meta" holds key "format" = 2 and, as
// its bucket sequence, the last sequence number used; buckets "low" and
// "high" hold the entries of that priority keyed by 8-byte big-endian
// sequence, so bbolt's key order is the drain order.
var (
	metaBucket  = []byte("meta")
	formatKey   = []byte("format")
	bucketNames = [numPriorities][]byte{Low: []byte("low"), High: []byte("high")}
	v1Bucket    = []byte("entries") // format 1: all entries in one bucket
)

const (
	storeFormat = 2
	// fillPercent: keys only ever grow at the end of a bucket, so split
	// pages are filled completely (bbolt's default 0.5 leaves them half
	// empty, doubling the file).
	fillPercent = 1.0
	// chunk bounds the deletions (retention) and moves (migration) of one
	// write transaction: bbolt keeps every touched page in memory until
	// the commit.
	chunk = 4096
)

func boltOptions(cfg Config) *bolt.Options {
	return &bolt.Options{Timeout: time.Second, NoFreelistSync: true, NoSync: !cfg.Fsync}
}

// initStore creates or checks the layout, migrates a format-1 file, and
// computes the counters with one cursor scan per priority.
func (q *Queue) initStore() error {
	err := q.db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", metaBucket, err)
		}
		switch v := m.Get(formatKey); {
		case v == nil:
			if err := m.Put(formatKey, []byte{storeFormat}); err != nil {
				return fmt.Errorf("write format: %w", err)
			}
		case !bytes.Equal(v, []byte{storeFormat}):
			return fmt.Errorf("unsupported queue file format %x (written by a newer borda?)", v)
		}
		for _, name := range bucketNames {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := q.migrateV1(); err != nil {
		return fmt.Errorf("migrate format 1: %w", err)
	}
	return q.db.View(q.load)
}

// load computes the counters of every priority: a key-only cursor scan
// (values are not decoded), nothing per entry is kept.
func (q *Queue) load(tx *bolt.Tx) error {
	for p := range Priority(numPriorities) {
		st := &q.prio[p]
		c := tx.Bucket(bucketNames[p]).Cursor()
		k, v := c.First()
		if k == nil {
			continue
		}
		st.oldestSeq, st.oldestAt = seqFromKey(k), appendedOf(v)
		for ; k != nil; k, v = c.Next() {
			st.count++
			st.bytes += int64(len(k) + len(v))
			st.last = max(st.last, seqFromKey(k))
		}
	}
	return nil
}

// migrateV1 moves the entries of a format-1 file (one bucket "entries",
// 8-byte sequence keys, the same values) into the priority buckets, at
// most chunk entries per transaction so that memory stays bounded; after
// a crash the next Open resumes. Sequence numbers are kept.
func (q *Queue) migrateV1() error {
	for moved := 0; ; {
		n, done, err := q.migrateChunk()
		moved += n
		if err != nil {
			return fmt.Errorf("after %d entries: %w", moved, err)
		}
		if done {
			if moved > 0 {
				q.log.Info("migrated uplink queue to format 2", "entries", moved)
			}
			return nil
		}
	}
}

func (q *Queue) migrateChunk() (n int, done bool, err error) {
	err = q.db.Update(func(tx *bolt.Tx) error {
		n = 0
		old := tx.Bucket(v1Bucket)
		if old == nil {
			done = true
			return nil
		}
		m := tx.Bucket(metaBucket)
		if err := m.SetSequence(max(m.Sequence(), old.Sequence())); err != nil {
			return fmt.Errorf("set sequence: %w", err)
		}
		var bs [numPriorities]*bolt.Bucket
		for p := range bs {
			bs[p] = tx.Bucket(bucketNames[p])
			bs[p].FillPercent = fillPercent
		}
		c := old.Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			if n == chunk {
				return nil
			}
			if p, ok := priorityOf(v); ok && len(k) == 8 {
				if err := bs[p].Put(k, v); err != nil {
					return fmt.Errorf("put seq %d: %w", seqFromKey(k), err)
				}
			} else {
				q.log.Error("dropping corrupt format-1 queue entry", "key", fmt.Sprintf("%x", k))
			}
			if err := c.Delete(); err != nil {
				return fmt.Errorf("delete format-1 key %x: %w", k, err)
			}
			n++
		}
		done = true
		return tx.DeleteBucket(v1Bucket)
	})
	return n, done, err
}
