package link

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// Bandwidth caps the bytes an output sends per second (for metered
// cellular links). A nil *Bandwidth is unlimited.
type Bandwidth struct {
	lim *rate.Limiter
}

// NewBandwidth returns a cap of bytesPerSecond with a burst of one
// second's worth; 0 (or less) means unlimited and returns nil.
func NewBandwidth(bytesPerSecond int64) *Bandwidth {
	if bytesPerSecond <= 0 {
		return nil
	}
	burst := int(min(bytesPerSecond, 1<<30))
	return &Bandwidth{lim: rate.NewLimiter(rate.Limit(bytesPerSecond), burst)}
}

// Wait blocks until n bytes may be sent or ctx ends. Requests larger than
// the burst are paid in burst-sized chunks, so a big batch is delayed by
// n / rate seconds instead of being refused.
func (b *Bandwidth) Wait(ctx context.Context, n int) error {
	if b == nil {
		return nil
	}
	for n > 0 {
		c := min(n, b.lim.Burst())
		if err := b.lim.WaitN(ctx, c); err != nil {
			return fmt.Errorf("bandwidth cap: %w", err)
		}
		n -= c
	}
	return nil
}
