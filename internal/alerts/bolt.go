package alerts

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/borda-edge/borda/internal/telemetry"
)

// Embedded history layout: one bucket of events keyed by the 8-byte
// big-endian recording time (Unix ns) and an 8-byte sequence number, so
// keys sort by recording order and never collide, even for thousands of
// alerts of one device in the same nanosecond. Values are the alert JSON.
var eventsBucket = []byte("events")

const (
	keyLen      = 16
	purgeBatch  = 1000 // keys deleted per purge transaction
	purgeRounds = 10   // transactions per Purge call
)

// BoltHistory is the embedded alert history in one bbolt file.
type BoltHistory struct {
	db      *bolt.DB
	ttl     time.Duration
	max     int
	now     func() time.Time
	wmu     sync.Mutex    // serializes writes so that n stays exact
	n       atomic.Int64  // entries in the file (expired ones until purged)
	evicted atomic.Uint64 // removed because max entries was reached
	expired atomic.Uint64 // removed by Purge after their TTL
}

// OpenBoltHistory opens (or creates) the history file at path. ttl and
// maxEntries come from HistoryConfig; now is the clock (time.Now if nil).
func OpenBoltHistory(path string, ttl time.Duration, maxEntries int, now func() time.Time) (*BoltHistory, error) {
	if now == nil {
		now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("open alert history %s: %w", path, err)
	}
	h := &BoltHistory{db: db, ttl: ttl, max: maxEntries, now: now}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(eventsBucket)
		if err != nil {
			return err
		}
		h.n.Store(int64(b.Stats().KeyN))
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open alert history %s: %w", path, err)
	}
	return h, nil
}

// Close closes the file.
func (h *BoltHistory) Close() error {
	if err := h.db.Close(); err != nil {
		return fmt.Errorf("close alert history: %w", err)
	}
	return nil
}

// Len is the number of stored events, including expired ones not yet purged.
func (h *BoltHistory) Len() int { return int(h.n.Load()) }

// Record stores one event, recorded now.
func (h *BoltHistory) Record(ctx context.Context, a telemetry.Alert) error {
	return h.recordBatch(ctx, []entry{{at: h.now(), alert: a}})
}

// recordBatch writes events in one transaction and evicts the oldest
// entries past max entries.
func (h *BoltHistory) recordBatch(_ context.Context, es []entry) error {
	vals := make([][]byte, len(es))
	for i := range es {
		v, err := es[i].json()
		if err != nil {
			return err
		}
		vals[i] = v
	}
	h.wmu.Lock()
	defer h.wmu.Unlock()
	var added, evicted int
	err := h.db.Update(func(tx *bolt.Tx) error {
		added, evicted = 0, 0
		b := tx.Bucket(eventsBucket)
		for i, e := range es {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(boltKey(e.at, seq), vals[i]); err != nil {
				return err
			}
			added++
		}
		over := int(h.n.Load()) + added - h.max
		if over <= 0 {
			return nil
		}
		n, err := deleteOldest(b, over, nil)
		evicted = n
		return err
	})
	if err != nil {
		return fmt.Errorf("record alerts: %w", err)
	}
	h.n.Add(int64(added - evicted))
	h.evicted.Add(uint64(evicted))
	return nil
}

// deleteOldest deletes up to max keys from the start of b, stopping at
// the first key not before `before` (when before is not nil).
func deleteOldest(b *bolt.Bucket, max int, before []byte) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < max; k, _ = c.Next() {
		if before != nil && string(k) >= string(before) {
			break
		}
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

func boltKey(at time.Time, seq uint64) []byte {
	k := make([]byte, keyLen)
	binary.BigEndian.PutUint64(k, uint64(max(at.UnixNano(), 0)))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// cutoff is the smallest key that has not expired.
func (h *BoltHistory) cutoff() []byte { return boltKey(h.now().Add(-h.ttl), 0) }

// Purge deletes expired events, at most purgeRounds*purgeBatch per call,
// and returns how many it deleted.
func (h *BoltHistory) Purge(ctx context.Context) (int, error) {
	total := 0
	for range purgeRounds {
		if ctx.Err() != nil {
			break
		}
		n, err := h.purgeOnce()
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	return total, nil
}

func (h *BoltHistory) purgeOnce() (int, error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	var n int
	err := h.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteOldest(tx.Bucket(eventsBucket), purgeBatch, h.cutoff())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge alert history: %w", err)
	}
	h.n.Add(-int64(n))
	h.expired.Add(uint64(n))
	return n, nil
}

// Query walks the unexpired events newest first.
func (h *BoltHistory) Query(ctx context.Context, f Filter) ([]telemetry.Alert, error) {
	if !validState(f.State) {
		return nil, fmt.Errorf("query alert history: state %q is not firing, resolved or active", f.State)
	}
	col := newCollector(f)
	cutoff := string(h.cutoff())
	errStop := errors.New("stop")
	err := h.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(eventsBucket).Cursor()
		i := 0
		for k, v := c.Last(); k != nil && string(k) >= cutoff; k, v = c.Prev() {
			if i++; i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			a, err := decodeAlert(v)
			if err != nil {
				continue // written by a newer borda? skip, never fail the query
			}
			if col.add(a) {
				return errStop
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("query alert history: %w", err)
	}
	return col.result(), nil
}
