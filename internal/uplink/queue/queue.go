// Package queue is the durable, per-output store-and-forward queue of the
// uplink: entries are written to an append-only log (one per priority, in
// segment files) before Append returns, and are deleted only when
// acknowledged or dropped by retention.
package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// Queue is a durable queue in one directory. Its methods are safe for
// concurrent use. Its memory is independent of the backlog: per priority a
// few counters, plus the in-flight and nacked entries.
//
// Lock order: ckmu, rmu, wmu, mu. mu is never held across a write or a
// blocking call (only, rarely, one small read: see publishHead).
type Queue struct {
	dir     string
	cfg     Config
	segSize int64 // a segment is not appended to once it holds this much
	log     *slog.Logger
	limited *slog.Logger
	now     func() time.Time
	met     *metrics
	lock    *os.File // flock'ed while open

	ckmu sync.Mutex // held while a checkpoint is written
	ckAt time.Time  // ckmu: when the last one was

	rmu sync.Mutex // the readers: Next's scan, retention, early acks, checkpoint snapshots, segment deletion

	wmu sync.Mutex // the writer: held across every group commit's writes
	seq uint64     // wmu: last sequence used

	mu         sync.Mutex
	logs       [numPriorities]*plog
	lastSeq    uint64 // the same as seq, for the checkpoint
	deleted    int    // entries deleted since the last checkpoint
	closed     bool
	done       chan struct{} // closed by Close
	notify     chan struct{} // closed and replaced when entries become pending
	listened   bool          // a Next took notify since it was made
	committing bool          // a group-commit leader is running
	waiting    []*appendReq
	appends    uint64 // Append calls committed
	commits    uint64 // group commits for them
}

// Open opens (or creates) the queue in the directory path (created if
// missing; a symbolic link is followed, also to a directory still to be
// created). A queue file of the former bbolt format at path is migrated
// (see README). Every stored entry is pending again: nothing is in
// flight after Open.
func Open(path string, cfg Config, d Deps) (*Queue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	if d.Name == "" {
		return nil, fmt.Errorf("open queue %s: Deps.Name (the output name) is empty", path)
	}
	q := newQueue(cfg, d)
	if err := q.open(path); err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	if err := q.met.register(d.Registry); err != nil {
		_ = q.release()
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	return q, nil
}

func newQueue(cfg Config, d Deps) *Queue {
	q := &Queue{cfg: cfg, segSize: segmentSize(cfg.MaxBytes), log: d.Logger, limited: d.Limited, now: d.Now,
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

// segmentSize is MaxBytes/16 between 1 and 64 MiB: segments are deleted
// whole, so a sixteenth of the bound is the granularity of disk reuse.
func segmentSize(maxBytes int64) int64 {
	return min(max(maxBytes/16, 1<<20), 64<<20)
}

// Close writes a last checkpoint and closes the files; a blocked Next
// returns ErrClosed.
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
	q.ckmu.Lock()
	defer q.ckmu.Unlock()
	err := q.checkpoint()
	if rerr := q.release(); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("close queue: %w", err)
	}
	return nil
}

// release closes the segment files and unlocks the directory, waiting
// for a running commit or read.
func (q *Queue) release() error {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	q.wmu.Lock()
	defer q.wmu.Unlock()
	var err error
	for _, l := range q.logs {
		if l == nil {
			continue
		}
		if cerr := l.closeSegs(); err == nil {
			err = cerr
		}
	}
	if cerr := unlockDir(q.lock); err == nil {
		err = cerr
	}
	return err
}
