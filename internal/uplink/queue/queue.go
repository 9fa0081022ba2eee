// Package queue is the durable, per-output store-and-forward queue of the
// uplink: entries are committed to a bbolt file before Append returns and
// are deleted only when acknowledged or dropped by retention.
package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// Priority orders the drain of a backlog: High before Low.
type Priority uint8

const (
	// Low is bulk telemetry.
	Low Priority = 0
	// High is alerts and events; drains before Low.
	High Priority = 1

	numPriorities = 2
)

func (p Priority) String() string {
	switch p {
	case Low:
		return "low"
	case High:
		return "high"
	}
	return fmt.Sprintf("priority(%d)", uint8(p))
}

// ErrClosed is returned by operations on a closed queue.
var ErrClosed = errors.New("queue closed")

// Entry is one message to deliver.
type Entry struct {
	Priority Priority
	Key      string // topic or series; order is kept per Key within a priority
	Data     []byte
	Time     time.Time // the caller's timestamp, stored as Unix ns; zero stays zero
}

// Item is an entry handed out by Next, with its sequence number for Ack/Nack.
type Item struct {
	Seq uint64
	Entry
}

// Deps are the queue's collaborators.
type Deps struct {
	Logger   *slog.Logger          // nil: discard
	Limited  *slog.Logger          // rate-limited logger for drops; nil: Logger
	Registry prometheus.Registerer // nil: metrics are not registered
	Name     string                // output name, the "output" metric label
	Now      func() time.Time      // nil: time.Now
}

// Queue is a durable queue in one bbolt file. Its methods are safe for
// concurrent use. Its memory is independent of the backlog: per priority a
// few counters, plus the in-flight and nacked entries' sequence numbers.
//
// Lock order: nmu, then wmu, then (inside or after a bbolt transaction)
// mu. mu is never held across a transaction or a blocking call.
type Queue struct {
	db      *bolt.DB
	cfg     Config
	log     *slog.Logger
	limited *slog.Logger
	now     func() time.Time
	met     *metrics

	nmu  sync.Mutex             // Next's scan state:
	next [numPriorities]uint64  // highest sequence handed out by the scan
	redo [numPriorities]seqHeap // nacked: handed out again before the scan goes on

	wmu sync.Mutex // held across every write transaction and its counter update

	mu         sync.Mutex
	prio       [numPriorities]prioState
	inflight   map[uint64]Priority // handed out, not yet acked or nacked
	closed     bool
	done       chan struct{} // closed by Close
	notify     chan struct{} // closed and replaced when entries become pending
	committing bool          // a group-commit leader is running
	waiting    []*appendReq
	appends    uint64 // Append calls committed
	commits    uint64 // bbolt transactions for them
}

// Open opens (or creates) the queue file at path. Every stored entry is
// pending again: nothing is in flight after Open.
func Open(path string, cfg Config, d Deps) (*Queue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	if d.Name == "" {
		return nil, fmt.Errorf("open queue %s: Deps.Name (the output name) is empty", path)
	}
	q := newQueue(cfg, d)
	db, err := bolt.Open(path, 0o600, boltOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	q.db = db
	if err := q.initStore(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	if err := q.met.register(d.Registry); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	return q, nil
}

func newQueue(cfg Config, d Deps) *Queue {
	q := &Queue{cfg: cfg, log: d.Logger, limited: d.Limited, now: d.Now, inflight: make(map[uint64]Priority),
		done: make(chan struct{}), notify: make(chan struct{})}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.limited == nil {
		q.limited = q.log
	}
	if q.now == nil {
		q.now = time.Now
	}
	q.log = q.log.With("output", d.Name)
	q.limited = q.limited.With("output", d.Name)
	q.met = newMetrics(d.Name, q.Stats)
	return q
}

// Close closes the file; a blocked Next returns ErrClosed.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.done)
	q.mu.Unlock()
	q.met.unregister()
	if err := q.db.Close(); err != nil {
		return fmt.Errorf("close queue: %w", err)
	}
	return nil
}
