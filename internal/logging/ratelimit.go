package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RateLimited wraps a handler so that records with the same message are
// written at most once per interval. Records at debug level pass through
// unchanged (debug is opt-in and may be verbose). Suppressed records are
// counted, and the next record written for that message carries
// "suppressed=N", so an operator always sees that lines were folded.
type RateLimited struct {
	inner    slog.Handler
	interval time.Duration
	now      func() time.Time
	state    *limiterState
}

type limiterState struct {
	mu   sync.Mutex
	msgs map[string]*msgState
}

type msgState struct {
	last       time.Time
	suppressed int
}

// maxTracked bounds the limiter's memory; past it, old entries are reset.
const maxTracked = 4096

// NewRateLimited returns a handler that writes each message at most once per interval.
func NewRateLimited(inner slog.Handler, interval time.Duration) *RateLimited {
	return &RateLimited{inner: inner, interval: interval, now: time.Now,
		state: &limiterState{msgs: map[string]*msgState{}}}
}

// Enabled reports whether the inner handler handles this level.
func (h *RateLimited) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle writes the record unless the same message was written within the interval.
func (h *RateLimited) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return h.inner.Handle(ctx, r)
	}
	n, ok := h.state.allow(r.Message, h.now(), h.interval)
	if !ok {
		return nil
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", n))
	}
	return h.inner.Handle(ctx, r)
}

func (s *limiterState) allow(msg string, now time.Time, interval time.Duration) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.msgs[msg]
	if !found {
		if len(s.msgs) >= maxTracked {
			clear(s.msgs)
		}
		s.msgs[msg] = &msgState{last: now}
		return 0, true
	}
	if now.Sub(st.last) < interval {
		st.suppressed++
		return 0, false
	}
	n := st.suppressed
	st.last, st.suppressed = now, 0
	return n, true
}

// WithAttrs returns a handler sharing this limiter's state.
func (h *RateLimited) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(attrs)
	return &c
}

// WithGroup returns a handler sharing this limiter's state.
func (h *RateLimited) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	return &c
}
