// Package link holds what every uplink output shares: the retry backoff,
// the bandwidth cap, the online/offline status and the per-output metrics
// every output exports under the same names.
package link

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff bounds the exponential, jittered delay between attempts.
type Backoff struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

// DefaultBackoff is 500 ms doubling up to 60 s.
func DefaultBackoff() Backoff {
	return Backoff{Min: 500 * time.Millisecond, Max: 60 * time.Second}
}

// Validate needs 0 < Min <= Max.
func (b Backoff) Validate() error {
	if b.Min <= 0 || b.Max < b.Min {
		return fmt.Errorf("backoff %v..%v: need 0 < min <= max", b.Min, b.Max)
	}
	return nil
}

// Retry is one sequence of attempts: each Next doubles the delay up to
// Max; Reset starts over after a success. Not safe for concurrent use.
type Retry struct {
	b    Backoff
	next time.Duration
}

// Start begins a retry sequence.
func (b Backoff) Start() *Retry { return &Retry{b: b, next: b.Min} }

// Next returns the delay before the next attempt, jittered to [d/2, d].
func (r *Retry) Next() time.Duration {
	d := r.next
	r.next = min(2*r.next, r.b.Max)
	return Jitter(d)
}

// Reset makes the next delay Min again.
func (r *Retry) Reset() { r.next = r.b.Min }

// Jitter returns a random delay in [d/2, d], so outputs that failed
// together do not retry in lockstep.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}
