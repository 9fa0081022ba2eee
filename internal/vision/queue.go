package vision

import (
	"context"
	"sync"
	"time"

	"github.com/borda-edge/borda/internal/vision/source"
)

// job is one sampled frame on its way to a worker.
type job struct {
	cam   *camera
	seq   uint64 // frame number within the camera (from 1)
	frame source.Frame
}

// queue is a bounded FIFO shared by the cameras. A push into a full
// queue evicts the oldest job (or, with dropNewest, refuses the new one)
// and returns the job that was dropped, for the caller to count.
type queue struct {
	mu         sync.Mutex
	buf        []*job
	head, n    int
	dropNewest bool
	closed     bool
	wake       chan struct{} // a token: there may be work
}

func newQueue(size int, dropNewest bool) *queue {
	return &queue{buf: make([]*job, size), dropNewest: dropNewest, wake: make(chan struct{}, 1)}
}

// push adds j; it returns the job dropped to make room (nil if none).
// After close every push is refused (j returned).
func (q *queue) push(j *job) (dropped *job) {
	q.mu.Lock()
	switch {
	case q.closed:
		dropped = j
	case q.n < len(q.buf):
		q.buf[(q.head+q.n)%len(q.buf)] = j
		q.n++
	case q.dropNewest:
		dropped = j
	default:
		dropped = q.buf[q.head]
		q.buf[q.head] = j
		q.head = (q.head + 1) % len(q.buf)
	}
	q.mu.Unlock()
	q.signal()
	return dropped
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest job, waiting for one; nil once ctx ends or the
// queue is closed.
func (q *queue) pop(ctx context.Context) *job {
	for {
		q.mu.Lock()
		if q.n > 0 {
			j := q.buf[q.head]
			q.buf[q.head] = nil
			q.head, q.n = (q.head+1)%len(q.buf), q.n-1
			more := q.n > 0
			q.mu.Unlock()
			if more {
				q.signal()
			}
			return j
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			q.signal() // pass the news to the next waiting worker
			return nil
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// close refuses further pushes and returns the jobs still queued.
func (q *queue) close() []*job {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	left := make([]*job, 0, q.n)
	for ; q.n > 0; q.n-- {
		left = append(left, q.buf[q.head])
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	q.signal()
	return left
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// backoff doubles from min to max.
type backoff struct{ min, max, cur time.Duration }

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }
