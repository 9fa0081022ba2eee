package httpout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/borda-edge/borda/internal/uplink/link"
	"github.com/borda-edge/borda/internal/uplink/queue"
)

// maxRetryAfter bounds a server's Retry-After.
const maxRetryAfter = 10 * time.Minute

// unit is what one request carries per entry: the whole entry or, once a
// rejected entry was split, one of its points.
type unit struct {
	item    int // index in the batch
	payload []byte
	points  int
}

// rejection is a part of an entry the server refused for good.
type rejection struct {
	payload []byte
	points  int
	reason  string // http_<code>
	snippet string // start of the server's answer
}

// delivery tracks one batch: every item is settled (acked) once all its
// points are sent or rejected, and handed back (nacked) otherwise.
type delivery struct {
	b       *batch
	left    []int // per item: points not yet resolved
	rejects [][]rejection
	sent    int // points confirmed
}

// failure is a request that must be retried later, after wait.
type failure struct{ wait time.Duration }

// deliver sends a batch, bisecting it when the server refuses the data,
// settles its entries and returns how long to wait before the next batch.
func (s *sender) deliver(ctx context.Context, b *batch) time.Duration {
	d := &delivery{b: b, left: make([]int, len(b.items)), rejects: make([][]rejection, len(b.items))}
	units := make([]unit, len(b.items))
	for i, e := range b.entries {
		d.left[i] = e.Points
		units[i] = unit{item: i, payload: e.Payload, points: e.Points}
	}
	f := s.try(ctx, d, units)
	s.settle(ctx, d)
	if f != nil {
		if ctx.Err() == nil {
			s.o.status.Set(link.Offline)
		}
		return f.wait
	}
	s.retry.Reset()
	s.o.status.Set(link.Online)
	return 0
}

// try sends units in one request and narrows down a rejection.
func (s *sender) try(ctx context.Context, d *delivery, units []unit) *failure {
	a := s.send(ctx, d.b.group, units)
	switch {
	case a.invalid:
		for _, u := range units {
			s.reject(d, u, link.ReasonCorrupt, a.err.Error())
		}
		return nil
	case a.err != nil || classify(a.code) == retry:
		return s.failed(ctx, a)
	case classify(a.code) == delivered:
		for _, u := range units {
			d.left[u.item] -= u.points
			d.sent += u.points
		}
		return nil
	}
	return s.narrow(ctx, d, units, a)
}

// narrow isolates what the server refused in units (refused as a whole
// with answer a): halves are tried separately; a single entry is split
// into its points; a single point is rejected for good.
func (s *sender) narrow(ctx context.Context, d *delivery, units []unit, a answer) *failure {
	if len(units) > 1 {
		mid := len(units) / 2
		if f := s.try(ctx, d, units[:mid]); f != nil {
			return f
		}
		return s.try(ctx, d, units[mid:])
	}
	u := units[0]
	if u.points > 1 {
		parts, err := s.o.format.Split(u.payload)
		if err == nil && len(parts) > 1 {
			sub := make([]unit, len(parts))
			for i, p := range parts {
				sub[i] = unit{item: u.item, payload: p, points: 1}
			}
			d.left[u.item] += len(parts) - u.points
			return s.narrow(ctx, d, sub, a)
		}
	}
	s.reject(d, u, "http_"+strconv.Itoa(a.code), a.snippet)
	return nil
}

// reject resolves u as refused for good.
func (s *sender) reject(d *delivery, u unit, reason, snippet string) {
	d.rejects[u.item] = append(d.rejects[u.item], rejection{payload: u.payload, points: u.points,
		reason: reason, snippet: snippet})
	d.left[u.item] -= u.points
}

// send POSTs the units' payloads concatenated, under the bandwidth cap.
func (s *sender) send(ctx context.Context, group string, units []unit) answer {
	s.buf = s.buf[:0]
	for _, u := range units {
		s.buf = append(s.buf, u.payload...)
	}
	r, err := s.o.format.Request(group, s.buf)
	if err != nil { // e.g. an entry of another output kind (queue file renamed)
		return answer{err: fmt.Errorf("encode request: %w", err), invalid: true}
	}
	if err := s.o.bw.Wait(ctx, len(r.Body)); err != nil {
		return answer{err: err}
	}
	a := s.o.post(ctx, r)
	code := "error"
	if a.code != 0 {
		code = strconv.Itoa(a.code)
		s.o.met.SentBytes.Add(float64(len(r.Body)))
	}
	s.o.xmet.requests.WithLabelValues(code).Inc()
	return a
}

// failed counts and logs a request to retry and picks the wait: the
// server's Retry-After if it sent one, else the next backoff step.
func (s *sender) failed(ctx context.Context, a answer) *failure {
	if ctx.Err() != nil {
		return &failure{}
	}
	s.o.met.ConnectFailures.Inc()
	wait := s.retry.Next()
	if a.retryAfter > 0 {
		wait = min(max(a.retryAfter, s.o.cfg.Backoff.Min), maxRetryAfter)
	}
	if a.err != nil {
		s.o.limited.Warn("uplink request failed, will retry", "err", a.err, "retry_in", wait)
	} else {
		s.o.limited.Warn("uplink request refused, will retry", "status", a.code, "response", a.snippet, "retry_in", wait)
	}
	return &failure{wait: wait}
}

// settle acknowledges every resolved entry (dead-lettering its rejected
// points first) and hands the others back to the queue.
func (s *sender) settle(ctx context.Context, d *delivery) {
	var ack, nack []uint64
	for i, it := range d.b.items {
		if d.left[i] > 0 {
			nack = append(nack, it.Seq)
			continue
		}
		if len(d.rejects[i]) == 0 {
			s.o.met.Sent.Inc()
		} else {
			s.deadLetter(ctx, it, d.b.group, d.rejects[i])
		}
		ack = append(ack, it.Seq)
	}
	s.q.Nack(nack...)
	s.o.met.Retries.Add(float64(len(nack)))
	if err := s.q.Ack(ack...); err != nil && !errors.Is(err, queue.ErrClosed) {
		s.o.log.Error("ack uplink queue entries", "entries", len(ack), "err", err)
	}
	if d.sent > 0 {
		s.o.xmet.points.WithLabelValues(resultSent).Add(float64(d.sent))
		s.o.met.LastSuccess.Set(float64(s.o.deps.Now().UnixNano()) / 1e9)
	}
}

// deadLetter keeps an entry's rejected points in the dead-letter queue and
// counts the entry as dropped with the first rejection's reason.
func (s *sender) deadLetter(ctx context.Context, it queue.Item, group string, rs []rejection) {
	points := 0
	for _, r := range rs {
		points += r.points
	}
	s.o.met.Dropped.WithLabelValues(rs[0].reason).Inc()
	s.o.xmet.points.WithLabelValues(resultDeadLetter).Add(float64(points))
	s.o.limited.Error("server rejected points for good; dead-lettered", "reason", rs[0].reason,
		"points", points, "response", rs[0].snippet, "dead_letter_file", s.dl.path)
	if err := s.dl.add(ctx, it, group, rs); err != nil {
		s.o.log.Error("write dead letters; the rejected points are lost", "points", points, "err", err)
	}
}
