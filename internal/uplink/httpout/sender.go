package httpout

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// sender is the one goroutine that drains an output's queue: it owns the
// in-flight entries, the retry state and the status.
type sender struct {
	o     *Output
	q     *queue.Queue
	dl    *deadLetters
	retry *link.Retry
	now   context.Context // already cancelled: Next returns only what is pending
	buf   []byte          // request payload, reused
}

func newSender(o *Output, q *queue.Queue, dl *deadLetters) *sender {
	now, cancel := context.WithCancel(context.Background())
	cancel()
	return &sender{o: o, q: q, dl: dl, retry: o.cfg.Backoff.Start(), now: now}
}

// batch is the queue entries of one request, in queue order.
type batch struct {
	items   []queue.Item
	entries []Entry
	group   string
	points  int
	high    bool
}

func (b *batch) seqs() []uint64 {
	s := make([]uint64, len(b.items))
	for i, it := range b.items {
		s[i] = it.Seq
	}
	return s
}

// loop sends batches until ctx ends.
func (s *sender) loop(ctx context.Context) {
	for {
		if s.o.gate.Paused() {
			s.o.status.Set(link.Offline)
			s.retry.Reset()
		}
		if s.o.gate.Wait(ctx) != nil {
			return
		}
		b, err := s.collect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.o.log.Error("read uplink queue", "err", err)
			if !sleep(ctx, s.retry.Next()) {
				return
			}
			continue
		}
		if s.o.gate.Paused() { // paused while the batch was collected
			s.q.Nack(b.seqs()...)
			continue
		}
		wait := s.deliver(ctx, b)
		if ctx.Err() != nil {
			return
		}
		if wait > 0 && !sleep(ctx, wait) {
			return
		}
	}
}

// collect blocks for the first entries, then adds entries until the batch
// holds BatchSize points, FlushInterval has passed since its first entry,
// or it holds an alert and nothing more is pending. Entries that do not
// fit (size, other group) are handed back to the queue.
func (s *sender) collect(ctx context.Context) (*batch, error) {
	b := &batch{}
	for len(b.items) == 0 { // all corrupt: wait again
		items, err := s.q.Next(ctx, s.want(b))
		if err != nil {
			return nil, err //nolint:wrapcheck // the queue says what failed
		}
		if s.add(b, items) {
			return b, nil
		}
	}
	deadline := time.Now().Add(s.o.cfg.FlushInterval)
	for {
		wctx, cancel := s.now, context.CancelFunc(func() {})
		if !b.high && time.Now().Before(deadline) {
			wctx, cancel = context.WithDeadline(ctx, deadline)
		}
		items, err := s.q.Next(wctx, s.want(b))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				s.q.Nack(b.seqs()...)
				return nil, ctx.Err() //nolint:wrapcheck // plain cancellation
			}
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				s.o.log.Error("read uplink queue", "err", err)
			}
			return b, nil
		}
		if s.add(b, items) {
			return b, nil
		}
	}
}

// want is how many entries to ask for: one to start a batch, then enough
// for the missing points at the batch's points per entry so far, but at
// most twice the entries already in it, so that a change of entry sizes
// cannot make one Next read far more than a batch.
func (s *sender) want(b *batch) int {
	if len(b.items) == 0 {
		return 1
	}
	missing := max(1, s.o.cfg.BatchSize-b.points)
	per := float64(b.points) / float64(len(b.items))
	return max(1, min(int(math.Ceil(float64(missing)/per)), 2*len(b.items)))
}

// add appends decodable items to b; it reports whether b is full. Items
// that do not fit are nacked, corrupt ones dropped.
func (s *sender) add(b *batch, items []queue.Item) bool {
	for i, it := range items {
		e, err := DecodeEntry(it.Data)
		if err != nil {
			s.dropCorrupt(it, err)
			continue
		}
		if len(b.items) > 0 && (e.Group != b.group || b.points+e.Points > s.o.cfg.BatchSize) {
			rest := make([]uint64, 0, len(items)-i)
			for _, it := range items[i:] {
				rest = append(rest, it.Seq)
			}
			s.q.Nack(rest...) // pending again, before later entries
			return true
		}
		b.items, b.entries = append(b.items, it), append(b.entries, e)
		b.group, b.points = e.Group, b.points+e.Points
		b.high = b.high || it.Priority == queue.High
	}
	return b.points >= s.o.cfg.BatchSize
}

func (s *sender) dropCorrupt(it queue.Item, err error) {
	s.o.met.Dropped.WithLabelValues(link.ReasonCorrupt).Inc()
	s.o.limited.Error("drop corrupt uplink queue entry", "seq", it.Seq, "err", err)
	if err := s.q.Ack(it.Seq); err != nil {
		s.o.log.Error("ack corrupt uplink queue entry", "seq", it.Seq, "err", err)
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
